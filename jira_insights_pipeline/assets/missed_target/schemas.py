"""Pandera models of `sprint_targets`, `spillover_reasons` and `spillover_patterns`."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from jira_insights_pipeline.assets.missed_target.diagnosis import REASONS
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


class SpilloverReasonsSchema(StrictModel):
    """One row per (closed sprint, issue) in the sprint at its close and not done (the sprint
    ledger's "not completed"): which reasons Jira's history shows for it being left unfinished,
    each a flag with its figure, and how many apply."""

    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[int]
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=["closed"])
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    issue_key: Series[str]
    issue_id: Series[str]
    issue_type: Series[str]
    status_at_close: Series[str] = pa.Field(nullable=True)
    points_at_start: Series[float] = pa.Field(ge=0)
    points_at_end: Series[float] = pa.Field(ge=0)
    never_started: Series[bool]
    blocked: Series[bool]
    blocked_days: Series[float] = pa.Field(ge=0)
    added_late: Series[bool]
    added_days_after_start: Series[float] = pa.Field(nullable=True, ge=0)
    grew: Series[bool]
    growth_pct: Series[float] = pa.Field(nullable=True)
    waiting: Series[bool]
    waiting_status: Series[str] = pa.Field(nullable=True)
    waiting_days: Series[float] = pa.Field(nullable=True, ge=0)
    carried_over_again: Series[bool]
    unfinished_sprints_in_a_row: Series[int] = pa.Field(ge=1)
    reason_count: Series[int] = pa.Field(ge=0, le=6)
    as_of: Series[UtcInstant]

    @pa.dataframe_check(error="one row per (sprint, issue)")
    @classmethod
    def one_row_per_sprint_issue(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["sprint_id", "issue_id"], keep=False)

    @pa.dataframe_check(error="days after the start exactly for an issue added late")
    @classmethod
    def added_days_only_when_added(cls, df: pd.DataFrame) -> Series[bool]:
        return df["added_days_after_start"].notna() == df["added_late"]

    @pa.dataframe_check(error="a waiting status and days exactly for an issue waiting")
    @classmethod
    def waiting_has_status_and_days(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["waiting_status"].notna() == df["waiting"]) & (
            df["waiting_days"].notna() == df["waiting"]
        )

    @pa.dataframe_check(error="carried over again means unfinished two sprints in a row or more")
    @classmethod
    def carried_over_again_is_a_streak(cls, df: pd.DataFrame) -> Series[bool]:
        return df["carried_over_again"] == df["unfinished_sprints_in_a_row"].ge(2)

    @pa.dataframe_check(error="reason_count must count the reason flags")
    @classmethod
    def reason_count_matches(cls, df: pd.DataFrame) -> Series[bool]:
        flags = df[REASONS].astype(int)
        return flags.sum(axis=1) == df["reason_count"]


class SpilloverPatternsSchema(StrictModel):
    """One row per board with a closed sprint, over its last `recent_sprints` closed sprints
    (the window ends at `sprint_name`, the board's latest closed sprint): how many issues were
    left unfinished, how many and what share of them each reason explains, the dominant reason,
    and the chronic carry-overs."""

    board_id: Series[int] = pa.Field(unique=True)
    sprint_id: Series[int]
    sprint_name: Series[str]
    sprint_end: Series[UtcInstant]
    first_sprint_name: Series[str]
    window_sprints: Series[int] = pa.Field(ge=1)
    unfinished_issues: Series[int] = pa.Field(ge=0)
    never_started_issues: Series[int] = pa.Field(ge=0)
    never_started_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    blocked_issues: Series[int] = pa.Field(ge=0)
    blocked_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    added_late_issues: Series[int] = pa.Field(ge=0)
    added_late_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    grew_issues: Series[int] = pa.Field(ge=0)
    grew_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    waiting_issues: Series[int] = pa.Field(ge=0)
    waiting_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    carried_over_again_issues: Series[int] = pa.Field(ge=0)
    carried_over_again_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    unexplained_issues: Series[int] = pa.Field(ge=0)
    dominant_reason: Series[str] = pa.Field(nullable=True, isin=REASONS)
    dominant_issues: Series[int] = pa.Field(ge=0)
    dominant_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    chronic_issue_keys: Series[object]
    chronic_streaks: Series[object]
    as_of: Series[UtcInstant]

    @pa.dataframe_check(error="no reason explains more issues than were left unfinished")
    @classmethod
    def reasons_within_unfinished(cls, df: pd.DataFrame) -> Series[bool]:
        counts = df[[f"{reason}_issues" for reason in REASONS]]
        return counts.le(df["unfinished_issues"], axis=0).all(axis=1) & (
            df["unexplained_issues"] <= df["unfinished_issues"]
        )

    @pa.dataframe_check(error="the dominant reason explains the most issues")
    @classmethod
    def dominant_is_largest(cls, df: pd.DataFrame) -> Series[bool]:
        counts = df[[f"{reason}_issues" for reason in REASONS]]
        return df["dominant_issues"] == counts.max(axis=1)

    @pa.dataframe_check(error="a dominant reason exactly when some reason applies")
    @classmethod
    def dominant_when_explained(cls, df: pd.DataFrame) -> Series[bool]:
        return df["dominant_reason"].notna() == df["dominant_issues"].gt(0)
