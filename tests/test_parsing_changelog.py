"""Issue histories flattened and ordered (jira_insights_pipeline.parsing.changelog).

Real histories come newest first (jirametrics' SP-13, DevLake's site), Server and 2015-era
Cloud histories carry no `fieldId` (Kanalyzer), Flagged is cleared to "" and Story Points
changes carry their value only in `toString` (jirametrics).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd

from jira_insights_pipeline.parsing.changelog import (
    CHANGELOG_COLUMNS,
    ChangelogBuilder,
    FieldRoles,
    flatten_changelog,
)
from jira_insights_pipeline.parsing.fields import discover_fields

DATA = Path(__file__).parent / "data"

# jirametrics' site has no /field listing: its field ids come from its changelog items.
JIRAMETRICS_ROLES = FieldRoles.from_fields(
    discover_fields(
        [],
        story_points_override="customfield_10036",
        sprint_override="customfield_10020",
        flagged_override="customfield_10021",
    )
)


def _jirametrics(key: str) -> dict[str, Any]:
    return json.loads((DATA / f"jirametrics/{key}.json").read_text())


def test_newest_first_histories_are_put_in_time_order() -> None:
    issue = _jirametrics("SP-13")
    given = [h["id"] for h in issue["changelog"]["histories"]]
    assert given == ["10140", "10132", "10127", "10123", "10121"]
    rows = flatten_changelog(issue, JIRAMETRICS_ROLES)
    assert list(rows.columns) == list(CHANGELOG_COLUMNS)
    assert list(zip(rows["history_id"], rows["item_index"], rows["field"], strict=True)) == [
        ("10121", 0, "Sprint"),
        ("10123", 0, "Story Points"),
        ("10127", 0, "status"),
        ("10132", 0, "resolution"),
        ("10132", 1, "status"),
        ("10140", 0, "Link"),
    ]
    assert rows["created"].is_monotonic_increasing
    assert rows["created"].iloc[0] == pd.Timestamp("2022-04-15T00:52:08.258Z")
    assert rows["field_role"].tolist() == [
        "sprint",
        "story_points",
        "status",
        None,
        "status",
        None,
    ]
    sprint, points = rows.iloc[0], rows.iloc[1]
    # Sprint `from` "" and Story Points `to` null are both "nothing": null.
    assert (sprint["from_value"], sprint["from_string"], sprint["to_value"]) == (None, None, "3")
    assert (points["to_value"], points["to_string"]) == (None, "13")
    assert rows["author"].unique().tolist() == ["Mike Bowler"]


def test_flagged_set_and_cleared() -> None:
    rows = flatten_changelog(_jirametrics("SP-10"), JIRAMETRICS_ROLES)
    flags = rows[rows["field_role"] == "flagged"]
    assert flags[["history_id", "from_string", "to_value", "to_string"]].values.tolist() == [
        ["10062", None, "[10019]", "Impediment"],
        ["10064", "Impediment", None, None],
    ]
    assert flags["field_id"].unique().tolist() == ["customfield_10021"]


def test_items_without_field_id_are_matched_by_name() -> None:
    kanalyzer = json.loads((DATA / "kanalyzer/jiraParserTestData.json").read_text())
    issue = kanalyzer["apiIssueIsDone"]
    roles = FieldRoles.from_fields(discover_fields([]))
    rows = flatten_changelog(issue, roles)
    assert rows["field_id"].isna().all()
    statuses = rows[rows["field_role"] == "status"]
    assert statuses[["from_string", "to_string"]].values.tolist() == [
        ["To Do", "Refine Backlog"],
        ["Refine Backlog", "Ready to Analyze"],
        ["Ready to Analyze", "Develop"],
        ["Develop", "Done"],
    ]
    assert set(rows.loc[rows["field_role"].isna(), "field"]) == {
        "assignee",
        "summary",
        "Parent Issue",
        "Rank",
        "resolution",
    }
    # 2015-era instants: +0200 becomes UTC.
    assert rows["created"].iloc[0] == pd.Timestamp("2015-09-02T09:12:10.736Z")


def test_a_story_points_field_named_in_the_listing_is_matched_by_name_on_server() -> None:
    listing = [
        {
            "id": "customfield_10002",
            "name": "Story Points",
            "custom": True,
            "schema": {
                "type": "number",
                "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
            },
        }
    ]
    roles = FieldRoles.from_fields(discover_fields(listing))
    assert roles.role(None, "Story Points") == "story_points"
    assert roles.role("customfield_10002", "Story Points") == "story_points"
    # With a fieldId, only the id counts: another field of the same name is not ours.
    assert roles.role("customfield_10623", "Story Points") is None
    assert roles.role(None, "Sprint") == "sprint"
    assert roles.role(None, "description") == "description"


def test_equal_instants_are_ordered_by_numeric_history_id() -> None:
    # SP-10's real resolution/status history, given twice at one instant with ids whose text
    # order ("10" < "9") differs from their numeric order.
    history = _jirametrics("SP-10")["changelog"]["histories"][0]
    later, earlier = copy.deepcopy(history), copy.deepcopy(history)
    later["id"], earlier["id"] = "10", "9"
    builder = ChangelogBuilder(JIRAMETRICS_ROLES)
    builder.add_histories("10017", "SP-10", [later, earlier])
    rows = builder.to_frame()
    assert rows["history_id"].tolist() == ["9", "9", "10", "10"]
    assert rows["item_index"].tolist() == [0, 1, 0, 1]


def test_issues_keep_their_order_and_totals_are_reported() -> None:
    builder = ChangelogBuilder(JIRAMETRICS_ROLES)
    assert builder.add_issue(_jirametrics("SP-2")) == (1, 1)
    assert builder.add_issue(_jirametrics("SP-1")) == (3, 3)
    rows = builder.to_frame()
    # SP-2 was added first, so it stays first although SP-1's history is older.
    assert rows["issue_key"].tolist() == ["SP-2", "SP-1", "SP-1", "SP-1"]
    assert builder.add_issue({"id": "1", "key": "X-1", "fields": {}}) == (0, None)
    empty = ChangelogBuilder(JIRAMETRICS_ROLES).to_frame()
    assert empty.empty and list(empty.columns) == list(CHANGELOG_COLUMNS)
