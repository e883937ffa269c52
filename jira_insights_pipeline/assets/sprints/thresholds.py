"""What counts as a story growing and how big a story is: the sprint ledger's settings."""

from __future__ import annotations

import dagster as dg
from pydantic import Field, model_validator


class SprintThresholds(dg.Config):
    """How `sprint_scope_changes` judges each story of a sprint."""

    growth_pct: float = Field(
        default=30.0,
        gt=0,
        le=1000,
        description="A story grew when its points at sprint end exceed its points at the start "
        "by more than this percentage.",
    )
    small_max_points: float = Field(
        default=3.0, ge=0, le=100, description="A story of at most this many points is small."
    )
    large_min_points: float = Field(
        default=8.0, gt=0, le=1000, description="A story of at least this many points is large."
    )

    @model_validator(mode="after")
    def _small_below_large(self) -> SprintThresholds:
        if self.small_max_points >= self.large_min_points:
            raise ValueError(
                f"small_max_points ({self.small_max_points:g}) must be below large_min_points "
                f"({self.large_min_points:g}), or a story could be small and large at once."
            )
        return self
