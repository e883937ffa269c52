"""The scope-creep metric assets (group `scope_creep`, DuckDB schema `metrics`): the rule's table,
whose check is built from the rule (`assets/checks.py`), and its diagnosis, the grown stories'
causes and the per-sprint sums the insight leads with."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metric_tables import (
    figure,
    metric_asset_options,
    metric_output,
    validated,
)
from jira_insights_pipeline.assets.scope_creep import NAME
from jira_insights_pipeline.assets.scope_creep.diagnosis import (
    ADDED_LATE,
    REFINEMENT_GAP,
    worst_growth_causes,
    worst_scope_causes,
)
from jira_insights_pipeline.assets.scope_creep.diagnosis import growth_causes as build_causes
from jira_insights_pipeline.assets.scope_creep.diagnosis import (
    sprint_scope_causes as build_sprint_causes,
)
from jira_insights_pipeline.assets.scope_creep.metrics import sprint_scope_creep as build
from jira_insights_pipeline.assets.scope_creep.metrics import worst_scope_creep
from jira_insights_pipeline.assets.scope_creep.rules import SCOPE_CREEP
from jira_insights_pipeline.assets.scope_creep.schemas import (
    ScopeGrowthCausesSchema,
    SprintScopeCausesSchema,
    SprintScopeCreepSchema,
)
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.resources.settings import PipelineSettings


@dg.asset(**metric_asset_options(NAME))
def sprint_scope_creep(
    jira_snapshot: pd.DataFrame,
    sprint_commitments: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per sprint started by "as of": its estimated committed stories, how many grew
    by more than the growth threshold and their share, the work added after the start, and
    `scope_creep_alert` (that share above `grown_story_share_alert`)."""
    section = thresholds.scope_creep
    table = validated(
        SprintScopeCreepSchema, build(sprint_commitments, section), "sprint_scope_creep"
    )
    judged = SCOPE_CREEP.judged(table)
    return metric_output(
        table,
        pipeline_settings.as_of_for(jira_snapshot),
        preview=worst_scope_creep(table),
        preview_label="alerting sprints first",
        figures={
            "max_judged_grown_story_share": figure(judged["grown_story_share"].max()),
            "alerting_sprints": int(SCOPE_CREEP.crossed(table).shape[0]),
            "grown_story_share_alert": section.grown_story_share_alert,
        },
    )


@dg.asset(**metric_asset_options(NAME))
def scope_growth_causes(
    jira_snapshot: pd.DataFrame,
    sprint_scope_changes: pd.DataFrame,
    jira_estimates: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    jira_issues: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per (sprint, grown story): its points at the start and end, its first upward
    re-estimate inside the sprint (when, from and to how many points, days after the start),
    and whether its acceptance criteria grew before that re-estimate (`refinement_gap`, with
    the instant of the change, the lengths before and at the re-estimate, and the days between),
    looking back `criteria_lookback_days` before the start but never before its last estimate."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = validated(
        ScopeGrowthCausesSchema,
        build_causes(
            sprint_scope_changes,
            jira_estimates,
            jira_changelog,
            jira_issues,
            as_of,
            thresholds.scope_creep,
        ),
        "scope_growth_causes",
    )
    return metric_output(
        table,
        as_of,
        preview=worst_growth_causes(table),
        preview_label="refinement gaps first",
        figures={
            "grown_stories": len(table),
            "refinement_gaps": int(table[REFINEMENT_GAP].sum()),
            "criteria_lookback_days": thresholds.scope_creep.criteria_lookback_days,
        },
    )


@dg.asset(**metric_asset_options(NAME))
def sprint_scope_causes(
    jira_snapshot: pd.DataFrame,
    scope_growth_causes: pd.DataFrame,
    sprint_scope_changes: pd.DataFrame,
    sprint_commitments: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per sprint started by "as of": its grown stories and how many had a refinement
    gap (with the points each cause grew the sprint by), its final scope at the end (issues and
    points), the work added after the start within it and that work's share in issues and
    points, and `dominant_cause` (refinement_gap, added_late or none), the cause an insight
    leads with."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = validated(
        SprintScopeCausesSchema,
        build_sprint_causes(scope_growth_causes, sprint_scope_changes, sprint_commitments),
        "sprint_scope_causes",
    )
    causes = table["dominant_cause"]
    return metric_output(
        table,
        as_of,
        preview=worst_scope_causes(table),
        preview_label="most refinement gaps first",
        figures={
            "refinement_gap_sprints": int(causes.eq(REFINEMENT_GAP).sum()),
            "added_late_sprints": int(causes.eq(ADDED_LATE).sum()),
            "max_added_point_share": figure(table["added_point_share"].max()),
        },
    )
