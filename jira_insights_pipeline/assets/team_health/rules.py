"""The hygiene rule: `hygiene_alert` of `hygiene_scores` (per board, not per sprint)."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.team_health.thresholds import TeamHealthThresholds
from jira_insights_pipeline.assets.team_health.wording import TITLES
from jira_insights_pipeline.rules import AlertText, Rule


def crossing(row: Any, thresholds: TeamHealthThresholds, board: str) -> AlertText:
    score = round(float(row["hygiene_score"]), 4)
    return AlertText(
        title=TITLES.alarm.format(board=board),
        message=f"The hygiene score is {score:.0f}, below the healthy "
        f"{thresholds.hygiene_score_min:.0f}; {row['issues_with_problems']} of "
        f"{row['open_issues']} open issues have a problem.",
        figures={
            "hygiene_score": score,
            "open_issues": int(row["open_issues"]),
            "issues_with_problems": int(row["issues_with_problems"]),
            "threshold": thresholds.hygiene_score_min,
        },
    )


HYGIENE = Rule(
    name="hygiene",
    table="hygiene_scores",
    flag="hygiene_alert",
    severity="warning",
    scope="board",
    check="hygiene_score_above_minimum",
    description="Ticket hygiene: every board's score (100 × the share of open issues with no "
    "problem) must be at least `hygiene_score_min` (default 70).",
    holds=lambda thresholds: (
        f"Every board's hygiene score is at least {thresholds.hygiene_score_min:.0f}."
    ),
    crossing=crossing,
    limit_fact="hygiene_score_min",
)
