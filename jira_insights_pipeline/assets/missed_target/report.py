"""The missed-target figure and chart on the report: the closed sprints' completion rates."""

from __future__ import annotations

from jira_insights_pipeline.assets.missed_target.rules import MISSED_TARGET
from jira_insights_pipeline.assets.missed_target.thresholds import MissedTargetThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, latest_judged_row
from jira_insights_pipeline.report.charts import ORANGE, Chart, line_chart
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.formats import missing, percent, points


def missed_target_figure(
    board_id: int, tables: MetricTables, thresholds: MissedTargetThresholds
) -> Figure | None:
    row = latest_judged_row(MISSED_TARGET, tables, board_id)
    if row is None:
        return None
    rate = row["completion_rate"]
    return Figure(
        "Completion rate",
        percent(rate),
        f"{row['sprint_name']}: {points(row['completed_points'])} points completed against "
        f"{points(row['committed_points'])} committed, {row['spillover_issues']} spilled over "
        f"(target {thresholds.completion_rate_min:.0%})",
        None if missing(rate) else flag(row[MISSED_TARGET.flag]),
    )


def missed_target_charts(
    board_id: int, tables: MetricTables, thresholds: MissedTargetThresholds
) -> list[Chart]:
    """Completion rate per closed sprint against the target line."""
    frame = tables["sprint_targets"]
    if frame.empty or "board_id" not in frame:
        return []
    rows = frame[(frame["board_id"] == board_id) & frame["completion_rate"].notna()]
    rows = rows.sort_values("sprint_id")
    if rows.empty:
        return []
    names = [str(name) for name in rows["sprint_name"]]
    rates = [float(rate) for rate in rows["completion_rate"]]
    target = float(thresholds.completion_rate_min)
    description = (
        "; ".join(f"{name}: {percent(rate)}" for name, rate in zip(names, rates, strict=True))
        + f". Target: {target:.0%}."
    )
    return [
        line_chart(
            f"completion-{board_id}",
            f"Completion rate of {tables.board_name(board_id)}",
            "Closed sprint",
            "Completed / committed points",
            names,
            rates,
            [(f"Target {target:.0%}", target, ORANGE)],
            description,
            y_format="{:.0%}",
        )
    ]
