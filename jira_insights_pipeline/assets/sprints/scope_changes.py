"""`sprint_scope_changes`: how each issue of a sprint changed while the sprint ran.

One row per (sprint, issue) for every issue in the sprint at its start S or added before its end
C: its points and acceptance-criteria length when the sprint took it on and when the sprint ended
(or it left), whether it grew, whether it was added or removed, and its size class at both ends,
so that "small stories become large" is a column, not a reading between the lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jira_insights_pipeline.assets.sprints.sprint_frame import JUST_BEFORE, sprint_issue_frame
from jira_insights_pipeline.assets.sprints.thresholds import SprintThresholds
from jira_insights_pipeline.metrics.acceptance_history import acceptance_criteria_lengths_at
from jira_insights_pipeline.metrics.issue_history import SPRINT_COLUMNS, utc_instant

SCOPE_COLUMNS = [
    *SPRINT_COLUMNS,
    "issue_key",
    "issue_id",
    "issue_type",
    "entered_at",
    "left_at",
    "points_at_start",
    "points_at_end",
    "estimated_at_start",
    "estimated_at_end",
    "growth_pct",
    "grew",
    "added_after_start",
    "removed",
    "committed",
    "completed",
    "completed_outside",
    "carried_over",
    "acceptance_criteria_length_at_start",
    "acceptance_criteria_length_at_end",
    "acceptance_criteria_growth_pct",
    "size_at_start",
    "size_at_end",
    "became_large",
    "as_of",
]


def sprint_scope_changes(
    jira_sprints: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_sprint_membership: pd.DataFrame,
    jira_estimates: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: SprintThresholds,
) -> pd.DataFrame:
    """One row per (sprint, issue) that was in a started sprint at S or entered it before C
    (sub-tasks left out), with `SCOPE_COLUMNS`; see docs/metrics.md for each column."""
    as_of = utc_instant(as_of)
    frame = sprint_issue_frame(
        jira_sprints,
        jira_issues,
        jira_sprint_membership,
        jira_estimates,
        jira_status_intervals,
        as_of,
        thresholds,
    )
    end_at = frame["sprint_end"].where(frame["left_at"].isna(), frame["left_at"] - JUST_BEFORE)
    queries = pd.DataFrame(
        {
            "issue_id": np.concatenate([frame["issue_id"].to_numpy()] * 2),
            "at": pd.concat([frame["entered_at"], end_at], ignore_index=True),
        }
    )
    lengths = acceptance_criteria_lengths_at(jira_changelog, jira_issues, queries, as_of)
    lengths = lengths.to_numpy()
    count = len(frame)
    frame["acceptance_criteria_length_at_start"] = lengths[:count]
    frame["acceptance_criteria_length_at_end"] = lengths[count:]
    at_start = frame["acceptance_criteria_length_at_start"].astype(float)
    at_start = at_start.where(at_start > 0)
    frame["acceptance_criteria_growth_pct"] = (
        (frame["acceptance_criteria_length_at_end"] - at_start) / at_start * 100.0
    )
    frame["as_of"] = as_of
    order = ["board_id", "sprint_start", "sprint_id", "issue_key"]
    frame = frame.sort_values(order, kind="stable").reset_index(drop=True)
    return frame[SCOPE_COLUMNS]


def worst_scope_changes(scope_changes: pd.DataFrame, rows: int = 10) -> pd.DataFrame:
    """The rows a reader should see first: stories that became large, then the largest growth."""
    ranked = scope_changes.assign(
        _growth=scope_changes["growth_pct"].fillna(-np.inf),
    ).sort_values(["became_large", "grew", "_growth"], ascending=False, kind="stable")
    columns = [
        "board_id",
        "sprint_name",
        "issue_key",
        "points_at_start",
        "points_at_end",
        "growth_pct",
        "size_at_start",
        "size_at_end",
        "added_after_start",
        "removed",
    ]
    return ranked.head(rows)[columns]
