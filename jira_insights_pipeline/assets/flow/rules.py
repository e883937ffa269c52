"""The flow rule: `cycle_time_rise` of `cycle_time_trends`."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.flow.thresholds import FlowThresholds
from jira_insights_pipeline.assets.flow.wording import TITLES
from jira_insights_pipeline.rules import AlertText, Rule


def _figure(value: Any) -> float | None:
    return None if value is None or value != value else round(float(value), 4)


def crossing(row: Any, thresholds: FlowThresholds, board: str) -> AlertText:
    return AlertText(
        title=TITLES.alarm.format(sprint=row["sprint_name"], board=board),
        message=f"The median cycle time was {row['median_cycle_time_days']:.1f} days against "
        f"{row['previous_median_cycle_time_days']:.1f} in the previous "
        f"{thresholds.cycle_time_window} sprints ({row['median_change_pct']:+.0f}%), more than "
        f"the allowed {thresholds.cycle_time_rise:.0%} rise.",
        figures={
            "median_cycle_time_days": _figure(row["median_cycle_time_days"]),
            "previous_median_cycle_time_days": _figure(row["previous_median_cycle_time_days"]),
            "median_change_pct": _figure(row["median_change_pct"]),
            "threshold_pct": 100 * thresholds.cycle_time_rise,
        },
    )


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
    holds=lambda thresholds: (
        "No board's latest closed sprint saw its median cycle time rise "
        f"more than {thresholds.cycle_time_rise:.0%}."
    ),
    crossing=crossing,
    limit_fact="rise_limit",
)
