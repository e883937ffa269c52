"""The missed-target figure and chart on the report: the closed sprints' completion rates."""

from __future__ import annotations

from jira_insights_pipeline.assets.missed_target.rules import MISSED_TARGET
from jira_insights_pipeline.assets.missed_target.thresholds import MissedTargetThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, latest_judged_row
from jira_insights_pipeline.report.charts import Chart, board_series, threshold_chart
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.formats import missing, percent, points


def _target(thresholds: MissedTargetThresholds) -> str:
    return f"(target {thresholds.completion_rate_min:.0%})"


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
        f"{_target(thresholds)}",
        None if missing(rate) else flag(row[MISSED_TARGET.flag]),
    )


def missed_target_charts(
    board_id: int, tables: MetricTables, thresholds: MissedTargetThresholds
) -> list[Chart]:
    """Completion rate per closed sprint against the target line."""
    board = board_series(tables["sprint_targets"], board_id, "completion_rate", "sprint_id")
    if board.empty:
        return []
    return [
        threshold_chart(
            f"completion-{board_id}",
            f"Completion rate of {tables.board_name(board_id)}",
            "Closed sprint",
            "Completed / committed points",
            [str(name) for name in board["sprint_name"]],
            [float(rate) for rate in board["completion_rate"]],
            ("Target", float(thresholds.completion_rate_min)),
            percent,
            y_format="{:.0%}",
        )
    ]


# The weekly digest lists this many of the last closed sprints.
DIGEST_SPRINTS = 4


def missed_target_trends(
    board_id: int, tables: MetricTables, thresholds: MissedTargetThresholds
) -> list[str]:
    """The completion rates of the board's last closed sprints, oldest first, for the digest."""
    board = board_series(tables["sprint_targets"], board_id, "completion_rate", "sprint_id")
    if board.empty:
        return []
    last = board.tail(DIGEST_SPRINTS)
    rates = ", ".join(
        f"{name} {percent(rate)}"
        for name, rate in zip(last["sprint_name"], last["completion_rate"], strict=True)
    )
    return [f"Completion over the last {len(last)} closed sprints: {rates} {_target(thresholds)}."]
