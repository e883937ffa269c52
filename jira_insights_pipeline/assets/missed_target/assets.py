"""The missed-target metric assets (group `missed_target`, DuckDB schema `metrics`):
`sprint_targets`, whose check is built from the rule (`assets/checks.py`), and the spillover
diagnosis behind its insights, `spillover_reasons` and `spillover_patterns`."""

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
from jira_insights_pipeline.assets.missed_target.diagnosis import REASONS
from jira_insights_pipeline.assets.missed_target.diagnosis import spillover_pattern as build_pattern
from jira_insights_pipeline.assets.missed_target.diagnosis import (
    spillover_reasons as build_reasons,
)
from jira_insights_pipeline.assets.missed_target.metrics import sprint_targets as build
from jira_insights_pipeline.assets.missed_target.metrics import worst_targets
from jira_insights_pipeline.assets.missed_target.rules import MISSED_TARGET
from jira_insights_pipeline.assets.missed_target.schemas import (
    SpilloverPatternsSchema,
    SpilloverReasonsSchema,
    SprintTargetsSchema,
)
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


@dg.asset(**metric_asset_options(NAME))
def spillover_reasons(
    jira_snapshot: pd.DataFrame,
    sprint_scope_changes: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per (closed sprint, issue) in the sprint at its close and not done: the reasons
    Jira's history shows for it, each a flag with its figure: `never_started` (no In Progress
    status during the sprint), `blocked` with `blocked_days` (Flagged or a Blocked / On Hold
    status for at least `blocked_min_days`), `added_late` with `added_days_after_start`,
    `grew` (the ledger's growth rule), `waiting` with `waiting_status` and `waiting_days` (at
    the close in an in-progress status after the board's first one, such as review or QA), and
    `carried_over_again` with `unfinished_sprints_in_a_row`."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = validated(
        SpilloverReasonsSchema,
        build_reasons(
            sprint_scope_changes,
            jira_issues,
            jira_status_intervals,
            jira_changelog,
            as_of,
            thresholds.missed_target,
        ),
        "spillover_reasons",
    )
    return metric_output(
        table,
        as_of,
        preview=table.sort_values(
            ["reason_count", "unfinished_sprints_in_a_row"], ascending=False, kind="stable"
        ).head(10)[["sprint_name", "issue_key", *REASONS, "unfinished_sprints_in_a_row"]],
        preview_label="most reasons first",
        figures={
            "unfinished_issues": len(table),
            **{f"{reason}_issues": int(table[reason].sum()) for reason in REASONS},
            "unexplained_issues": int(table["reason_count"].eq(0).sum()),
        },
    )


@dg.asset(**metric_asset_options(NAME))
def spillover_patterns(
    jira_snapshot: pd.DataFrame,
    spillover_reasons: pd.DataFrame,
    sprint_commitments: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per board with a closed sprint, over its last `recent_sprints` closed sprints:
    the unfinished issues, each reason's count and share of them, the issues no reason explains,
    the `dominant_reason` with its count and share, and the chronic carry-overs (issues
    unfinished at the close of at least `chronic_carry_over_sprints` sprints in a row) with
    their streaks."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    section = thresholds.missed_target
    table = validated(
        SpilloverPatternsSchema,
        build_pattern(spillover_reasons, sprint_commitments, as_of, section),
        "spillover_patterns",
    )
    return metric_output(
        table,
        as_of,
        preview=table[
            [
                "board_id",
                "sprint_name",
                "unfinished_issues",
                "dominant_reason",
                "dominant_issues",
                "dominant_share",
                "chronic_issue_keys",
            ]
        ],
        preview_label="per board",
        figures={
            "max_dominant_share": figure(table["dominant_share"].max()),
            "chronic_carry_overs": int(table["chronic_issue_keys"].map(len).sum()),
            "recent_sprints": section.recent_sprints,
        },
    )
