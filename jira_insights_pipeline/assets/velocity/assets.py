"""The velocity metric assets (group `velocity`, DuckDB schema `metrics`): `sprint_velocity`,
whose check is built from the rule (`assets/checks.py`), and the diagnosis behind its insights,
`velocity_causes`."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metadata import markdown_preview
from jira_insights_pipeline.assets.metric_tables import (
    figure,
    metric_asset_options,
    metric_output,
    validated,
)
from jira_insights_pipeline.assets.velocity import NAME
from jira_insights_pipeline.assets.velocity.diagnosis import velocity_causes as build_causes
from jira_insights_pipeline.assets.velocity.metrics import sprint_velocity as build_velocity
from jira_insights_pipeline.assets.velocity.metrics import worst_velocity
from jira_insights_pipeline.assets.velocity.rules import VELOCITY_DROP
from jira_insights_pipeline.assets.velocity.schemas import (
    SprintVelocitySchema,
    VelocityCausesSchema,
)
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.resources.settings import PipelineSettings


@dg.asset(**metric_asset_options(NAME))
def sprint_velocity(
    jira_snapshot: pd.DataFrame,
    sprint_commitments: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per board and sprint closed by "as of": committed and completed points, the mean
    of the previous sprints' completed points, `velocity_drop` (completed below the drop ratio of
    that mean) and, on each board's latest closed sprint, the P50 and P85 forecast of the next
    sprint's completed points (seeded resampling of the last sprints)."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    section = thresholds.velocity
    table = validated(
        SprintVelocitySchema,
        build_velocity(sprint_commitments, jira_sprints, as_of, section),
        "sprint_velocity",
    )
    latest = VELOCITY_DROP.judged(table)
    forecasts = latest[
        [
            "board_id",
            "forecast_sprint_name",
            "forecast_sprints_used",
            "forecast_p50_points",
            "forecast_p85_points",
        ]
    ]
    return metric_output(
        table,
        as_of,
        preview=worst_velocity(table),
        preview_label="velocity drops first",
        figures={
            "min_latest_velocity_ratio": figure(latest["velocity_ratio"].min()),
            "velocity_drops": int(VELOCITY_DROP.crossed(table).shape[0]),
            "velocity_drop_ratio": section.velocity_drop_ratio,
            "forecasts": markdown_preview(forecasts),
        },
    )


@dg.asset(**metric_asset_options(NAME))
def velocity_causes(
    jira_snapshot: pd.DataFrame,
    sprint_commitments: pd.DataFrame,
    sprint_scope_changes: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per board, closed sprint with a full previous window and factor: the sprint's
    points and issues added after the start, bug share of finished points, blocked days,
    people who finished work (current assignee), working days, committed points left
    unfinished and committed points, each against its mean over the drop rule's window, with
    `harmful` (moved the way that lowers velocity by more than `cause_margin`) and `rank`
    (1: the largest cause)."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    section = thresholds.velocity
    table = validated(
        VelocityCausesSchema,
        build_causes(
            sprint_commitments,
            sprint_scope_changes,
            jira_issues,
            jira_changelog,
            jira_status_intervals,
            as_of,
            section,
        ),
        "velocity_causes",
    )
    causes = table.loc[table["harmful"]]
    return metric_output(
        table,
        as_of,
        preview=causes.sort_values(["sprint_end", "rank"], ascending=[False, True]).head(10)[
            ["board_id", "sprint_name", "factor", "value", "window_mean", "relative_change", "rank"]
        ],
        preview_label="latest causes first",
        figures={
            "diagnosed_sprints": int(table["sprint_id"].nunique()),
            "causes": len(causes),
            "cause_margin": section.cause_margin,
        },
    )
