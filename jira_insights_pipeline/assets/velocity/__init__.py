"""Velocity: completed points sprint by sprint, and the next sprint's forecast.

Table `sprint_velocity` (one row per closed sprint) decides the rule `velocity_drop`: completed
points under `velocity_drop_ratio` (70%) of the mean of the previous `velocity_window` (3)
sprints. Judged on each board's latest closed sprint, which also carries the P50/P85 forecast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jira_insights_pipeline.assets.velocity.thresholds import VelocityThresholds as Thresholds

if TYPE_CHECKING:
    from jira_insights_pipeline.use_case import UseCase

NAME = "velocity"


def use_case() -> UseCase:
    """This use case with its assets, rules, facts and wording (imported only when asked)."""
    from jira_insights_pipeline.assets.velocity.definition import USE_CASE

    return USE_CASE


__all__ = ["NAME", "Thresholds", "use_case"]
