"""Issue metric tables (schema `metrics`): defect leakage, work item health and cycle times, with
the threshold checks a Scrum Master is alerted by.

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
from jira_insights_pipeline.metrics.cycle_time import cycle_time_trends as build_cycle_time_trends
from jira_insights_pipeline.metrics.cycle_time import cycle_times as build_cycle_times
from jira_insights_pipeline.metrics.defects import PRODUCTION
from jira_insights_pipeline.metrics.defects import defect_escape_rates as build_escape_rates
from jira_insights_pipeline.metrics.defects import defect_leakage as build_defect_leakage
from jira_insights_pipeline.metrics.health import hygiene_scores as build_hygiene_scores
from jira_insights_pipeline.metrics.health import work_item_health as build_work_item_health
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.schemas import ISSUE_METRIC_SCHEMAS
from jira_insights_pipeline.validation import TableValidationError, validate_table

METRICS_GROUP = "metrics"
_ASSET_OPTIONS: dict[str, Any] = {
    "group_name": METRICS_GROUP,
    "kinds": {"pandas", "duckdb"},
    "metadata": {"schema": "metrics"},
}


def _validated(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    try:
        return validate_table(ISSUE_METRIC_SCHEMAS[table], frame, table)
    except TableValidationError as error:
        raise validation_failure(error) from None


def _figure(value: float | None) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)


def recent_sprints(table: pd.DataFrame) -> pd.DataFrame:
    """The rows the defect check judges: per board, the sprint still running at "as of" and
    the last one closed before it, the two a Scrum Master can still act on. Older sprints stay
    in the table as history but no longer raise an alert."""
    if table.empty:
        return table
    ordered = table.sort_values(["board_id", "sprint_start", "sprint_id"])
    active = ordered.loc[ordered["sprint_state"].eq("active")]
    return pd.concat([latest_closed_sprints(ordered), active]).sort_values(
        ["board_id", "sprint_start"]
    )


def latest_closed_sprints(table: pd.DataFrame) -> pd.DataFrame:
    """Per board, the last sprint closed by "as of": the rows the cycle-time check judges. A
    running sprint is left out there, because the first issues it finishes are mostly ones
    carried over from the sprint before, whose long cycle times would raise false alarms."""
    ordered = table.sort_values(["board_id", "sprint_start", "sprint_id"])
    closed = ordered.loc[ordered["sprint_state"].eq("closed")]
    return closed.drop_duplicates("board_id", keep="last")


def _named_sprints(rows: pd.DataFrame, figure: str, fmt: str) -> str:
    return "; ".join(
        f"board {row.board_id}, {row.sprint_name} (sprint {row.sprint_id}): "
        + fmt.format(getattr(row, figure))
        for row in rows.itertuples(index=False)
    )


# --------------------------------------------------------------------------------------------
# Defect leakage
# --------------------------------------------------------------------------------------------


@dg.asset(**_ASSET_OPTIONS)
def defect_leakage(
    jira_snapshot: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    jira_issue_links: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per bug created by "as of": its board and the sprint of that board during which
    it was created, its environment class (production, qa, unknown) and the label or
    Environment text that decided it, the stories it is linked to, and which of them were
    already done when the bug was created."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = _validated(
        "defect_leakage",
        build_defect_leakage(
            jira_issues, jira_status_intervals, jira_issue_links, jira_sprints, as_of
        ),
    )
    production = table["environment_class"].eq(PRODUCTION)
    return dg.Output(
        table,
        metadata=table_metadata(
            table,
            preview=table.loc[production].head(10),
            preview_label="production bugs",
            extra={
                "as_of": as_of.isoformat(),
                "production_bugs": int(production.sum()),
                "bugs_linked_to_done_stories": int(table["linked_to_done_story"].sum()),
            },
        ),
    )


@dg.asset(**_ASSET_OPTIONS)
def defect_escape_rates(
    jira_snapshot: pd.DataFrame,
    defect_leakage: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per board and sprint started by "as of": the bugs created during the sprint
    (production, QA, unknown), the escape rate production / (production + QA), the bugs linked
    to stories already done, and `leakage_alert` (escape rate above the threshold)."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    thresholds = pipeline_settings.thresholds()
    table = _validated(
        "defect_escape_rates",
        build_escape_rates(defect_leakage, jira_sprints, as_of, thresholds),
    )
    worst = table.sort_values("escape_rate", ascending=False, na_position="last")
    return dg.Output(
        table,
        metadata=table_metadata(
            table,
            preview=worst.head(10),
            extra={
                "as_of": as_of.isoformat(),
                "max_recent_escape_rate": _figure(recent_sprints(table)["escape_rate"].max()),
                "alerting_sprints": int(table["leakage_alert"].sum()),
                "escape_rate_alert": thresholds.escape_rate_alert,
            },
        ),
    )


@dg.asset_check(
    asset=defect_escape_rates,
    blocking=False,
    description="Defect leakage: each board's running and last closed sprint must have an escape "
    "rate (production / (production + QA) bugs) at or under the threshold (default 20%).",
)
def defect_escape_rate_within_threshold(
    defect_escape_rates: pd.DataFrame, pipeline_settings: PipelineSettings
) -> dg.AssetCheckResult:
    threshold = pipeline_settings.thresholds().escape_rate_alert
    judged = recent_sprints(defect_escape_rates)
    crossed = judged.loc[judged["escape_rate"].gt(threshold)]
    passed = crossed.empty
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"No recent sprint leaked more than {threshold:.0%} of its bugs to production."
            if passed
            else f"Escape rate above {threshold:.0%}: "
            + _named_sprints(crossed, "escape_rate", "{:.0%}")
        ),
        metadata={
            "max_escape_rate": _figure(judged["escape_rate"].max()),
            "threshold": threshold,
            "judged_sprints": len(judged),
            "crossed": markdown_preview(
                crossed[
                    [
                        "board_id",
                        "sprint_id",
                        "sprint_name",
                        "production_bugs",
                        "qa_bugs",
                        "escape_rate",
                    ]
                ]
            ),
        },
    )


# --------------------------------------------------------------------------------------------
# Work item health
# --------------------------------------------------------------------------------------------


@dg.asset(**_ASSET_OPTIONS)
def work_item_health(
    jira_snapshot: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    jira_estimates: pd.DataFrame,
    jira_sprint_membership: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per issue of a board (backlog included) not done at "as of": days since its last
    update and `stale`, `missing_estimate` (a story in an active or future sprint with no
    points), `blocked_now` and `blocked_days` (Flagged or a Blocked status), days since it last
    entered the in-progress category and `in_progress_too_long`, and its list of `problems`."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = _validated(
        "work_item_health",
        build_work_item_health(
            jira_issues,
            jira_changelog,
            jira_status_intervals,
            jira_estimates,
            jira_sprint_membership,
            jira_sprints,
            as_of,
            pipeline_settings.thresholds(),
        ),
    )
    return dg.Output(
        table,
        metadata=table_metadata(
            table,
            preview=table.head(10),
            preview_label="issues with the most problems",
            extra={
                "as_of": as_of.isoformat(),
                "open_issues": len(table),
                "issues_with_problems": int(table["problem_count"].gt(0).sum()),
            },
        ),
    )


@dg.asset(**_ASSET_OPTIONS)
def hygiene_scores(
    jira_snapshot: pd.DataFrame,
    work_item_health: pd.DataFrame,
    jira_boards: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per board for the "as of" day: open issues, issues with at least one problem,
    each problem's count, and `hygiene_score` = 100 × the share of open issues with no
    problem."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    thresholds = pipeline_settings.thresholds()
    table = _validated(
        "hygiene_scores",
        build_hygiene_scores(work_item_health, jira_boards, as_of, thresholds),
    )
    return dg.Output(
        table,
        metadata=table_metadata(
            table,
            preview=table.head(10),
            preview_label="lowest scores",
            extra={
                "as_of": as_of.isoformat(),
                "min_hygiene_score": _figure(table["hygiene_score"].min()),
                "hygiene_score_min": thresholds.hygiene_score_min,
            },
        ),
    )


@dg.asset_check(
    asset=hygiene_scores,
    blocking=False,
    description="Ticket hygiene: every board's score (100 × the share of open issues with no "
    "problem) must be at least the minimum (default 70).",
)
def hygiene_score_above_minimum(
    hygiene_scores: pd.DataFrame, pipeline_settings: PipelineSettings
) -> dg.AssetCheckResult:
    minimum = pipeline_settings.thresholds().hygiene_score_min
    crossed = hygiene_scores.loc[hygiene_scores["hygiene_score"].lt(minimum)]
    passed = crossed.empty
    named = "; ".join(
        f"board {row.board_id} ({row.board_name}): {row.hygiene_score:.0f}"
        for row in crossed.itertuples(index=False)
    )
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"Every board's hygiene score is at least {minimum:.0f}."
            if passed
            else f"Hygiene score under {minimum:.0f}: {named}"
        ),
        metadata={
            "min_hygiene_score": _figure(hygiene_scores["hygiene_score"].min()),
            "threshold": minimum,
            "crossed": markdown_preview(
                crossed[
                    [
                        "board_id",
                        "board_name",
                        "open_issues",
                        "issues_with_problems",
                        "hygiene_score",
                    ]
                ]
            ),
        },
    )


# --------------------------------------------------------------------------------------------
# Cycle times
# --------------------------------------------------------------------------------------------


@dg.asset(**_ASSET_OPTIONS)
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
    table = _validated(
        "cycle_times", build_cycle_times(jira_issues, jira_status_intervals, jira_sprints, as_of)
    )
    return dg.Output(
        table,
        metadata=table_metadata(
            table,
            preview=table.head(10),
            preview_label="longest cycle times",
            extra={
                "as_of": as_of.isoformat(),
                "median_cycle_time_days": _figure(table["cycle_time_days"].median()),
                "reopened_issues": int(table["reopened"].sum()),
            },
        ),
    )


@dg.asset(**_ASSET_OPTIONS)
def cycle_time_trends(
    jira_snapshot: pd.DataFrame,
    cycle_times: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per board and sprint started by "as of": the median and 85th percentile cycle
    time of the issues finished during the sprint, the median of the board's previous sprints,
    and `median_rose` (more than the allowed rise above it)."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    thresholds = pipeline_settings.thresholds()
    table = _validated(
        "cycle_time_trends",
        build_cycle_time_trends(cycle_times, jira_sprints, as_of, thresholds),
    )
    worst = table.sort_values("median_change_pct", ascending=False, na_position="last")
    return dg.Output(
        table,
        metadata=table_metadata(
            table,
            preview=worst.head(10),
            preview_label="largest median rises",
            extra={
                "as_of": as_of.isoformat(),
                "max_recent_median_change_pct": _figure(
                    latest_closed_sprints(table)["median_change_pct"].max()
                ),
                "cycle_time_rise": thresholds.cycle_time_rise,
            },
        ),
    )


@dg.asset_check(
    asset=cycle_time_trends,
    blocking=False,
    description="Flow: in each board's last closed sprint, the median cycle time must not exceed "
    "the median of the three sprints before it by more than the allowed rise (default 20%).",
)
def cycle_time_median_steady(
    cycle_time_trends: pd.DataFrame, pipeline_settings: PipelineSettings
) -> dg.AssetCheckResult:
    rise = pipeline_settings.thresholds().cycle_time_rise
    judged = latest_closed_sprints(cycle_time_trends)
    crossed = judged.loc[judged["median_rose"].astype(bool)]
    passed = crossed.empty
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"No board's last closed sprint saw its median cycle time rise more than {rise:.0%}."
            if passed
            else f"Median cycle time up more than {rise:.0%}: "
            + _named_sprints(crossed, "median_change_pct", "{:+.0f}%")
        ),
        metadata={
            "max_median_change_pct": _figure(judged["median_change_pct"].max()),
            "threshold_pct": 100 * rise,
            "judged_sprints": len(judged),
            "crossed": markdown_preview(
                crossed[
                    [
                        "board_id",
                        "sprint_id",
                        "sprint_name",
                        "median_cycle_time_days",
                        "previous_median_cycle_time_days",
                        "median_change_pct",
                    ]
                ]
            ),
        },
    )
