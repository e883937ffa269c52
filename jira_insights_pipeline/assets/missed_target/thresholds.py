"""The completion target a closed sprint is judged against."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class MissedTargetThresholds(dg.Config):
    """When a closed sprint missed its target, and how far back spillover is looked for."""

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
