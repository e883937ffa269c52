"""`cycle_times` and `cycle_time_trends` (the flow use case, `assets/flow/metrics.py`) on
hand-made histories with hand-computed answers: a plain issue, one reopened after done (first
start to final finish), one reopened to To Do and closed again without work, one that skipped
in-progress (no cycle time), one reopened and still open (no row), one finished after "as of"
(no row); and per sprint the median, the 85th percentile (linear interpolation), the pooled
median of the three sprints before and the 20% rise rule (`cycle_time_rise`), with sub-tasks
left out of the trend."""

from __future__ import annotations

import pandas as pd
import pytest
from metrics_issue_site import Site, t, trend_site

from jira_insights_pipeline.assets.flow.metrics import cycle_time_trends, cycle_times
from jira_insights_pipeline.assets.flow.schemas import CycleTimesSchema, CycleTimeTrendsSchema
from jira_insights_pipeline.assets.flow.thresholds import FlowThresholds
from jira_insights_pipeline.validation import validate_table

AS_OF = t("2026-03-25 12:00")


def _cycle_times(site: Site, as_of: pd.Timestamp = AS_OF) -> pd.DataFrame:
    tables = site.tables()
    return cycle_times(
        tables["jira_issues"], tables["jira_status_intervals"], tables["jira_sprints"], as_of
    )


def _site() -> Site:
    site = Site()
    site.sprint(101, "S1", "closed", "2026-03-02 09:00", "2026-03-16 09:00", "2026-03-16 10:00")
    site.sprint(102, "S2", "active", "2026-03-16 11:00", "2026-03-30 09:00")
    site.issue("C-1", "2026-03-01").move("C-1", "2026-03-03 09:00", "In Progress")
    site.move("C-1", "2026-03-04 09:00", "In Review").move("C-1", "2026-03-05 09:00", "Done")
    site.issue("C-2", "2026-03-01").move("C-2", "2026-03-04", "In Progress")
    site.move("C-2", "2026-03-12", "Done").move("C-2", "2026-03-13", "In Progress")
    site.move("C-2", "2026-03-18", "Closed")
    site.issue("C-3", "2026-03-01").move("C-3", "2026-03-06", "Done")
    site.issue("C-4", "2026-03-01").move("C-4", "2026-03-01 06:00", "In Progress")
    site.move("C-4", "2026-03-03", "Done").move("C-4", "2026-03-04", "To Do")
    site.move("C-4", "2026-03-06 06:00", "Done")
    site.issue("C-5", "2026-03-01").move("C-5", "2026-03-02", "In Progress")
    site.move("C-5", "2026-03-05", "Done").move("C-5", "2026-03-20", "In Progress")
    site.issue("C-6", "2026-03-01").move("C-6", "2026-03-02", "In Progress")
    site.move("C-6", "2026-03-26", "Done")
    site.issue("C-7", "2026-03-01", board_id=None).move("C-7", "2026-03-02", "In Progress")
    site.move("C-7", "2026-03-03", "Done")
    return site


def test_cycle_time_per_done_issue() -> None:
    table = validate_table(CycleTimesSchema, _cycle_times(_site()), "cycle_times")
    rows = table.set_index("issue_key")
    assert sorted(rows.index) == ["C-1", "C-2", "C-3", "C-4", "C-7"]
    assert rows.loc["C-1", "cycle_time_days"] == pytest.approx(2.0)
    # Reopened: first start 03-04 to final finish 03-18, finished in S2.
    assert rows.loc["C-2", "in_progress_at"] == t("2026-03-04")
    assert rows.loc["C-2", "done_at"] == t("2026-03-18")
    assert rows.loc["C-2", "cycle_time_days"] == pytest.approx(14.0)
    assert rows.loc["C-2", "done_entries"] == 2 and rows.loc["C-2", "reopened"]
    assert rows.loc["C-2", "sprint_name"] == "S2"
    # Straight from To Do to Done: a row without a cycle time.
    assert pd.isna(rows.loc["C-3", "in_progress_at"])
    assert pd.isna(rows.loc["C-3", "cycle_time_days"])
    # Reopened to To Do, then closed: counts to the final finish.
    assert rows.loc["C-4", "cycle_time_days"] == pytest.approx(5.0)
    assert rows.loc["C-4", "reopened"]
    assert not rows.loc["C-1", "reopened"] and rows.loc["C-1", "sprint_id"] == 101
    assert pd.isna(rows.loc["C-7", "board_id"]) and pd.isna(rows.loc["C-7", "sprint_id"])
    assert table["issue_key"].iloc[0] == "C-2"  # longest first


def test_an_earlier_as_of_sees_issues_as_they_were() -> None:
    # On 03-15, C-2 had been reopened (not done) and C-5 was done after 3 days.
    rows = _cycle_times(_site(), t("2026-03-15 00:00")).set_index("issue_key")
    assert sorted(rows.index) == ["C-1", "C-3", "C-4", "C-5", "C-7"]
    assert rows.loc["C-5", "cycle_time_days"] == pytest.approx(3.0)
    # On 03-12 12:00, C-2 was done for the first time, after 8 days.
    rows = _cycle_times(_site(), t("2026-03-12 12:00")).set_index("issue_key")
    assert rows.loc["C-2", "cycle_time_days"] == pytest.approx(8.0)
    assert rows.loc["C-2", "done_entries"] == 1 and not rows.loc["C-2", "reopened"]
    assert rows.loc["C-2", "sprint_name"] == "S1"


def test_trend_median_p85_and_rise() -> None:
    site = trend_site()
    as_of = t("2026-02-20")
    table = _cycle_times(site, as_of)
    assert table.set_index("issue_key").loc["T-99", "cycle_time_days"] == pytest.approx(100.0)
    trends = cycle_time_trends(table, site.tables()["jira_sprints"], as_of, FlowThresholds())
    trends = validate_table(CycleTimeTrendsSchema, trends, "cycle_time_trends")
    rows = trends.set_index("sprint_name")
    assert rows["finished_issues"].to_dict() == {"P1": 3, "P2": 2, "P3": 1, "P4": 3, "P5": 1}
    assert rows["median_cycle_time_days"].to_dict() == pytest.approx(
        {"P1": 2.0, "P2": 3.0, "P3": 3.0, "P4": 3.5, "P5": 3.0}
    )
    assert rows["p85_cycle_time_days"].to_dict() == pytest.approx(
        {"P1": 2.7, "P2": 3.7, "P3": 3.0, "P4": 3.5 + 0.7 * 6.5, "P5": 3.0}
    )
    # P4 against P1-P3 pooled [1,2,2,3,3,4] (median 2.5): +40%, rose. P5 against P2-P4 pooled
    # [2,2.5,3,3.5,4,10] (median 3.25): down.
    assert rows["previous_median_cycle_time_days"].isna().tolist()[:3] == [True, True, True]
    assert rows.loc["P4", "previous_median_cycle_time_days"] == pytest.approx(2.5)
    assert rows.loc["P5", "previous_median_cycle_time_days"] == pytest.approx(3.25)
    assert rows.loc["P4", "median_change_pct"] == pytest.approx(40.0)
    assert rows.loc["P5", "median_change_pct"] == pytest.approx(100 * (3.0 / 3.25 - 1))
    assert rows["cycle_time_rise"].to_dict() == {
        "P1": False,
        "P2": False,
        "P3": False,
        "P4": True,
        "P5": False,
    }
    # A 50% allowance: P4's 40% is no longer a rise.
    lenient = cycle_time_trends(
        table, site.tables()["jira_sprints"], as_of, FlowThresholds(cycle_time_rise=0.5)
    )
    assert not lenient["cycle_time_rise"].any()
