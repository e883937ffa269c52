"""Pandera models of `sprint_velocity` and its diagnosis, `velocity_causes`."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from jira_insights_pipeline.assets.velocity.diagnosis import DOWN, FACTORS, UP
from jira_insights_pipeline.schemas import StrictModel, UtcInstant


class SprintVelocitySchema(StrictModel):
    """One row per board and sprint closed by "as of": completed points, the previous sprints'
    mean, the drop flag and, on each board's latest closed sprint, the next sprint's forecast."""

    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[int] = pa.Field(unique=True)
    sprint_name: Series[str]
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    committed_points: Series[float] = pa.Field(ge=0)
    completed_points: Series[float] = pa.Field(ge=0)
    previous_mean_points: Series[float] = pa.Field(nullable=True, ge=0)
    velocity_ratio: Series[float] = pa.Field(nullable=True, ge=0)
    velocity_drop: Series[bool]
    latest_closed: Series[bool]
    forecast_sprint_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    forecast_sprint_name: Series[str] = pa.Field(nullable=True)
    forecast_sprints_used: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1)
    forecast_p50_points: Series[float] = pa.Field(nullable=True, ge=0)
    forecast_p85_points: Series[float] = pa.Field(nullable=True, ge=0)
    as_of: Series[UtcInstant]

    @pa.dataframe_check(error="a drop needs a previous mean")
    @classmethod
    def drop_needs_mean(cls, df: pd.DataFrame) -> Series[bool]:
        return df["previous_mean_points"].notna() | ~df["velocity_drop"]

    @pa.dataframe_check(error="only each board's latest closed sprint carries a forecast")
    @classmethod
    def forecast_on_latest_only(cls, df: pd.DataFrame) -> Series[bool]:
        return df["latest_closed"] == df["forecast_p50_points"].notna()

    @pa.dataframe_check(error="the P85 forecast (85% confidence) cannot exceed the P50 forecast")
    @classmethod
    def p85_not_above_p50(cls, df: pd.DataFrame) -> Series[bool]:
        return df["forecast_p85_points"].isna() | (
            df["forecast_p85_points"] <= df["forecast_p50_points"] + 1e-9
        )


class VelocityCausesSchema(StrictModel):
    """One row per board, closed sprint with a full previous window, and factor that can take
    points away from a sprint (`diagnosis.FACTORS`): the sprint's value, its mean over the
    previous `velocity_window` closed sprints (the drop rule's window), the direction that
    lowers velocity, the relative change, whether it moved that way by more than `cause_margin`
    (`harmful`), and its rank among the sprint's harmful factors (1: the largest cause)."""

    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[int]
    sprint_name: Series[str]
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    window_sprints: Series[int] = pa.Field(ge=1)
    first_window_sprint_name: Series[str]
    factor: Series[str] = pa.Field(isin=list(FACTORS))
    harmful_direction: Series[str] = pa.Field(isin=[UP, DOWN])
    value: Series[float] = pa.Field(ge=0)
    window_mean: Series[float] = pa.Field(ge=0)
    relative_change: Series[float] = pa.Field(nullable=True)
    harmful: Series[bool]
    rank: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1)
    as_of: Series[UtcInstant]

    @pa.dataframe_check(error="one row per sprint and factor")
    @classmethod
    def one_row_per_factor(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["sprint_id", "factor"], keep=False)

    @pa.dataframe_check(error="exactly the harmful factors are ranked")
    @classmethod
    def ranked_when_harmful(cls, df: pd.DataFrame) -> Series[bool]:
        return df["rank"].notna() == df["harmful"].astype(bool)
