"""The missed-target metric asset (group `missed_target`, DuckDB schema `metrics`); its check
is built from the rule (`assets/checks.py`)."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metric_tables import (
    figure,
    metric_asset_options,
    metric_output,
    validated,
)
from jira_insights_pipeline.assets.missed_target import NAME
from jira_insights_pipeline.assets.missed_target.metrics import sprint_targets as build
from jira_insights_pipeline.assets.missed_target.metrics import worst_targets
from jira_insights_pipeline.assets.missed_target.rules import MISSED_TARGET
from jira_insights_pipeline.assets.missed_target.schemas import SprintTargetsSchema
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.resources.settings import PipelineSettings


@dg.asset(**metric_asset_options(NAME))
def sprint_targets(
    jira_snapshot: pd.DataFrame,
    sprint_commitments: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per sprint closed by "as of": committed, completed and committed-and-completed
    points, the completion rate, spillover, how many of the board's recent sprints left work
    unfinished, and `missed_target` (completion rate under `completion_rate_min`)."""
    section = thresholds.missed_target
    table = validated(SprintTargetsSchema, build(sprint_commitments, section), "sprint_targets")
    judged = MISSED_TARGET.judged(table)
    return metric_output(
        table,
        pipeline_settings.as_of_for(jira_snapshot),
        preview=worst_targets(table),
        preview_label="missed targets first",
        figures={
            "min_judged_completion_rate": figure(judged["completion_rate"].min()),
            "missed_targets": int(MISSED_TARGET.crossed(table).shape[0]),
            "completion_rate_min": section.completion_rate_min,
        },
    )
