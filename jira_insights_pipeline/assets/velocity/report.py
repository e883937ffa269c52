"""The velocity figure and chart on the report: the closed sprints' points and the forecast."""

from __future__ import annotations

import pandas as pd

from jira_insights_pipeline.assets.velocity.rules import VELOCITY_DROP
from jira_insights_pipeline.assets.velocity.thresholds import VelocityThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, latest_judged_row
from jira_insights_pipeline.report.charts import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    Chart,
    bar_chart,
    board_series,
)
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.formats import one_decimal, percent, points


def velocity_figure(
    board_id: int, tables: MetricTables, thresholds: VelocityThresholds
) -> Figure | None:
    row = latest_judged_row(VELOCITY_DROP, tables, board_id)
    if row is None:
        return None
    return Figure(
        "Velocity",
        f"{points(row['completed_points'])} pts",
        f"{row['sprint_name']}: {percent(row['velocity_ratio'])} of the previous mean "
        f"{one_decimal(row['previous_mean_points'])} (drop below "
        f"{thresholds.velocity_drop_ratio:.0%}); next sprint P85 "
        f"{points(row['forecast_p85_points'])}, P50 {points(row['forecast_p50_points'])} points",
        flag(row[VELOCITY_DROP.flag]),
    )


def velocity_charts(
    board_id: int, tables: MetricTables, thresholds: VelocityThresholds
) -> list[Chart]:
    """Committed against completed points per closed sprint, with the next sprint's P50/P85
    forecast as reference lines."""
    rows = board_series(tables["sprint_velocity"], board_id, "completed_points", "sprint_id")
    if rows.empty:
        return []
    names = [str(name) for name in rows["sprint_name"]]
    committed = [float(v) for v in rows["committed_points"]]
    completed = [float(v) for v in rows["completed_points"]]
    forecast = rows[rows["latest_closed"]]
    lines: list[tuple[str, float, str]] = []
    said = ""
    if not forecast.empty and pd.notna(forecast["forecast_p50_points"].iloc[0]):
        p50 = float(forecast["forecast_p50_points"].iloc[0])
        p85 = float(forecast["forecast_p85_points"].iloc[0])
        lines = [("Forecast P50", p50, GREEN), ("Forecast P85", p85, GREY)]
        said = f" Next sprint forecast: P50 {points(p50)}, P85 {points(p85)} points."
    description = (
        "; ".join(
            f"{name}: committed {points(c)}, completed {points(d)} points"
            for name, c, d in zip(names, committed, completed, strict=True)
        )
        + "."
        + said
    )
    return [
        bar_chart(
            f"velocity-{board_id}",
            f"Velocity of {tables.board_name(board_id)}",
            "Closed sprint",
            "Story points",
            names,
            [("Completed", completed, BLUE), ("Committed", committed, ORANGE)],
            lines,
            description,
        )
    ]
