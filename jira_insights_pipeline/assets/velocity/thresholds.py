"""The velocity-drop rule and the forecast's settings."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class VelocityThresholds(dg.Config):
    """When completed points dropped, what counts as a cause of the drop, and how the next
    sprint's forecast is drawn."""

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
    cause_margin: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="A factor is a cause of a velocity drop when it moved the harmful way by "
        "more than this share of its mean over the previous `velocity_window` sprints (with a "
        "mean of 0: when a factor harmful when up is above 0).",
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
