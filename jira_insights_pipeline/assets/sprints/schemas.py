"""Pandera models of the sprint ledger: scope changes per (sprint, issue), commitments per
sprint."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from jira_insights_pipeline.assets.sprints.sprint_frame import SIZE_CLASSES
from jira_insights_pipeline.schemas import SPRINT_STATES, StrictModel, UtcInstant


class SprintScopeChangesSchema(StrictModel):
    """One row per (sprint, issue) for each issue (sub-tasks left out) that was in a started
    sprint at its start or entered it before its end: its points, acceptance criteria and size
    when the sprint took it on and when the sprint ended (or it left)."""

    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[int]
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=SPRINT_STATES)
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    issue_key: Series[str]
    issue_id: Series[str]
    issue_type: Series[str]
    entered_at: Series[UtcInstant]
    left_at: Series[UtcInstant] = pa.Field(nullable=True)
    points_at_start: Series[float] = pa.Field(ge=0)
    points_at_end: Series[float] = pa.Field(ge=0)
    estimated_at_start: Series[bool]
    estimated_at_end: Series[bool]
    growth_pct: Series[float] = pa.Field(nullable=True)
    grew: Series[bool]
    added_after_start: Series[bool]
    removed: Series[bool]
    committed: Series[bool]
    completed: Series[bool]
    completed_outside: Series[bool]
    carried_over: Series[bool]
    acceptance_criteria_length_at_start: Series[int] = pa.Field(ge=0)
    acceptance_criteria_length_at_end: Series[int] = pa.Field(ge=0)
    acceptance_criteria_growth_pct: Series[float] = pa.Field(nullable=True)
    size_at_start: Series[str] = pa.Field(isin=SIZE_CLASSES)
    size_at_end: Series[str] = pa.Field(isin=SIZE_CLASSES)
    became_large: Series[bool]
    as_of: Series[UtcInstant]

    @pa.dataframe_check(error="one row per (sprint, issue)")
    @classmethod
    def one_row_per_sprint_issue(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["sprint_id", "issue_id"], keep=False)

    @pa.dataframe_check(error="an issue is removed exactly when it has a left_at")
    @classmethod
    def removed_has_left_at(cls, df: pd.DataFrame) -> Series[bool]:
        return df["removed"] == df["left_at"].notna()

    @pa.dataframe_check(error="entered_at, left_at must lie within [sprint_start, sprint_end]")
    @classmethod
    def inside_sprint(cls, df: pd.DataFrame) -> Series[bool]:
        entered_inside = (df["entered_at"] >= df["sprint_start"]) & (
            df["entered_at"] <= df["sprint_end"]
        )
        left_inside = df["left_at"].isna() | (
            (df["left_at"] >= df["entered_at"]) & (df["left_at"] <= df["sprint_end"])
        )
        return entered_inside & left_inside

    @pa.dataframe_check(error="grew must be growth_pct above the threshold; null growth never grew")
    @classmethod
    def null_growth_never_grew(cls, df: pd.DataFrame) -> Series[bool]:
        return df["growth_pct"].notna() | ~df["grew"]

    @pa.dataframe_check(error="became_large means small at start and large at end")
    @classmethod
    def became_large_is_small_to_large(cls, df: pd.DataFrame) -> Series[bool]:
        small_to_large = df["size_at_start"].eq("small") & df["size_at_end"].eq("large")
        return df["became_large"] == small_to_large

    @pa.dataframe_check(error="an issue done when it entered is neither committed nor completed")
    @classmethod
    def outside_counts_nowhere(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["completed_outside"] | ~(df["committed"] | df["completed"])


class SprintCommitmentsSchema(StrictModel):
    """One row per sprint started by "as of", counted as Jira's sprint report counts it."""

    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[int] = pa.Field(unique=True)
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=SPRINT_STATES)
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    committed_points: Series[float] = pa.Field(ge=0)
    committed_issues: Series[int] = pa.Field(ge=0)
    added_points: Series[float] = pa.Field(ge=0)
    added_issues: Series[int] = pa.Field(ge=0)
    removed_points: Series[float] = pa.Field(ge=0)
    removed_issues: Series[int] = pa.Field(ge=0)
    completed_points: Series[float] = pa.Field(ge=0)
    completed_issues: Series[int] = pa.Field(ge=0)
    not_completed_points: Series[float] = pa.Field(ge=0)
    not_completed_issues: Series[int] = pa.Field(ge=0)
    completed_outside_issues: Series[int] = pa.Field(ge=0)
    completed_committed_points: Series[float] = pa.Field(ge=0)
    say_do_ratio: Series[float] = pa.Field(nullable=True, ge=0)
    completion_rate: Series[float] = pa.Field(nullable=True, ge=0)
    spillover_issues: Series[int] = pa.Field(ge=0)
    estimated_committed_stories: Series[int] = pa.Field(ge=0)
    grown_stories: Series[int] = pa.Field(ge=0)
    grown_story_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    as_of: Series[UtcInstant]

    @pa.dataframe_check(error="committed + added must equal completed + not completed + removed")
    @classmethod
    def issues_balance(cls, df: pd.DataFrame) -> Series[bool]:
        taken_on = df["committed_issues"] + df["added_issues"]
        taken_off = df["completed_issues"] + df["not_completed_issues"] + df["removed_issues"]
        return taken_on == taken_off

    @pa.dataframe_check(error="completed committed points cannot exceed committed points")
    @classmethod
    def say_do_within_commitment(cls, df: pd.DataFrame) -> Series[bool]:
        return df["completed_committed_points"] <= df["committed_points"] + 1e-9

    @pa.dataframe_check(error="spillover issues are some of the not completed issues")
    @classmethod
    def spillover_is_unfinished(cls, df: pd.DataFrame) -> Series[bool]:
        return df["spillover_issues"] <= df["not_completed_issues"]

    @pa.dataframe_check(error="grown stories are some of the estimated committed stories")
    @classmethod
    def grown_within_estimated(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["grown_stories"] <= df["estimated_committed_stories"]) & (
            df["estimated_committed_stories"] <= df["committed_issues"]
        )
