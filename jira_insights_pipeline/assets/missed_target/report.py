"""The missed-target figure on the report: the latest closed sprint's completion rate."""

from __future__ import annotations

from jira_insights_pipeline.assets.missed_target.rules import MISSED_TARGET
from jira_insights_pipeline.assets.missed_target.thresholds import MissedTargetThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, latest_judged_row
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.formats import missing, percent, points


def missed_target_figure(
    board_id: int, tables: MetricTables, thresholds: MissedTargetThresholds
) -> Figure | None:
    row = latest_judged_row(MISSED_TARGET, tables, board_id)
    if row is None:
        return None
    rate = row["completion_rate"]
    return Figure(
        "Completion rate",
        percent(rate),
        f"{row['sprint_name']}: {points(row['completed_points'])} points completed against "
        f"{points(row['committed_points'])} committed, {row['spillover_issues']} spilled over "
        f"(target {thresholds.completion_rate_min:.0%})",
        None if missing(rate) else flag(row[MISSED_TARGET.flag]),
    )
