"""The team-health figure on the report: the board's hygiene score."""

from __future__ import annotations

import pandas as pd

from jira_insights_pipeline.assets.team_health.rules import HYGIENE
from jira_insights_pipeline.assets.team_health.thresholds import TeamHealthThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, latest_judged_row
from jira_insights_pipeline.report.charts import ORANGE, Chart, line_chart
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
    """The hygiene score over days: from `hygiene_history` when the run holds it (MetricTables
    gives an empty frame for a table it lacks), else today's score from `hygiene_scores`."""
    history = tables["hygiene_history"]
    if not history.empty and {"board_id", "day", "hygiene_score"} <= set(history.columns):
        board = history[(history["board_id"] == board_id) & history["hygiene_score"].notna()]
        days = [str(pd.Timestamp(day).date()) for day in board.sort_values("day")["day"]]
        scores = [float(s) for s in board.sort_values("day")["hygiene_score"]]
    else:
        scores_frame = tables["hygiene_scores"]
        if scores_frame.empty or "board_id" not in scores_frame:
            return []
        board = scores_frame[
            (scores_frame["board_id"] == board_id) & scores_frame["hygiene_score"].notna()
        ]
        days = [str(pd.Timestamp(as_of).date()) for as_of in board["as_of"]]
        scores = [float(s) for s in board["hygiene_score"]]
    if not scores:
        return []
    minimum = float(thresholds.hygiene_score_min)
    description = (
        "; ".join(f"{day}: {score:.0f}" for day, score in zip(days, scores, strict=True))
        + f". Minimum: {minimum:.0f}."
    )
    return [
        line_chart(
            f"hygiene-{board_id}",
            f"Hygiene score of {tables.board_name(board_id)}",
            "Day",
            "Hygiene score (0-100)",
            days,
            scores,
            [(f"Minimum {minimum:.0f}", minimum, ORANGE)],
            description,
        )
    ]
