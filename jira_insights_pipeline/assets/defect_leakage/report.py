"""The defect-leakage figure on the report: the latest closed sprint's escape rate."""

from __future__ import annotations

from jira_insights_pipeline.assets.defect_leakage.rules import LEAKAGE
from jira_insights_pipeline.assets.defect_leakage.thresholds import DefectLeakageThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, rows
from jira_insights_pipeline.metrics.issue_history import latest_closed_sprints
from jira_insights_pipeline.report.charts import ORANGE, Chart, line_chart
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
    frame = tables["defect_escape_rates"]
    if frame.empty or "board_id" not in frame:
        return []
    board = frame[(frame["board_id"] == board_id) & frame["escape_rate"].notna()]
    board = board.sort_values("sprint_start")
    if board.empty:
        return []
    names = [str(name) for name in board["sprint_name"]]
    rates = [float(rate) for rate in board["escape_rate"]]
    limit = float(thresholds.escape_rate_alert)
    description = (
        "; ".join(f"{name}: {percent(rate)}" for name, rate in zip(names, rates, strict=True))
        + f". Limit: {limit:.0%}."
    )
    return [
        line_chart(
            f"escape-{board_id}",
            f"Defect escape rate of {tables.board_name(board_id)}",
            "Sprint",
            "Production / all found bugs",
            names,
            rates,
            [(f"Limit {limit:.0%}", limit, ORANGE)],
            description,
            y_format="{:.0%}",
        )
    ]
