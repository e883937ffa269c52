"""Facts: metric tables -> the numbers, keys and names one insight may state, and its severity.

The insight engine is only as grounded as its facts, so these tests pin the facts of the
four-board demo site (`demo_tables.py`: hand-made per-issue tables, every per-sprint and
per-board table computed from them by the real metric functions, all validated by their Pandera
models) to values computed by hand, one use case at a time through the registry, and check that
an insight's severity is its rule's flag column (decided by the metric table, with the
thresholds), not the facts' or the wording's.
"""

import pandas as pd
import pytest
from demo_tables import (
    AS_OF,
    COMPUTED_SCHEMAS,
    DIAGNOSIS_SCHEMAS,
    INPUT_SCHEMAS,
    four_board_tables,
    recomputed,
)

from jira_insights_pipeline.insights.tables import MetricTables, latest_as_of
from jira_insights_pipeline.insights.values import InsightFacts, insight_id, render_value
from jira_insights_pipeline.registry import Thresholds, use_case, use_cases
from jira_insights_pipeline.validation import validate_table


@pytest.fixture(scope="module")
def tables() -> MetricTables:
    return four_board_tables()


def facts_for(
    name: str, tables: MetricTables, thresholds: Thresholds | None = None
) -> list[InsightFacts]:
    """The insights of use case `name`, its facts builder given its threshold section."""
    found = use_case(name)
    return found.facts(tables, found.thresholds_of(thresholds or Thresholds()))


def all_facts(tables: MetricTables) -> list[InsightFacts]:
    return [item for u in use_cases() for item in facts_for(u.name, tables)]


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
    models = {**INPUT_SCHEMAS, **COMPUTED_SCHEMAS, **DIAGNOSIS_SCHEMAS}
    for name, model in models.items():
        validate_table(model, tables[name], name)
    # Every table an insight reads is there (jira_issues holds only keys and summaries).
    read = {table for u in use_cases() for table in u.insight_inputs}
    assert read - {"jira_issues"} <= set(models)
    assert read <= set(tables.frames)
    # The per-issue tables and the sums computed from them agree: every finished story has a
    # cycle time, every bug is counted in its sprint.
    ledger = tables["sprint_commitments"].set_index("sprint_id")
    trends = tables["cycle_time_trends"].set_index("sprint_id")
    assert trends["finished_issues"].equals(ledger["completed_issues"])
    rates = tables["defect_escape_rates"].set_index("sprint_id")["bugs_found"]
    assert rates.sum() == len(tables["defect_leakage"])


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
    # The ledger counts added work at its points when it was added: the added story was
    # estimated at 3 points then (the demo data now says so).
    assert values["added_points"] == 3
    assert [e.issue_key for e in mobile.evidence] == ["MOB-130", "MOB-131", "MOB-132", "MOB-136"]
    assert mobile.evidence[0].reason == "grew from 3 to 8 points and became a large story"
    # The running sprint: 1 of 3 estimated stories grew, 33%.
    running = _one(items, 1, 105)
    assert (running.severity, _values(running)["grown_story_share"]) == ("warning", 0.3333)
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
    # Spillover in every one of the last three sprints (4, 2 and this sprint's 4).
    assert (values["spillover_sprints"], values["recent_sprints"]) == (3, 3)
    assert platform.severity == "warning"
    assert "several recent sprints" in platform.status
    assert _one(items, 1).severity == "warning"  # 19 of 26 points: 73%
    assert _one(items, 2).severity == "info"
    assert [e.reason for e in platform.evidence][:1] == [
        "not finished, carried over to a later sprint"
    ]


def test_defect_leakage_traces_production_bugs_to_their_stories(tables: MetricTables) -> None:
    items = facts_for("defect_leakage", tables)
    # Each board's latest closed and running sprint: the sprints the rule judges.
    assert [(i.board_id, i.sprint_id) for i in items] == [
        (1, 104), (1, 105), (2, 204), (2, 205), (3, 304), (3, 305), (4, 404), (4, 405)
    ]  # fmt: skip
    payments = _one(items, 2, 204)
    values = _values(payments)
    assert values["production_bugs"] == 4
    assert values["bugs_found"] == 8  # 4 production, 3 QA, 1 unknown
    assert values["escape_rate"] == pytest.approx(4 / 7, abs=1e-4)
    assert values["source_stories"] == ("PAY-130", "PAY-131")
    assert values["bugs_from_done_stories"] == 4
    assert payments.severity == "error"
    assert payments.evidence[0].issue_key == "PAY-930"
    assert (
        payments.evidence[0].reason
        == "found in production, linked to PAY-130 after the story was done"
    )
    # Its running sprint: one bug, caught in QA.
    running = _values(_one(items, 2, 205))
    assert (running["production_bugs"], running["qa_bugs"], running["escape_rate"]) == (0, 1, 0)
    assert _one(items, 2, 205).severity == "info"
    # Mobile: 1 of 5 judged bugs escaped, exactly the 20% limit: not an alarm.
    assert _values(_one(items, 1, 104))["escape_rate"] == 0.2
    assert _one(items, 1, 104).severity == "info"


def test_team_health_reports_the_worst_problem(tables: MetricTables) -> None:
    items = facts_for("team_health", tables)
    platform = _one(items, 3)
    values = _values(platform)
    # 17 of 30 open issues have no problem; hygiene_scores keeps the score unrounded.
    assert values["hygiene_score"] == pytest.approx(100 * 17 / 30, abs=1e-4)
    assert platform.by_name["hygiene_score"].rendered == "57"
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
    # The forecast is now drawn by sprint_velocity (seeded resampling of the four closed
    # sprints, 30, 32, 31 and 19 points), no longer written by hand.
    assert (values["forecast_p50"], values["forecast_p85"]) == (30, 19)
    assert mobile.severity == "warning"  # 19 < 0.7 * 31
    # Cycle time has its own insight now (flow).
    assert not {"median_cycle_days", "cycle_time_trend"} & set(values)
    assert _values(_one(items, 4))["trend"] == "steady"
    # Platform finished 8 points against a mean of 23.7: a drop too.
    assert _one(items, 3).severity == "warning"
    assert {_one(items, board).severity for board in (2, 4)} == {"info"}


def test_flow_compares_the_median_cycle_time_with_the_sprints_before(
    tables: MetricTables,
) -> None:
    items = facts_for("flow", tables)
    assert [(i.board_id, i.sprint_id) for i in items] == [(1, 104), (2, 204), (3, 304), (4, 404)]
    mobile = _one(items, 1)
    values = _values(mobile)
    # Finished in 8, 6.5, 6.5 and 5.5 days against a median of 4 days in the three sprints before.
    assert values["finished_issues"] == 4
    assert values["median_cycle_days"] == 6.5
    assert values["previous_median_cycle_days"] == 4
    assert values["median_change"] == 0.625
    assert values["p85_cycle_days"] == pytest.approx(7.325)
    assert mobile.severity == "warning"
    assert [(e.issue_key, e.reason) for e in mobile.evidence][:2] == [
        ("MOB-130", "took 8 days"),
        ("MOB-132", "took 6.5 days"),
    ]
    # Platform's median rose 6%, within the 20% limit.
    platform = _values(_one(items, 3))
    assert (platform["median_cycle_days"], platform["median_change"]) == (4.25, 0.0625)
    assert {i.severity for i in items if i.board_id != 1} == {"info"}


def test_the_healthy_board_only_gets_info(tables: MetricTables) -> None:
    web_store = [item for item in all_facts(tables) if item.board_id == 4]
    # Two scope-creep and two leakage insights (running and latest closed sprint), one each
    # for target, hygiene, velocity and flow.
    assert len(web_store) == 8
    assert {item.severity for item in web_store} == {"info"}


def test_severity_is_the_rule_flag_the_metric_table_decided(tables: MetricTables) -> None:
    # The facts builders read the flag columns: thresholds given to them change no severity...
    lenient = Thresholds(
        defect_leakage={"escape_rate_alert": 0.6}, team_health={"hygiene_score_min": 50.0}
    )
    assert _one(facts_for("defect_leakage", tables, lenient), 2, 204).severity == "error"
    assert _one(facts_for("team_health", tables, lenient), 3).severity == "warning"
    # ...the metric tables computed with them do.
    relaxed = four_board_tables(lenient)
    assert not relaxed["defect_escape_rates"]["leakage_alert"].any()
    assert _one(facts_for("defect_leakage", relaxed, lenient), 2, 204).severity == "info"
    assert _one(facts_for("team_health", relaxed, lenient), 3).severity == "info"
    strict = Thresholds(scope_creep={"grown_story_share_alert": 0.1})
    tightened = four_board_tables(strict)
    assert _one(facts_for("scope_creep", tightened, strict), 2, 204).severity == "warning"
    # A flag cleared by hand clears the severity, whatever the rate says.
    rates = tables["defect_escape_rates"].copy()
    rates.loc[rates["sprint_id"].eq(204), "leakage_alert"] = False
    cleared = MetricTables(tables.as_of, {**tables.frames, "defect_escape_rates": rates})
    payments = _one(facts_for("defect_leakage", cleared), 2, 204)
    assert (payments.severity, _values(payments)["escape_rate"]) == ("info", 0.5714)


def test_missing_tables_give_no_insights() -> None:
    assert all_facts(MetricTables(as_of=AS_OF)) == []


def test_a_sprint_without_commitment_has_no_target_to_miss(tables: MetricTables) -> None:
    # Every story of WEB Sprint 23 joined after the start: nothing was committed.
    scope = tables["sprint_scope_changes"].copy()
    sprint = scope["sprint_id"].eq(404)
    scope.loc[sprint, ["committed", "added_after_start"]] = [False, True]
    scope.loc[sprint, "entered_at"] += pd.Timedelta(hours=1)
    changed = recomputed(tables, sprint_scope_changes=scope)
    targets = changed["sprint_targets"]
    assert targets.loc[targets["sprint_id"].eq(404), "completion_rate"].isna().all()
    assert [i.board_id for i in facts_for("missed_target", changed)] == [1, 2, 3]


def test_rendering_and_ids_are_stable() -> None:
    assert render_value(0.5714, "ratio") == "57%"
    assert render_value(56.67, "score") == "57"
    assert render_value(23.6667, "points") == "23.7"
    assert render_value(8.0, "points") == "8"
    assert render_value(("PAY-1", "PAY-2"), "keys") == "PAY-1, PAY-2"
    first = insight_id(2, 204, "defect_leakage", AS_OF)
    assert first == insight_id(2, 204, "defect_leakage", AS_OF)
    assert first != insight_id(2, 205, "defect_leakage", AS_OF)
    assert first.startswith("defect_leakage-") and len(first) == len("defect_leakage-") + 16


def test_as_of_is_the_latest_metric_instant() -> None:
    early = pd.DataFrame({"as_of": [pd.Timestamp("2025-03-01T00:00:00Z")]})
    late = pd.DataFrame({"as_of": [pd.Timestamp("2025-03-14T17:00:00Z")]})
    assert latest_as_of([early, late, pd.DataFrame()]) == "2025-03-14T17:00:00+00:00"
    with pytest.raises(ValueError, match="Materialize the metric assets"):
        latest_as_of([pd.DataFrame()])


def test_the_top_grown_story_is_one_the_grown_count_counts() -> None:
    """A story added after the start that grew more than any committed story is not the
    "story that grew most" of the committed ones, and it is listed once as evidence."""
    tables = four_board_tables()
    scope = tables["sprint_scope_changes"].copy()
    closed = tables["sprint_scope_creep"]
    row = closed.loc[closed["grown_stories"].gt(0)].iloc[0]
    mine = scope["sprint_id"].eq(row["sprint_id"])
    added = mine & scope["added_after_start"].astype(bool)
    if not added.any():
        added = mine & ~scope["committed"].astype(bool)
    assert added.any(), "the demo sprint has a story added after its start"
    index = scope.index[added][0]
    scope.loc[index, ["points_at_start", "points_at_end", "growth_pct", "grew"]] = [
        1.0,
        40.0,
        3900.0,
        True,
    ]
    changed = recomputed(tables, sprint_scope_changes=scope)
    thresholds = Thresholds().scope_creep
    (found,) = [
        facts
        for facts in use_case("scope_creep").facts(changed, thresholds)
        if facts.sprint_id == int(row["sprint_id"])
    ]
    added_key = str(scope.loc[index, "issue_key"])
    assert found.fact("top_story").value != added_key
    keys = [item.issue_key for item in found.evidence]
    assert len(keys) == len(set(keys))
