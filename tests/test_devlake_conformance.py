"""Conformance with Apache DevLake's extraction of the same real Jira Cloud data.

tests/data/devlake_site is a snapshot of merico.atlassian.net's board 8 built from DevLake's raw
API rows (tests/data/make_devlake_snapshot.py); tests/data/devlake_expected holds DevLake's own
tables extracted from those rows. DevLake is a peer, not the definition of our metrics: where
its answer differs from what Jira's data says, the test states the difference and checks it
exactly, instead of bending the parser towards DevLake.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from jira_insights_pipeline.parsing.staging import StagingTables, build_staging_tables
from jira_insights_pipeline.snapshot import load_snapshot

DATA = Path(__file__).parent / "data"
EXPECTED = DATA / "devlake_expected"


def _devlake(table: str) -> pd.DataFrame:
    text = (EXPECTED / f"{table}.csv").read_text(encoding="utf-8")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return frame[frame["connection_id"] == "2"]


def _none_if_empty(value: object) -> object:
    return (
        None
        if value == "" or value is None or (isinstance(value, float) and pd.isna(value))
        else value
    )


@pytest.fixture(scope="module")
def ours() -> StagingTables:
    return build_staging_tables(load_snapshot(DATA / "devlake_site"))


def test_the_snapshot_holds_exactly_devlakes_issues(ours: StagingTables) -> None:
    expected = _devlake("_tool_jira_issues")
    assert len(expected) == 30
    assert sorted(ours.jira_issues["issue_id"]) == sorted(expected["issue_id"])
    assert sorted(ours.jira_issues["issue_key"]) == sorted(expected["issue_key"])


def test_the_field_listing_is_the_one_devlake_extracted(ours: StagingTables) -> None:
    # DevLake saved only two of the site's fields (backend/plugins/jira/e2e/extract_issue_fields
    # expects the same two): neither is Sprint nor story points, hence meta.json's overrides.
    listing = load_snapshot(DATA / "devlake_site").fields
    expected = _devlake("_tool_jira_issue_fields")
    assert [f["id"] for f in listing] == expected["id"].tolist()
    assert [f["name"] for f in listing] == expected["name"].tolist()
    assert ours.report.fields["sprint"]["how"] == "meta.json override"
    assert ours.report.fields["story_points"]["field_id"] == "customfield_10024"


def test_story_points_per_issue(ours: StagingTables) -> None:
    # DevLake stores "no estimate" as a number: -1 where Jira sent the sentinel "-1" (EE-1)
    # and 0 where the field was null. We store both as null, and a real value as itself.
    expected = _devlake("_tool_jira_issues").set_index("issue_id")["story_point"].astype(float)
    mapped = expected.where(~expected.isin([-1.0, 0.0]))
    got = ours.jira_issues.set_index("issue_id")["story_points"].reindex(mapped.index)
    pd.testing.assert_series_equal(got, mapped, check_names=False)
    assert expected.value_counts().to_dict() == {0.0: 28, -1.0: 1, 2.0: 1}


def test_current_sprint_membership(ours: StagingTables) -> None:
    expected = {
        (int(row.sprint_id), row.issue_id)
        for row in _devlake("_tool_jira_sprint_issues").itertuples()
    }
    membership = ours.jira_sprint_membership
    open_now = membership[membership["left_at"].isna()]
    assert {
        (int(s), i) for s, i in zip(open_now["sprint_id"], open_now["issue_id"], strict=True)
    } == expected
    assert len(expected) == 28  # EE-19 and EE-20 left their sprints before the export


def test_issue_fields_that_devlake_also_extracts(ours: StagingTables) -> None:
    expected = _devlake("_tool_jira_issues").set_index("issue_id")
    got = ours.jira_issues.set_index("issue_id").loc[expected.index]
    for ours_column, devlake_column in (
        ("created", "created"),
        ("updated", "updated"),
        ("resolved", "resolution_date"),
    ):
        assert (
            got[ours_column].tolist() == pd.to_datetime(expected[devlake_column], utc=True).tolist()
        )
    assert got["status"].tolist() == expected["status_name"].tolist()
    assert got["issue_type"].tolist() == expected["type"].tolist()
    assert got["is_subtask"].tolist() == (expected["subtask"] == "1").tolist()
    assert (
        got["parent_key"].map(_none_if_empty).tolist()
        == expected["parent_key"].map(_none_if_empty).tolist()
    )
    assert got["epic_key"].isna().all() and (expected["epic_key"] == "").all()


def test_status_categories_differ_where_statuses_json_disagrees_with_the_issue(
    ours: StagingTables,
) -> None:
    # DevLake copies each issue's own statusCategory; we read statuses.json first (the
    # snapshot format's rule). For 已完成 (10068) the two disagree: the issue objects (read
    # 2022-06-23) say "new" on five issues, statuses.json (read 2022-08-08) says "done".
    expected = _devlake("_tool_jira_issues").set_index("issue_key")["status_key"]
    got = ours.jira_issues.set_index("issue_key")["status_category"].loc[expected.index]
    differing = sorted(expected.index[expected != got])
    assert differing == ["EE-1", "EE-10", "EE-35", "EE-36", "EE-37"]
    assert set(expected[differing]) == {"new"} and set(got[differing]) == {"done"}


def test_changelog_histories(ours: StagingTables) -> None:
    expected = _devlake("_tool_jira_issue_changelogs")
    histories = ours.jira_changelog.drop_duplicates("history_id")
    got = {
        (row.history_id, row.issue_id, row.author, row.created) for row in histories.itertuples()
    }
    assert got == {
        (row.changelog_id, row.issue_id, row.author_display_name, pd.Timestamp(row.created))
        for row in expected.itertuples()
    }
    assert len(got) == 517


def test_changelog_items(ours: StagingTables) -> None:
    columns = [
        "field",
        "field_id",
        "field_type",
        "from_value",
        "from_string",
        "to_value",
        "to_string",
    ]
    expected = Counter(
        (row["changelog_id"], *(_none_if_empty(row[c]) for c in columns))
        for _, row in _devlake("_tool_jira_issue_changelog_items").iterrows()
    )
    changelog = ours.jira_changelog
    got = Counter(
        (row["history_id"], *(row[c] for c in columns)) for _, row in changelog.iterrows()
    )
    assert sum(got.values()) == 709 and sum(expected.values()) == 689
    # Every DevLake item is one of ours.
    assert expected - got == Counter()
    # DevLake keys its item table by (connection, changelog id, field), so when one history
    # changes a field twice (Jira writes "removed 10008" and "added 10026" as two Fix Version
    # items) it keeps only the last item. The 20 items only we have are exactly those.
    extra = got - expected
    assert sum(extra.values()) == 20
    last_index = changelog.groupby(["history_id", "field"])["item_index"].transform("max")
    overwritten = changelog[changelog["item_index"] < last_index]
    assert (
        Counter(
            (row["history_id"], *(row[c] for c in columns)) for _, row in overwritten.iterrows()
        )
        == extra
    )
    assert set(overwritten["field"]) == {"Fix Version"}
