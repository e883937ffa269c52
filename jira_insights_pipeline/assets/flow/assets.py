"""The flow metric assets (group `flow`, DuckDB schema `metrics`): cycle times and their trend,
and the diagnosis (which status's time grew, which started work is older than the team usually
takes); the cycle-time check is built from the rule (`assets/checks.py`)."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.flow import NAME
from jira_insights_pipeline.assets.flow.diagnosis import MIN_HISTORY
from jira_insights_pipeline.assets.flow.diagnosis import aged_work as build_aged_work
from jira_insights_pipeline.assets.flow.diagnosis import (
    status_time_changes as build_status_time_changes,
)
from jira_insights_pipeline.assets.flow.metrics import cycle_time_trends as build_cycle_time_trends
from jira_insights_pipeline.assets.flow.metrics import cycle_times as build_cycle_times
from jira_insights_pipeline.assets.flow.rules import RISE
from jira_insights_pipeline.assets.flow.schemas import (
    AgedWorkSchema,
    CycleTimesSchema,
    CycleTimeTrendsSchema,
    StatusTimeChangesSchema,
)
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


@dg.asset(**OPTIONS)
def status_time_changes(
    jira_snapshot: pd.DataFrame,
    cycle_times: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per board, sprint and status: the median days the sprint's finished issues
    spent in that status from start to done, against the issues finished in the previous
    `cycle_time_window` sprints; `leading` marks the status whose median grew most, the cause a
    cycle-time rise is explained by."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = validated(
        StatusTimeChangesSchema,
        build_status_time_changes(
            cycle_times, jira_status_intervals, jira_sprints, as_of, thresholds.flow
        ),
        "status_time_changes",
    )
    leaders = RISE.judged(table.loc[table["leading"].astype(bool)])
    return metric_output(
        table,
        as_of,
        preview=leaders.drop(columns=["longest_keys", "longest_days"]).head(10),
        preview_label="leading status of each board's latest closed sprint",
        figures={
            "max_judged_growth_days": figure(leaders["change_days"].max()),
            "sprints_with_a_leading_status": int(table["leading"].astype(bool).sum()),
        },
    )


@dg.asset(**OPTIONS)
def aged_work(
    jira_snapshot: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    cycle_times: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per started, unfinished issue: its age since it first started against the
    board's 85th percentile cycle time over its last `age_history_issues` finished issues (or
    the fixed `age_fallback_days` for a board with fewer than 10), and whether it is older."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    section = thresholds.flow
    table = validated(
        AgedWorkSchema,
        build_aged_work(jira_issues, jira_status_intervals, cycle_times, as_of, section),
        "aged_work",
    )
    over = table.loc[table["over_limit"].astype(bool)]
    return metric_output(
        table,
        as_of,
        preview=over.drop(columns=["summary"]).head(10),
        preview_label="oldest work over its limit",
        figures={
            "issues_over_limit": int(over.shape[0]),
            "boards_on_fixed_limit": int(
                table.loc[table["limit_source"].eq("fixed"), "board_id"].nunique()
            ),
            "age_history_issues": section.age_history_issues,
            "min_history_issues": MIN_HISTORY,
            "age_fallback_days": section.age_fallback_days,
        },
    )
