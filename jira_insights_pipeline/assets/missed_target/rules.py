"""The missed-target rule: `missed_target` of `sprint_targets`."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.missed_target.thresholds import MissedTargetThresholds
from jira_insights_pipeline.assets.missed_target.wording import TITLES
from jira_insights_pipeline.rules import AlertText, Rule


def crossing(row: Any, thresholds: MissedTargetThresholds, board: str) -> AlertText:
    rate = round(float(row["completion_rate"]), 4)
    return AlertText(
        title=TITLES.alarm.format(sprint=row["sprint_name"], board=board),
        # Completed points include finished added work, so they are not "of" the commitment.
        message=f"The team completed {row['completed_points']:g} points against a commitment "
        f"of {row['committed_points']:g} ({rate:.0%}), below the "
        f"{thresholds.completion_rate_min:.0%} target; {row['spillover_issues']} issues "
        "spilled over.",
        figures={
            "completed_points": round(float(row["completed_points"]), 4),
            "committed_points": round(float(row["committed_points"]), 4),
            "completion_rate": rate,
            "threshold": thresholds.completion_rate_min,
        },
    )


MISSED_TARGET = Rule(
    name="missed_target",
    table="sprint_targets",
    flag="missed_target",
    severity="warning",
    scope="latest_closed_sprint",
    check="sprint_target_met",
    description="Sprint target: each board's latest closed sprint must complete at least "
    "`completion_rate_min` (default 80%) of its committed points.",
    holds=lambda thresholds: (
        "Every board's latest closed sprint completed at least "
        f"{thresholds.completion_rate_min:.0%} of its committed points."
    ),
    crossing=crossing,
    limit_fact="completion_target",
)
