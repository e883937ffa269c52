"""The missed-target rule: `missed_target` of `sprint_targets`."""

from __future__ import annotations

from jira_insights_pipeline.assets.missed_target.wording import TITLES
from jira_insights_pipeline.rules import Rule

MISSED_TARGET = Rule(
    name="missed_target",
    table="sprint_targets",
    flag="missed_target",
    severity="warning",
    scope="latest_closed_sprint",
    check="sprint_target_met",
    description="Sprint target: each board's latest closed sprint must complete at least "
    "`completion_rate_min` (default 80%) of its committed points.",
    holds="Every board's latest closed sprint completed at least {t.completion_rate_min:.0%} of "
    "its committed points.",
    title=TITLES.alarm,
    # Completed points include finished added work, so they are not "of" the commitment.
    message="The team completed {row.completed_points:g} points against a commitment of "
    "{row.committed_points:g} ({row.completion_rate:.0%}), below the "
    "{t.completion_rate_min:.0%} target; {row.spillover_issues} issues spilled over.",
    figures=("completed_points", "committed_points", "completion_rate"),
    threshold="completion_rate_min",
    limit_fact="completion_target",
)
