"""The live sources end to end through the real Definitions: `JIRA_SOURCE=rest` (API token) and
`JIRA_SOURCE=browser` (real headless Chromium signing in through the login form) read a fake
Jira on 127.0.0.1 that serves the bundled sample site; the snapshot they write is accepted by
the rest of the pipeline, and every metric table equals the one computed from the same data read
as a snapshot. Also: secrets never reach the run's logs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from automation_runs import history_partition
from fake_jira import FakeJira

from jira_insights_pipeline.registry import use_cases
from jira_insights_pipeline.sample import SITE_DIR

LEDGER = ("sprint_scope_changes", "sprint_commitments")
METRIC_TABLES = sorted({*LEDGER, *(table for u in use_cases() for table in u.tables)})
# Live snapshots are exported when read; pin "as of" so both runs judge the same instant.
AS_OF = "2026-11-20T09:00:00+00:00"
SELECTION = " or ".join(
    f"group:{group}"
    for group in ("raw", "staging", "sprints", *(u.name for u in use_cases()), "publish")
)


@pytest.fixture(scope="module")
def fake_sample_jira() -> Iterator[FakeJira]:
    with FakeJira(SITE_DIR, search_max_results=50) as fake:
        yield fake


def _tables(data_dir: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        return {
            table: connection.execute(f"select * from metrics.{table}").fetchdf()
            for table in METRIC_TABLES
        }


def _run(
    run_pipeline: Callable[..., dg.ExecuteInProcessResult], data_dir: Path
) -> tuple[dg.ExecuteInProcessResult, dict[str, pd.DataFrame]]:
    result = run_pipeline(SELECTION)
    assert result.success
    return result, _tables(data_dir)


def _assert_same_tables(live: dict[str, pd.DataFrame], saved: dict[str, pd.DataFrame]) -> None:
    for table in METRIC_TABLES:
        keys = [c for c in ("board_id", "sprint_id", "issue_key", "date") if c in saved[table]]
        expected = saved[table].sort_values(keys).reset_index(drop=True)
        actual = live[table].sort_values(keys).reset_index(drop=True)
        assert len(actual) == len(expected) > 0, table
        pd.testing.assert_frame_equal(actual, expected, obj=table)


@pytest.fixture
def saved_tables(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> dict[str, pd.DataFrame]:
    from jira_insights_pipeline.definitions import build_definitions

    data_dir = tmp_path_factory.mktemp("saved") / "data"
    with monkeypatch.context() as env:
        env.setenv("JIRA_INSIGHTS_DATA_DIR", str(data_dir))
        env.setenv("JIRA_SOURCE", "snapshot")
        env.setenv("JIRA_SNAPSHOT_DIR", str(SITE_DIR))
        env.setenv("JIRA_INSIGHTS_AS_OF", AS_OF)
        defs = build_definitions()
        selection = dg.AssetSelection.from_string(SELECTION).resolve(defs.resolve_asset_graph())
        with dg.instance_for_test() as instance:
            assert (
                defs.resolve_implicit_global_asset_job_def()
                .execute_in_process(
                    instance=instance,
                    asset_selection=sorted(selection),
                    partition_key=history_partition(defs, set(selection)),
                )
                .success
            )
    return _tables(data_dir)


def test_rest_source_matches_the_snapshot(
    fake_sample_jira: FakeJira,
    saved_tables: dict[str, pd.DataFrame],
    data_dir: Path,
    run_pipeline: Callable[..., dg.ExecuteInProcessResult],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("JIRA_SOURCE", "rest")
    monkeypatch.setenv("JIRA_BASE_URL", fake_sample_jira.base_url)
    monkeypatch.setenv("JIRA_EMAIL", fake_sample_jira.email)
    monkeypatch.setenv("JIRA_API_TOKEN", fake_sample_jira.api_token)
    monkeypatch.setenv("JIRA_INSIGHTS_AS_OF", AS_OF)
    caplog.set_level("DEBUG")
    result, live = _run(run_pipeline, data_dir)
    _assert_same_tables(live, saved_tables)
    scrape = result.asset_materializations_for_node("raw_jira_scrape")[0]
    assert scrape.metadata["source"].value == "rest"
    assert "915 issues" in scrape.metadata["detail"].value
    assert fake_sample_jira.api_token not in caplog.text


@pytest.mark.browser
def test_browser_source_matches_the_snapshot(
    fake_sample_jira: FakeJira,
    saved_tables: dict[str, pd.DataFrame],
    data_dir: Path,
    tmp_path: Path,
    run_pipeline: Callable[..., dg.ExecuteInProcessResult],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("JIRA_SOURCE", "browser")
    monkeypatch.setenv("JIRA_BASE_URL", fake_sample_jira.base_url)
    monkeypatch.setenv("JIRA_USERNAME", fake_sample_jira.username)
    monkeypatch.setenv("JIRA_PASSWORD", fake_sample_jira.password)
    monkeypatch.setenv("JIRA_BROWSER_PROFILE_DIR", str(tmp_path / "profile"))
    monkeypatch.setenv("JIRA_INSIGHTS_AS_OF", AS_OF)
    caplog.set_level("DEBUG")
    result, live = _run(run_pipeline, data_dir)
    _assert_same_tables(live, saved_tables)
    scrape = result.asset_materializations_for_node("raw_jira_scrape")[0]
    assert scrape.metadata["source"].value == "browser"
    assert fake_sample_jira.password not in caplog.text
