"""The flow use case, as the registry sees it."""

from __future__ import annotations

from jira_insights_pipeline.assets.flow import NAME, Thresholds
from jira_insights_pipeline.assets.flow.assets import (
    aged_work,
    cycle_time_trends,
    cycle_times,
    status_time_changes,
)
from jira_insights_pipeline.assets.flow.facts import flow_facts
from jira_insights_pipeline.assets.flow.report import flow_charts, flow_figure
from jira_insights_pipeline.assets.flow.rules import RISE
from jira_insights_pipeline.assets.flow.wording import WORDING
from jira_insights_pipeline.use_case import UseCase

USE_CASE = UseCase(
    name=NAME,
    label="Flow",
    insight_description="One insight per board: the latest closed sprint's median cycle time "
    "against the sprints before, the status whose time grew most, the slowest issues finished "
    "in it, and started work older than the team's 85th percentile cycle time.",
    thresholds=Thresholds,
    rules=(RISE,),
    assets=(cycle_times, cycle_time_trends, status_time_changes, aged_work),
    insight_inputs=(
        "cycle_time_trends",
        "cycle_times",
        "status_time_changes",
        "aged_work",
        "jira_boards",
    ),
    facts=flow_facts,
    wording=WORDING,
    report_inputs=("cycle_time_trends", "cycle_times", "aged_work"),
    report_figure=flow_figure,
    report_charts=flow_charts,
    question_words=(
        "cycle",
        "flow",
        "aging",
        "age",
        "aged",
        "long",
        "longer",
        "lead",
        "wip",
        "stuck",
        "review",
        "waiting",
    ),
)
