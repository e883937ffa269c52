"""The velocity figure on the report: the latest closed sprint's points and the forecast."""

from __future__ import annotations

from jira_insights_pipeline.assets.velocity.rules import VELOCITY_DROP
from jira_insights_pipeline.assets.velocity.thresholds import VelocityThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, latest_judged_row
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
