"""The team-health use case, as the registry sees it."""

from __future__ import annotations

from jira_insights_pipeline.assets.team_health import NAME, Thresholds
from jira_insights_pipeline.assets.team_health.assets import (
    hygiene_history,
    hygiene_scores,
    work_item_health,
    work_item_health_history,
)
from jira_insights_pipeline.assets.team_health.facts import team_health_facts
from jira_insights_pipeline.assets.team_health.report import team_health_charts, team_health_figure
from jira_insights_pipeline.assets.team_health.rules import HYGIENE
from jira_insights_pipeline.assets.team_health.wording import WORDING
from jira_insights_pipeline.use_case import UseCase

USE_CASE = UseCase(
    name=NAME,
    label="Ticket hygiene",
    insight_description="One insight per board: the hygiene score of its open issues and "
    "their worst problems.",
    thresholds=Thresholds,
    rules=(HYGIENE,),
    assets=(work_item_health, hygiene_scores),
    insight_inputs=(
        "hygiene_scores",
        "work_item_health",
        "sprint_commitments",
        "jira_boards",
        "jira_issues",
    ),
    facts=team_health_facts,
    wording=WORDING,
    report_inputs=("hygiene_scores", "hygiene_history"),
    report_figure=team_health_figure,
    report_charts=team_health_charts,
    hourly=True,
    history_assets=(work_item_health_history, hygiene_history),
    question_words=(
        "hygiene",
        "stale",
        "tickets",
        "ticket",
        "unestimated",
        "estimates",
        "blocked",
        "clean",
        "messy",
        "backlog",
        "health",
    ),
)
