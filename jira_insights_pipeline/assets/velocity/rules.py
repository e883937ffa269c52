"""The velocity rule: `velocity_drop` of `sprint_velocity`."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.velocity.thresholds import VelocityThresholds
from jira_insights_pipeline.assets.velocity.wording import TITLES
from jira_insights_pipeline.rules import AlertText, Rule


def crossing(row: Any, thresholds: VelocityThresholds, board: str) -> AlertText:
    ratio = round(float(row["velocity_ratio"]), 4)
    return AlertText(
        title=TITLES.alarm.format(sprint=row["sprint_name"], board=board),
        message=f"{row['sprint_name']} completed {row['completed_points']:g} points against a "
        f"mean of {row['previous_mean_points']:.1f} over the previous "
        f"{thresholds.velocity_window} sprints ({ratio:.0%}), below "
        f"{thresholds.velocity_drop_ratio:.0%}.",
        figures={
            "completed_points": round(float(row["completed_points"]), 4),
            "previous_mean_points": round(float(row["previous_mean_points"]), 4),
            "velocity_ratio": ratio,
            "threshold": thresholds.velocity_drop_ratio,
        },
    )


VELOCITY_DROP = Rule(
    name="velocity_drop",
    table="sprint_velocity",
    flag="velocity_drop",
    severity="warning",
    scope="latest_closed_sprint",
    check="sprint_velocity_holds",
    description="Velocity: each board's latest closed sprint must complete at least "
    "`velocity_drop_ratio` (default 70%) of the mean of its previous `velocity_window` "
    "(default 3) sprints.",
    holds=lambda thresholds: (
        "No board's latest closed sprint fell below "
        f"{thresholds.velocity_drop_ratio:.0%} of its previous velocity."
    ),
    crossing=crossing,
    limit_fact="drop_limit",
)
