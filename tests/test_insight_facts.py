"""Facts: metric tables -> the numbers, keys and names one insight may state, and its severity.

The insight engine is only as grounded as its facts, so these tests pin the facts of a
hand-made four-board site (whose tables validate against the metric tables' Pandera models, the
contract with the metric assets) to values computed by hand, and check that severity follows
the thresholds, not the wording.
"""

import math

import pandas as pd
import pytest

from jira_insights_pipeline import schemas
from jira_insights_pipeline.insights import demo_tables
from jira_insights_pipeline.insights.facts import (
    MetricTables,
    all_facts,
    facts_for,
    insight_id,
    latest_as_of,
    render_value,
)
from jira_insights_pipeline.metrics.thresholds import Thresholds
from jira_insights_pipeline.validation import validate_table


@pytest.fixture(scope="module")
def tables() -> MetricTables:
    return demo_tables.four_board_tables()


def _one(items, board_id, sprint_id=None):
    matches = [
        item
        for item in items
        if item.board_id == board_id and (sprint_id is None or item.sprint_id == sprint_id)
    ]
    assert len(matches) == 1, matches
    return matches[0]


def _values(item) -> dict:
    return {fact.name: fact.value for fact in item.facts}


def test_demo_tables_follow_the_metric_contract(tables: MetricTables) -> None:
    models = {**schemas.SPRINT_METRIC_SCHEMAS, **schemas.ISSUE_METRIC_SCHEMAS}
    checked = []
    for name, frame in vars(tables).items():
        if name in models:
            validate_table(models[name], frame, name)
            checked.append(name)
    validate_table(schemas.JiraBoardsSchema, tables.jira_boards, "jira_boards")
    assert len(checked) == 8


def test_scope_creep_counts_the_stories_that_grew(tables: MetricTables) -> None:
    items = facts_for("scope_creep", tables)
    # Latest closed and active sprint of each of the four boards.
    assert [(i.board_id, i.sprint_id) for i in items] == [
        (1, 104), (1, 105), (2, 204), (2, 205), (3, 304), (3, 305), (4, 404), (4, 405)
    ]  # fmt: skip
    mobile = _one(items, 1, 104)
    assert mobile.severity == "warning"
    assert mobile.sprint_name == "MOB Sprint 23"
    values = _values(mobile)
    assert values["estimated_stories"] == 6
    assert values["grown_stories"] == 3
    assert values["grown_story_share"] == 0.5
    assert values["top_story"] == "MOB-130"  # 3 -> 8 points, the largest growth
    assert (values["top_story_start_points"], values["top_story_end_points"]) == (3, 8)
    assert values["added_stories"] == 1
    assert [e.issue_key for e in mobile.evidence] == ["MOB-130", "MOB-131", "MOB-132", "MOB-136"]
    assert mobile.evidence[0].reason == "grew from 3 to 8 points and became a large story"
    # Payments: exactly one of five grew, 20%, which is not above the 20% limit.
    payments = _one(items, 2, 204)
    assert _values(payments)["grown_story_share"] == 0.2
    assert payments.severity == "info"


def test_missed_target_uses_the_latest_closed_sprint(tables: MetricTables) -> None:
    items = facts_for("missed_target", tables)
    assert [i.sprint_id for i in items] == [104, 204, 304, 404]
    platform = _one(items, 3)
    values = _values(platform)
    assert values["completion_rate"] == pytest.approx(8 / 24, abs=1e-4)
    assert values["committed_points"] == 24
    assert values["completed_committed_points"] == 8
    assert values["spillover_stories"] == 4
    # Spillover in every one of the last three sprints (2, 4 and this sprint's 4).
    assert (values["spillover_sprints"], values["recent_sprints"]) == (3, 3)
    assert platform.severity == "warning"
    assert "several recent sprints" in platform.status
    assert _one(items, 2).severity == "info"
    assert [e.reason for e in platform.evidence][:1] == [
        "not finished, carried over to a later sprint"
    ]


def test_defect_leakage_traces_production_bugs_to_their_stories(tables: MetricTables) -> None:
    items = facts_for("defect_leakage", tables)
    payments = _one(items, 2)
    values = _values(payments)
    assert values["production_bugs"] == 4
    assert values["bugs_found"] == 8  # 4 production, 3 QA, 1 unknown
    assert values["escape_rate"] == pytest.approx(4 / 7, abs=1e-4)
    assert values["source_stories"] == ("PAY-130", "PAY-131")
    assert payments.severity == "error"
    assert payments.evidence[0].issue_key == "PAY-930"
    assert (
        payments.evidence[0].reason
        == "found in production, linked to PAY-130 after the story was done"
    )
    # Mobile: 1 of 5 judged bugs escaped, exactly the 20% limit: not an alarm.
    assert _values(_one(items, 1))["escape_rate"] == 0.2
    assert _one(items, 1).severity == "info"


def test_team_health_reports_the_worst_problem(tables: MetricTables) -> None:
    items = facts_for("team_health", tables)
    platform = _one(items, 3)
    values = _values(platform)
    assert values["hygiene_score"] == pytest.approx(56.7)
    assert values["worst_problem"] == "stale issues"
    assert values["worst_problem_issues"] == 9
    assert platform.severity == "warning"
    # Named after the board's active sprint.
    assert platform.sprint_name == "PLAT Sprint 24"
    assert platform.evidence[0].reason == "stale, blocked, in progress too long"
    assert {i.severity for i in items if i.board_id != 3} == {"info"}


def test_velocity_compares_with_the_previous_sprints(tables: MetricTables) -> None:
    items = facts_for("velocity", tables)
    mobile = _one(items, 1)
    values = _values(mobile)
    assert values["completed_points"] == 19
    assert values["previous_mean_points"] == 31
    assert values["trend"] == "falling"
    assert (values["forecast_p50"], values["forecast_p85"]) == (31, 20)
    assert values["cycle_time_trend"] == "rising"
    assert mobile.severity == "warning"  # 19 < 0.7 * 31
    assert _values(_one(items, 4))["trend"] == "steady"


def test_the_healthy_board_only_gets_info(tables: MetricTables) -> None:
    web_store = [item for item in all_facts(tables) if item.board_id == 4]
    assert len(web_store) == 6
    assert {item.severity for item in web_store} == {"info"}


def test_thresholds_decide_severity(tables: MetricTables) -> None:
    lenient = Thresholds(escape_rate_alert=0.6, hygiene_score_min=50.0)
    assert _one(facts_for("defect_leakage", tables, lenient), 2).severity == "info"
    assert _one(facts_for("team_health", tables, lenient), 3).severity == "info"
    strict = Thresholds(grown_story_share_alert=0.1)
    assert _one(facts_for("scope_creep", tables, strict), 2, 204).severity == "warning"


def test_missing_tables_give_no_insights() -> None:
    assert all_facts(MetricTables(as_of=demo_tables.AS_OF)) == []


def test_a_sprint_without_commitment_has_no_target_to_miss(tables: MetricTables) -> None:
    commitments = tables.sprint_commitments.copy()
    commitments.loc[commitments["sprint_id"] == 404, "completion_rate"] = math.nan
    changed = MetricTables(**{**vars(tables), "sprint_commitments": commitments})
    assert [i.board_id for i in facts_for("missed_target", changed)] == [1, 2, 3]


def test_rendering_and_ids_are_stable() -> None:
    assert render_value(0.5714, "ratio") == "57%"
    assert render_value(56.67, "score") == "57"
    assert render_value(23.6667, "points") == "23.7"
    assert render_value(8.0, "points") == "8"
    assert render_value(("PAY-1", "PAY-2"), "keys") == "PAY-1, PAY-2"
    first = insight_id(2, 204, "defect_leakage", demo_tables.AS_OF)
    assert first == insight_id(2, 204, "defect_leakage", demo_tables.AS_OF)
    assert first != insight_id(2, 205, "defect_leakage", demo_tables.AS_OF)
    assert first.startswith("defect_leakage-") and len(first) == len("defect_leakage-") + 16


def test_as_of_is_the_latest_metric_instant() -> None:
    early = pd.DataFrame({"as_of": [pd.Timestamp("2025-03-01T00:00:00Z")]})
    late = pd.DataFrame({"as_of": [pd.Timestamp("2025-03-14T17:00:00Z")]})
    assert latest_as_of([early, late, pd.DataFrame()]) == "2025-03-14T17:00:00+00:00"
    with pytest.raises(ValueError, match="Materialize the metric assets"):
        latest_as_of([pd.DataFrame()])
