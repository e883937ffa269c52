"""The issue metric tables (`cycle_times` of `assets/flow`, `defect_leakage` of
`assets/defect_leakage`, `work_item_health` and the Flagged intervals of `assets/team_health`)
on real Jira histories, parsed by the real staging parser, with answers read off the raw JSON by
hand:

- jirametrics' improvingflow site (tests/data/live_improvingflow): Flagged set to "Impediment"
  and cleared to "" (SP-10's pair), flags never cleared (SP-1, SP-15), blocked days and blocked
  now, a story reopened after done (SP-5), "Selected for Development" being an in-progress
  status on that site, and two issues finished inside the active Scrum Sprint 3.
- Kanalyzer's KAN-5 (tests/data/kanalyzer_site): done, reopened to Testing eight months later,
  done again; its cycle time and status at instants before, during and after the reopening.
- DevLake's Chinese site (tests/data/devlake_site): a bug whose type is named 缺陷.
- ActionableAgile's 25 issues (tests/data/actionableagile_site): a custom workflow, issues moved
  straight from Backlog to Done (no cycle time), back and forth between Backlog and Analysis
  Active, and offsets that change from -0500 to -0400 across daylight saving: cycle times must
  be exact UTC differences.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from jira_insights_pipeline.assets.defect_leakage.metrics import defect_leakage
from jira_insights_pipeline.assets.defect_leakage.schemas import DefectLeakageSchema
from jira_insights_pipeline.assets.flow.metrics import cycle_times
from jira_insights_pipeline.assets.flow.schemas import CycleTimesSchema
from jira_insights_pipeline.assets.team_health.metrics import work_item_health
from jira_insights_pipeline.assets.team_health.schemas import WorkItemHealthSchema
from jira_insights_pipeline.assets.team_health.thresholds import TeamHealthThresholds
from jira_insights_pipeline.metrics.blocking import flagged_intervals
from jira_insights_pipeline.parsing.staging import build_staging_tables
from jira_insights_pipeline.snapshot import load_snapshot
from jira_insights_pipeline.validation import validate_table

DATA = Path(__file__).parent / "data"


@cache
def _staging(folder: str) -> dict[str, pd.DataFrame]:
    return build_staging_tables(load_snapshot(DATA / folder)).tables()


def _at(text: str) -> pd.Timestamp:
    """An instant as Jira wrote it (`2021-08-29T18:04:39.112+0000`), in UTC."""
    return pd.Timestamp(text).tz_convert("UTC")


def _days(start: str, end: str) -> float:
    return (_at(end) - _at(start)) / pd.Timedelta(days=1)


def _health(folder: str, as_of: pd.Timestamp) -> pd.DataFrame:
    tables = _staging(folder)
    health = work_item_health(
        tables["jira_issues"],
        tables["jira_changelog"],
        tables["jira_status_intervals"],
        tables["jira_estimates"],
        tables["jira_sprint_membership"],
        tables["jira_sprints"],
        as_of,
        TeamHealthThresholds(),
    )
    return validate_table(WorkItemHealthSchema, health, "work_item_health").set_index("issue_key")


def _cycle_times(folder: str, as_of: pd.Timestamp) -> pd.DataFrame:
    tables = _staging(folder)
    table = cycle_times(
        tables["jira_issues"], tables["jira_status_intervals"], tables["jira_sprints"], as_of
    )
    return validate_table(CycleTimesSchema, table, "cycle_times").set_index("issue_key")


def _exported_at(folder: str) -> pd.Timestamp:
    return _staging(folder)["jira_snapshot"]["exported_at"].iloc[0]


# --------------------------------------------------------------------------------------------
# jirametrics (improvingflow)
# --------------------------------------------------------------------------------------------

IMPROVINGFLOW = "live_improvingflow"


def test_jirametrics_flagged_pairs() -> None:
    tables = _staging(IMPROVINGFLOW)
    intervals = flagged_intervals(tables["jira_changelog"], tables["jira_issues"]).merge(
        tables["jira_issues"][["issue_id", "issue_key"]], on="issue_id"
    )
    found = {
        row.issue_key: (row.start, row.end if pd.notna(row.end) else None)
        for row in intervals.itertuples()
    }
    assert found == {
        "SP-1": (_at("2021-08-29T18:04:39.112+0000"), None),
        "SP-5": (_at("2021-08-29T18:04:59.081+0000"), None),
        "SP-10": (_at("2021-09-06T04:33:30.647+0000"), _at("2021-09-06T04:33:55.539+0000")),
        "SP-15": (_at("2022-04-24T20:30:51.748+0000"), None),
    }


def test_jirametrics_work_item_health() -> None:
    as_of = _exported_at(IMPROVINGFLOW)
    rows = _health(IMPROVINGFLOW, as_of)
    # Done issues (SP-5, SP-10, SP-13, SP-14) are not open.
    assert sorted(rows.index) == ["SP-1", "SP-11", "SP-15", "SP-2", "SP-7", "SP-8"]
    assert rows["blocked_now"][rows["blocked_now"]].index.tolist() == ["SP-1", "SP-15"]
    end = "2022-05-08T00:00:00+0000"
    assert rows.loc["SP-1", "blocked_days"] == pytest.approx(
        _days("2021-08-29T18:04:39.112+0000", end)
    )
    assert rows.loc["SP-15", "blocked_days"] == pytest.approx(
        _days("2022-04-24T20:30:51.748+0000", end)
    )
    # SP-15 entered "Selected for Development" (in progress on this site) at 20:30:38.
    assert rows.loc["SP-15", "days_in_progress"] == pytest.approx(
        _days("2022-04-24T20:30:38.234+0000", end)
    )
    assert list(rows.loc["SP-15", "problems"]) == ["blocked", "in_progress_too_long"]
    # Estimated (13 points) in the active sprint: no missing estimate.
    assert rows.loc["SP-15", "sprint_name"] == "Scrum Sprint 3"
    assert rows.loc["SP-15", "story_points"] == 13
    assert not rows["missing_estimate"].any()
    # SP-2: last updated 2021-06-18T18:43:38.173, never since.
    assert rows.loc["SP-2", "days_since_update"] == pytest.approx(
        _days("2021-06-18T18:43:38.173+0000", end)
    )
    assert rows.loc["SP-2", "stale"]
    assert not rows.loc["SP-15", "stale"]


def test_jirametrics_flag_cleared_before_as_of() -> None:
    # Between SP-10's flag (04:33:30.647) and its clearing (04:33:55.539) it was blocked; after,
    # the 24.892 s stay on its record while it is still open (it was done at 04:34:26.239).
    during = _health(IMPROVINGFLOW, _at("2021-09-06T04:33:40+0000")).loc["SP-10"]
    assert during["blocked_now"]
    after = _health(IMPROVINGFLOW, _at("2021-09-06T04:34:00+0000")).loc["SP-10"]
    assert not after["blocked_now"]
    assert after["blocked_days"] == pytest.approx(24.892 / 86400)


def test_jirametrics_cycle_times() -> None:
    rows = _cycle_times(IMPROVINGFLOW, _exported_at(IMPROVINGFLOW))
    assert sorted(rows.index) == ["SP-10", "SP-13", "SP-14", "SP-5"]
    # SP-5: first in progress ("Selected for Development") 2021-06-23, done 2021-09-06,
    # reopened 2021-10-11 12:48:42, done again 12:49:07.261.
    assert rows.loc["SP-5", "in_progress_at"] == _at("2021-06-23T12:44:38.197+0000")
    assert rows.loc["SP-5", "done_at"] == _at("2021-10-11T12:49:07.261+0000")
    assert rows.loc["SP-5", "cycle_time_days"] == pytest.approx(
        _days("2021-06-23T12:44:38.197+0000", "2021-10-11T12:49:07.261+0000")
    )
    assert rows.loc["SP-5", "done_entries"] == 2
    assert rows.loc["SP-10", "cycle_time_days"] == pytest.approx(
        _days("2021-08-29T18:06:28.717+0000", "2021-09-06T04:34:26.239+0000")
    )
    assert not rows.loc["SP-10", "reopened"]
    assert rows.loc["SP-14", "cycle_time_days"] == pytest.approx(
        _days("2022-04-19T01:31:32.667+0000", "2022-04-19T01:53:07.054+0000")
    )
    assert rows.loc[["SP-13", "SP-14"], "sprint_name"].tolist() == ["Scrum Sprint 3"] * 2
    assert rows.loc[["SP-5", "SP-10"], "sprint_id"].isna().all()  # kanban board, no sprints


# --------------------------------------------------------------------------------------------
# Kanalyzer KAN-5
# --------------------------------------------------------------------------------------------

KANALYZER = "kanalyzer_site"


def test_kan5_cycle_time_counts_to_the_final_done() -> None:
    row = _cycle_times(KANALYZER, _exported_at(KANALYZER)).loc["KAN-5"]
    assert row["in_progress_at"] == _at("2016-07-06T23:28:46.812+0200")
    assert row["done_at"] == _at("2017-03-11T01:19:44.820+0100")
    assert row["cycle_time_days"] == pytest.approx(
        _days("2016-07-06T23:28:46.812+0200", "2017-03-11T01:19:44.820+0100")
    )
    assert row["done_entries"] == 2 and row["reopened"] and row["is_subtask"]


def test_kan5_before_and_during_the_reopening() -> None:
    before = _cycle_times(KANALYZER, _at("2017-01-01T00:00:00+0000")).loc["KAN-5"]
    assert before["done_at"] == _at("2016-07-12T23:11:30.807+0200")
    assert before["cycle_time_days"] == pytest.approx(
        _days("2016-07-06T23:28:46.812+0200", "2016-07-12T23:11:30.807+0200")
    )
    assert before["done_entries"] == 1
    during = _at("2017-03-11T01:15:00+0100")
    assert _cycle_times(KANALYZER, during).empty
    health = _health(KANALYZER, during).loc["KAN-5"]
    assert health["status"] == "Testing"
    # Back in progress since the reopening, not since July.
    assert health["in_progress_since"] == _at("2017-03-11T01:11:05.773+0100")
    assert not health["in_progress_too_long"]


# --------------------------------------------------------------------------------------------
# ActionableAgile
# --------------------------------------------------------------------------------------------

ACTIONABLEAGILE = "actionableagile_site"


def test_actionableagile_cycle_times_across_daylight_saving() -> None:
    rows = _cycle_times(ACTIONABLEAGILE, _exported_at(ACTIONABLEAGILE))
    done = [27, 28, 29, 30, 31, 32, 33, 34, 36, 38, 39, 40, 41, 42, 43, 47, 48]
    assert sorted(rows.index) == sorted(f"UT-{n}" for n in done)
    # Straight from Backlog to Done: no cycle time.
    no_start = rows.index[rows["cycle_time_days"].isna()]
    assert sorted(no_start) == ["UT-33", "UT-38", "UT-39", "UT-40"]
    # UT-48: Analysis Active at -0500, Done at -0400: 109 days and 21h34m30.357s, an hour
    # more than the wall clocks' difference.
    assert rows.loc["UT-48", "cycle_time_days"] == pytest.approx(
        _days("2015-12-10T08:45:07.960-0500", "2016-03-29T07:19:38.317-0400")
    )
    assert rows.loc["UT-48", "cycle_time_days"] == pytest.approx(
        109 + (21 * 3600 + 34 * 60 + 30.357) / 86400
    )
    # UT-43: the first entry into Analysis Active counts, though it went back to Backlog.
    assert rows.loc["UT-43", "in_progress_at"] == _at("2015-11-26T06:41:33.308-0500")
    assert rows.loc["UT-43", "cycle_time_days"] == pytest.approx(
        _days("2015-11-26T06:41:33.308-0500", "2015-12-14T07:14:27.446-0500")
    )
    assert rows.loc["UT-41", "cycle_time_days"] == pytest.approx(
        _days("2015-11-26T06:41:20.229-0500", "2016-03-29T07:18:59.683-0400")
    )
    assert rows.loc["UT-42", "issue_type"] == "Bug"


def test_actionableagile_days_in_progress_since_last_entry() -> None:
    as_of = _exported_at(ACTIONABLEAGILE)
    rows = _health(ACTIONABLEAGILE, as_of)
    assert sorted(rows.index) == [f"UT-{n}" for n in (26, 35, 37, 44, 45, 46, 49, 50)]
    # UT-37 went Backlog -> Analysis Active -> Backlog, then in progress from 2015-12-10.
    assert rows.loc["UT-37", "in_progress_since"] == _at("2015-12-10T08:45:19.666-0500")
    # UT-35 moved from Analysis Active to Dev Active: one run since 2015-11-26.
    assert rows.loc["UT-35", "in_progress_since"] == _at("2015-11-26T06:36:15.687-0500")
    assert rows.loc["UT-50", "days_in_progress"] == pytest.approx(
        _days("2016-03-29T07:20:13.962-0400", "2016-03-30T00:00:00+0000")
    )
    assert not rows.loc["UT-50", "in_progress_too_long"]
    assert rows.loc["UT-35", "in_progress_too_long"]


# --------------------------------------------------------------------------------------------
# DevLake (a Chinese Jira Cloud site)
# --------------------------------------------------------------------------------------------


def test_devlake_localised_bug_type_is_a_bug() -> None:
    tables = _staging("devlake_site")
    leakage = defect_leakage(
        tables["jira_issues"],
        tables["jira_status_intervals"],
        tables["jira_issue_links"],
        tables["jira_sprints"],
        _exported_at("devlake_site"),
    )
    leakage = validate_table(DefectLeakageSchema, leakage, "defect_leakage")
    # EE-23, type 缺陷 ("defect"), no label or environment, filed 2020-06-12 before board 8's
    # first sprint started.
    assert leakage["issue_key"].tolist() == ["EE-23"]
    row = leakage.iloc[0]
    assert row["issue_type"] == "缺陷"
    assert row["environment_class"] == "unknown"
    assert row["board_id"] == 8 and pd.isna(row["sprint_id"])
