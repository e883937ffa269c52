"""The facts of a velocity insight: one per board, its latest closed sprint in
`sprint_velocity`, with the forecast of the next sprint."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.velocity import NAME
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
    severity_of,
    sprint_of,
)
from jira_insights_pipeline.insights.values import Fact, InsightFacts, judged, rounded

# A sprint within 5% of the recent mean reads as steady; the drop rule decides the alarm.
STEADY_BAND = 0.05
FORECASTS = (
    ("forecast_p50_points", "forecast_p50", "next sprint points, even odds"),
    ("forecast_p85_points", "forecast_p85", "next sprint points, safe commitment"),
)


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
    return insight(
        tables,
        NAME,
        severity,
        board_id,
        (sprint_id, sprint),
        status=status,
        facts=facts,
        key_facts=("completed_points", "previous_mean_points", "forecast_p85"),
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
