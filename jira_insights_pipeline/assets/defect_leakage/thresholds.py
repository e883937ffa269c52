"""The escape-rate limit for bugs reaching production."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class DefectLeakageThresholds(dg.Config):
    """When too many of a sprint's bugs escaped to production."""

    escape_rate_alert: float = Field(
        default=0.20,
        ge=0,
        lt=1,
        description="A sprint alerts when production / (production + QA) bugs exceeds this.",
    )
