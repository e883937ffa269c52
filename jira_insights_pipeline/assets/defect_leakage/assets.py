"""The defect-leakage metric and diagnosis assets (group `defect_leakage`, DuckDB schema
`metrics`); the escape-rate check is built from the rule (`assets/checks.py`)."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.defect_leakage import NAME
from jira_insights_pipeline.assets.defect_leakage.diagnosis import (
    escape_causes as build_escape_causes,
)
from jira_insights_pipeline.assets.defect_leakage.diagnosis import (
    escape_clusters as build_escape_clusters,
)
from jira_insights_pipeline.assets.defect_leakage.metrics import PRODUCTION
from jira_insights_pipeline.assets.defect_leakage.metrics import (
    defect_escape_rates as build_escape_rates,
)
from jira_insights_pipeline.assets.defect_leakage.metrics import (
    defect_leakage as build_defect_leakage,
)
from jira_insights_pipeline.assets.defect_leakage.rules import LEAKAGE
from jira_insights_pipeline.assets.defect_leakage.schemas import (
    DefectEscapeRatesSchema,
    DefectLeakageSchema,
    EscapeCausesSchema,
    EscapeClustersSchema,
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
        DefectLeakageSchema,
        build_defect_leakage(
            jira_issues, jira_status_intervals, jira_issue_links, jira_sprints, as_of
        ),
        "defect_leakage",
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


@dg.asset(**OPTIONS)
def defect_escape_rates(
    jira_snapshot: pd.DataFrame,
    defect_leakage: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
) -> dg.Output[pd.DataFrame]:
    """One row per board and sprint started by "as of": the bugs created during the sprint
    (production, QA, unknown), the escape rate production / (production + QA), the bugs linked
    to stories already done, and `leakage_alert` (escape rate above the threshold)."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    section = thresholds.defect_leakage
    table = validated(
        DefectEscapeRatesSchema,
        build_escape_rates(defect_leakage, jira_sprints, as_of, section),
        "defect_escape_rates",
    )
    worst = table.sort_values("escape_rate", ascending=False, na_position="last")
    return metric_output(
        table,
        as_of,
        preview=worst.head(10),
        figures={
            "max_judged_escape_rate": figure(LEAKAGE.judged(table)["escape_rate"].max()),
            "alerting_sprints": int(LEAKAGE.crossed(table).shape[0]),
            "escape_rate_alert": section.escape_rate_alert,
        },
    )


@dg.asset(**OPTIONS)
def escape_causes(
    jira_snapshot: pd.DataFrame,
    defect_leakage: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per production bug linked to a story: the story it traces to, the days from that
    story's Done to the bug, whether the story passed a testing status (review, QA) before Done,
    and the bug's epic, components and labels."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = validated(
        EscapeCausesSchema,
        build_escape_causes(defect_leakage, jira_issues, jira_status_intervals, as_of),
        "escape_causes",
    )
    done = table["story_done_at"].notna()
    untested = done & ~table["tested"]
    return metric_output(
        table,
        as_of,
        preview=table.loc[untested].head(10) if untested.any() else table.head(10),
        preview_label="bugs from stories done without testing" if untested.any() else "preview",
        figures={
            "traced_bugs": len(table),
            "bugs_from_untested_stories": int(untested.sum()),
            "median_days_done_to_bug": figure(table["days_done_to_bug"].median()),
        },
    )


@dg.asset(**OPTIONS)
def escape_clusters(
    jira_snapshot: pd.DataFrame,
    escape_causes: pd.DataFrame,
    defect_escape_rates: pd.DataFrame,
    pipeline_settings: PipelineSettings,
) -> dg.Output[pd.DataFrame]:
    """One row per board and judged sprint (running and latest closed): production bugs traced
    to stories, how many came from stories done without a testing status, the largest
    component, epic or label cluster, and the leading cause."""
    as_of = pipeline_settings.as_of_for(jira_snapshot)
    table = validated(
        EscapeClustersSchema,
        build_escape_clusters(escape_causes, defect_escape_rates, as_of),
        "escape_clusters",
    )
    return metric_output(
        table,
        as_of,
        preview=table.loc[table["leading_cause"].notna()].head(10),
        preview_label="sprints with a leading cause",
        figures={
            "sprints_led_by_skipped_testing": int(
                table["leading_cause"].eq("skipped_testing").sum()
            ),
            "sprints_led_by_a_cluster": int(table["leading_cause"].eq("cluster").sum()),
            "max_untested_share": figure(table["untested_share"].max()),
        },
    )
