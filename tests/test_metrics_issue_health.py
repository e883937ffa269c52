"""`work_item_health` and `hygiene_scores` (the team-health use case,
`assets/team_health/metrics.py`) on a hand-made board whose answers were worked out by
hand: staleness from the last update, missing estimates only for stories in active or future
sprints (moved out of the sprint and back, estimate cleared), blocked time as the union of
Flagged intervals (flagged twice; flagged with no history; history and current value
disagreeing) and a "Blocked" status, days in progress since the last entry into the category
(a move between two in-progress statuses is no re-entry, a move back to To Do is), reopened
issues, and the per-board counts and score."""

from __future__ import annotations

import pandas as pd
import pytest
from metrics_issue_site import Site, t

from jira_insights_pipeline.assets.team_health.metrics import hygiene_scores, work_item_health
from jira_insights_pipeline.assets.team_health.schemas import (
    HygieneScoresSchema,
    WorkItemHealthSchema,
)
from jira_insights_pipeline.assets.team_health.thresholds import TeamHealthThresholds
from jira_insights_pipeline.metrics.blocking import flagged_intervals
from jira_insights_pipeline.validation import validate_table

AS_OF = t("2026-03-25 12:00")


def _site() -> Site:
    site = Site()
    site.boards.append({"board_id": 2, "name": "Empty board"})
    site.sprint(101, "S1", "closed", "2026-03-02 09:00", "2026-03-16 09:00", "2026-03-16 10:00")
    site.sprint(102, "S2", "active", "2026-03-16 11:00", "2026-03-30 09:00")
    site.sprint(103, "S3", "future", None, None)
    # H-1: a story in the active sprint with no estimate, recently updated.
    site.issue("H-1", "2026-03-01", updated="2026-03-24 00:00")
    site.in_sprint("H-1", 102, "2026-03-16 11:00")
    # H-2: a backlog story nobody touched for 24.5 days (no sprint: no estimate needed).
    site.issue("H-2", "2026-02-01", updated="2026-03-01 00:00")
    # H-3: flagged twice (2 days, then 5 days up to "as of"), in progress for 23.125 days.
    site.issue("H-3", "2026-03-01").estimate("H-3", "2026-03-01", 5)
    site.in_sprint("H-3", 102, "2026-03-16 11:00")
    site.move("H-3", "2026-03-02 09:00", "In Progress")
    site.flag("H-3", "2026-03-03 09:00").flag("H-3", "2026-03-05 09:00", "")
    site.flag("H-3", "2026-03-20 12:00")
    # H-4: flagged [03-09 12:00, 03-11 12:00) and in status Blocked [03-10 12:00, 03-12 12:00):
    # 3 days blocked in all. Blocked is an in-progress status, so it is in progress since 03-08.
    site.issue("H-4", "2026-03-01").estimate("H-4", "2026-03-01", 3)
    site.move("H-4", "2026-03-08 12:00", "In Progress").move("H-4", "2026-03-10 12:00", "Blocked")
    site.move("H-4", "2026-03-12 12:00", "In Review")
    site.flag("H-4", "2026-03-09 12:00").flag("H-4", "2026-03-11 12:00", None)
    site.move("H-4", "2026-03-23 00:00", "In Review")
    # H-5: re-estimated twice; in progress, back to To Do, in progress again for 5 days.
    site.issue("H-5", "2026-03-01").estimate("H-5", "2026-03-01", 3)
    site.estimate("H-5", "2026-03-05", 5).estimate("H-5", "2026-03-18", 8)
    site.in_sprint("H-5", 102, "2026-03-16 11:00")
    site.move("H-5", "2026-03-01 00:00", "In Progress").move("H-5", "2026-03-10", "To Do")
    site.move("H-5", "2026-03-20 12:00", "In Progress")
    # H-6: done, so not an open issue.
    site.issue("H-6", "2026-03-01", issue_type="Bug").move("H-6", "2026-03-20", "Done")
    # H-7: done, then reopened 3 days ago.
    site.issue("H-7", "2026-03-01").move("H-7", "2026-03-02", "In Progress")
    site.move("H-7", "2026-03-10", "Done").move("H-7", "2026-03-22 12:00", "In Progress")
    # H-8: a sub-task in the sprint without points: sub-tasks are not estimated.
    site.issue("H-8", "2026-03-20", issue_type="Sub-task", is_subtask=True)
    site.in_sprint("H-8", 102, "2026-03-20")
    # H-9: in S2, moved out, back in; estimated, then the estimate was cleared.
    site.issue("H-9", "2026-03-10").in_sprint("H-9", 102, "2026-03-16 11:00", "2026-03-18")
    site.in_sprint("H-9", 102, "2026-03-21").estimate("H-9", "2026-03-17", 2)
    site.estimate("H-9", "2026-03-19", None)
    # H-10: on no board. H-11: created after "as of".
    site.issue("H-10", "2026-01-01", board_id=None)
    site.issue("H-11", "2026-03-26")
    # H-12: flagged when created (no history of the flag), 5.5 days ago.
    site.issue("H-12", "2026-03-20 00:00").flagged_now("H-12", True)
    # H-13: the history ends flagged, the issue is not: the flag was cleared by its last update.
    site.issue("H-13", "2026-03-10", updated="2026-03-18 00:00").flag("H-13", "2026-03-15 00:00")
    site.flagged_now("H-13", False)
    # H-14: a story only in a sprint that closed, with no estimate: nothing to plan any more.
    site.issue("H-14", "2026-03-01").in_sprint("H-14", 101, "2026-03-02 09:00")
    site.move("H-14", "2026-03-20", "To Do")
    # H-15: unestimated story in the future sprint.
    site.issue("H-15", "2026-03-20").in_sprint("H-15", 103, "2026-03-20")
    return site


DEFAULTS = TeamHealthThresholds()


def _health(
    site: Site, as_of: pd.Timestamp = AS_OF, thresholds: TeamHealthThresholds = DEFAULTS
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    tables = site.tables()
    return tables, work_item_health(
        tables["jira_issues"],
        tables["jira_changelog"],
        tables["jira_status_intervals"],
        tables["jira_estimates"],
        tables["jira_sprint_membership"],
        tables["jira_sprints"],
        as_of,
        thresholds,
    )


def test_open_issues_and_their_problems() -> None:
    _, health = _health(_site())
    health = validate_table(WorkItemHealthSchema, health, "work_item_health")
    rows = health.set_index("issue_key")
    expected_keys = ["H-1", "H-2", "H-3", "H-4", "H-5", "H-7", "H-8", "H-9"]
    assert sorted(rows.index) == sorted([*expected_keys, "H-12", "H-13", "H-14", "H-15"])
    assert rows["problems"].map(list).to_dict() == {
        "H-1": ["missing_estimate"],
        "H-2": ["stale"],
        "H-3": ["blocked", "in_progress_too_long"],
        "H-4": ["in_progress_too_long"],
        "H-5": [],
        "H-7": [],
        "H-8": [],
        "H-9": ["missing_estimate"],
        "H-12": ["blocked"],
        "H-13": [],
        "H-14": [],
        "H-15": ["missing_estimate"],
    }
    assert rows.loc["H-2", "days_since_update"] == pytest.approx(24.5)
    assert rows.loc["H-1", "days_since_update"] == pytest.approx(1.5)
    assert rows["blocked_days"].to_dict() == pytest.approx(
        {key: 0.0 for key in rows.index} | {"H-3": 7.0, "H-4": 3.0, "H-12": 5.5, "H-13": 3.0}
    )
    assert rows["blocked_now"][rows["blocked_now"]].index.tolist() == ["H-3", "H-12"]
    assert rows.loc["H-3", "days_in_progress"] == pytest.approx(23.125)
    assert rows.loc["H-4", "days_in_progress"] == pytest.approx(17.0)
    assert rows.loc["H-4", "status"] == "In Review"
    assert rows.loc["H-5", "days_in_progress"] == pytest.approx(5.0)
    assert rows.loc["H-7", "days_in_progress"] == pytest.approx(3.0)
    assert pd.isna(rows.loc["H-2", "days_in_progress"])
    assert rows.loc["H-5", "story_points"] == 8
    assert pd.isna(rows.loc["H-9", "story_points"])
    assert rows.loc["H-9", "sprint_name"] == "S2"
    assert rows.loc["H-15", "sprint_name"] == "S3"
    assert pd.isna(rows.loc["H-14", "sprint_id"])
    assert rows.iloc[0]["problem_count"] == 2  # the worst issues come first


def test_an_earlier_as_of_sees_the_board_as_it_was() -> None:
    # On 03-11 06:00: H-6 not yet done, H-7 done, H-4 flagged and Blocked, H-9 not yet in a
    # sprint, H-3 between its two flags (blocked 2 days in all), H-1 not yet in a sprint.
    as_of = t("2026-03-11 06:00")
    _, health = _health(_site(), as_of)
    rows = health.set_index("issue_key")
    assert "H-6" in rows.index and "H-7" not in rows.index and "H-12" not in rows.index
    assert rows.loc["H-4", "blocked_now"] and rows.loc["H-4", "status"] == "Blocked"
    assert rows.loc["H-4", "blocked_days"] == pytest.approx(1.75)
    assert rows.loc["H-3", "blocked_days"] == pytest.approx(2.0)
    assert not rows.loc["H-3", "blocked_now"]
    assert not rows.loc["H-1", "missing_estimate"]
    assert rows.loc["H-5", "story_points"] == 5
    assert rows.loc["H-1", "days_since_update"] == pytest.approx(10.25)  # from creation


def test_thresholds_come_from_settings() -> None:
    _, health = _health(
        _site(), thresholds=TeamHealthThresholds(stale_days=1.0, in_progress_days=4.0)
    )
    rows = health.set_index("issue_key")
    assert rows.loc["H-1", "stale"]  # 1.5 days without an update
    assert rows.loc["H-5", "in_progress_too_long"]  # 5 days


def test_flagged_pairs_become_intervals() -> None:
    tables = _site().tables()
    intervals = flagged_intervals(tables["jira_changelog"], tables["jira_issues"])
    by_issue = {
        key: [(row.start, row.end) for row in group.itertuples()]
        for key, group in intervals.merge(
            tables["jira_issues"][["issue_id", "issue_key"]], on="issue_id"
        ).groupby("issue_key")
    }
    assert by_issue == {
        "H-3": [(t("2026-03-03 09:00"), t("2026-03-05 09:00")), (t("2026-03-20 12:00"), pd.NaT)],
        "H-4": [(t("2026-03-09 12:00"), t("2026-03-11 12:00"))],
        "H-12": [(t("2026-03-20 00:00"), pd.NaT)],
        "H-13": [(t("2026-03-15 00:00"), t("2026-03-18 00:00"))],
    }


def test_hygiene_scores_per_board() -> None:
    tables, health = _health(_site())
    scores = hygiene_scores(health, tables["jira_boards"], AS_OF, TeamHealthThresholds())
    scores = validate_table(HygieneScoresSchema, scores, "hygiene_scores")
    rows = scores.set_index("board_id")
    team = rows.loc[1]
    # 12 open issues; H-1, H-2, H-3, H-4, H-9, H-12, H-15 have a problem: 5 of 12 are clean.
    assert team.open_issues == 12
    assert team.issues_with_problems == 7
    assert (
        team.stale_issues,
        team.missing_estimate_issues,
        team.blocked_issues,
        team.in_progress_too_long_issues,
    ) == (1, 3, 2, 2)
    assert team.hygiene_score == pytest.approx(100 * 5 / 12)
    assert team.hygiene_alert
    assert team.date == "2026-03-25"
    empty = rows.loc[2]
    assert empty.open_issues == 0 and pd.isna(empty.hygiene_score) and not empty.hygiene_alert
    lenient = hygiene_scores(
        health, tables["jira_boards"], AS_OF, TeamHealthThresholds(hygiene_score_min=40)
    )
    assert not lenient.set_index("board_id").loc[1, "hygiene_alert"]
