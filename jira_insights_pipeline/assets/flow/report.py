"""The flow figure on the report: the latest closed sprint's median cycle time."""

from __future__ import annotations

from jira_insights_pipeline.assets.flow.rules import RISE
from jira_insights_pipeline.assets.flow.thresholds import FlowThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, latest_judged_row
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.formats import NONE, missing


def flow_figure(board_id: int, tables: MetricTables, thresholds: FlowThresholds) -> Figure | None:
    row = latest_judged_row(RISE, tables, board_id)
    if row is None:
        return None
    median, change = row["median_cycle_time_days"], row["median_change_pct"]
    return Figure(
        "Median cycle time",
        NONE if missing(median) else f"{float(median):.1f} d",
        f"{row['sprint_name']}: "
        + ("no earlier median" if missing(change) else f"{float(change):+.0f}%")
        + f" against the previous sprints (allowed +{thresholds.cycle_time_rise:.0%})",
        flag(row[RISE.flag]),
    )
