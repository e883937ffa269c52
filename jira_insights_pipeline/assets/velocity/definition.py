"""The velocity use case, as the registry sees it."""

from __future__ import annotations

from jira_insights_pipeline.assets.velocity import NAME, Thresholds
from jira_insights_pipeline.assets.velocity.assets import sprint_velocity, velocity_causes
from jira_insights_pipeline.assets.velocity.facts import velocity_facts
from jira_insights_pipeline.assets.velocity.report import velocity_charts, velocity_figure
from jira_insights_pipeline.assets.velocity.rules import VELOCITY_DROP
from jira_insights_pipeline.assets.velocity.wording import WORDING
from jira_insights_pipeline.use_case import UseCase

USE_CASE = UseCase(
    name=NAME,
    label="Velocity",
    insight_description="One insight per board: the latest closed sprint's velocity against the "
    "previous sprints, on a drop its largest causes in Jira's data, and the P50/P85 forecast for "
    "the next one.",
    thresholds=Thresholds,
    rules=(VELOCITY_DROP,),
    assets=(sprint_velocity, velocity_causes),
    # Scope creep's and missed target's diagnoses are cited by a drop's causes (facts.py).
    insight_inputs=(
        "sprint_velocity",
        "velocity_causes",
        "sprint_scope_causes",
        "spillover_reasons",
        "spillover_patterns",
        "jira_boards",
    ),
    facts=velocity_facts,
    wording=WORDING,
    report_inputs=("sprint_velocity",),
    report_figure=velocity_figure,
    report_charts=velocity_charts,
    question_words=(
        "velocity",
        "points",
        "throughput",
        "slow",
        "slower",
        "slowing",
        "dropping",
        "drop",
        "dropped",
        "forecast",
        "capacity",
    ),
)
