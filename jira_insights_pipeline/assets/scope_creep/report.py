"""The scope-creep figure on the report: the running sprint's share of grown stories."""

from __future__ import annotations

from jira_insights_pipeline.assets.scope_creep.rules import SCOPE_CREEP
from jira_insights_pipeline.assets.scope_creep.thresholds import ScopeCreepThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, rows
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.formats import percent


def scope_creep_figure(
    board_id: int, tables: MetricTables, thresholds: ScopeCreepThresholds
) -> Figure | None:
    judged = SCOPE_CREEP.judged(rows(tables[SCOPE_CREEP.table], board_id))
    active = judged.loc[judged["sprint_state"].eq("active")] if not judged.empty else judged
    if active.empty:
        return None
    row = active.iloc[-1]
    return Figure(
        "Scope growth",
        percent(row["grown_story_share"]),
        f"{row['sprint_name']}: {row['grown_stories']} of {row['estimated_committed_stories']} "
        f"stories grew (limit {thresholds.grown_story_share_alert:.0%})",
        flag(row[SCOPE_CREEP.flag]),
    )
