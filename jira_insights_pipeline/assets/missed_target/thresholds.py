"""The completion target a closed sprint is judged against, and how its spillover is
diagnosed."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class MissedTargetThresholds(dg.Config):
    """When a closed sprint missed its target, how far back spillover is looked for, and when
    an unfinished issue counts as blocked or as a chronic carry-over."""

    completion_rate_min: float = Field(
        default=0.80,
        gt=0,
        le=2,
        description="A closed sprint missed its target when it completed less than this share "
        "of its committed points (what Jira's Velocity Chart compares).",
    )
    recent_sprints: int = Field(
        default=3,
        ge=1,
        le=52,
        description="How many of a board's latest closed sprints the spillover pattern counts.",
    )
    blocked_min_days: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="An unfinished issue was blocked when it was Flagged or in a status named "
        "like Blocked or On Hold for at least this many days inside the sprint.",
    )
    chronic_carry_over_sprints: int = Field(
        default=2,
        ge=2,
        le=52,
        description="An issue is a chronic carry-over when at least this many of the board's "
        "closed sprints in a row ended with it unfinished.",
    )
