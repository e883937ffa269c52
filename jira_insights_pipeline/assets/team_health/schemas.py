"""Pandera models of `work_item_health` (per open issue) and `hygiene_scores` (per board)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from jira_insights_pipeline.schemas import StrictModel, UtcInstant


class WorkItemHealthSchema(StrictModel):
    """One row per issue of a board (backlog included) not done at "as of": what is wrong
    with it."""

    as_of: Series[UtcInstant]
    board_id: Series[pd.Int64Dtype]
    sprint_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_name: Series[str] = pa.Field(nullable=True)
    issue_key: Series[str] = pa.Field(unique=True)
    issue_type: Series[str]
    summary: Series[str] = pa.Field(nullable=True)
    status: Series[str]
    status_category: Series[str] = pa.Field(nullable=True, isin=["new", "indeterminate"])
    last_updated: Series[UtcInstant]
    days_since_update: Series[float] = pa.Field(ge=0)
    stale: Series[bool]
    story_points: Series[float] = pa.Field(nullable=True, ge=0)
    missing_estimate: Series[bool]
    blocked_now: Series[bool]
    blocked_days: Series[float] = pa.Field(ge=0)
    in_progress_since: Series[UtcInstant] = pa.Field(nullable=True)
    days_in_progress: Series[float] = pa.Field(nullable=True, ge=0)
    in_progress_too_long: Series[bool]
    problems: Series[object]
    problem_count: Series[int] = pa.Field(ge=0, le=4)

    @pa.dataframe_check(error="only an issue in progress has days in progress")
    @classmethod
    def in_progress_days_only_in_progress(cls, df: pd.DataFrame) -> Series[bool]:
        return df["days_in_progress"].isna() | df["status_category"].eq("indeterminate")

    @pa.dataframe_check(error="problem_count must count the problem flags")
    @classmethod
    def problem_count_matches(cls, df: pd.DataFrame) -> Series[bool]:
        flags = df[["stale", "missing_estimate", "blocked_now", "in_progress_too_long"]]
        return flags.astype(int).sum(axis=1) == df["problem_count"]


class HygieneScoresSchema(StrictModel):
    """One row per board for the "as of" day: how many open issues have a problem, and the
    hygiene score."""

    as_of: Series[UtcInstant]
    date: Series[str] = pa.Field(str_matches=r"^\d{4}-\d{2}-\d{2}$")
    board_id: Series[int] = pa.Field(unique=True)
    board_name: Series[str]
    open_issues: Series[int] = pa.Field(ge=0)
    issues_with_problems: Series[int] = pa.Field(ge=0)
    stale_issues: Series[int] = pa.Field(ge=0)
    missing_estimate_issues: Series[int] = pa.Field(ge=0)
    blocked_issues: Series[int] = pa.Field(ge=0)
    in_progress_too_long_issues: Series[int] = pa.Field(ge=0)
    hygiene_score: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    hygiene_alert: Series[bool]

    @pa.dataframe_check(error="issues with problems cannot exceed open issues")
    @classmethod
    def problems_within_open(cls, df: pd.DataFrame) -> Series[bool]:
        return df["issues_with_problems"] <= df["open_issues"]


class WorkItemHealthHistorySchema(WorkItemHealthSchema):
    """One row per issue of a board not done at one day's end (`date`, the partition): the
    `work_item_health` row as of that day."""

    date: Series[str] = pa.Field(str_matches=r"^\d{4}-\d{2}-\d{2}$")
    issue_key: Series[str]  # once per day, not once in the table

    class Config:
        unique = ("date", "issue_key")


class HygieneHistorySchema(HygieneScoresSchema):
    """One row per board and day (`date`, the partition): the `hygiene_scores` row as of that
    day's end."""

    board_id: Series[int]  # once per day, not once in the table

    class Config:
        unique = ("date", "board_id")
