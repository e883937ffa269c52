"""Issue metric tables (schema `metrics`): defect leakage, work item health and cycle times, with
the threshold checks a Scrum Master is alerted by.

Each asset only orchestrates: it calls the plain function in `jira_insights_pipeline.metrics`,
validates the result against its Pandera model (a broken table fails the asset) and stores it.
The threshold checks never block: a team in trouble is exactly when the insights must still be
written.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metric_tables import (
    METRIC_ASSET_OPTIONS,
    figure,
    metric_output,
    named_sprints,
    threshold_check,
    validated,
)
from jira_insights_pipeline.metrics.cycle_time import cycle_time_trends as build_cycle_time_trends
from jira_insights_pipeline.metrics.cycle_time import cycle_times as build_cycle_times
from jira_insights_pipeline.metrics.defects import PRODUCTION
from jira_insights_pipeline.metrics.defects import defect_escape_rates as build_escape_rates
from jira_insights_pipeline.metrics.defects import defect_leakage as build_defect_leakage
from jira_insights_pipeline.metrics.health import hygiene_scores as build_hygiene_scores
from jira_insights_pipeline.metrics.health import work_item_health as build_work_item_health
from jira_insights_pipeline.metrics.issue_history import latest_closed_sprints, recent_sprints
from jira_insights_pipeline.resources.settings import PipelineSettings

# --------------------------------------------------------------------------------------------
# Defect leakage
# --------------------------------------------------------------------------------------------


@dg.asset(**METRIC_ASSET_OPTIONS)
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
    table = validated(
        "defect_leakage",
        build_defect_leakage(
            jira_issues, jira_status_intervals, jira_issue_links, jira_sprints, as_of
        ),
    )
    production = table["environment_class"].eq(PRODUCTION)
    return metric_output(
        table,
        as_of,
        preview=table.loc[production].head(10),
        preview_label="production bugs",
        figures={
            "production_bugs": int(production.sum()),
            "bugs_linked_to_done_stories": int(table["linked_to_done_story"].sum()),
        },
    )


@dg.asset(**METRIC_ASSET_OPTIONS)
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
    table = validated(
        "defect_escape_rates",
        build_escape_rates(defect_leakage, jira_sprints, as_of, thresholds),
    )
    worst = table.sort_values("escape_rate", ascending=False, na_position="last")
    return metric_output(
        table,
        as_of,
        preview=worst.head(10),
        figures={
            "max_recent_escape_rate": figure(recent_sprints(table)["escape_rate"].max()),
            "alerting_sprints": int(table["leakage_alert"].sum()),
            "escape_rate_alert": thresholds.escape_rate_alert,
        },
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
    return threshold_check(
        crossed,
        severity=dg.AssetCheckSeverity.ERROR,
        passed_description=(
            f"No recent sprint leaked more than {threshold:.0%} of its bugs to production."
        ),
        failed_description=f"Escape rate above {threshold:.0%}: "
        + named_sprints(crossed, "{row.escape_rate:.0%}"),
        figures={
            "max_escape_rate": figure(judged["escape_rate"].max()),
            "threshold": threshold,
            "judged_sprints": len(judged),
        },
        crossed_columns=[
            "board_id",
            "sprint_id",
            "sprint_name",
            "production_bugs",
            "qa_bugs",
            "escape_rate",
        ],
    )


# --------------------------------------------------------------------------------------------
# Work item health
# --------------------------------------------------------------------------------------------


@dg.asset(**METRIC_ASSET_OPTIONS)
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
    table = validated(
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


@dg.asset(**METRIC_ASSET_OPTIONS)
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
    table = validated(
        "hygiene_scores",
        build_hygiene_scores(work_item_health, jira_boards, as_of, thresholds),
    )
    return metric_output(
        table,
        as_of,
        preview=table.head(10),
        preview_label="lowest scores",
        figures={
            "min_hygiene_score": figure(table["hygiene_score"].min()),
            "hygiene_score_min": thresholds.hygiene_score_min,
        },
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
    named = "; ".join(
        f"board {row.board_id} ({row.board_name}): {row.hygiene_score:.0f}"
        for row in crossed.itertuples(index=False)
    )
    return threshold_check(
        crossed,
        severity=dg.AssetCheckSeverity.WARN,
        passed_description=f"Every board's hygiene score is at least {minimum:.0f}.",
        failed_description=f"Hygiene score under {minimum:.0f}: {named}",
        figures={
            "min_hygiene_score": figure(hygiene_scores["hygiene_score"].min()),
            "threshold": minimum,
        },
        crossed_columns=[
            "board_id",
            "board_name",
            "open_issues",
            "issues_with_problems",
            "hygiene_score",
        ],
    )


# --------------------------------------------------------------------------------------------
# Cycle times
# --------------------------------------------------------------------------------------------


@dg.asset(**METRIC_ASSET_OPTIONS)
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
        "cycle_times", build_cycle_times(jira_issues, jira_status_intervals, jira_sprints, as_of)
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


@dg.asset(**METRIC_ASSET_OPTIONS)
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
    table = validated(
        "cycle_time_trends",
        build_cycle_time_trends(cycle_times, jira_sprints, as_of, thresholds),
    )
    worst = table.sort_values("median_change_pct", ascending=False, na_position="last")
    return metric_output(
        table,
        as_of,
        preview=worst.head(10),
        preview_label="largest median rises",
        figures={
            "max_recent_median_change_pct": figure(
                latest_closed_sprints(table)["median_change_pct"].max()
            ),
            "cycle_time_rise": thresholds.cycle_time_rise,
        },
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
    return threshold_check(
        crossed,
        severity=dg.AssetCheckSeverity.WARN,
        passed_description=(
            f"No board's last closed sprint saw its median cycle time rise more than {rise:.0%}."
        ),
        failed_description=f"Median cycle time up more than {rise:.0%}: "
        + named_sprints(crossed, "{row.median_change_pct:+.0f}%"),
        figures={
            "max_median_change_pct": figure(judged["median_change_pct"].max()),
            "threshold_pct": 100 * rise,
            "judged_sprints": len(judged),
        },
        crossed_columns=[
            "board_id",
            "sprint_id",
            "sprint_name",
            "median_cycle_time_days",
            "previous_median_cycle_time_days",
            "median_change_pct",
        ],
    )
