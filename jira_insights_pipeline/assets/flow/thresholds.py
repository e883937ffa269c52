"""The cycle-time rise rule."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class FlowThresholds(dg.Config):
    """When a sprint's median cycle time rose too far above the sprints before it."""

    cycle_time_rise: float = Field(
        default=0.20,
        gt=0,
        le=10,
        description="A closed sprint's median cycle time rose when it exceeds the median of the "
        "previous `cycle_time_window` sprints by more than this share.",
    )
    cycle_time_window: int = Field(
        default=3, ge=1, le=52, description="How many previous sprints the median is taken over."
    )
