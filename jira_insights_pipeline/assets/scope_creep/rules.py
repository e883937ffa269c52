"""The scope-creep rule: `scope_creep_alert` of `sprint_scope_creep`."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.scope_creep.thresholds import ScopeCreepThresholds
from jira_insights_pipeline.assets.scope_creep.wording import TITLES
from jira_insights_pipeline.rules import AlertText, Rule


def _share(value: Any) -> float | None:
    return None if value is None or value != value else round(float(value), 4)


def crossing(row: Any, thresholds: ScopeCreepThresholds, board: str) -> AlertText:
    share = _share(row["grown_story_share"])
    return AlertText(
        title=TITLES.alarm.format(sprint=row["sprint_name"], board=board),
        message=f"{row['grown_stories']} of {row['estimated_committed_stories']} estimated "
        f"committed stories ({share:.0%}) grew after the sprint started, above the "
        f"{thresholds.grown_story_share_alert:.0%} limit.",
        figures={
            "grown_stories": int(row["grown_stories"]),
            "estimated_committed_stories": int(row["estimated_committed_stories"]),
            "grown_story_share": share,
            "threshold": thresholds.grown_story_share_alert,
        },
    )


SCOPE_CREEP = Rule(
    name="scope_creep",
    table="sprint_scope_creep",
    flag="scope_creep_alert",
    severity="warning",
    scope="recent_sprints",
    check="sprint_scope_creep_within_threshold",
    description="Scope creep: in each board's running and latest closed sprint, at most "
    "`grown_story_share_alert` (default 20%) of the estimated committed stories may grow by more "
    "than the sprint ledger's `growth_pct` (default 30%).",
    holds=lambda thresholds: (
        "No running or latest closed sprint had more than "
        f"{thresholds.grown_story_share_alert:.0%} of its estimated committed stories grow."
    ),
    crossing=crossing,
    limit_fact="grown_share_limit",
)
