"""The team-health figure on the report: the board's hygiene score."""

from __future__ import annotations

from jira_insights_pipeline.assets.team_health.rules import HYGIENE
from jira_insights_pipeline.assets.team_health.thresholds import TeamHealthThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, latest_judged_row
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
