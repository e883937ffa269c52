"""End to end through Dagster: the raw scrape and the staging tables materialized by the real
Definitions into a real DuckDB file, on the bundled sample site and on a snapshot made from
real Jira Cloud responses (DevLake's e2e rows), read back with SQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

TEST_DATA = Path(__file__).parent / "data"

STAGING = "raw_jira_scrape jira_staging*"


def _query(data_dir: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchdf()


def test_sample_site_staging_tables(
    data_dir: Path, run_pipeline: Callable[..., dg.ExecuteInProcessResult], monkeypatch
) -> None:
    monkeypatch.setenv("JIRA_SOURCE", "sample")
    result = run_pipeline("key:raw_jira_scrape or key:jira_*")
    assert result.success
    counts = _query(
        data_dir,
        "select table_name, estimated_size from duckdb_tables() where schema_name = 'jira'",
    ).set_index("table_name")["estimated_size"]
    # Figures from sample/PLANTED.md: 4 boards, 10 sprints each, 915 issues.
    assert counts["jira_boards"] == 4
    assert counts["jira_sprints"] == 40
    assert counts["jira_issues"] == 915
    assert counts["jira_changelog"] == 6378
    for table in (
        "jira_sprint_membership",
        "jira_status_intervals",
        "jira_estimates",
        "jira_issue_links",
        "jira_snapshot",
    ):
        assert counts[table] > 0, table

    snapshot = _query(data_dir, "select * from jira.jira_snapshot")
    assert snapshot.loc[0, "source"] == "sample"
    assert snapshot.loc[0, "exported_at"] == pd.Timestamp("2026-11-20T09:00:00Z")

    # CHK-184 was re-estimated from 2 to 8 points after CHK Sprint 16 started.
    estimates = _query(
        data_dir,
        "select story_points from jira.jira_estimates where issue_key = 'CHK-184' "
        "order by valid_from",
    )
    assert estimates["story_points"].tolist() == [2.0, 8.0]
    # MOB-119 spilled over three sprints in a row: still listed in all four sprints.
    sprints = _query(
        data_dir,
        "select s.name from jira.jira_sprint_membership m join jira.jira_sprints s "
        "using (sprint_id) where m.issue_key = 'MOB-119' and m.left_at is null order by s.name",
    )
    assert sprints["name"].tolist() == [f"MOB Sprint {n}" for n in (28, 29, 30, 31)]
    active = _query(data_dir, "select name from jira.jira_sprints where state = 'active'")
    assert sorted(active["name"]) == [
        "CHK Sprint 16",
        "MOB Sprint 31",
        "PAY Sprint 27",
        "PLAT Sprint 16",
    ]

    materialized = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert materialized["jira_issues"]["dagster/row_count"].value == 915
    assert "customfield_10016" in materialized["jira_issues"]["field_discovery"].value


def test_a_real_jira_snapshot_replays_through_the_snapshot_source(
    data_dir: Path, run_pipeline: Callable[..., dg.ExecuteInProcessResult], monkeypatch
) -> None:
    """DevLake's e2e rows of merico.atlassian.net, saved as a snapshot (tests/data/devlake_site),
    agree with what DevLake's own tests expect: story points, current sprint membership, and the
    changelog items."""
    monkeypatch.setenv("JIRA_SOURCE", "snapshot")
    monkeypatch.setenv("JIRA_SNAPSHOT_DIR", str(TEST_DATA / "devlake_site"))
    assert run_pipeline("key:raw_jira_scrape or key:jira_*").success

    expected = pd.read_csv(TEST_DATA / "devlake_expected" / "_tool_jira_issues.csv")
    issues = _query(data_dir, "select issue_key, story_points from jira.jira_issues")
    merged = expected.merge(issues, on="issue_key", how="left", validate="one_to_one")
    assert merged["story_points"].notna().sum() == 1
    # DevLake stores -1 and 0 where Jira sent -1 or nothing; we store "no estimate" (null).
    positive = merged[merged["story_point"] > 0]
    assert positive[["issue_key", "story_points"]].values.tolist() == [["EE-2", 2.0]]
    assert merged.loc[merged["story_point"] <= 0, "story_points"].isna().all()

    expected_membership = pd.read_csv(
        TEST_DATA / "devlake_expected" / "_tool_jira_sprint_issues.csv", dtype={"issue_id": str}
    )
    membership = _query(
        data_dir,
        "select issue_id, sprint_id from jira.jira_sprint_membership where left_at is null",
    )
    assert set(zip(membership["issue_id"], membership["sprint_id"], strict=True)) == set(
        zip(expected_membership["issue_id"], expected_membership["sprint_id"], strict=True)
    )

    expected_items = pd.read_csv(
        TEST_DATA / "devlake_expected" / "_tool_jira_issue_changelog_items.csv",
        dtype=str,
        keep_default_na=False,
    )
    items = _query(data_dir, "select history_id, field from jira.jira_changelog")
    ours = set(zip(items["history_id"], items["field"], strict=True))
    theirs = set(zip(expected_items["changelog_id"], expected_items["field"], strict=True))
    assert ours == theirs


@pytest.mark.parametrize("bad_dir", ["does-not-exist"])
def test_a_missing_snapshot_folder_fails_clearly_and_keeps_stored_tables(
    data_dir: Path, run_pipeline, monkeypatch, bad_dir: str
) -> None:
    monkeypatch.setenv("JIRA_SOURCE", "sample")
    assert run_pipeline("key:raw_jira_scrape or key:jira_*").success
    before = _query(data_dir, "select count(*) as n from jira.jira_issues")["n"][0]

    monkeypatch.setenv("JIRA_SOURCE", "snapshot")
    monkeypatch.setenv("JIRA_SNAPSHOT_DIR", str(data_dir / bad_dir))
    with pytest.raises(Exception, match="does not exist"):
        run_pipeline("key:raw_jira_scrape or key:jira_*")
    assert _query(data_dir, "select count(*) as n from jira.jira_issues")["n"][0] == before
