"""The team-health figure on the report: the board's hygiene score."""

from __future__ import annotations

from jira_insights_pipeline.assets.team_health.rules import HYGIENE
from jira_insights_pipeline.assets.team_health.thresholds import TeamHealthThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, latest_judged_row
from jira_insights_pipeline.partitions import PARTITION_COLUMN
from jira_insights_pipeline.report.charts import Chart, board_series, threshold_chart
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.formats import NONE, missing


def team_health_figure(
    board_id: int, tables: MetricTables, thresholds: TeamHealthThresholds
) -> Figure | None:
    row = latest_judged_row(HYGIENE, tables, board_id)
    if row is None:
        return None
    score = row["hygiene_score"]
    return Figure(
        "Hygiene score",
        NONE if missing(score) else f"{float(score):.0f}",
        f"{row['issues_with_problems']} of {row['open_issues']} open issues with a problem "
        f"(minimum {thresholds.hygiene_score_min:.0f})",
        None if missing(score) else flag(row[HYGIENE.flag]),
    )


def team_health_charts(
    board_id: int, tables: MetricTables, thresholds: TeamHealthThresholds
) -> list[Chart]:
    """The hygiene score over days: one point per day of `hygiene_history` (its partitions),
    else, before any history was kept, today's score from `hygiene_scores`."""
    board = board_series(tables["hygiene_history"], board_id, "hygiene_score", PARTITION_COLUMN)
    if board.empty:
        board = board_series(tables["hygiene_scores"], board_id, "hygiene_score", "date")
    if board.empty:
        return []
    return [
        threshold_chart(
            f"hygiene-{board_id}",
            f"Hygiene score of {tables.board_name(board_id)}",
            "Day",
            "Hygiene score (0-100)",
            [str(day) for day in board[PARTITION_COLUMN]],
            [float(score) for score in board["hygiene_score"]],
            ("Minimum", float(thresholds.hygiene_score_min)),
            "{:.0f}".format,
        )
    ]
