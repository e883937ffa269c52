"""Every table's Pandera model, in one place: the staging tables parsed from Jira's JSON and the
metric tables computed from them.

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
FIELD_ROLES = ["sprint", "story_points", "status", "flagged", "description", "acceptance_criteria"]


def _ends_after_start(df: pd.DataFrame, start: str, end: str) -> pd.Series:
    """An interval is ordered when it is still open (null end) or ends at or after its start."""
    return df[end].isna() | (df[end] >= df[start])


class _Strict(pa.DataFrameModel):
    class Config:
        coerce = True
        strict = "filter"


# --------------------------------------------------------------------------------------------
# Staging (schema `jira`)
# --------------------------------------------------------------------------------------------


class JiraSnapshotSchema(_Strict):
    """One row: the snapshot the staging tables were parsed from."""

    site: Series[str]
    source: Series[str]
    exported_at: Series[UtcInstant]
    snapshot_dir: Series[str]


class JiraBoardsSchema(_Strict):
    """One row per board."""

    board_id: Series[int] = pa.Field(unique=True)
    name: Series[str]
    board_type: Series[str] = pa.Field(nullable=True)
    project_key: Series[str] = pa.Field(nullable=True)
    estimation_field: Series[str] = pa.Field(nullable=True)


class JiraIssuesSchema(_Strict):
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


class JiraChangelogSchema(_Strict):
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


class JiraSprintsSchema(_Strict):
    """One row per sprint."""

    sprint_id: Series[int] = pa.Field(unique=True)
    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    name: Series[str]
    state: Series[str] = pa.Field(isin=["future", "active", "closed"])
    start_date: Series[UtcInstant] = pa.Field(nullable=True)
    end_date: Series[UtcInstant] = pa.Field(nullable=True)
    complete_date: Series[UtcInstant] = pa.Field(nullable=True)
    goal: Series[str] = pa.Field(nullable=True)


class JiraSprintMembershipSchema(_Strict):
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


class JiraStatusIntervalsSchema(_Strict):
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


class JiraEstimatesSchema(_Strict):
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


class JiraIssueLinksSchema(_Strict):
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
}


# --------------------------------------------------------------------------------------------
# Metrics (schema `metrics`): sprint use cases (scope changes, commitments, velocity)
# --------------------------------------------------------------------------------------------


SIZE_CLASSES = ["unestimated", "small", "medium", "large"]


class SprintScopeChangesSchema(_Strict):
    """One row per (sprint, issue) for each issue (sub-tasks left out) that was in a started
    sprint at its start or entered it before its end: its points, acceptance criteria and size
    when the sprint took it on and when the sprint ended (or it left)."""

    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[int]
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=["active", "closed"])
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


class SprintCommitmentsSchema(_Strict):
    """One row per sprint started by "as of", counted as Jira's sprint report counts it."""

    board_id: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    sprint_id: Series[int] = pa.Field(unique=True)
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=["active", "closed"])
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
    scope_creep_alert: Series[bool]
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


class SprintVelocitySchema(_Strict):
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


SPRINT_METRIC_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "sprint_scope_changes": SprintScopeChangesSchema,
    "sprint_commitments": SprintCommitmentsSchema,
    "sprint_velocity": SprintVelocitySchema,
}


# --------------------------------------------------------------------------------------------
# Metrics (schema `metrics`): issue use cases (defect leakage, work item health, cycle times)
# --------------------------------------------------------------------------------------------


class DefectLeakageSchema(_Strict):
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
    environment_class: Series[str] = pa.Field(isin=["production", "qa", "unknown"])
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


class DefectEscapeRatesSchema(_Strict):
    """One row per board and sprint started by "as of": the bugs created during the sprint and
    the share of them that escaped to production."""

    as_of: Series[UtcInstant]
    board_id: Series[pd.Int64Dtype]
    sprint_id: Series[int] = pa.Field(unique=True)
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=["active", "closed"])
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


class WorkItemHealthSchema(_Strict):
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


class HygieneScoresSchema(_Strict):
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


class CycleTimesSchema(_Strict):
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


class CycleTimeTrendsSchema(_Strict):
    """One row per board and sprint started by "as of": the cycle times of the issues finished
    during it, against the board's previous sprints."""

    as_of: Series[UtcInstant]
    board_id: Series[pd.Int64Dtype]
    sprint_id: Series[int] = pa.Field(unique=True)
    sprint_name: Series[str]
    sprint_state: Series[str] = pa.Field(isin=["active", "closed"])
    sprint_start: Series[UtcInstant]
    sprint_end: Series[UtcInstant]
    finished_issues: Series[int] = pa.Field(ge=0)
    median_cycle_time_days: Series[float] = pa.Field(nullable=True, ge=0)
    p85_cycle_time_days: Series[float] = pa.Field(nullable=True, ge=0)
    previous_median_cycle_time_days: Series[float] = pa.Field(nullable=True, ge=0)
    median_change_pct: Series[float] = pa.Field(nullable=True)
    median_rose: Series[bool]

    @pa.dataframe_check(error="the 85th percentile cannot be below the median")
    @classmethod
    def p85_above_median(cls, df: pd.DataFrame) -> Series[bool]:
        return df["median_cycle_time_days"].isna() | (
            df["p85_cycle_time_days"] >= df["median_cycle_time_days"] - 1e-9
        )


ISSUE_METRIC_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "defect_leakage": DefectLeakageSchema,
    "defect_escape_rates": DefectEscapeRatesSchema,
    "work_item_health": WorkItemHealthSchema,
    "hygiene_scores": HygieneScoresSchema,
    "cycle_times": CycleTimesSchema,
    "cycle_time_trends": CycleTimeTrendsSchema,
}
