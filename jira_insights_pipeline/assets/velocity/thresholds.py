"""The velocity-drop rule and the forecast's settings."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class VelocityThresholds(dg.Config):
    """When completed points dropped, and how the next sprint's forecast is drawn."""

    velocity_drop_ratio: float = Field(
        default=0.70,
        gt=0,
        lt=1,
        description="A closed sprint dropped when it completed less than this share of the mean "
        "of the previous `velocity_window` sprints.",
    )
    velocity_window: int = Field(
        default=3, ge=1, le=52, description="How many previous sprints the mean is taken over."
    )
    forecast_window: int = Field(
        default=6, ge=1, le=52, description="How many latest closed sprints the forecast resamples."
    )
    forecast_samples: int = Field(
        default=10_000, ge=100, le=1_000_000, description="Resampled sprints per forecast."
    )
    forecast_seed: int = Field(
        default=7,
        ge=0,
        le=2**32 - 1,  # numpy's seed range
        description="Seed of the resampling, so the same data gives the same forecast.",
    )
