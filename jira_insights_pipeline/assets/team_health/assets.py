"""The team-health metric assets (group `team_health`, DuckDB schema `metrics`); the hygiene
check is built from the rule (`assets/checks.py`)."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metric_tables import (
    figure,
    metric_asset_options,
    metric_output,
    validated,
)
from jira_insights_pipeline.assets.team_health import NAME
from jira_insights_pipeline.assets.team_health.metrics import hygiene_scores as build_hygiene_scores
from jira_insights_pipeline.assets.team_health.metrics import (
    work_item_health as build_work_item_health,
)
from jira_insights_pipeline.assets.team_health.rules import HYGIENE
from jira_insights_pipeline.assets.team_health.schemas import (
    HygieneScoresSchema,
    WorkItemHealthSchema,
)
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.resources.settings import PipelineSettings

OPTIONS = metric_asset_options(NAME)


@dg.asset(**OPTIONS)
def work_item_health(
    jira_snapshot: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    jira_estimates: pd.DataFrame,
    jira_sprint_membership: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per issue of a board (backlog included) not done at "as of": days since its last
    update and `stale`, `missing_estimate` (a story in an active or future sprint with no
    points), `blocked_now` and `blocked_days` (Flagged or a Blocked status), days since it last
    entered the in-progress category and `in_progress_too_long`, and its list of `problems`."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = validated(
        WorkItemHealthSchema,
        build_work_item_health(
            jira_issues,
            jira_changelog,
            jira_status_intervals,
            jira_estimates,
            jira_sprint_membership,
            jira_sprints,
            as_of,
            thresholds.team_health,
        ),
        "work_item_health",
    )
    return metric_output(
        table,
        as_of,
        preview=table.head(10),
        preview_label="issues with the most problems",
        figures={
            "open_issues": len(table),
            "issues_with_problems": int(table["problem_count"].gt(0).sum()),
        },
    )


@dg.asset(**OPTIONS)
def hygiene_scores(
    jira_snapshot: pd.DataFrame,
    work_item_health: pd.DataFrame,
    jira_boards: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per board for the "as of" day: open issues, issues with at least one problem,
    each problem's count, and `hygiene_score` = 100 × the share of open issues with no
    problem."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    section = thresholds.team_health
    table = validated(
        HygieneScoresSchema,
        build_hygiene_scores(work_item_health, jira_boards, as_of, section),
        "hygiene_scores",
    )
    return metric_output(
        table,
        as_of,
        preview=table.head(10),
        preview_label="lowest scores",
        figures={
            "min_hygiene_score": figure(table["hygiene_score"].min()),
            "alerting_boards": int(HYGIENE.crossed(table).shape[0]),
            "hygiene_score_min": section.hygiene_score_min,
        },
    )
