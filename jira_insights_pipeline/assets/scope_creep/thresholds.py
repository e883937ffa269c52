"""The scope-creep limit (the mission's "more than 20% of stories grow by more than 30%") and
the window the diagnosis looks for acceptance criteria growth in."""

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
    criteria_lookback_days: float = Field(
        default=3.0,
        ge=0,
        le=14,
        description="A grown story's acceptance criteria count as grown before its re-estimate "
        "(a refinement gap) when they grew after the later of this many days before the sprint "
        "started and the story's last estimate before the start, and by the re-estimate.",
    )
