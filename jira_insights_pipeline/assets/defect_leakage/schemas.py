"""Pandera models of `defect_leakage` (per bug) and `defect_escape_rates` (per sprint)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from jira_insights_pipeline.assets.defect_leakage.metrics import ENVIRONMENT_CLASSES
from jira_insights_pipeline.schemas import SPRINT_STATES, StrictModel, UtcInstant


class DefectLeakageSchema(StrictModel):
    """One row per bug created by "as of": where it was found and whether it was linked to a
    story that was already done when it was created."""

    as_of: Series[UtcInstant]
    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_name: Series[str] = pa.Field(nullable=True)
    issue_key: Series[str] = pa.Field(unique=True)
    issue_type: Series[str]
    summary: Series[str] = pa.Field(nullable=True)
    created: Series[UtcInstant]
    environment_class: Series[str] = pa.Field(isin=ENVIRONMENT_CLASSES)
    environment_evidence: Series[str] = pa.Field(nullable=True)
    linked_story_keys: Series[object]
    done_story_keys: Series[object]
    linked_stories: Series[int] = pa.Field(ge=0)
    linked_to_done_story: Series[bool]

    @pa.dataframe_check(error="a bug with a done linked story must be linked to a story")
    @classmethod
    def done_story_is_linked(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["linked_to_done_story"] | (df["linked_stories"] > 0)

    @pa.dataframe_check(error="a bug created during a sprint must be on a board")
    @classmethod
    def sprint_has_board(cls, df: pd.DataFrame) -> Series[bool]:
        return df["sprint_id"].isna() | df["board_id"].notna()


class DefectEscapeRatesSchema(StrictModel):
    """One row per board and sprint started by "as of": the bugs created during the sprint and
    the share of them that escaped to production."""

    as_of: Series[UtcInstant]
    board_id: Series[pd.Int64Dtype]
    sprint_id: Series[int] = pa.Field(unique=True)
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=SPRINT_STATES)
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    bugs_found: Series[int] = pa.Field(ge=0)
    production_bugs: Series[int] = pa.Field(ge=0)
    qa_bugs: Series[int] = pa.Field(ge=0)
    unknown_bugs: Series[int] = pa.Field(ge=0)
    escape_rate: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    bugs_linked_to_done_stories: Series[int] = pa.Field(ge=0)
    leakage_alert: Series[bool]

    @pa.dataframe_check(error="production, QA and unknown bugs must add up to bugs_found")
    @classmethod
    def classes_add_up(cls, df: pd.DataFrame) -> Series[bool]:
        return df["production_bugs"] + df["qa_bugs"] + df["unknown_bugs"] == df["bugs_found"]

    @pa.dataframe_check(error="escape_rate must be production / (production + QA), null if none")
    @classmethod
    def escape_rate_matches(cls, df: pd.DataFrame) -> Series[bool]:
        judged = df["production_bugs"] + df["qa_bugs"]
        expected = df["production_bugs"] / judged.where(judged > 0)
        both_null = expected.isna() & df["escape_rate"].isna()
        return both_null | ((expected - df["escape_rate"]).abs() < 1e-9)
