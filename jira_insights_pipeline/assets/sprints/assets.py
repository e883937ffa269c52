"""The sprint ledger's assets (group `sprints`, DuckDB schema `metrics`). They only orchestrate:
the plain functions in this package compute, the Pandera models validate (a broken table fails
its asset), the warehouse IO manager stores."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metric_tables import (
    figure,
    metric_asset_options,
    metric_output,
    validated,
)
from jira_insights_pipeline.assets.sprints.commitments import sprint_commitments as build_ledger
from jira_insights_pipeline.assets.sprints.commitments import worst_commitments
from jira_insights_pipeline.assets.sprints.schemas import (
    SprintCommitmentsSchema,
    SprintScopeChangesSchema,
)
from jira_insights_pipeline.assets.sprints.scope_changes import (
    sprint_scope_changes as build_scope_changes,
)
from jira_insights_pipeline.assets.sprints.scope_changes import worst_scope_changes
from jira_insights_pipeline.metrics.issue_history import recent_sprints
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.resources.settings import PipelineSettings

OPTIONS = metric_asset_options("sprints")


@dg.asset(**OPTIONS)
def sprint_scope_changes(
    jira_snapshot: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_sprint_membership: pd.DataFrame,
    jira_estimates: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per (sprint, issue) for each issue (sub-tasks left out) that was in a started
    sprint at its start or was added before its end: points at start (or when added) and at the
    end (or when removed), growth in percent and `grew`, added after start, removed, acceptance
    criteria length at both ends and its growth, size class at both ends and `became_large`
    (a small story that ended large)."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = validated(
        SprintScopeChangesSchema,
        build_scope_changes(
            jira_sprints,
            jira_issues,
            jira_sprint_membership,
            jira_estimates,
            jira_status_intervals,
            jira_changelog,
            as_of,
            thresholds.sprints,
        ),
        "sprint_scope_changes",
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


@dg.asset(**OPTIONS)
def sprint_commitments(
    jira_snapshot: pd.DataFrame,
    sprint_scope_changes: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per sprint started by "as of", counted as Jira's sprint report counts it:
    committed, added, removed, completed and not completed points and issues, the say/do ratio,
    the completion rate, spillover, and the share of committed stories that grew by more than
    the growth threshold. Summed from `sprint_scope_changes`, so the per-issue rows and the
    sprint sums always agree."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = validated(
        SprintCommitmentsSchema,
        build_ledger(sprint_scope_changes, jira_sprints, as_of),
        "sprint_commitments",
    )
    recent = recent_sprints(table)
    return metric_output(
        table,
        as_of,
        preview=worst_commitments(table),
        preview_label="lowest say/do ratio first",
        figures={
            "max_recent_grown_story_share": figure(recent["grown_story_share"].max()),
            "min_recent_say_do_ratio": figure(recent["say_do_ratio"].min()),
        },
    )
