"""The team-health metric assets (group `team_health`, DuckDB schema `metrics`); the hygiene
check is built from the rule (`assets/checks.py`).

`work_item_health` and `hygiene_scores` hold the figures as of the snapshot, which the insights,
checks and alerts read. `work_item_health_history` and `hygiene_history` hold the same figures,
computed by the same functions, as of each day's end: one daily partition per day
(`partitions.py`), kept by the warehouse, for the trend on the report.
"""

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
    HygieneHistorySchema,
    HygieneScoresSchema,
    WorkItemHealthHistorySchema,
    WorkItemHealthSchema,
)
from jira_insights_pipeline.partitions import (
    FIGURED_THROUGH,
    PARTITION_COLUMN,
    HistoryDay,
    history_asset_options,
    history_days,
)
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.resources.settings import PipelineSettings

OPTIONS = metric_asset_options(NAME)
HISTORY_OPTIONS = history_asset_options(NAME)


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


def _known_days(
    context: dg.AssetExecutionContext, snapshot_as_of: pd.Timestamp
) -> list[HistoryDay]:
    """The run's partition days that the snapshot knows about; the others are logged."""
    days = history_days(context.partition_keys, snapshot_as_of)
    unknown = [day.date for day in days if day.as_of is None]
    if unknown:
        context.log.warning(
            f"{len(unknown)} day(s) from {unknown[0]} begin after the snapshot's instant "
            f"({snapshot_as_of.isoformat()}), so nothing is known about them: they get no rows. "
            "Backfill days up to the snapshot's day, or take a newer snapshot."
        )
    return [day for day in days if day.as_of is not None]


def _empty(model: type[WorkItemHealthHistorySchema | HygieneHistorySchema]) -> pd.DataFrame:
    """A table of `model` with no rows, for a run none of whose days the snapshot knows."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in model.to_schema().columns})


def _history_output(
    table: pd.DataFrame,
    days: list[HistoryDay],
    requested: int,
    snapshot_as_of: pd.Timestamp,
    preview_label: str,
    figures: dict[str, object],
) -> dg.Output[pd.DataFrame]:
    """The history rows of the run's days, previewing the last day's."""
    last_day = days[-1].date if days else None
    latest = table.loc[table[PARTITION_COLUMN].eq(last_day)]
    return metric_output(
        table,
        snapshot_as_of,
        preview=latest.head(10),
        preview_label=preview_label,
        figures={
            "days": len(days),
            "days_without_figure": requested - len(days),
            "first_day": days[0].date if days else None,
            "last_day": last_day,
            FIGURED_THROUGH: last_day or "",
            **{name: compute(latest) for name, compute in figures.items()},
        },
    )


@dg.asset(**HISTORY_OPTIONS)
def work_item_health_history(
    context: dg.AssetExecutionContext,
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
    """One row per day (`date`, the partition) and issue of a board not done at that day's
    end: the `work_item_health` row as of then, replayed from the changelog."""
    snapshot_as_of = pipeline_settings.as_of_for(jira_snapshot)
    days = _known_days(context, snapshot_as_of)
    frames = [
        build_work_item_health(
            jira_issues,
            jira_changelog,
            jira_status_intervals,
            jira_estimates,
            jira_sprint_membership,
            jira_sprints,
            day.as_of,
            thresholds.team_health,
        ).assign(**{PARTITION_COLUMN: day.date})
        for day in days
        if day.as_of is not None
    ]
    table = validated(
        WorkItemHealthHistorySchema,
        pd.concat(frames, ignore_index=True) if frames else _empty(WorkItemHealthHistorySchema),
        "work_item_health_history",
    )
    return _history_output(
        table,
        days,
        len(context.partition_keys),
        snapshot_as_of,
        "issues with the most problems on the last day",
        {"issues_with_problems_last_day": lambda last: int(last["problem_count"].gt(0).sum())},
    )


@dg.asset(**HISTORY_OPTIONS)
def hygiene_history(
    context: dg.AssetExecutionContext,
    jira_snapshot: pd.DataFrame,
    work_item_health_history: pd.DataFrame,
    jira_boards: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per day (`date`, the partition) and board: the `hygiene_scores` row as of that
    day's end. Its latest day, the snapshot's, equals `hygiene_scores`."""
    snapshot_as_of = pipeline_settings.as_of_for(jira_snapshot)
    days = _known_days(context, snapshot_as_of)
    section = thresholds.team_health
    by_day = dict(tuple(work_item_health_history.groupby(PARTITION_COLUMN)))
    frames = [
        build_hygiene_scores(
            by_day.get(day.date, work_item_health_history.iloc[0:0]),
            jira_boards,
            day.as_of,
            section,
        )
        for day in days
        if day.as_of is not None
    ]
    table = pd.concat(frames, ignore_index=True) if frames else _empty(HygieneHistorySchema)
    table = validated(HygieneHistorySchema, table, "hygiene_history")
    table = table.sort_values([PARTITION_COLUMN, "board_id"]).reset_index(drop=True)
    return _history_output(
        table,
        days,
        len(context.partition_keys),
        snapshot_as_of,
        "the last day",
        {
            "min_hygiene_score_last_day": lambda last: figure(last["hygiene_score"].min()),
            "hygiene_score_min": lambda _: section.hygiene_score_min,
        },
    )
