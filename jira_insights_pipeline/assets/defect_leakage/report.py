"""The defect-leakage figure on the report: the latest closed sprint's escape rate."""

from __future__ import annotations

from jira_insights_pipeline.assets.defect_leakage.rules import LEAKAGE
from jira_insights_pipeline.assets.defect_leakage.thresholds import DefectLeakageThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, rows
from jira_insights_pipeline.metrics.issue_history import latest_closed_sprints
from jira_insights_pipeline.report.charts import Chart, board_series, threshold_chart
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


def defect_leakage_charts(
    board_id: int, tables: MetricTables, thresholds: DefectLeakageThresholds
) -> list[Chart]:
    """Escape rate per sprint (sprints with a rate) against the alert limit."""
    board = board_series(tables["defect_escape_rates"], board_id, "escape_rate", "sprint_start")
    if board.empty:
        return []
    return [
        threshold_chart(
            f"escape-{board_id}",
            f"Defect escape rate of {tables.board_name(board_id)}",
            "Sprint",
            "Production / all found bugs",
            [str(name) for name in board["sprint_name"]],
            [float(rate) for rate in board["escape_rate"]],
            ("Limit", float(thresholds.escape_rate_alert)),
            percent,
            y_format="{:.0%}",
        )
    ]
