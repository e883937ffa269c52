"""The code location loads the way a user starts it: `Definitions` builds, every asset has a
group, kinds and a description, the resources bind environment variables only when set, and
`dagster definitions validate -w workspace.yaml` accepts the workspace."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from jira_insights_pipeline.definitions import build_definitions
from jira_insights_pipeline.schemas import STAGING_SCHEMAS

ROOT = Path(__file__).resolve().parents[1]


def test_every_asset_is_described_grouped_and_kinded() -> None:
    defs = build_definitions()
    specs = list(defs.resolve_all_asset_specs())
    keys = {spec.key.to_user_string() for spec in specs}
    assert {"raw_jira_scrape", "jira_issues", "jira_changelog", "jira_sprint_membership"} <= keys
    for spec in specs:
        assert spec.group_name and spec.group_name != "default", spec.key
        assert spec.kinds, spec.key
        assert spec.description and len(spec.description) > 20, spec.key


def test_every_asset_has_the_daily_freshness_policy() -> None:
    specs = list(build_definitions().resolve_all_asset_specs())
    windows = {
        (spec.freshness_policy.fail_window, spec.freshness_policy.warn_window)
        for spec in specs
        if spec.freshness_policy is not None
    }
    assert all(spec.freshness_policy is not None for spec in specs)
    assert {(w.to_timedelta(), v.to_timedelta()) for w, v in windows} == {
        (timedelta(hours=26), timedelta(hours=25))
    }


def test_staging_tables_go_to_schema_jira() -> None:
    defs = build_definitions()
    staging = [s for s in defs.resolve_all_asset_specs() if s.group_name == "staging"]
    assert {spec.key.to_user_string() for spec in staging} == set(STAGING_SCHEMAS)
    assert {spec.metadata["schema"] for spec in staging} == {"jira"}


def test_the_publication_comes_after_every_other_asset() -> None:
    graph = build_definitions().resolve_asset_graph()
    publication = dg.AssetKey("publication")
    others = set(graph.get_all_asset_keys()) - {publication}
    assert graph.get(publication).parent_keys == others
    assert graph.get(publication).child_keys == set()


def test_unset_variables_keep_defaults_and_set_ones_bind_env_vars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JIRA_API_TOKEN", raising=False)
    monkeypatch.delenv("JIRA_SOURCE", raising=False)
    source = build_definitions().resources["jira_source"]
    assert source.kind == "sample"
    assert source.api_token is None

    monkeypatch.setenv("JIRA_API_TOKEN", "secret-value")
    monkeypatch.setenv("JIRA_SOURCE", "snapshot")
    source = build_definitions().resources["jira_source"]
    assert isinstance(source.api_token, dg.EnvVar)
    assert source.api_token == "JIRA_API_TOKEN", "the name is bound, never the secret"


def test_dagster_validates_the_workspace(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            Path(sys.executable).parent / "dagster",
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": str(Path(sys.executable).parent),
            "DAGSTER_HOME": str(tmp_path),
            "LANG": "C.UTF-8",
        },
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    output = completed.stdout + completed.stderr
    assert "Validation successful" in output
    # In validation mode the code location lists what runs on its own.
    assert "schedule daily_full_refresh: 0 8 * * * (UTC)" in output
    assert "schedule hourly_incremental_refresh: 30 * * * * (UTC)" in output
    assert "sensor metric_threshold_alerts" in output
    assert "sensor scheduled_run_failure_alerts" in output
