"""The facts of a velocity insight: one per board, its latest closed sprint in
`sprint_velocity`, with the forecast of the next sprint, and on a drop its causes from
`velocity_causes`: the largest (and the second) harmful factor with the sprint's value and the
window's mean, or, when the diagnosis covers the sprint and no factor moved, that none did.
Without a diagnosis row for the sprint no cause fact is added, so nothing is claimed either
way.

Two causes are explained further by another use case's diagnosis, cited through that home's
`citations` module and never recomputed here: added work by scope creep's `sprint_scope_causes`
(how many of the issues added after the start were bugs), unfinished committed work by the
missed-target diagnosis (why this sprint's unfinished issues were left: its most common reason
with its count)."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.missed_target.citations import unfinished_work_facts
from jira_insights_pipeline.assets.scope_creep.citations import added_work_facts
from jira_insights_pipeline.assets.velocity import NAME
from jira_insights_pipeline.assets.velocity.diagnosis import (
    ADDED_ISSUES,
    ADDED_POINTS,
    BLOCKED_DAYS,
    BUG_SHARE,
    COMMITTED_POINTS,
    FINISHERS,
    UNFINISHED_COMMITTED,
    WORKING_DAYS,
)
from jira_insights_pipeline.assets.velocity.rules import VELOCITY_DROP
from jira_insights_pipeline.assets.velocity.thresholds import VelocityThresholds
from jira_insights_pipeline.insights.tables import (
    MetricTables,
    context_facts,
    has,
    insight,
    judged_rows,
    missing,
    num,
    rows,
    severity_of,
    sprint_of,
)
from jira_insights_pipeline.insights.values import Fact, FactKind, InsightFacts, judged, rounded

# A sprint within 5% of the recent mean reads as steady; the drop rule decides the alarm.
STEADY_BAND = 0.05
FORECASTS = (
    ("forecast_p50_points", "forecast_p50", "next sprint points, even odds"),
    ("forecast_p85_points", "forecast_p85", "next sprint points, safe commitment"),
)

# How each factor reads as a label ("the largest cause: committed points left unfinished") and
# the kind its value is stated in. A mean of counts is no count ("1.7 issues on average"), so it
# is a score shown to one decimal.
CAUSE_LABELS = {
    ADDED_POINTS: "points added after the start",
    ADDED_ISSUES: "issues added after the start",
    BUG_SHARE: "share of finished points that were bugs",
    BLOCKED_DAYS: "days issues were blocked",
    FINISHERS: "people who finished work",
    WORKING_DAYS: "working days in the sprint",
    UNFINISHED_COMMITTED: "committed points left unfinished",
    COMMITTED_POINTS: "size of the commitment",
}
CAUSE_KINDS: dict[str, FactKind] = {
    ADDED_POINTS: "points",
    ADDED_ISSUES: "count",
    BUG_SHARE: "ratio",
    BLOCKED_DAYS: "days",
    FINISHERS: "count",
    WORKING_DAYS: "days",
    UNFINISHED_COMMITTED: "points",
    COMMITTED_POINTS: "points",
}
# The fact names of the largest and the second cause.
CAUSE_SLOTS = (("largest_cause", "cause"), ("second_cause", "second"))
ADDED_WORK = (ADDED_ISSUES, ADDED_POINTS)


def _mean_fact(name: str, kind: FactKind, mean: float, meaning: str) -> Fact:
    if kind != "count":
        return Fact(name, rounded(mean), kind, meaning)
    whole = round(mean, 1).is_integer()
    return Fact(name, rounded(round(mean, 1)), "score", meaning, 0 if whole else 1)


def cause_facts(tables: MetricTables, board_id: int, sprint_id: int) -> tuple[list[Fact], str]:
    """The diagnosis of one sprint's drop as facts, and a few words for the status line. Empty
    when `velocity_causes` has no row for the sprint."""
    diagnosis = rows(tables["velocity_causes"], board_id, sprint_id)
    if not has(diagnosis, "factor", "value", "window_mean", "harmful", "rank"):
        return [], ""
    facts = [
        Fact("factors_checked", len(diagnosis), "count", "factors of the drop looked at"),
        Fact(
            "diagnosed_sprints",
            int(num(diagnosis["window_sprints"].iloc[0])),
            "count",
            "previous sprints each factor is compared with",
        ),
    ]
    harmful = diagnosis.loc[diagnosis["harmful"].astype(bool)].sort_values("rank")
    for (label, prefix), (_, cause) in zip(CAUSE_SLOTS, harmful.iterrows(), strict=False):
        factor = str(cause["factor"])
        kind = CAUSE_KINDS[factor]
        words = CAUSE_LABELS[factor]
        facts += [
            Fact(label, words, "label", "a factor that moved the way that lowers velocity"),
            Fact(f"{prefix}_factor", factor, "label", "the factor's column in velocity_causes"),
            Fact(f"{prefix}_value", rounded(num(cause["value"])), kind, f"{words}, this sprint"),
            _mean_fact(
                f"{prefix}_mean",
                kind,
                num(cause["window_mean"]),
                f"{words}, mean of the previous sprints",
            ),
        ]
    if harmful.empty:
        return facts, "; Jira's data shows no cause for the drop"
    largest = CAUSE_LABELS[str(harmful.iloc[0]["factor"])]
    return facts, "; the largest cause in Jira's data: " + largest


def cited_facts(
    tables: MetricTables, board_id: int, sprint_id: int, causes: list[Fact]
) -> list[Fact]:
    """What other use cases' diagnoses say about the causes `cause_facts` stated (module
    docstring): read from its `<slot>_factor` facts, so the diagnosis is not read twice and
    nothing is cited for a cause the insight does not state."""
    stated = {str(fact.value) for fact in causes if fact.name.endswith("_factor")}
    facts = []
    if stated.intersection(ADDED_WORK):
        facts += added_work_facts(tables, board_id, sprint_id)
    if UNFINISHED_COMMITTED in stated:
        facts += unfinished_work_facts(tables, board_id, sprint_id)
    return facts


def _trend(completed: float, previous_mean: float | None) -> str:
    if previous_mean is None or previous_mean <= 0:
        return "not yet established"
    ratio = completed / previous_mean
    if ratio < 1 - STEADY_BAND:
        return "falling"
    return "rising" if ratio > 1 + STEADY_BAND else "steady"


def _one(
    tables: MetricTables, thresholds: VelocityThresholds, board_id: int, row: Any
) -> InsightFacts:
    sprint_id, sprint = sprint_of(row)
    severity = severity_of([VELOCITY_DROP], row)
    completed = num(row["completed_points"])
    mean = row.get("previous_mean_points")
    previous_mean = None if missing(mean) else num(mean)
    trend = _trend(completed, previous_mean)
    facts = [
        *context_facts(tables.board_name(board_id), sprint),
        Fact("completed_points", rounded(completed), "points", "points completed"),
        Fact("trend", trend, "label", "direction against the previous sprints"),
    ]
    limit = thresholds.velocity_drop_ratio
    facts.append(Fact("drop_limit", limit, "ratio", "the least share of the mean expected"))
    if previous_mean is not None:
        facts.append(
            Fact(
                "previous_mean_points",
                rounded(previous_mean),
                "points",
                "mean points of the previous sprints",
            )
        )
        if not missing(row.get("velocity_ratio")):
            ratio = num(row["velocity_ratio"])
            facts.append(judged("velocity_ratio", ratio, limit, "ratio", "completed over the mean"))
    for column, name, meaning in FORECASTS:
        if not missing(row.get(column)):
            facts.append(Fact(name, rounded(num(row.get(column))), "points", meaning))
    status = (
        "velocity dropped well below the previous sprints"
        if severity != "info"
        else f"velocity is {trend}"
    )
    if severity != "info":
        # The causes explain a drop; on a calm sprint they would be noise.
        found, said = cause_facts(tables, board_id, sprint_id)
        facts += found + cited_facts(tables, board_id, sprint_id, found)
        status += said
    return insight(
        tables,
        NAME,
        severity,
        board_id,
        (sprint_id, sprint),
        status=status,
        facts=facts,
        key_facts=("completed_points", "previous_mean_points", "forecast_p85", "cause_value"),
    )


def velocity_facts(tables: MetricTables, thresholds: VelocityThresholds) -> list[InsightFacts]:
    """Per board: its latest closed sprint's completed points against the previous sprints,
    and the P50/P85 forecast for the next sprint."""
    table = tables[VELOCITY_DROP.table]
    if not has(table, "board_id", "sprint_id", "completed_points"):
        return []
    return [
        _one(tables, thresholds, board_id, row)
        for board_id, row in judged_rows(VELOCITY_DROP, table)
    ]
