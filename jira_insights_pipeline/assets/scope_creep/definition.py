"""The scope-creep use case, as the registry sees it."""

from __future__ import annotations

from jira_insights_pipeline.assets.scope_creep import NAME, Thresholds
from jira_insights_pipeline.assets.scope_creep.assets import (
    scope_growth_causes,
    sprint_scope_causes,
    sprint_scope_creep,
)
from jira_insights_pipeline.assets.scope_creep.facts import scope_creep_facts
from jira_insights_pipeline.assets.scope_creep.report import scope_creep_figure
from jira_insights_pipeline.assets.scope_creep.rules import SCOPE_CREEP
from jira_insights_pipeline.assets.scope_creep.wording import WORDING
from jira_insights_pipeline.use_case import UseCase

USE_CASE = UseCase(
    name=NAME,
    label="Scope creep",
    insight_description="One insight per board and sprint (latest closed and active): which "
    "stories grew after the sprint started, against the scope creep limit, and why: acceptance "
    "criteria that grew before the re-estimate, or work added after the start.",
    thresholds=Thresholds,
    rules=(SCOPE_CREEP,),
    assets=(sprint_scope_creep, scope_growth_causes, sprint_scope_causes),
    insight_inputs=(
        "sprint_scope_creep",
        "sprint_scope_changes",
        "scope_growth_causes",
        "sprint_scope_causes",
        "jira_boards",
        "jira_issues",
    ),
    facts=scope_creep_facts,
    wording=WORDING,
    report_inputs=("sprint_scope_creep",),
    report_figure=scope_creep_figure,
    hourly=True,
    question_words=(
        "scope",
        "creep",
        "added",
        "grew",
        "grown",
        "growth",
        "mid-sprint",
        "injected",
        "estimate",
        "re-estimate",
        "criteria",
    ),
)
