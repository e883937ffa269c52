"""Pandera models of `sprint_scope_creep` and its diagnosis, `scope_growth_causes` and
`sprint_scope_causes`."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from jira_insights_pipeline.assets.scope_creep.diagnosis import CAUSE_VALUES
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


class ScopeGrowthCausesSchema(StrictModel):
    """One row per (sprint, grown story): an estimated committed story of a started sprint whose
    points grew by more than the ledger's growth threshold, with its first upward re-estimate
    inside the sprint and whether its acceptance criteria grew before it (a refinement gap)."""

    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[int]
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=SPRINT_STATES)
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    issue_key: Series[str]
    issue_id: Series[str]
    issue_type: Series[str]
    points_at_start: Series[float] = pa.Field(gt=0)
    points_at_end: Series[float] = pa.Field(gt=0)
    growth_points: Series[float] = pa.Field(gt=0)
    growth_pct: Series[float] = pa.Field(gt=0)
    reestimated_at: Series[UtcInstant] = pa.Field(nullable=True)
    reestimate_from_points: Series[float] = pa.Field(nullable=True, ge=0)
    reestimate_to_points: Series[float] = pa.Field(nullable=True, gt=0)
    reestimate_days_after_start: Series[float] = pa.Field(nullable=True, gt=0)
    criteria_window_start: Series[UtcInstant]
    criteria_length_before: Series[int] = pa.Field(ge=0)
    criteria_length_at_reestimate: Series[int] = pa.Field(ge=0)
    refinement_gap: Series[bool]
    criteria_grown_at: Series[UtcInstant] = pa.Field(nullable=True)
    criteria_days_before_reestimate: Series[float] = pa.Field(nullable=True, ge=0)
    as_of: Series[UtcInstant]

    @pa.dataframe_check(error="one row per (sprint, issue)")
    @classmethod
    def one_row_per_sprint_issue(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["sprint_id", "issue_id"], keep=False)

    @pa.dataframe_check(error="a re-estimate lies inside the sprint, after its start")
    @classmethod
    def reestimate_inside_sprint(cls, df: pd.DataFrame) -> Series[bool]:
        at = df["reestimated_at"]
        return at.isna() | ((at > df["sprint_start"]) & (at <= df["sprint_end"]))

    @pa.dataframe_check(error="a refinement gap has its criteria change, in its window, longer")
    @classmethod
    def gap_has_its_change(cls, df: pd.DataFrame) -> Series[bool]:
        grown_at = df["criteria_grown_at"]
        inside = (grown_at > df["criteria_window_start"]) & (grown_at <= df["reestimated_at"])
        longer = df["criteria_length_at_reestimate"] > df["criteria_length_before"]
        return (df["refinement_gap"] & inside & longer) | (~df["refinement_gap"] & grown_at.isna())


class SprintScopeCausesSchema(StrictModel):
    """One row per sprint started by "as of": how many of its grown stories had a refinement
    gap, the work added after the start as a share of the sprint's final scope, and the largest
    of the two causes."""

    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[int] = pa.Field(unique=True)
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=SPRINT_STATES)
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    grown_stories: Series[int] = pa.Field(ge=0)
    refinement_gap_stories: Series[int] = pa.Field(ge=0)
    refinement_gap_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    growth_points: Series[float] = pa.Field(ge=0)
    refinement_gap_points: Series[float] = pa.Field(ge=0)
    final_scope_issues: Series[int] = pa.Field(ge=0)
    final_scope_points: Series[float] = pa.Field(ge=0)
    added_issues_in_scope: Series[int] = pa.Field(ge=0)
    added_points_in_scope: Series[float] = pa.Field(ge=0)
    added_bugs_in_scope: Series[int] = pa.Field(ge=0)
    added_issue_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    added_point_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    dominant_cause: Series[str] = pa.Field(isin=CAUSE_VALUES)
    as_of: Series[UtcInstant]

    @pa.dataframe_check(
        error="refinement gaps are some of the grown stories, added work part of the final scope"
    )
    @classmethod
    def parts_within_wholes(cls, df: pd.DataFrame) -> Series[bool]:
        eps = 1e-9
        return (
            (df["refinement_gap_stories"] <= df["grown_stories"])
            & (df["refinement_gap_points"] <= df["growth_points"] + eps)
            & (df["added_issues_in_scope"] <= df["final_scope_issues"])
            & (df["added_bugs_in_scope"] <= df["added_issues_in_scope"])
            & (df["added_points_in_scope"] <= df["final_scope_points"] + eps)
        )
