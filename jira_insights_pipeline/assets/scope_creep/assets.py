"""The scope-creep metric asset (group `scope_creep`, DuckDB schema `metrics`); its check is
built from the rule (`assets/checks.py`)."""

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
from jira_insights_pipeline.assets.scope_creep.metrics import sprint_scope_creep as build
from jira_insights_pipeline.assets.scope_creep.metrics import worst_scope_creep
from jira_insights_pipeline.assets.scope_creep.rules import SCOPE_CREEP
from jira_insights_pipeline.assets.scope_creep.schemas import SprintScopeCreepSchema
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
