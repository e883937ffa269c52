"""The defect-leakage rule: `leakage_alert` of `defect_escape_rates`."""

from __future__ import annotations

from jira_insights_pipeline.assets.defect_leakage.wording import TITLES
from jira_insights_pipeline.rules import Rule

LEAKAGE = Rule(
    name="defect_leakage",
    table="defect_escape_rates",
    flag="leakage_alert",
    severity="error",
    scope="recent_sprints",
    check="defect_escape_rate_within_threshold",
    description="Defect leakage: each board's running and latest closed sprint must have an "
    "escape rate (production / (production + QA) bugs) at or under `escape_rate_alert` "
    "(default 20%).",
    holds="No running or latest closed sprint leaked more than {t.escape_rate_alert:.0%} of its "
    "bugs to production.",
    title=TITLES.alarm,
    message="Bugs found in production: {row.production_bugs}, in testing: {row.qa_bugs}; an "
    "escape rate of {row.escape_rate:.0%} against a {t.escape_rate_alert:.0%} limit.",
    figures=("production_bugs", "qa_bugs", "escape_rate"),
    threshold="escape_rate_alert",
    limit_fact="escape_rate_limit",
)
