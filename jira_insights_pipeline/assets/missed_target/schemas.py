"""Pandera model of `sprint_targets`."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from jira_insights_pipeline.schemas import StrictModel, UtcInstant


class SprintTargetsSchema(StrictModel):
    """One row per sprint closed by "as of": completed against committed points, the recent
    spillover pattern, and the missed-target rule."""

    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[int] = pa.Field(unique=True)
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=["closed"])
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    committed_points: Series[float] = pa.Field(ge=0)
    completed_points: Series[float] = pa.Field(ge=0)
    completed_committed_points: Series[float] = pa.Field(ge=0)
    completion_rate: Series[float] = pa.Field(nullable=True, ge=0)
    spillover_issues: Series[int] = pa.Field(ge=0)
    added_issues: Series[int] = pa.Field(ge=0)
    window_sprints: Series[int] = pa.Field(ge=1)
    spillover_sprints: Series[int] = pa.Field(ge=0)
    missed_target: Series[bool]
    as_of: Series[UtcInstant]

    @pa.dataframe_check(error="spillover sprints are some of the window's sprints")
    @classmethod
    def spillover_within_window(cls, df: pd.DataFrame) -> Series[bool]:
        return df["spillover_sprints"] <= df["window_sprints"]

    @pa.dataframe_check(error="a sprint that committed nothing cannot miss its target")
    @classmethod
    def missed_needs_a_rate(cls, df: pd.DataFrame) -> Series[bool]:
        return df["completion_rate"].notna() | ~df["missed_target"]
