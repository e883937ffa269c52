"""Pandera models of `defect_leakage` (per bug), `defect_escape_rates` (per sprint) and the
diagnosis tables `escape_causes` (per traced production bug) and `escape_clusters` (per judged
sprint)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from jira_insights_pipeline.assets.defect_leakage.diagnosis import CLUSTER_KINDS, LEADING_CAUSES
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


class EscapeCausesSchema(StrictModel):
    """One row per production bug linked to a story: the story it traces to, that story's Done
    before the bug and the days from it, whether it passed a testing status before that Done,
    and the bug's epic, components and labels (environment labels left out)."""

    as_of: Series[UtcInstant]
    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_name: Series[str] = pa.Field(nullable=True)
    bug_key: Series[str] = pa.Field(unique=True)
    bug_created: Series[UtcInstant]
    story_key: Series[str]
    linked_story_keys: Series[object]
    story_done_at: Series[UtcInstant] = pa.Field(nullable=True)
    days_done_to_bug: Series[float] = pa.Field(nullable=True, ge=0)
    tested: Series[bool]
    testing_statuses: Series[object]
    epic_key: Series[str] = pa.Field(nullable=True)
    components: Series[object]
    labels: Series[object]

    @pa.dataframe_check(error="days_done_to_bug is set exactly when the story was done")
    @classmethod
    def days_follow_done(cls, df: pd.DataFrame) -> Series[bool]:
        return df["story_done_at"].isna() == df["days_done_to_bug"].isna()

    @pa.dataframe_check(error="a story is tested exactly when a testing status was seen")
    @classmethod
    def tested_has_statuses(cls, df: pd.DataFrame) -> Series[bool]:
        return df["tested"] == df["testing_statuses"].map(len).gt(0)


class EscapeClustersSchema(StrictModel):
    """One row per board and judged sprint (running and latest closed): its production bugs
    traced to stories, how many came from stories done without a testing status, the largest
    component, epic or label cluster, and the leading cause."""

    as_of: Series[UtcInstant]
    board_id: Series[pd.Int64Dtype]
    sprint_id: Series[int] = pa.Field(unique=True)
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=SPRINT_STATES)
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    production_bugs: Series[int] = pa.Field(ge=0)
    traced_bugs: Series[int] = pa.Field(ge=0)
    untested_bugs: Series[int] = pa.Field(ge=0)
    untested_share: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    untested_bug_keys: Series[object]
    untested_story_keys: Series[object]
    cluster_kind: Series[str] = pa.Field(nullable=True, isin=CLUSTER_KINDS)
    cluster_name: Series[str] = pa.Field(nullable=True)
    cluster_bugs: Series[int] = pa.Field(ge=0)
    cluster_bug_keys: Series[object]
    leading_cause: Series[str] = pa.Field(nullable=True, isin=LEADING_CAUSES)

    @pa.dataframe_check(error="untested and clustered bugs are among the traced ones")
    @classmethod
    def within_traced(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["untested_bugs"] <= df["traced_bugs"]) & (
            df["cluster_bugs"] <= df["traced_bugs"]
        )

    @pa.dataframe_check(error="a cluster has a kind and a name exactly when it has bugs")
    @classmethod
    def cluster_named(cls, df: pd.DataFrame) -> Series[bool]:
        return df["cluster_kind"].notna() == df["cluster_bugs"].gt(0)
