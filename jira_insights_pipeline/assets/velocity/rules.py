"""The velocity rule: `velocity_drop` of `sprint_velocity`."""

from __future__ import annotations

from jira_insights_pipeline.assets.velocity.wording import TITLES
from jira_insights_pipeline.rules import Rule

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
    holds="No board's latest closed sprint fell below {t.velocity_drop_ratio:.0%} of its "
    "previous velocity.",
    title=TITLES.alarm,
    message="{row.sprint_name} completed {row.completed_points:g} points against a mean of "
    "{row.previous_mean_points:.1f} over the previous {t.velocity_window} sprints "
    "({row.velocity_ratio:.0%}), below {t.velocity_drop_ratio:.0%}.",
    figures=("completed_points", "previous_mean_points", "velocity_ratio"),
    threshold="velocity_drop_ratio",
    limit_fact="drop_limit",
)
