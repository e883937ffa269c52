"""The staging tables built from whole snapshots of real sites
(jira_insights_pipeline.parsing.staging.build_staging_tables).

Each test writes a snapshot folder from real issues (jirametrics' Cloud site, Kanalyzer's Jira
Server sub-task KAN-5, ActionableAgile's page crossing daylight saving, DevLake's site) with
snapshot.write_snapshot, loads it back with load_snapshot and asserts exact rows: the
intervals rebuilt from the history, sprint membership and its reconciliation, status
categories, epics, links and the report's warnings.
"""

from __future__ import annotations

import copy
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from jira_insights_pipeline.parsing.staging import StagingTables, build_staging_tables
from jira_insights_pipeline.schemas import STAGING_SCHEMAS
from jira_insights_pipeline.snapshot import SnapshotMeta, load_snapshot, write_snapshot

DATA = Path(__file__).parent / "data"
NaT = pd.NaT


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def _build(
    folder: Path,
    issues: list[dict[str, Any]],
    *,
    fields: list[dict[str, Any]] | None = None,
    boards: list[dict[str, Any]] | None = None,
    sprints: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    site: str = "https://example.atlassian.net",
    exported_at: datetime = datetime(2022, 5, 8, tzinfo=UTC),
    **overrides: str,
) -> StagingTables:
    path = write_snapshot(
        folder,
        meta=SnapshotMeta(site=site, exported_at=exported_at, **overrides),
        fields=fields or [],
        boards=boards or [],
        sprints=sprints or [],
        issues=issues,
        statuses=statuses,
        compress=False,
    )
    return build_staging_tables(load_snapshot(path), source="snapshot")


def _rows(frame: pd.DataFrame, key: str, columns: list[str]) -> list[tuple[Any, ...]]:
    return [
        tuple(row) for row in frame.loc[frame["issue_key"] == key, columns].itertuples(index=False)
    ]


# --------------------------------------------------------------------------------------------
# jirametrics: a Cloud site with Flagged, Sprint and Story Points changes, newest first
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jirametrics(tmp_path_factory: pytest.TempPathFactory) -> StagingTables:
    folder = DATA / "jirametrics"
    issues = [json.loads((folder / f"SP-{n}.json").read_text()) for n in (1, 2, 10, 13, 14, 15)]
    configuration = json.loads((folder / "sample_board_1_configuration.json").read_text())
    board = {
        "id": 1,
        "name": configuration["name"],
        "type": "kanban",
        "configuration": configuration,
    }
    # The site's /field listing was not saved; its field ids come from its changelog items.
    return _build(
        tmp_path_factory.mktemp("jirametrics") / "snapshot",
        issues,
        boards=[board],
        statuses=json.loads((folder / "sample_statuses.json").read_text()),
        site="https://improvingflow.atlassian.net",
        story_points_field="customfield_10036",
        sprint_field="customfield_10020",
        flagged_field="customfield_10021",
    )


def test_status_intervals_of_a_newest_first_history(jirametrics: StagingTables) -> None:
    columns = ["status", "status_id", "status_category", "entered_at", "left_at"]
    assert _rows(jirametrics.jira_status_intervals, "SP-13", columns) == [
        ("Backlog", "10000", "new", ts("2021-06-18T18:43:15.837Z"), ts("2022-04-19T01:31:30.710Z")),
        (
            "Selected for Development",
            "10001",
            "indeterminate",
            ts("2022-04-19T01:31:30.710Z"),
            ts("2022-04-19T01:53:42.206Z"),
        ),
        ("Done", "10002", "done", ts("2022-04-19T01:53:42.206Z"), NaT),
    ]
    # SP-10 went back from In Progress to Selected for Development and forward again.
    assert [r[0] for r in _rows(jirametrics.jira_status_intervals, "SP-10", columns)] == [
        "Backlog",
        "Selected for Development",
        "In Progress",
        "Selected for Development",
        "In Progress",
        "Review",
        "Done",
    ]


def test_estimates_from_story_points_changes(jirametrics: StagingTables) -> None:
    columns = ["story_points", "valid_from", "valid_to"]
    sp13 = _rows(jirametrics.jira_estimates, "SP-13", columns)
    assert pd.isna(sp13[0][0]) and sp13[0][1:] == (
        ts("2021-06-18T18:43:15.837Z"),
        ts("2022-04-15T00:52:51.009Z"),
    )
    assert sp13[1] == (13.0, ts("2022-04-15T00:52:51.009Z"), NaT)
    # SP-15 was cloned with 13 points and never changed them: the current value from created.
    assert _rows(jirametrics.jira_estimates, "SP-15", columns) == [
        (13.0, ts("2022-04-24T16:41:53.123Z"), NaT)
    ]
    issues = jirametrics.jira_issues.set_index("issue_key")
    assert issues.loc["SP-14", "story_points"] == 14.0
    assert pd.isna(issues.loc["SP-1", "story_points"])


def test_sprint_membership_from_sprint_changes_with_empty_from(jirametrics: StagingTables) -> None:
    membership = jirametrics.jira_sprint_membership
    columns = ["issue_key", "sprint_id", "entered_at", "left_at", "inferred"]
    assert [tuple(r) for r in membership[columns].itertuples(index=False)] == [
        ("SP-13", 3, ts("2022-04-15T00:52:08.258Z"), NaT, False),
        ("SP-14", 3, ts("2022-04-15T00:52:55.832Z"), NaT, False),
        ("SP-15", 3, ts("2022-04-24T17:26:25.160Z"), NaT, False),
    ]
    # Sprint 3 is only known from the issues' Sprint field (sprints.json was not saved).
    sprint = jirametrics.jira_sprints.iloc[0]
    assert (sprint["sprint_id"], sprint["board_id"], sprint["name"], sprint["state"]) == (
        3,
        2,
        "Scrum Sprint 3",
        "active",
    )
    assert any("appear only in issues' Sprint field" in w for w in jirametrics.report.warnings)


def test_issue_columns(jirametrics: StagingTables) -> None:
    issues = jirametrics.jira_issues.set_index("issue_key")
    # Flagged "Impediment" on SP-1 and SP-15; SP-10's flag was cleared to "".
    assert issues["flagged"].to_dict() == {
        "SP-1": True,
        "SP-2": False,
        "SP-10": False,
        "SP-13": False,
        "SP-14": False,
        "SP-15": True,
    }
    # Origin board of the latest sprint (board 2), else the board of project SP (board 1).
    assert issues["board_id"].to_dict() == {
        "SP-1": 1,
        "SP-2": 1,
        "SP-10": 1,
        "SP-13": 2,
        "SP-14": 2,
        "SP-15": 2,
    }
    sp13 = issues.loc["SP-13"]
    assert (sp13["status"], sp13["status_category"], sp13["resolved"]) == (
        "Done",
        "done",
        ts("2022-04-19T01:53:42.180Z"),
    )
    assert sp13["labels"] == [] and sp13["components"] == []
    assert jirametrics.jira_boards.to_dict("records") == [
        {
            "board_id": 1,
            "name": "SP board",
            "board_type": "kanban",
            "project_key": "SP",
            "estimation_field": None,
        }
    ]


def test_links_seen_from_both_sides(jirametrics: StagingTables) -> None:
    columns = ["issue_key", "link_id", "link_type", "direction", "relation", "linked_issue_key"]
    links = jirametrics.jira_issue_links[columns]
    assert sorted(tuple(r) for r in links.itertuples(index=False)) == [
        ("SP-13", "10002", "Cloners", "inward", "is cloned by", "SP-15"),
        ("SP-14", "10003", "Blocks", "outward", "blocks", "SP-15"),
        ("SP-15", "10002", "Cloners", "outward", "clones", "SP-13"),
        ("SP-15", "10003", "Blocks", "inward", "is blocked by", "SP-14"),
    ]


def test_every_table_is_there_and_the_report_says_how_fields_were_found(
    jirametrics: StagingTables,
) -> None:
    tables = jirametrics.tables()
    assert list(tables) == list(STAGING_SCHEMAS)
    assert jirametrics.report.counts == {name: len(frame) for name, frame in tables.items()}
    assert jirametrics.report.fields["story_points"] == {
        "field_id": "customfield_10036",
        "name": None,
        "how": "meta.json override",
    }
    snapshot = jirametrics.jira_snapshot.iloc[0]
    assert (snapshot["site"], snapshot["source"]) == (
        "https://improvingflow.atlassian.net",
        "snapshot",
    )
    assert snapshot["exported_at"] == ts("2022-05-08T00:00:00Z")
    assert snapshot["snapshot_dir"].endswith("snapshot")
    markdown = jirametrics.report.to_markdown()
    assert "| story_points | customfield_10036 | meta.json override |" in markdown
    assert "| jira_changelog | 33 |" in markdown


# --------------------------------------------------------------------------------------------
# Kanalyzer's KAN-5: Jira Server, no fieldId, reopened and done again across a DST change
# --------------------------------------------------------------------------------------------


def test_a_reopened_server_issue(tmp_path: Path) -> None:
    kanalyzer = json.loads((DATA / "kanalyzer/jiraParserTestData.json").read_text())
    tables = _build(tmp_path / "kan", [kanalyzer["jiraIssueThatWasReopenedThenDoneAgain"]])
    columns = ["status", "status_id", "status_category", "entered_at", "left_at"]
    assert _rows(tables.jira_status_intervals, "KAN-5", columns) == [
        (
            "Ready to Refine",
            "10002",
            None,
            ts("2016-07-06T21:17:39Z"),
            ts("2016-07-06T21:28:46.812Z"),
        ),
        (
            "Analyzing",
            "10012",
            None,
            ts("2016-07-06T21:28:46.812Z"),
            ts("2016-07-09T14:05:08.739Z"),
        ),
        (
            "Ready for Development",
            "10006",
            None,
            ts("2016-07-09T14:05:08.739Z"),
            ts("2016-07-10T12:29:55.998Z"),
        ),
        (
            "Ready for Test",
            "10007",
            None,
            ts("2016-07-10T12:29:55.998Z"),
            ts("2016-07-12T21:11:30.807Z"),
        ),
        ("Done", "10001", "done", ts("2016-07-12T21:11:30.807Z"), ts("2017-03-11T00:11:05.773Z")),
        ("Testing", "10008", None, ts("2017-03-11T00:11:05.773Z"), ts("2017-03-11T00:19:44.820Z")),
        ("Done", "10001", "done", ts("2017-03-11T00:19:44.820Z"), NaT),
    ]
    issue = tables.jira_issues.iloc[0]
    assert (issue["is_subtask"], issue["parent_key"], issue["epic_key"]) == (True, "KAN-3", None)
    assert issue["resolved"] == ts("2017-03-11T00:19:44Z")
    # Without statuses.json only the current status' category is known; the rest are listed.
    assert tables.report.unknown_status_categories == [
        "Analyzing (10012)",
        "Ready for Development (10006)",
        "Ready for Test (10007)",
        "Ready to Refine (10002)",
        "Testing (10008)",
    ]


# --------------------------------------------------------------------------------------------
# ActionableAgile: one page, offsets -0500 and -0400
# --------------------------------------------------------------------------------------------


def test_intervals_across_daylight_saving(tmp_path: Path) -> None:
    with gzip.open(DATA / "actionableagile/jira-issues-request.json.gz", "rt") as handle:
        page = json.load(handle)
    tables = _build(tmp_path / "aa", page["issues"])
    columns = ["status", "status_category", "entered_at", "left_at"]
    # UT-26 moved to Test at 07:19:29.805-0400 (summer time): 11:19:29.805 UTC, not 12:19.
    assert _rows(tables.jira_status_intervals, "UT-26", columns) == [
        ("Backlog", None, ts("2015-11-21T12:03:02Z"), ts("2015-11-21T12:14:01.643Z")),
        (
            "Dev Active",
            "indeterminate",
            ts("2015-11-21T12:14:01.643Z"),
            ts("2015-11-26T11:34:28.549Z"),
        ),
        (
            "Dev Done",
            "indeterminate",
            ts("2015-11-26T11:34:28.549Z"),
            ts("2016-03-29T11:19:29.805Z"),
        ),
        ("Test", "indeterminate", ts("2016-03-29T11:19:29.805Z"), NaT),
    ]
    assert len(tables.jira_issues) == 25
    assert tables.jira_sprint_membership.empty
    assert any("No Sprint field was found" in w for w in tables.report.warnings)
    assert tables.report.unknown_status_categories == ["Analysis Active (10100)", "Backlog (10002)"]


# --------------------------------------------------------------------------------------------
# DevLake's site: -1 story points, statuses.json, sprint moves, reconciliation
# --------------------------------------------------------------------------------------------


def _devlake_issues() -> list[dict[str, Any]]:
    return list(load_snapshot(DATA / "devlake_site").iter_issues())


@pytest.fixture(scope="module")
def devlake() -> StagingTables:
    return build_staging_tables(load_snapshot(DATA / "devlake_site"))


def test_minus_one_story_points_mean_no_estimate(devlake: StagingTables) -> None:
    issues = devlake.jira_issues.set_index("issue_key")
    assert pd.isna(issues.loc["EE-1", "story_points"])  # Jira sent "-1"
    assert issues.loc["EE-2", "story_points"] == 2.0
    assert devlake.jira_estimates["story_points"].notna().sum() == 1


def test_statuses_json_decides_categories_and_disagreements_are_reported(
    devlake: StagingTables,
) -> None:
    issues = devlake.jira_issues.set_index("issue_key")
    # EE-1's own status object says "new" for 已完成 (10068); statuses.json says "done".
    assert issues.loc["EE-1", ["status", "status_id", "status_category"]].tolist() == [
        "已完成",
        "10068",
        "done",
    ]
    assert any(
        "已完成 (10068): statuses.json says done, the issues say new" in w
        for w in devlake.report.warnings
    )
    # Statuses a history names that neither statuses.json nor any issue knows stay null.
    assert devlake.report.unknown_status_categories == [
        "Inbox (10020)",
        "Ready for Dev (10029)",
        "Resolved (5)",
        "To Do (10000)",
    ]
    unknown = devlake.jira_status_intervals["status_id"].isin(["10020", "10029", "5", "10000"])
    assert devlake.jira_status_intervals.loc[unknown, "status_category"].isna().all()


def test_sprint_moves_and_removal(devlake: StagingTables) -> None:
    columns = ["sprint_id", "entered_at", "left_at", "inferred"]
    membership = devlake.jira_sprint_membership
    # EE-17: '' -> 7, 7 -> 9, 9 -> '', '' -> 9, 9 -> 17 (all +0800 instants).
    assert _rows(membership, "EE-17", columns) == [
        (7, ts("2020-06-12T00:29:19.614Z"), ts("2020-06-17T07:26:56.197Z"), False),
        (9, ts("2020-06-17T07:26:56.197Z"), ts("2020-06-17T07:27:15.198Z"), False),
        (9, ts("2020-06-17T07:29:43.593Z"), ts("2020-07-10T06:37:06.529Z"), False),
        (17, ts("2020-07-10T06:37:06.529Z"), NaT, False),
    ]
    # EE-19 left sprint 7 and is in no sprint now.
    assert _rows(membership, "EE-19", columns) == [
        (7, ts("2020-06-12T00:29:19.607Z"), ts("2020-06-19T06:44:09.533Z"), False)
    ]
    # EE-25 was created in sprint 7 (sub-tasks follow their parent): no Sprint item at all.
    assert _rows(membership, "EE-25", columns) == [(7, ts("2020-06-12T00:40:54.210Z"), NaT, False)]
    assert devlake.jira_issues.set_index("issue_key").loc["EE-17", "board_id"] == 8
    assert not any("reconciled" in w for w in devlake.report.warnings)


def test_history_that_disagrees_with_the_sprint_field_is_reconciled(tmp_path: Path) -> None:
    issues = {i["key"]: i for i in _devlake_issues()}
    ee17 = copy.deepcopy(issues["EE-17"])
    # Drop EE-17's last Sprint change (9 -> 17), as if the saved history were incomplete.
    histories = ee17["changelog"]["histories"]
    last = next(h for h in histories if h["created"] == "2020-07-10T14:37:06.529+0800")
    last["items"] = [i for i in last["items"] if i["field"] != "Sprint"]
    tables = _build(tmp_path / "partial", [ee17], sprint_field="customfield_10020")
    assert _rows(
        tables.jira_sprint_membership, "EE-17", ["sprint_id", "entered_at", "left_at", "inferred"]
    ) == [
        (7, ts("2020-06-12T00:29:19.614Z"), ts("2020-06-17T07:26:56.197Z"), False),
        (9, ts("2020-06-17T07:26:56.197Z"), ts("2020-06-17T07:27:15.198Z"), False),
        # Still in 9 by the history, not by the field: closed at the issue's `updated`.
        (9, ts("2020-06-17T07:29:43.593Z"), ts("2021-03-28T08:05:54.426Z"), True),
        # In 17 by the field only: from the last recorded Sprint change.
        (17, ts("2020-06-17T07:29:43.593Z"), NaT, True),
    ]
    assert ee17["fields"]["updated"] == "2021-03-28T16:05:54.426+0800"
    assert any(
        "1 issue(s) have a sprint history" in w and "EE-17" in w for w in tables.report.warnings
    )


def test_an_unfinished_issue_stays_in_the_closed_sprint_and_joins_the_next(tmp_path: Path) -> None:
    issues = {i["key"]: i for i in _devlake_issues()}
    sprints = {s["id"]: s for s in load_snapshot(DATA / "devlake_site").sprints}
    ee17 = copy.deepcopy(issues["EE-17"])
    # EE-17's real last move (9 -> 17) turned into what Jira records when an unfinished issue
    # is carried over: it stays listed in sprint 9 and joins 17.
    last = next(
        h for h in ee17["changelog"]["histories"] if h["created"] == "2020-07-10T14:37:06.529+0800"
    )
    (item,) = [i for i in last["items"] if i["field"] == "Sprint"]
    item["to"], item["toString"] = "9, 17", "EE Sprint 8, EE Sprint 9"
    ee17["fields"]["customfield_10020"] = [sprints[9], sprints[17]]
    tables = _build(tmp_path / "carried", [ee17], sprint_field="customfield_10020")
    assert _rows(
        tables.jira_sprint_membership, "EE-17", ["sprint_id", "entered_at", "left_at", "inferred"]
    )[-2:] == [
        (9, ts("2020-06-17T07:29:43.593Z"), NaT, False),
        (17, ts("2020-07-10T06:37:06.529Z"), NaT, False),
    ]
    assert not any("reconciled" in w for w in tables.report.warnings)


def test_a_cut_short_changelog_is_named_in_the_report(tmp_path: Path) -> None:
    ee1 = copy.deepcopy(_devlake_issues()[0])
    assert ee1["changelog"]["total"] == 25
    ee1["changelog"]["histories"] = ee1["changelog"]["histories"][:10]
    tables = _build(tmp_path / "cut", [ee1], sprint_field="customfield_10020")
    assert tables.report.truncated_changelogs == ["EE-1"]
    assert any(
        "1 issue(s) have a cut-short changelog" in w and "EE-1" in w for w in tables.report.warnings
    )


# --------------------------------------------------------------------------------------------
# Epics: an Epic parent (DevLake's board 93) and an Epic Link field (go-jira's AR-86)
# --------------------------------------------------------------------------------------------


def test_epic_from_parent_and_from_epic_link(tmp_path: Path) -> None:
    lines = (DATA / "devlake_other_issues/merico_board93_issues.jsonl").read_text().splitlines()
    k5 = _build(tmp_path / "k5", [json.loads(line) for line in lines])
    epics = k5.jira_issues.set_index("issue_key")["epic_key"].to_dict()
    assert epics == {
        "K5-2": "K5-1",
        "K5-3": "K5-4",
        **{k: None for k in epics if k not in ("K5-2", "K5-3")},
    }
    assert k5.jira_issues.set_index("issue_key").loc["K5-2", "parent_key"] == "K5-1"

    page = json.loads((DATA / "devlake_other_issues/go_jira_issues_in_sprint.json").read_text())
    # go-jira's mock site saved no /field listing; this entry has the shape of the real
    # "Epic Link" definitions of the public sites (see test_parsing_fields).
    epic_link = {
        "id": "customfield_10700",
        "name": "Epic Link",
        "custom": True,
        "schema": {
            "type": "any",
            "custom": "com.pyxis.greenhopper.jira:gh-epic-link",
            "customId": 10700,
        },
    }
    argon = _build(tmp_path / "ar", page["issues"], fields=[epic_link])
    assert argon.jira_issues.set_index("issue_key").loc["AR-86", "epic_key"] == "AR-37"
    assert (
        argon.report.fields["epic_link"]["how"]
        == "schema type com.pyxis.greenhopper.jira:gh-epic-link"
    )
