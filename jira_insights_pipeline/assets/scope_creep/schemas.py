"""Pandera model of `sprint_scope_creep`."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from jira_insights_pipeline.schemas import SPRINT_STATES, StrictModel, UtcInstant


class SprintScopeCreepSchema(StrictModel):
    """One row per sprint started by "as of": its grown committed stories and the scope-creep
    rule."""

    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[int] = pa.Field(unique=True)
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=SPRINT_STATES)
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    estimated_committed_stories: Series[int] = pa.Field(ge=0)
    grown_stories: Series[int] = pa.Field(ge=0)
    grown_story_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    added_issues: Series[int] = pa.Field(ge=0)
    added_points: Series[float] = pa.Field(ge=0)
    scope_creep_alert: Series[bool]
    as_of: Series[UtcInstant]

    @pa.dataframe_check(error="a sprint with no estimated committed story cannot alert")
    @classmethod
    def alert_needs_a_share(cls, df: pd.DataFrame) -> Series[bool]:
        return df["grown_story_share"].notna() | ~df["scope_creep_alert"]
