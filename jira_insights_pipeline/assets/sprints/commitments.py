"""`sprint_commitments`: each sprint counted the way Jira's sprint report counts it.

Committed is what the sprint held at its start S and had not finished; added and removed are
the issues that joined or left before its end C; completed are the issues in the sprint at C with
a done status, at their points at C. An issue already done when it entered the sprint is
"completed outside this sprint" and counts nowhere (only `completed_outside_issues` shows it).
It sums the rows of `sprint_scope_changes`, so the per-issue table and the per-sprint sums can
never disagree. On top of the report's sums: the say/do ratio, the completion rate Jira's Velocity
Chart compares, spillover, and the share of committed stories that grew.
"""

from __future__ import annotations

import pandas as pd

from jira_insights_pipeline.metrics.issue_history import (
    SPRINT_COLUMNS,
    STORY_TYPE_PATTERN,
    names_matching,
    sprint_windows,
    utc_instant,
)

COMMITMENT_COLUMNS = [
    *SPRINT_COLUMNS,
    "committed_points",
    "committed_issues",
    "added_points",
    "added_issues",
    "removed_points",
    "removed_issues",
    "completed_points",
    "completed_issues",
    "not_completed_points",
    "not_completed_issues",
    "completed_outside_issues",
    "completed_committed_points",
    "say_do_ratio",
    "completion_rate",
    "spillover_issues",
    "estimated_committed_stories",
    "grown_stories",
    "grown_story_share",
    "as_of",
]


def estimated_committed_stories(scope_changes: pd.DataFrame) -> pd.Series:
    """Which `sprint_scope_changes` rows are estimated committed stories: in the sprint at its
    start with points. The mission's growth rule speaks of stories, so bugs and tasks that carry
    points are left out, matched by type name in Jira's common languages (DevLake's site says
    故事)."""
    is_story = names_matching(scope_changes["issue_type"].astype(str), STORY_TYPE_PATTERN)
    committed = scope_changes["committed"].astype(bool)
    return committed & scope_changes["points_at_start"].astype(float).gt(0) & is_story


def sprint_commitments(
    sprint_scope_changes: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """One row per sprint started by `as_of` (active or closed), with `COMMITMENT_COLUMNS`,
    summed from the `sprint_scope_changes` rows (one per sprint and issue) exactly as Jira's
    sprint report sums its issue lists; a sprint without issues gets zeros. See docs/metrics.md
    for each column."""
    as_of = utc_instant(as_of)
    periods = sprint_windows(jira_sprints, as_of)
    scope = sprint_scope_changes
    outside = scope["completed_outside"].astype(bool)
    committed = scope["committed"].astype(bool)
    completed = scope["completed"].astype(bool)
    removed = scope["removed"].astype(bool) & ~outside
    added = scope["added_after_start"].astype(bool) & ~outside
    # Every counted issue ends completed, removed, or still in the sprint unfinished.
    not_completed = ~scope["removed"].astype(bool) & ~completed & ~outside
    at_start = scope["points_at_start"].astype(float)
    at_end = scope["points_at_end"].astype(float)
    estimated_committed = estimated_committed_stories(scope)
    parts = pd.DataFrame(
        {
            "sprint_id": scope["sprint_id"].astype("int64"),
            "committed_points": at_start.where(committed, 0.0),
            "committed_issues": committed.astype("int64"),
            "added_points": at_start.where(added, 0.0),
            "added_issues": added.astype("int64"),
            "removed_points": at_end.where(removed, 0.0),
            "removed_issues": removed.astype("int64"),
            "completed_points": at_end.where(completed, 0.0),
            "completed_issues": completed.astype("int64"),
            "not_completed_points": at_end.where(not_completed, 0.0),
            "not_completed_issues": not_completed.astype("int64"),
            "completed_outside_issues": outside.astype("int64"),
            "completed_committed_points": at_start.where(committed & completed, 0.0),
            "spillover_issues": scope["carried_over"].astype(bool).astype("int64"),
            "estimated_committed_stories": estimated_committed.astype("int64"),
            "grown_stories": (estimated_committed & scope["grew"].astype(bool)).astype("int64"),
        }
    )
    sums = parts.groupby("sprint_id", sort=False).sum()
    table = periods[SPRINT_COLUMNS].merge(sums, left_on="sprint_id", right_index=True, how="left")
    count_columns = [c for c in sums.columns if c.endswith("_issues") or c.endswith("_stories")]
    point_columns = [c for c in sums.columns if c not in count_columns]
    table[count_columns] = table[count_columns].fillna(0).astype("int64")
    table[point_columns] = table[point_columns].fillna(0.0).astype(float)
    committed_points = table["committed_points"].where(table["committed_points"] > 0)
    table["say_do_ratio"] = table["completed_committed_points"] / committed_points
    table["completion_rate"] = table["completed_points"] / committed_points
    stories = table["estimated_committed_stories"].where(table["estimated_committed_stories"] > 0)
    table["grown_story_share"] = table["grown_stories"] / stories
    table["as_of"] = as_of
    table = table.sort_values(["board_id", "sprint_start", "sprint_id"], kind="stable")
    return table[COMMITMENT_COLUMNS].reset_index(drop=True)


def worst_commitments(table: pd.DataFrame, rows: int = 10) -> pd.DataFrame:
    """Sprints in trouble first: the lowest say/do ratio first."""
    columns = [
        "board_id",
        "sprint_name",
        "sprint_state",
        "committed_points",
        "completed_points",
        "say_do_ratio",
        "completion_rate",
        "grown_story_share",
    ]
    ranked = table.sort_values("say_do_ratio", na_position="last", kind="stable")
    return ranked.head(rows)[columns]
