"""Pandera models of `cycle_times` (per finished issue), `cycle_time_trends` (per sprint), and the
diagnosis: `status_time_changes` (per sprint and status) and `aged_work` (per started issue)."""

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


STATUS_KINDS = ["not_started", "working", "blocked", "review", "testing", "done"]
LIMIT_SOURCES = ["team_p85", "fixed"]


class StatusTimeChangesSchema(StrictModel):
    """One row per board, sprint and status: the median days the issues finished in the sprint
    spent in that status between their start and their finish, against the same median over
    the issues finished in the board's previous sprints (the cycle-time rule's window);
    `leading` marks the status whose median grew most in the sprint."""

    as_of: Series[UtcInstant]
    board_id: Series[pd.Int64Dtype]
    sprint_id: Series[int]
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=SPRINT_STATES)
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    status: Series[str]
    status_category: Series[str] = pa.Field(nullable=True)
    status_kind: Series[str] = pa.Field(isin=STATUS_KINDS)
    finished_issues: Series[int] = pa.Field(ge=1)
    issues_in_status: Series[int] = pa.Field(ge=0)
    median_days: Series[float] = pa.Field(ge=0)
    previous_finished_issues: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1)
    previous_issues_in_status: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    previous_median_days: Series[float] = pa.Field(nullable=True, ge=0)
    change_days: Series[float] = pa.Field(nullable=True)
    change_ratio: Series[float] = pa.Field(nullable=True, ge=0)
    leading: Series[bool]
    longest_keys: Series[object]
    longest_days: Series[object]

    @pa.dataframe_check(error="one row per sprint and status")
    @classmethod
    def one_row_per_status(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["sprint_id", "status"], keep=False)

    @pa.dataframe_check(error="at most one leading status per sprint")
    @classmethod
    def one_leader(cls, df: pd.DataFrame) -> Series[bool]:
        leaders = df["leading"].astype(bool).groupby(df["sprint_id"]).transform("sum")
        return leaders <= 1

    @pa.dataframe_check(error="a status with no issues in it has a median of 0")
    @classmethod
    def empty_status_has_no_time(cls, df: pd.DataFrame) -> Series[bool]:
        return df["issues_in_status"].gt(0) | df["median_days"].eq(0)


class AgedWorkSchema(StrictModel):
    """One row per issue of a board in the in-progress category at "as of" (sub-tasks left
    out): its age since it first started against the board's own limit (the 85th percentile
    cycle time of its last finished issues, or the fixed limit when it has too few)."""

    as_of: Series[UtcInstant]
    board_id: Series[pd.Int64Dtype]
    issue_key: Series[str] = pa.Field(unique=True)
    issue_type: Series[str]
    summary: Series[str] = pa.Field(nullable=True)
    status: Series[str]
    started_at: Series[UtcInstant]
    age_days: Series[float] = pa.Field(ge=0)
    history_issues: Series[int] = pa.Field(ge=0)
    limit_source: Series[str] = pa.Field(isin=LIMIT_SOURCES)
    limit_days: Series[float] = pa.Field(ge=0)
    over_limit: Series[bool]

    @pa.dataframe_check(error="over_limit must be age_days > limit_days")
    @classmethod
    def over_limit_is_age_above_limit(cls, df: pd.DataFrame) -> Series[bool]:
        return df["over_limit"] == (df["age_days"] > df["limit_days"])
