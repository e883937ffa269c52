"""The staging tables' Pandera models (the tables parsed from Jira's JSON), and what every
table's model shares. Each metric table's model lives with its asset, in
`assets/<package>/schemas.py`.

Instants are UTC (`datetime64[ns, UTC]`). An interval is closed on the left and open on the
right; a null end means "still so at the snapshot's export". Models coerce, so a frame read
back from DuckDB (microseconds, `Etc/UTC`) validates the same as one freshly built.
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

UtcInstant = Annotated[pd.DatetimeTZDtype, "ns", "UTC"]

STATUS_CATEGORIES = ["new", "indeterminate", "done"]
SPRINT_STATES = ["active", "closed"]
FIELD_ROLES = ["sprint", "story_points", "status", "flagged", "description", "acceptance_criteria"]


def _ends_after_start(df: pd.DataFrame, start: str, end: str) -> pd.Series:
    """An interval is ordered when it is still open (null end) or ends at or after its start."""
    return df[end].isna() | (df[end] >= df[start])


class StrictModel(pa.DataFrameModel):
    """Coerces types (a frame read back from DuckDB validates like a fresh one) and drops
    columns the model does not name."""

    class Config:
        coerce = True
        strict = "filter"


# --------------------------------------------------------------------------------------------
# Staging (schema `jira`)
# --------------------------------------------------------------------------------------------


class JiraSnapshotSchema(StrictModel):
    """One row: the snapshot the staging tables were parsed from."""

    site: Series[str]
    source: Series[str]
    exported_at: Series[UtcInstant]
    snapshot_dir: Series[str]


class JiraBoardsSchema(StrictModel):
    """One row per board."""

    board_id: Series[int] = pa.Field(unique=True)
    name: Series[str]
    board_type: Series[str] = pa.Field(nullable=True)
    project_key: Series[str] = pa.Field(nullable=True)
    estimation_field: Series[str] = pa.Field(nullable=True)


class JiraIssuesSchema(StrictModel):
    """One row per issue, as it stood when the snapshot was exported."""

    issue_id: Series[str] = pa.Field(unique=True)
    issue_key: Series[str] = pa.Field(unique=True)
    project_key: Series[str]
    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    issue_type: Series[str]
    is_subtask: Series[bool]
    summary: Series[str] = pa.Field(nullable=True)
    status: Series[str]
    status_id: Series[str] = pa.Field(nullable=True)
    status_category: Series[str] = pa.Field(nullable=True, isin=STATUS_CATEGORIES)
    created: Series[UtcInstant]
    updated: Series[UtcInstant] = pa.Field(nullable=True)
    resolved: Series[UtcInstant] = pa.Field(nullable=True)
    assignee: Series[str] = pa.Field(nullable=True)
    labels: Series[object]
    components: Series[object]
    environment: Series[str] = pa.Field(nullable=True)
    story_points: Series[float] = pa.Field(nullable=True, ge=0)
    parent_key: Series[str] = pa.Field(nullable=True)
    epic_key: Series[str] = pa.Field(nullable=True)
    flagged: Series[bool]
    acceptance_criteria_length: Series[int] = pa.Field(ge=0)


class JiraChangelogSchema(StrictModel):
    """One row per changed item of an issue's history, ordered by time, then history id, then
    the item's position in that history."""

    issue_id: Series[str]
    issue_key: Series[str]
    history_id: Series[str]
    created: Series[UtcInstant]
    author: Series[str] = pa.Field(nullable=True)
    item_index: Series[int] = pa.Field(ge=0)
    field: Series[str]
    field_id: Series[str] = pa.Field(nullable=True)
    field_type: Series[str] = pa.Field(nullable=True)
    field_role: Series[str] = pa.Field(nullable=True, isin=FIELD_ROLES)
    from_value: Series[str] = pa.Field(nullable=True)
    from_string: Series[str] = pa.Field(nullable=True)
    to_value: Series[str] = pa.Field(nullable=True)
    to_string: Series[str] = pa.Field(nullable=True)


class JiraSprintsSchema(StrictModel):
    """One row per sprint."""

    sprint_id: Series[int] = pa.Field(unique=True)
    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    name: Series[str]
    state: Series[str] = pa.Field(isin=["future", "active", "closed"])
    start_date: Series[UtcInstant] = pa.Field(nullable=True)
    end_date: Series[UtcInstant] = pa.Field(nullable=True)
    complete_date: Series[UtcInstant] = pa.Field(nullable=True)
    goal: Series[str] = pa.Field(nullable=True)


class JiraSprintMembershipSchema(StrictModel):
    """One row per interval during which an issue was in a sprint."""

    issue_id: Series[str]
    issue_key: Series[str]
    sprint_id: Series[int]
    entered_at: Series[UtcInstant]
    left_at: Series[UtcInstant] = pa.Field(nullable=True)
    inferred: Series[bool]

    @pa.dataframe_check(error="left_at must not be before entered_at")
    @classmethod
    def interval_is_ordered(cls, df: pd.DataFrame) -> Series[bool]:
        return _ends_after_start(df, "entered_at", "left_at")


class JiraStatusIntervalsSchema(StrictModel):
    """One row per interval during which an issue held one status."""

    issue_id: Series[str]
    issue_key: Series[str]
    status: Series[str]
    status_id: Series[str] = pa.Field(nullable=True)
    status_category: Series[str] = pa.Field(nullable=True, isin=STATUS_CATEGORIES)
    entered_at: Series[UtcInstant]
    left_at: Series[UtcInstant] = pa.Field(nullable=True)

    @pa.dataframe_check(error="left_at must not be before entered_at")
    @classmethod
    def interval_is_ordered(cls, df: pd.DataFrame) -> Series[bool]:
        return _ends_after_start(df, "entered_at", "left_at")


class JiraEstimatesSchema(StrictModel):
    """One row per interval during which an issue's story points held one value (null: no
    estimate)."""

    issue_id: Series[str]
    issue_key: Series[str]
    story_points: Series[float] = pa.Field(nullable=True, ge=0)
    valid_from: Series[UtcInstant]
    valid_to: Series[UtcInstant] = pa.Field(nullable=True)

    @pa.dataframe_check(error="valid_to must not be before valid_from")
    @classmethod
    def interval_is_ordered(cls, df: pd.DataFrame) -> Series[bool]:
        return _ends_after_start(df, "valid_from", "valid_to")


class JiraIssueLinksSchema(StrictModel):
    """One row per link as seen from one issue (a link between two snapshot issues appears
    twice, once from each side)."""

    issue_id: Series[str]
    issue_key: Series[str]
    link_id: Series[str]
    link_type: Series[str]
    direction: Series[str] = pa.Field(isin=["inward", "outward"])
    relation: Series[str] = pa.Field(nullable=True)
    linked_issue_id: Series[str] = pa.Field(nullable=True)
    linked_issue_key: Series[str]
    linked_issue_type: Series[str] = pa.Field(nullable=True)


DATA_QUALITY_SUBJECTS = ["issue", "sprint", "status"]


class JiraDataQualitySchema(StrictModel):
    """One row per value of the snapshot that could not be used (story points that are
    infinite, NaN, negative or not a number; an impossible date; a sprint that starts after it
    ends; a status of unknown category): which issue, sprint or status it belongs to, the field,
    the value exactly as found, and what was left out because of it. The value is kept out of
    the figures it would distort; everything else is computed as usual."""

    subject: Series[str] = pa.Field(isin=DATA_QUALITY_SUBJECTS)
    key: Series[str]
    field: Series[str]
    value: Series[str]
    reason: Series[str]


STAGING_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "jira_snapshot": JiraSnapshotSchema,
    "jira_boards": JiraBoardsSchema,
    "jira_issues": JiraIssuesSchema,
    "jira_changelog": JiraChangelogSchema,
    "jira_sprints": JiraSprintsSchema,
    "jira_sprint_membership": JiraSprintMembershipSchema,
    "jira_status_intervals": JiraStatusIntervalsSchema,
    "jira_estimates": JiraEstimatesSchema,
    "jira_issue_links": JiraIssueLinksSchema,
    "jira_data_quality": JiraDataQualitySchema,
}
