"""The defect-leakage use case, as the registry sees it."""

from __future__ import annotations

from jira_insights_pipeline.assets.defect_leakage import NAME, Thresholds
from jira_insights_pipeline.assets.defect_leakage.assets import (
    defect_escape_rates,
    defect_leakage,
    escape_causes,
    escape_clusters,
)
from jira_insights_pipeline.assets.defect_leakage.facts import defect_leakage_facts
from jira_insights_pipeline.assets.defect_leakage.report import (
    defect_leakage_charts,
    defect_leakage_figure,
)
from jira_insights_pipeline.assets.defect_leakage.rules import LEAKAGE
from jira_insights_pipeline.assets.defect_leakage.wording import WORDING
from jira_insights_pipeline.use_case import UseCase

USE_CASE = UseCase(
    name=NAME,
    label="Defect leakage",
    insight_description="One insight per board and sprint (latest closed and active): the "
    "share of the sprint's bugs that escaped to production, the stories they came from, and "
    "why: how many came from stories done without a testing status, or where they cluster.",
    thresholds=Thresholds,
    rules=(LEAKAGE,),
    assets=(defect_leakage, defect_escape_rates, escape_causes, escape_clusters),
    insight_inputs=(
        "defect_escape_rates",
        "defect_leakage",
        "escape_causes",
        "escape_clusters",
        "jira_boards",
        "jira_issues",
    ),
    facts=defect_leakage_facts,
    wording=WORDING,
    report_inputs=("defect_escape_rates",),
    report_figure=defect_leakage_figure,
    report_charts=defect_leakage_charts,
    hourly=True,
    question_words=(
        "bug",
        "bugs",
        "defect",
        "defects",
        "escape",
        "escaped",
        "escaping",
        "leak",
        "leaking",
        "leakage",
        "production",
        "prod",
        "quality",
        "testing",
    ),
)
