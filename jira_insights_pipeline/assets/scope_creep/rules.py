"""The scope-creep rule: `scope_creep_alert` of `sprint_scope_creep`."""

from __future__ import annotations

from jira_insights_pipeline.assets.scope_creep.wording import TITLES
from jira_insights_pipeline.rules import Rule

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
    holds="No running or latest closed sprint had more than {t.grown_story_share_alert:.0%} of "
    "its estimated committed stories grow.",
    title=TITLES.alarm,
    message="{row.grown_stories} of {row.estimated_committed_stories} estimated committed "
    "stories ({row.grown_story_share:.0%}) grew after the sprint started, above the "
    "{t.grown_story_share_alert:.0%} limit.",
    figures=("grown_stories", "estimated_committed_stories", "grown_story_share"),
    threshold="grown_story_share_alert",
    limit_fact="grown_share_limit",
)
