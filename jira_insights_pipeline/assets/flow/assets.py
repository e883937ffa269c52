"""The flow metric assets (group `flow`, DuckDB schema `metrics`); the cycle-time check is
built from the rule (`assets/checks.py`)."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.flow import NAME
from jira_insights_pipeline.assets.flow.metrics import cycle_time_trends as build_cycle_time_trends
from jira_insights_pipeline.assets.flow.metrics import cycle_times as build_cycle_times
from jira_insights_pipeline.assets.flow.rules import RISE
from jira_insights_pipeline.assets.flow.schemas import CycleTimesSchema, CycleTimeTrendsSchema
from jira_insights_pipeline.assets.metric_tables import (
    figure,
    metric_asset_options,
    metric_output,
    validated,
)
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.resources.settings import PipelineSettings

OPTIONS = metric_asset_options(NAME)


@dg.asset(**OPTIONS)
def cycle_times(
    jira_snapshot: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per issue done at "as of": when it first entered the in-progress category, when
    it last entered done (reopened issues count to their final finish), the cycle time in days,
    and the sprint of its board during which it was finished."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = validated(
        CycleTimesSchema,
        build_cycle_times(jira_issues, jira_status_intervals, jira_sprints, as_of),
        "cycle_times",
    )
    return metric_output(
        table,
        as_of,
        preview=table.head(10),
        preview_label="longest cycle times",
        figures={
            "median_cycle_time_days": figure(table["cycle_time_days"].median()),
            "reopened_issues": int(table["reopened"].sum()),
        },
    )


@dg.asset(**OPTIONS)
def cycle_time_trends(
    jira_snapshot: pd.DataFrame,
    cycle_times: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per board and sprint started by "as of": the median and 85th percentile cycle
    time of the issues finished during the sprint, the median of the board's previous sprints,
    and `cycle_time_rise` (more than the allowed rise above it)."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    section = thresholds.flow
    table = validated(
        CycleTimeTrendsSchema,
        build_cycle_time_trends(cycle_times, jira_sprints, as_of, section),
        "cycle_time_trends",
    )
    worst = table.sort_values("median_change_pct", ascending=False, na_position="last")
    return metric_output(
        table,
        as_of,
        preview=worst.head(10),
        preview_label="largest median rises",
        figures={
            "max_judged_median_change_pct": figure(RISE.judged(table)["median_change_pct"].max()),
            "alerting_sprints": int(RISE.crossed(table).shape[0]),
            "cycle_time_rise": section.cycle_time_rise,
        },
    )
