"""The flow rule: `cycle_time_rise` of `cycle_time_trends`."""

from __future__ import annotations

from jira_insights_pipeline.assets.flow.wording import TITLES
from jira_insights_pipeline.rules import Rule

RISE = Rule(
    name="cycle_time",
    table="cycle_time_trends",
    flag="cycle_time_rise",
    severity="warning",
    scope="latest_closed_sprint",
    check="cycle_time_median_steady",
    description="Flow: in each board's latest closed sprint, the median cycle time must not "
    "exceed the median of the previous `cycle_time_window` (default 3) sprints by more than "
    "`cycle_time_rise` (default 20%).",
    holds="No board's latest closed sprint saw its median cycle time rise more than "
    "{t.cycle_time_rise:.0%}.",
    title=TITLES.alarm,
    message="The median cycle time was {row.median_cycle_time_days:.1f} days against "
    "{row.previous_median_cycle_time_days:.1f} in the previous {t.cycle_time_window} sprints "
    "({row.median_change_pct:+.0f}%), more than the allowed {t.cycle_time_rise:.0%} rise.",
    figures=("median_cycle_time_days", "previous_median_cycle_time_days", "median_change_pct"),
    threshold="cycle_time_rise",
    limit_fact="rise_limit",
)
