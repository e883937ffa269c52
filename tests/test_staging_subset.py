"""The staging multi-asset `jira_staging` can be subset: a run that selects only some staging
tables parses the snapshot once (one step) and writes only the selected tables.

Why it matters: a multi-asset that cannot be subset makes Dagster refuse every selection that
takes only some of its assets (DagsterInvalidSubsetError), so `--select '*sprint_commitments'`
failed before it started, and re-running one table meant rewriting all nine.

The first test runs the real Dagster CLI in a subprocess, the way `make demo` launches runs, and
reads only the DuckDB warehouse it leaves: it imports no pipeline module, so it holds however
the metric assets are laid out. The second materializes a subset of the staging tables alone,
in process, and checks that the metadata of the full run is still attached.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SELECTION = "*sprint_commitments"
# Staging tables are named `jira_*` (README, "The asset graph"); `raw_jira_scrape` is not one.
STAGING_PREFIX = "jira_"
NOT_UPSTREAM = "jira_issue_links"  # sprint figures never read issue links
STAGING_STEP_START = 'Started execution of step "jira_staging"'


def _cli_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment (nothing from the caller's Jira settings leaks in) on a fresh data
    folder and a fresh Dagster instance."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")
    return {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DAGSTER_HOME": str(home),
        "JIRA_INSIGHTS_DATA_DIR": str(tmp_path / "data"),
        "JIRA_INSIGHTS_LLM": "off",
        "JIRA_SOURCE": "sample",
    }


def _dagster(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "dagster"), "asset", *args, "-m", "jira_insights_pipeline.definitions"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _tables(warehouse: Path) -> dict[str, int]:
    """Every table in the warehouse as `schema.table`, with its row count."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        return {
            f"{schema}.{table}": connection.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
            for schema, table in rows
        }


def test_cli_materializes_sprint_commitments_and_only_its_staging_tables(
    tmp_path: Path,
) -> None:
    env = _cli_env(tmp_path)
    listed = _dagster(env, "list", "--select", SELECTION)
    assert listed.returncode == 0, listed.stderr[-3000:]
    selected = set(listed.stdout.split())
    upstream_staging = {key for key in selected if key.startswith(STAGING_PREFIX)}
    assert upstream_staging, f"no staging table upstream of sprint_commitments: {selected}"
    assert NOT_UPSTREAM not in selected, "pick a staging table that is not upstream"

    # With the publication, which makes the run's tables current (a run without it leaves them
    # in its draft).
    run = _dagster(env, "materialize", "--select", f"{SELECTION},publication")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]
    # One step parsed the snapshot once for all the selected staging tables.
    assert output.count(STAGING_STEP_START) == 1

    tables = _tables(tmp_path / "data" / "warehouse.duckdb")
    assert tables.get("metrics.sprint_commitments", 0) > 0, tables
    written_staging = {name.removeprefix("jira.") for name in tables if name.startswith("jira.")}
    assert written_staging == upstream_staging
    assert f"jira.{NOT_UPSTREAM}" not in tables


def test_a_subset_of_staging_tables_keeps_its_metadata(
    data_dir: Path, run_pipeline: Callable[..., dg.ExecuteInProcessResult]
) -> None:
    result = run_pipeline("key:raw_jira_scrape or key:jira_issues or key:jira_sprints")
    assert result.success
    materialized = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert set(materialized) == {"raw_jira_scrape", "jira_issues", "jira_sprints", "publication"}
    # The parse report stays on `jira_issues`, whatever else the run selected.
    assert "field_discovery" in materialized["jira_issues"]
    assert materialized["jira_sprints"]["dagster/row_count"].value == 40  # sample/PLANTED.md

    tables = _tables(data_dir / "warehouse.duckdb")
    assert {name for name in tables if name.startswith("jira.")} == {
        "jira.jira_issues",
        "jira.jira_sprints",
    }
