"""The cycle-time rise rule, and the limits of work item age."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class FlowThresholds(dg.Config):
    """When a sprint's median cycle time rose too far above the sprints before it, and when
    started work is older than the team usually takes."""

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
    age_history_issues: int = Field(
        default=30,
        ge=10,
        le=1000,
        description="Work item age: the board's 85th percentile cycle time is taken over its "
        "last this many finished issues (sub-tasks left out), about two or three sprints of a "
        "team's work, so the limit follows how the team works now.",
    )
    age_fallback_days: float = Field(
        default=10.0,
        gt=0,
        le=3650,
        description="Work item age: the limit in days for a board with fewer than 10 finished "
        "issues, whose percentile would rest on too few.",
    )
