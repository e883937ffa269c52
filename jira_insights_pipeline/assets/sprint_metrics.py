"""Sprint metric tables (schema `metrics`): scope changes, commitments and velocity, with the
threshold checks a Scrum Master is warned by (scope creep, velocity drop).

Each asset only orchestrates: it calls the plain function in `jira_insights_pipeline.metrics`,
validates the result against its Pandera model (a broken table fails the asset) and stores it.
The threshold checks never block: a team in trouble is exactly when the insights must still be
written.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metadata import markdown_preview
from jira_insights_pipeline.assets.metric_tables import (
    METRIC_ASSET_OPTIONS,
    figure,
    metric_output,
    named_sprints,
    threshold_check,
    validated,
)
from jira_insights_pipeline.metrics.commitments import sprint_commitments as build_commitments
from jira_insights_pipeline.metrics.commitments import worst_commitments
from jira_insights_pipeline.metrics.issue_history import recent_sprints
from jira_insights_pipeline.metrics.scope import sprint_scope_changes as build_scope_changes
from jira_insights_pipeline.metrics.scope import worst_scope_changes
from jira_insights_pipeline.metrics.velocity import sprint_velocity as build_velocity
from jira_insights_pipeline.metrics.velocity import worst_velocity
from jira_insights_pipeline.resources.settings import PipelineSettings

# --------------------------------------------------------------------------------------------
# Scope changes
# --------------------------------------------------------------------------------------------


@dg.asset(**METRIC_ASSET_OPTIONS)
def sprint_scope_changes(
    jira_snapshot: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_sprint_membership: pd.DataFrame,
    jira_estimates: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per (sprint, issue) for each issue (sub-tasks left out) that was in a started
    sprint at its start or was added before its end: points at start (or when added) and at the
    end (or when removed), growth in percent and `grew`, added after start, removed, acceptance
    criteria length at both ends and its growth, size class at both ends and `became_large`
    (a small story that ended large)."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = validated(
        "sprint_scope_changes",
        build_scope_changes(
            jira_sprints,
            jira_issues,
            jira_sprint_membership,
            jira_estimates,
            jira_status_intervals,
            jira_changelog,
            as_of,
            pipeline_settings.thresholds(),
        ),
    )
    return metric_output(
        table,
        as_of,
        preview=worst_scope_changes(table),
        preview_label="stories that grew most",
        figures={
            "grown_stories": int(table["grew"].sum()),
            "became_large": int(table["became_large"].sum()),
            "added_after_start": int(table["added_after_start"].sum()),
            "removed": int(table["removed"].sum()),
        },
    )


# --------------------------------------------------------------------------------------------
# Commitments
# --------------------------------------------------------------------------------------------


@dg.asset(**METRIC_ASSET_OPTIONS)
def sprint_commitments(
    jira_snapshot: pd.DataFrame,
    sprint_scope_changes: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per sprint started by "as of", counted as Jira's sprint report counts it:
    committed, added, removed, completed and not completed points and issues, the say/do ratio,
    the completion rate, spillover, the share of committed stories that grew by more than the
    growth threshold and `scope_creep_alert` (that share above its threshold). Summed from
    `sprint_scope_changes`, so the per-issue rows and the sprint sums always agree."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    thresholds = pipeline_settings.thresholds()
    table = validated(
        "sprint_commitments",
        build_commitments(sprint_scope_changes, jira_sprints, as_of, thresholds),
    )
    recent = recent_sprints(table)
    return metric_output(
        table,
        as_of,
        preview=worst_commitments(table),
        preview_label="sprints in trouble first",
        figures={
            "max_recent_grown_story_share": figure(recent["grown_story_share"].max()),
            "min_recent_say_do_ratio": figure(recent["say_do_ratio"].min()),
            "scope_creep_sprints": int(table["scope_creep_alert"].sum()),
            "grown_story_share_alert": thresholds.grown_story_share_alert,
        },
    )


@dg.asset_check(
    asset=sprint_commitments,
    blocking=False,
    description="Scope creep: in each board's running and last closed sprint, at most the "
    "threshold share (default 20%) of committed stories may grow by more than the growth "
    "threshold (default 30%).",
)
def sprint_scope_creep_within_threshold(
    sprint_commitments: pd.DataFrame, pipeline_settings: PipelineSettings
) -> dg.AssetCheckResult:
    thresholds = pipeline_settings.thresholds()
    judged = recent_sprints(sprint_commitments)
    crossed = judged.loc[judged["grown_story_share"].gt(thresholds.grown_story_share_alert)]
    share = f"{thresholds.grown_story_share_alert:.0%}"
    growth = f"{thresholds.growth_pct:.0f}%"
    return threshold_check(
        crossed,
        severity=dg.AssetCheckSeverity.WARN,
        passed_description=(
            f"No recent sprint had more than {share} of its stories grow by more than {growth}."
        ),
        failed_description=f"More than {share} of committed stories grew by more than {growth}: "
        + named_sprints(
            crossed,
            "{row.grown_stories} of {row.estimated_committed_stories} stories "
            "({row.grown_story_share:.0%})",
        ),
        figures={
            "max_grown_story_share": figure(judged["grown_story_share"].max()),
            "threshold": thresholds.grown_story_share_alert,
            "growth_pct_threshold": thresholds.growth_pct,
            "judged_sprints": len(judged),
        },
        crossed_columns=[
            "board_id",
            "sprint_id",
            "sprint_name",
            "grown_stories",
            "estimated_committed_stories",
            "grown_story_share",
        ],
    )


# --------------------------------------------------------------------------------------------
# Velocity
# --------------------------------------------------------------------------------------------


@dg.asset(**METRIC_ASSET_OPTIONS)
def sprint_velocity(
    jira_snapshot: pd.DataFrame,
    sprint_commitments: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per board and sprint closed by "as of": committed and completed points, the mean
    of the previous sprints' completed points, `velocity_drop` (completed below the drop ratio of
    that mean) and, on each board's latest closed sprint, the P50 and P85 forecast of the next
    sprint's completed points (seeded resampling of the last sprints)."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    thresholds = pipeline_settings.thresholds()
    table = validated(
        "sprint_velocity",
        build_velocity(sprint_commitments, jira_sprints, as_of, thresholds),
    )
    latest = table.loc[table["latest_closed"]]
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
            "velocity_drops": int(table["velocity_drop"].sum()),
            "velocity_drop_ratio": thresholds.velocity_drop_ratio,
            "forecasts": markdown_preview(forecasts),
        },
    )


@dg.asset_check(
    asset=sprint_velocity,
    blocking=False,
    description="Velocity: each board's last closed sprint must complete at least the drop ratio "
    "(default 70%) of the mean of its previous sprints (default 3).",
)
def sprint_velocity_holds(
    sprint_velocity: pd.DataFrame, pipeline_settings: PipelineSettings
) -> dg.AssetCheckResult:
    thresholds = pipeline_settings.thresholds()
    judged = sprint_velocity.loc[sprint_velocity["latest_closed"].astype(bool)]
    crossed = judged.loc[judged["velocity_drop"].astype(bool)]
    ratio = f"{thresholds.velocity_drop_ratio:.0%}"
    return threshold_check(
        crossed,
        severity=dg.AssetCheckSeverity.WARN,
        passed_description=(
            f"No board's last closed sprint fell below {ratio} of its previous velocity."
        ),
        failed_description=f"Velocity fell below {ratio} of the previous "
        f"{thresholds.velocity_window} sprints' mean: "
        + named_sprints(
            crossed,
            "{row.completed_points:g} points against a mean of "
            "{row.previous_mean_points:.1f} ({row.velocity_ratio:.0%})",
        ),
        figures={
            "min_velocity_ratio": figure(judged["velocity_ratio"].min()),
            "threshold": thresholds.velocity_drop_ratio,
            "judged_sprints": len(judged),
        },
        crossed_columns=[
            "board_id",
            "sprint_id",
            "sprint_name",
            "completed_points",
            "previous_mean_points",
            "velocity_ratio",
        ],
    )
