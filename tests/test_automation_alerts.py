"""The alert logic without Dagster: which rows of a metric table cross (and that a figure just
at its threshold does not), the dedup rules (once per board, sprint and type; again on a rise in
severity or after recovering), the cursor's round trip and its refusal of a cursor it cannot
read, the matching of insights, and that every record follows alert.schema.json."""

from __future__ import annotations

import pandas as pd
import pytest

from jira_insights_pipeline.automation.crossings import (
    Crossing,
    WatchedRule,
    crossings_for,
    watched_rules,
)
from jira_insights_pipeline.automation.cursor import AlertCursor
from jira_insights_pipeline.automation.dedup import decide_alerts
from jira_insights_pipeline.automation.delivery import AlertRecordError, validate_record
from jira_insights_pipeline.automation.records import (
    AlertLinks,
    AlertSource,
    FailedStep,
    alert_record,
    matching_insight,
    run_failure_record,
)
from jira_insights_pipeline.registry import Thresholds

AS_OF = pd.Timestamp("2026-11-20T09:00:00Z")
NAMES = {1: "CHK board", 2: "MOB board"}
LINKS = AlertLinks("file:///data/report/insights.html", "http://127.0.0.1:3000")


def sprint_rows(**columns: list) -> pd.DataFrame:
    """Per-sprint rows: two boards, each with sprints 1 (closed), 2 (closed), 3 (active)."""
    count = len(next(iter(columns.values())))
    base = pd.DataFrame(
        {
            "board_id": [1, 1, 1, 2, 2, 2],
            "sprint_id": [11, 12, 13, 21, 22, 23],
            "sprint_name": ["A1", "A2", "A3", "B1", "B2", "B3"],
            "sprint_state": ["closed", "closed", "active"] * 2,
            "sprint_start": pd.to_datetime(
                ["2026-10-01", "2026-10-15", "2026-11-01"] * 2, utc=True
            ),
            "sprint_end": pd.to_datetime(["2026-10-15", "2026-10-29", "2026-11-20"] * 2, utc=True),
            "as_of": [AS_OF] * 6,
        }
    ).iloc[:count]
    return base.assign(**columns).reset_index(drop=True)


def keys(crossings: list[Crossing]) -> list[tuple[str, int, int | None]]:
    return sorted((c.alert_type, c.board_id, c.sprint_id) for c in crossings)


def rule(alert_type: str) -> WatchedRule:
    """The registry's rule of `alert_type`, with its use case."""
    return next(watched for watched in watched_rules() if watched.rule.name == alert_type)


def crossed(alert_type: str, table: pd.DataFrame, severity: str | None = None) -> list[Crossing]:
    return crossings_for(rule(alert_type), table, Thresholds(), NAMES, severity)


def test_scope_creep_judges_the_running_and_missed_target_the_latest_closed_sprints() -> None:
    table = sprint_rows(
        # An old closed sprint's alert (11) is history, not an alert.
        scope_creep_alert=[True, False, True, False, True, False],
        grown_stories=[3, 0, 4, 0, 2, 0],
        estimated_committed_stories=[10] * 6,
        grown_story_share=[0.3, 0.0, 0.4, 0.0, 0.2001, 0.0],
        # Exactly at the 80% target is met; just under is missed.
        completion_rate=[0.1, 0.8, 0.2, 0.9, 0.7999, 0.1],
        completed_points=[1.0, 8.0, 2.0, 9.0, 7.999, 1.0],
        committed_points=[10.0] * 6,
        spillover_issues=[0, 1, 0, 0, 2, 0],
        # The flag is decided by sprint_targets (completion under 80%); an alert reads it.
        missed_target=[True, False, False, False, True, False],
    )
    found = crossed("scope_creep", table, "WARN") + crossed("missed_target", table, "WARN")
    assert keys(found) == [
        ("missed_target", 2, 22),
        ("scope_creep", 1, 13),
        ("scope_creep", 2, 22),
    ]
    scope = next(c for c in found if c.key == "scope_creep|1|13")
    assert scope.severity == "warning"
    assert scope.board_name == "CHK board" and scope.sprint_name == "A3"
    assert scope.figures["grown_story_share"] == 0.4
    assert "4 of 10 estimated committed stories (40%)" in scope.message
    assert scope.title == "Scope grew during A3"


def test_the_checks_severity_overrides_the_rules_and_only_its_own() -> None:
    table = sprint_rows(
        scope_creep_alert=[False, True, False],
        grown_stories=[0, 5, 0],
        estimated_committed_stories=[10] * 3,
        grown_story_share=[0.0, 0.5, 0.0],
        completion_rate=[0.9, 0.5, 0.9],
        completed_points=[9.0, 5.0, 9.0],
        committed_points=[10.0] * 3,
        spillover_issues=[0, 3, 0],
        missed_target=[False, True, False],
    )
    assert crossed("scope_creep", table, "ERROR")[0].severity == "error"
    assert crossed("missed_target", table)[0].severity == "warning"
    assert crossed("missed_target", table, "WARN")[0].severity == "warning"


def test_velocity_leakage_cycle_time_and_hygiene_crossings() -> None:
    velocity = sprint_rows(
        completed_points=[30.0, 16.0, 0.0, 30.0, 29.0, 0.0],
        previous_mean_points=[30.0, 30.3, None, 30.0, 30.0, None],
        velocity_ratio=[1.0, 0.53, None, 1.0, 0.97, None],
        velocity_drop=[False, True, False, False, False, False],
        latest_closed=[False, True, False, False, True, False],
    )
    assert keys(crossed("velocity_drop", velocity)) == [("velocity_drop", 1, 12)]
    rates = sprint_rows(
        production_bugs=[2, 0, 2, 1, 1, 0],
        qa_bugs=[3, 5, 3, 4, 4, 5],
        escape_rate=[0.4, 0.0, 0.4, 0.2, 0.2, 0.0],  # 0.2 is the limit, not over it
        leakage_alert=[True, False, True, False, False, False],
    )
    leakage = crossed("defect_leakage", rates)
    assert keys(leakage) == [("defect_leakage", 1, 13)]
    assert leakage[0].severity == "error"
    trends = sprint_rows(
        median_cycle_time_days=[3.0, 7.6, 9.0, 4.0, 4.4, 5.0],
        previous_median_cycle_time_days=[3.0, 3.9, 4.0, 4.0, 4.0, 4.0],
        median_change_pct=[0.0, 94.9, 125.0, 0.0, 10.0, 25.0],
        # The active sprint's rise (13, 23) is not judged: carried-over work inflates it.
        cycle_time_rise=[False, True, True, False, False, True],
    )
    assert keys(crossed("cycle_time", trends)) == [("cycle_time", 1, 12)]
    scores = pd.DataFrame(
        {
            "as_of": [AS_OF] * 3,
            "board_id": [1, 2, 3],
            "board_name": ["CHK board", "MOB board", "PAY board"],
            "open_issues": [40, 40, 43],
            "issues_with_problems": [12, 13, 18],
            "hygiene_score": [70.0, 67.5, 58.1],  # exactly 70 is healthy
            "hygiene_alert": [False, True, True],
        }
    )
    hygiene = crossed("hygiene", scores)
    assert keys(hygiene) == [("hygiene", 2, None), ("hygiene", 3, None)]
    assert hygiene[1].board_name == "PAY board"
    assert hygiene[1].title == "Ticket hygiene on PAY board needs attention"
    assert crossed("hygiene", scores.iloc[0:0]) == []


def crossing(alert_type: str = "scope_creep", severity: str = "warning", sprint: int | None = 13):
    return Crossing(
        alert_type=alert_type,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        board_id=1,
        board_name="CHK board",
        sprint_id=sprint,
        sprint_name=None if sprint is None else f"Sprint {sprint}",
        as_of=AS_OF.isoformat(),
        title="Scope grew",
        message="It grew.",
        insight_type=rule(alert_type).use_case.name,
    )


def test_dedup_alerts_once_again_on_a_rise_and_after_recovering() -> None:
    first = decide_alerts({}, ["scope_creep"], [crossing()])
    assert [(d.reason, d.previous_severity) for d in first.alerts] == [("new", None)]
    assert first.open_crossings == {"scope_creep|1|13": "warning"}

    same = decide_alerts(first.open_crossings, ["scope_creep"], [crossing()])
    assert same.alerts == [] and same.open_crossings == first.open_crossings

    rise = decide_alerts(same.open_crossings, ["scope_creep"], [crossing(severity="error")])
    assert [(d.reason, d.previous_severity) for d in rise.alerts] == [("escalated", "warning")]

    # Falling back and rising again within the same episode: the error was already alerted.
    lower = decide_alerts(rise.open_crossings, ["scope_creep"], [crossing()])
    assert lower.alerts == [] and lower.open_crossings == {"scope_creep|1|13": "error"}
    higher = decide_alerts(lower.open_crossings, ["scope_creep"], [crossing(severity="error")])
    assert higher.alerts == []

    recovered = decide_alerts(higher.open_crossings, ["scope_creep"], [])
    assert recovered.recovered == ["scope_creep|1|13"] and recovered.open_crossings == {}
    again = decide_alerts(recovered.open_crossings, ["scope_creep"], [crossing()])
    assert [d.reason for d in again.alerts] == ["new"]


def test_dedup_leaves_other_types_open_while_one_table_is_judged() -> None:
    state = {"hygiene|1|-": "warning", "scope_creep|1|13": "warning"}
    outcome = decide_alerts(state, ["scope_creep", "missed_target"], [])
    assert outcome.open_crossings == {"hygiene|1|-": "warning"}
    assert outcome.recovered == ["scope_creep|1|13"]


def test_cursor_round_trip_and_unreadable_cursors() -> None:
    cursor = AlertCursor(
        seen={"sprint_commitments": [49, 4]},
        open={"scope_creep|1|13": "warning"},
        feed_offset=120,
        pending=[{"alert_id": "alert-x", "offset": 0, "webhook": "webhook-1", "attempts": 1}],
    )
    assert AlertCursor.from_json(cursor.to_json()) == cursor
    assert AlertCursor.from_json(None) == AlertCursor()
    with pytest.raises(ValueError, match=r"not JSON.*Reset the cursor"):
        AlertCursor.from_json("{oops")
    with pytest.raises(ValueError, match="version 99"):
        AlertCursor.from_json('{"v": 99}')


def insight(**changes: object) -> dict:
    base = {
        "id": "scope_creep-0123456789abcdef",
        "type": "scope_creep",
        "severity": "warning",
        "title": "Scope grew during Sprint 13",
        "message": "5 of 12 stories grew.",
        "recommendations": ["Re-plan."],
        "board": {"id": 1, "name": "CHK board"},
        "sprint": {"id": 13, "name": "Sprint 13"},
        "as_of": "2026-11-20T09:00:00+00:00",
    }
    base.update(changes)
    return base


def test_the_matching_insight_is_same_case_board_sprint_and_snapshot_and_not_healthy() -> None:
    assert matching_insight(crossing(), [insight()])["id"] == "scope_creep-0123456789abcdef"
    assert matching_insight(crossing(), [insight(sprint={"id": 12, "name": "S"})]) is None
    assert matching_insight(crossing(), [insight(severity="info")]) is None
    assert matching_insight(crossing(), [insight(as_of="2026-11-19T09:00:00+00:00")]) is None
    assert matching_insight(crossing(), [insight(board={"id": 2, "name": "MOB"})]) is None
    # Hygiene is board-wide: the team-health insight names the active sprint, any sprint will do.
    health = insight(type="team_health", id="team_health-0123456789abcdef")
    assert matching_insight(crossing("hygiene", sprint=None), [health]) is not None
    assert matching_insight(crossing("cycle_time"), [insight()]) is None
    # A cycle-time alert is worded by the flow insight of its board and sprint.
    flow = insight(type="flow", id="flow-0123456789abcdef")
    assert matching_insight(crossing("cycle_time"), [flow])["id"] == "flow-0123456789abcdef"


def test_records_follow_the_schema_and_carry_links() -> None:
    decision = decide_alerts({}, ["scope_creep"], [crossing()]).alerts[0]
    source = AlertSource("sprint_commitments", 49, "run-1", "check", False, "WARN")
    with_insight = alert_record(decision, insight(), source, LINKS, "2026-11-24T08:00:00+00:00")
    validate_record(with_insight)
    assert with_insight["title"] == "Scope grew during Sprint 13"
    assert with_insight["recommendations"] == ["Re-plan."]
    assert with_insight["report_url"] == "file:///data/report/insights.html#board-1"
    assert with_insight["dagster_run"] == {
        "run_id": "run-1",
        "url": "http://127.0.0.1:3000/runs/run-1",
    }
    without = alert_record(decision, None, source, LINKS, "2026-11-24T08:00:00+00:00")
    validate_record(without)
    assert (without["title"], without["insight_id"]) == ("Scope grew", None)
    assert with_insight["alert_id"] == without["alert_id"], "the id names the crossing, not text"
    later = AlertSource("sprint_commitments", 77, "run-2")
    assert alert_record(decision, None, later, LINKS, "x")["alert_id"] != without["alert_id"]

    failure = run_failure_record(
        run_id="run-9",
        job_name="hourly_refresh_job",
        schedule_name="hourly_incremental_refresh",
        run_error="Execution failed.\nTraceback...",
        failed_steps=[FailedStep("raw_jira_scrape", "SnapshotError: folder missing\n  at x")],
        links=LINKS,
        raised_at="2026-11-24T08:00:00+00:00",
    )
    validate_record(failure)
    assert failure["title"] == "Scheduled run of hourly_refresh_job failed in raw_jira_scrape"
    assert failure["message"] == "SnapshotError: folder missing"
    assert failure["failure"]["run_error"] == "Execution failed."

    broken = dict(without, severity="critical")
    with pytest.raises(AlertRecordError, match="severity"):
        validate_record(broken)
