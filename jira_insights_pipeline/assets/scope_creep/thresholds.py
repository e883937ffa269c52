"""The scope-creep limit (the mission's "more than 20% of stories grow by more than 30%")."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class ScopeCreepThresholds(dg.Config):
    """When a sprint's scope grew too much (a story "grows" by the sprint ledger's growth_pct)."""

    grown_story_share_alert: float = Field(
        default=0.20,
        ge=0,
        lt=1,
        description="A sprint alerts when more than this share of its estimated committed "
        "stories grew.",
    )
