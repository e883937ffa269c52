"""Pandera models of `cycle_times` (per finished issue) and `cycle_time_trends` (per sprint)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from jira_insights_pipeline.schemas import SPRINT_STATES, StrictModel, UtcInstant


class CycleTimesSchema(StrictModel):
    """One row per issue done at "as of": from its first entry into the in-progress category to
    its last entry into done."""

    as_of: Series[UtcInstant]
    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_name: Series[str] = pa.Field(nullable=True)
    issue_key: Series[str] = pa.Field(unique=True)
    issue_type: Series[str]
    is_subtask: Series[bool]
    summary: Series[str] = pa.Field(nullable=True)
    in_progress_at: Series[UtcInstant] = pa.Field(nullable=True)
    done_at: Series[UtcInstant]
    cycle_time_days: Series[float] = pa.Field(nullable=True, ge=0)
    done_entries: Series[int] = pa.Field(ge=1)
    reopened: Series[bool]

    @pa.dataframe_check(error="an issue with a start must have a cycle time, and only then")
    @classmethod
    def cycle_time_iff_started(cls, df: pd.DataFrame) -> Series[bool]:
        return df["in_progress_at"].isna() == df["cycle_time_days"].isna()


class CycleTimeTrendsSchema(StrictModel):
    """One row per board and sprint started by "as of": the cycle times of the issues finished
    during it, against the board's previous sprints."""

    as_of: Series[UtcInstant]
    board_id: Series[pd.Int64Dtype]
    sprint_id: Series[int] = pa.Field(unique=True)
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=SPRINT_STATES)
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    finished_issues: Series[int] = pa.Field(ge=0)
    median_cycle_time_days: Series[float] = pa.Field(nullable=True, ge=0)
    p85_cycle_time_days: Series[float] = pa.Field(nullable=True, ge=0)
    previous_median_cycle_time_days: Series[float] = pa.Field(nullable=True, ge=0)
    median_change_pct: Series[float] = pa.Field(nullable=True)
    cycle_time_rise: Series[bool]

    @pa.dataframe_check(error="the 85th percentile cannot be below the median")
    @classmethod
    def p85_above_median(cls, df: pd.DataFrame) -> Series[bool]:
        return df["median_cycle_time_days"].isna() | (
            df["p85_cycle_time_days"] >= df["median_cycle_time_days"] - 1e-9
        )
