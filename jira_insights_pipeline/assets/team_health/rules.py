"""The hygiene rule: `hygiene_alert` of `hygiene_scores` (per board, not per sprint)."""

from __future__ import annotations

from jira_insights_pipeline.assets.team_health.wording import TITLES
from jira_insights_pipeline.rules import Rule

HYGIENE = Rule(
    name="hygiene",
    table="hygiene_scores",
    flag="hygiene_alert",
    severity="warning",
    scope="board",
    check="hygiene_score_above_minimum",
    description="Ticket hygiene: every board's score (100 × the share of open issues with no "
    "problem) must be at least `hygiene_score_min` (default 70).",
    holds="Every board's hygiene score is at least {t.hygiene_score_min:.0f}.",
    title=TITLES.alarm,
    message="The hygiene score is {row.hygiene_score:.0f}, below the healthy "
    "{t.hygiene_score_min:.0f}; {row.issues_with_problems} of {row.open_issues} open issues have "
    "a problem.",
    figures=("hygiene_score", "open_issues", "issues_with_problems"),
    threshold="hygiene_score_min",
    limit_fact="hygiene_score_min",
)
