"""Sprint metric tables (schema `metrics`): scope changes, commitments and velocity, with the
threshold checks a Scrum Master is warned by (scope creep, velocity drop).

Each asset only orchestrates: it calls the plain function in `jira_insights_pipeline.metrics`,
validates the result against its Pandera model (a broken table fails the asset) and stores it.
The threshold checks never block: a team in trouble is exactly when the insights must still be
written.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metadata import (
    markdown_preview,
    table_metadata,
    validation_failure,
)
from jira_insights_pipeline.metrics.commitments import recent_sprints, worst_commitments
from jira_insights_pipeline.metrics.commitments import sprint_commitments as build_commitments
from jira_insights_pipeline.metrics.scope import sprint_scope_changes as build_scope_changes
from jira_insights_pipeline.metrics.scope import worst_scope_changes
from jira_insights_pipeline.metrics.velocity import sprint_velocity as build_velocity
from jira_insights_pipeline.metrics.velocity import worst_velocity
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.schemas import SPRINT_METRIC_SCHEMAS
from jira_insights_pipeline.validation import TableValidationError, validate_table

METRICS_GROUP = "metrics"
_ASSET_OPTIONS: dict[str, Any] = {
    "group_name": METRICS_GROUP,
    "kinds": {"pandas", "duckdb"},
    "metadata": {"schema": "metrics"},
}


def _validated(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    try:
        return validate_table(SPRINT_METRIC_SCHEMAS[table], frame, table)
    except TableValidationError as error:
        raise validation_failure(error) from None


def _figure(value: float | None) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)


def _named_sprints(rows: pd.DataFrame, describe: str) -> str:
    return "; ".join(
        f"board {_board(row.board_id)}, {row.sprint_name} (sprint {int(row.sprint_id)}): "
        + describe.format(row=row)
        for row in rows.itertuples(index=False)
    )


def _board(board_id: object) -> str:
    # Read back from DuckDB, a nullable id column may arrive as floats (1.0) or with nulls.
    return "none" if pd.isna(board_id) else str(int(board_id))


# --------------------------------------------------------------------------------------------
# Scope changes
# --------------------------------------------------------------------------------------------


@dg.asset(**_ASSET_OPTIONS)
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
    table = _validated(
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
    return dg.Output(
        table,
        metadata=table_metadata(
            table,
            preview=worst_scope_changes(table),
            preview_label="stories that grew most",
            extra={
                "as_of": as_of.isoformat(),
                "grown_stories": int(table["grew"].sum()),
                "became_large": int(table["became_large"].sum()),
                "added_after_start": int(table["added_after_start"].sum()),
                "removed": int(table["removed"].sum()),
            },
        ),
    )


# --------------------------------------------------------------------------------------------
# Commitments
# --------------------------------------------------------------------------------------------


@dg.asset(**_ASSET_OPTIONS)
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
    table = _validated(
        "sprint_commitments",
        build_commitments(sprint_scope_changes, jira_sprints, as_of, thresholds),
    )
    recent = recent_sprints(table)
    return dg.Output(
        table,
        metadata=table_metadata(
            table,
            preview=worst_commitments(table),
            preview_label="sprints in trouble first",
            extra={
                "as_of": as_of.isoformat(),
                "max_recent_grown_story_share": _figure(recent["grown_story_share"].max()),
                "min_recent_say_do_ratio": _figure(recent["say_do_ratio"].min()),
                "scope_creep_sprints": int(table["scope_creep_alert"].sum()),
                "grown_story_share_alert": thresholds.grown_story_share_alert,
            },
        ),
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
    passed = crossed.empty
    share = f"{thresholds.grown_story_share_alert:.0%}"
    growth = f"{thresholds.growth_pct:.0f}%"
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"No recent sprint had more than {share} of its stories grow by more than {growth}."
            if passed
            else f"More than {share} of committed stories grew by more than {growth}: "
            + _named_sprints(
                crossed,
                "{row.grown_stories} of {row.estimated_committed_stories} stories "
                "({row.grown_story_share:.0%})",
            )
        ),
        metadata={
            "max_grown_story_share": _figure(judged["grown_story_share"].max()),
            "threshold": thresholds.grown_story_share_alert,
            "growth_pct_threshold": thresholds.growth_pct,
            "judged_sprints": len(judged),
            "crossed": markdown_preview(
                crossed[
                    [
                        "board_id",
                        "sprint_id",
                        "sprint_name",
                        "grown_stories",
                        "estimated_committed_stories",
                        "grown_story_share",
                    ]
                ]
            ),
        },
    )


# --------------------------------------------------------------------------------------------
# Velocity
# --------------------------------------------------------------------------------------------


@dg.asset(**_ASSET_OPTIONS)
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
    table = _validated(
        "sprint_velocity",
        build_velocity(sprint_commitments, jira_sprints, as_of, thresholds),
    )
    latest = table.loc[table["latest_closed"]]
    return dg.Output(
        table,
        metadata=table_metadata(
            table,
            preview=worst_velocity(table),
            preview_label="velocity drops first",
            extra={
                "as_of": as_of.isoformat(),
                "min_latest_velocity_ratio": _figure(latest["velocity_ratio"].min()),
                "velocity_drops": int(table["velocity_drop"].sum()),
                "velocity_drop_ratio": thresholds.velocity_drop_ratio,
                "forecasts": markdown_preview(
                    latest[
                        [
                            "board_id",
                            "forecast_sprint_name",
                            "forecast_sprints_used",
                            "forecast_p50_points",
                            "forecast_p85_points",
                        ]
                    ]
                ),
            },
        ),
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
    passed = crossed.empty
    ratio = f"{thresholds.velocity_drop_ratio:.0%}"
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"No board's last closed sprint fell below {ratio} of its previous velocity."
            if passed
            else f"Velocity fell below {ratio} of the previous {thresholds.velocity_window} "
            "sprints' mean: "
            + _named_sprints(
                crossed,
                "{row.completed_points:g} points against a mean of "
                "{row.previous_mean_points:.1f} ({row.velocity_ratio:.0%})",
            )
        ),
        metadata={
            "min_velocity_ratio": _figure(judged["velocity_ratio"].min()),
            "threshold": thresholds.velocity_drop_ratio,
            "judged_sprints": len(judged),
            "crossed": markdown_preview(
                crossed[
                    [
                        "board_id",
                        "sprint_id",
                        "sprint_name",
                        "completed_points",
                        "previous_mean_points",
                        "velocity_ratio",
                    ]
                ]
            ),
        },
    )
