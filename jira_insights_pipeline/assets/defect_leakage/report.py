"""The defect-leakage figure on the report: the latest closed sprint's escape rate."""

from __future__ import annotations

from jira_insights_pipeline.assets.defect_leakage.rules import LEAKAGE
from jira_insights_pipeline.assets.defect_leakage.thresholds import DefectLeakageThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, rows
from jira_insights_pipeline.metrics.issue_history import latest_closed_sprints
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.formats import percent


def defect_leakage_figure(
    board_id: int, tables: MetricTables, thresholds: DefectLeakageThresholds
) -> Figure | None:
    mine = rows(tables[LEAKAGE.table], board_id)
    if mine.empty:
        return None
    closed = latest_closed_sprints(mine)
    if closed.empty:
        return None
    row = closed.iloc[-1]
    return Figure(
        "Escape rate",
        percent(row["escape_rate"]),
        f"{row['sprint_name']}: {row['production_bugs']} production, {row['qa_bugs']} QA bugs "
        f"(limit {thresholds.escape_rate_alert:.0%})",
        flag(row[LEAKAGE.flag]),
    )
