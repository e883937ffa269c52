"""The missed-target use case, as the registry sees it."""

from __future__ import annotations

from jira_insights_pipeline.assets.missed_target import NAME, Thresholds
from jira_insights_pipeline.assets.missed_target.assets import (
    spillover_patterns,
    spillover_reasons,
    sprint_targets,
)
from jira_insights_pipeline.assets.missed_target.facts import missed_target_facts
from jira_insights_pipeline.assets.missed_target.report import (
    missed_target_charts,
    missed_target_figure,
    missed_target_trends,
)
from jira_insights_pipeline.assets.missed_target.rules import MISSED_TARGET
from jira_insights_pipeline.assets.missed_target.wording import WORDING
from jira_insights_pipeline.use_case import UseCase

USE_CASE = UseCase(
    name=NAME,
    label="Sprint target",
    insight_description="One insight per board: the points its latest closed sprint completed "
    "against the points committed, why its unfinished work was left (the dominant reason of its "
    "recent sprints) and whether work keeps spilling over.",
    thresholds=Thresholds,
    rules=(MISSED_TARGET,),
    assets=(sprint_targets, spillover_reasons, spillover_patterns),
    insight_inputs=(
        "sprint_targets",
        "spillover_reasons",
        "spillover_patterns",
        "sprint_scope_changes",
        "jira_boards",
        "jira_issues",
    ),
    facts=missed_target_facts,
    wording=WORDING,
    report_inputs=("sprint_targets",),
    report_figure=missed_target_figure,
    report_charts=missed_target_charts,
    digest_trends=missed_target_trends,
    hourly=True,
    question_words=(
        "target",
        "goal",
        "commitment",
        "committed",
        "finish",
        "finished",
        "unfinished",
        "spillover",
        "spilled",
        "carry",
        "carried",
        "leftover",
        "left",
    ),
)
