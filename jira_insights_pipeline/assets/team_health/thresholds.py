"""What makes an open issue a hygiene problem, and the lowest healthy hygiene score."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class TeamHealthThresholds(dg.Config):
    """When an open issue is stale or in progress too long, and when a board's score is low."""

    stale_days: float = Field(
        default=14.0,
        gt=0,
        le=3650,
        description="An open issue not updated for this many days is stale.",
    )
    in_progress_days: float = Field(
        default=10.0,
        gt=0,
        le=3650,
        description="An issue in progress for more than this many days is in progress too long.",
    )
    hygiene_score_min: float = Field(
        default=70.0,
        gt=0,
        le=100,
        description="A board alerts when its hygiene score (100 × the share of open issues with "
        "no problem) is under this.",
    )
