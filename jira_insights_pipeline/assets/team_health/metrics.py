"""Work item health: for every open issue of a board, what is wrong with it "as of" one instant
(stale, unestimated in a sprint, blocked, in progress too long), and per board a hygiene score.

Blocked time is the union of the Flagged intervals and the intervals in a blocked-named status
(`metrics/blocking.py`, shared with the spillover diagnosis).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jira_insights_pipeline.assets.team_health.thresholds import TeamHealthThresholds
from jira_insights_pipeline.metrics.blocking import blocked_intervals
from jira_insights_pipeline.metrics.issue_history import (
    DONE,
    IN_PROGRESS,
    STORY_TYPE_PATTERN,
    closed_by,
    current_run_start,
    days_between,
    names_matching,
    status_history,
    union_length,
    utc_column,
    utc_instant,
)
from jira_insights_pipeline.metrics.timeline import values_at

# The problems an open issue can have, in the order they are listed.
STALE = "stale"
MISSING_ESTIMATE = "missing_estimate"
BLOCKED = "blocked"
IN_PROGRESS_TOO_LONG = "in_progress_too_long"
PROBLEMS = [STALE, MISSING_ESTIMATE, BLOCKED, IN_PROGRESS_TOO_LONG]
# Every combination of problems as a ready list, looked up by a bit mask instead of building a
# list per row.
_PROBLEM_LISTS = [
    [name for bit, name in enumerate(PROBLEMS) if mask & (1 << bit)] for mask in range(16)
]


def work_item_health(
    issues: pd.DataFrame,
    changelog: pd.DataFrame,
    status_intervals: pd.DataFrame,
    estimates: pd.DataFrame,
    sprint_membership: pd.DataFrame,
    sprints: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: TeamHealthThresholds,
) -> pd.DataFrame:
    """One row per issue of a board (backlog included) created by `as_of` and not done at it:
    days since its last update and `stale`, its points and `missing_estimate`, `blocked_now` and
    total `blocked_days`, days since it last entered the in-progress category and
    `in_progress_too_long`, and the list of its `problems`.

    Inputs are the staging tables jira_issues, jira_changelog, jira_status_intervals,
    jira_estimates, jira_sprint_membership and jira_sprints.
    """
    as_of = utc_instant(as_of)
    created = utc_column(issues["created"])
    on_board = issues["board_id"].notna() & (created <= as_of)
    board_issues = issues.loc[on_board.to_numpy()].copy()
    board_issues["issue_id"] = board_issues["issue_id"].astype(str)
    board_issues["created"] = created[on_board]
    board_issues["updated"] = utc_column(board_issues["updated"])
    board_issues = board_issues.reset_index(drop=True)

    history = status_history(status_intervals, as_of)
    history = history.loc[history["issue_id"].isin(board_issues["issue_id"])]
    status_now = _status_at_as_of(history, board_issues)
    is_open = ~status_now["status_category"].eq(DONE).fillna(False).to_numpy(dtype=bool)
    open_issues = board_issues.loc[is_open].reset_index(drop=True)
    status_now = status_now.loc[is_open].reset_index(drop=True)

    health = pd.DataFrame(
        {
            "as_of": as_of,
            "board_id": open_issues["board_id"].astype("Int64"),
            "issue_key": open_issues["issue_key"].astype(str),
            "issue_type": open_issues["issue_type"].astype(str),
            "summary": open_issues["summary"],
            "status": status_now["status"],
            "status_category": status_now["status_category"],
        }
    )
    issue_ids = open_issues["issue_id"]

    last_updated = _last_update(open_issues, changelog, as_of)
    health["last_updated"] = last_updated
    health["days_since_update"] = days_between(last_updated, as_of).astype(float)
    health["stale"] = health["days_since_update"] > thresholds.stale_days

    open_sprint = _open_sprint_at(sprint_membership, sprints, issue_ids, as_of)
    health["sprint_id"] = open_sprint["sprint_id"].astype("Int64")
    health["sprint_name"] = open_sprint["sprint_name"]
    points = values_at(
        _estimates(estimates),
        pd.DataFrame({"issue_id": issue_ids, "at": as_of}),
        start="valid_from",
        end="valid_to",
        value_columns=["story_points"],
    )["story_points"]
    health["story_points"] = points.astype(float).to_numpy()
    is_story = names_matching(open_issues["issue_type"], STORY_TYPE_PATTERN) & ~open_issues[
        "is_subtask"
    ].astype(bool)
    health["missing_estimate"] = (
        is_story.to_numpy() & health["sprint_id"].notna().to_numpy() & health["story_points"].isna()
    )

    blocked = blocked_intervals(changelog, board_issues, status_intervals)
    blocked = blocked.loc[blocked["issue_id"].isin(issue_ids) & (blocked["start"] <= as_of)]
    blocking_now = blocked.loc[blocked["end"].isna() | (blocked["end"] > as_of), "issue_id"]
    health["blocked_now"] = issue_ids.isin(blocking_now).to_numpy()
    blocked_days = union_length(blocked, key="issue_id", start="start", end="end", as_of=as_of)
    health["blocked_days"] = issue_ids.map(blocked_days).fillna(0.0).astype(float).to_numpy()

    in_progress = current_run_start(history, IN_PROGRESS).set_index("issue_id")["run_start"]
    in_progress_since = utc_column(issue_ids.map(in_progress))
    health["in_progress_since"] = in_progress_since.array
    health["days_in_progress"] = days_between(in_progress_since, as_of).astype(float).to_numpy()
    health["in_progress_too_long"] = health["days_in_progress"] > thresholds.in_progress_days

    flags = health[["stale", "missing_estimate", "blocked_now", "in_progress_too_long"]]
    mask = (flags.to_numpy(dtype=np.int64) * (1 << np.arange(len(PROBLEMS)))).sum(axis=1)
    health["problems"] = pd.Series(mask, index=health.index).map(
        lambda bits: list(_PROBLEM_LISTS[bits])
    )
    health["problem_count"] = flags.sum(axis=1).astype("int64")
    health = health.sort_values(
        ["problem_count", "days_since_update", "issue_key"], ascending=[False, False, True]
    )
    return health.reset_index(drop=True)[
        [
            "as_of",
            "board_id",
            "sprint_id",
            "sprint_name",
            "issue_key",
            "issue_type",
            "summary",
            "status",
            "status_category",
            "last_updated",
            "days_since_update",
            "stale",
            "story_points",
            "missing_estimate",
            "blocked_now",
            "blocked_days",
            "in_progress_since",
            "days_in_progress",
            "in_progress_too_long",
            "problems",
            "problem_count",
        ]
    ]


def _status_at_as_of(history: pd.DataFrame, board_issues: pd.DataFrame) -> pd.DataFrame:
    """Each issue's status and category at "as of" (its last status interval still open then);
    an issue with no status history keeps the status the snapshot shows."""
    last = history.loc[history["left_at"].isna()].drop_duplicates("issue_id", keep="last")
    last = last.set_index("issue_id")
    ids = board_issues["issue_id"]
    has_history = ids.isin(last.index)
    status = ids.map(last["status"]).where(has_history, board_issues["status"])
    category = ids.map(last["status_category"]).where(has_history, board_issues["status_category"])
    return pd.DataFrame({"status": status.astype(str), "status_category": category.astype(object)})


def _last_update(
    open_issues: pd.DataFrame, changelog: pd.DataFrame, as_of: pd.Timestamp
) -> pd.Series:
    """When each issue was last updated by `as_of`: Jira's `updated` (which also counts comments)
    when it is not after "as of", else the last changelog entry up to "as of", else creation."""
    updated = open_issues["updated"]
    known = updated.notna() & (updated <= as_of)
    last = updated.where(known)
    unknown_ids = open_issues.loc[~known, "issue_id"]
    if not unknown_ids.empty:
        entries = changelog.loc[
            changelog["issue_id"].astype(str).isin(unknown_ids), ["issue_id", "created"]
        ]
        entries = entries.assign(created=utc_column(entries["created"]))
        entries = entries.loc[entries["created"] <= as_of]
        latest = entries.groupby(entries["issue_id"].astype(str))["created"].max()
        last = last.fillna(open_issues["issue_id"].map(latest))
    return utc_column(last.fillna(open_issues["created"]))


def _estimates(estimates: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "issue_id": estimates["issue_id"].astype(str),
            "story_points": estimates["story_points"].astype(float),
            "valid_from": utc_column(estimates["valid_from"]),
            "valid_to": utc_column(estimates["valid_to"]),
        }
    )


def _open_sprint_at(
    sprint_membership: pd.DataFrame,
    sprints: pd.DataFrame,
    issue_ids: pd.Series,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """For each issue, the active or future sprint it was in at `as_of` (the earliest-starting
    one if several; null for the backlog), as `sprint_id` and `sprint_name` aligned with
    `issue_ids`. A sprint closed by "as of" (`closed_by`) is no longer open."""
    entered = utc_column(sprint_membership["entered_at"])
    left = utc_column(sprint_membership["left_at"])
    member_now = (entered <= as_of) & (left.isna() | (left > as_of))
    members = pd.DataFrame(
        {
            "issue_id": sprint_membership["issue_id"].astype(str),
            "sprint_id": sprint_membership["sprint_id"].astype("int64"),
        }
    ).loc[member_now.to_numpy()]
    members = members.loc[members["issue_id"].isin(issue_ids)]

    closed_by_as_of = closed_by(sprints, as_of)
    open_sprints = pd.DataFrame(
        {
            "sprint_id": sprints["sprint_id"].astype("int64"),
            "sprint_name": sprints["name"].astype(str),
            "sprint_start": utc_column(sprints["start_date"]),
        }
    ).loc[~closed_by_as_of.to_numpy()]
    members = members.merge(open_sprints, on="sprint_id")
    members = members.sort_values(["issue_id", "sprint_start", "sprint_id"], na_position="last")
    first = members.drop_duplicates("issue_id").set_index("issue_id")
    return pd.DataFrame(
        {
            "sprint_id": issue_ids.map(first["sprint_id"]).astype("Int64").to_numpy(),
            "sprint_name": issue_ids.map(first["sprint_name"]).to_numpy(),
        }
    )


def hygiene_scores(
    health: pd.DataFrame,
    boards: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: TeamHealthThresholds,
) -> pd.DataFrame:
    """One row per board for the "as of" day: open issues, issues with at least one problem,
    each problem's count, and `hygiene_score` = 100 × the share of open issues with no problem
    (null for a board with no open issue); `hygiene_alert` when the score is under the threshold.

    `health` is the `work_item_health` table; `boards` the staging jira_boards.
    """
    as_of = utc_instant(as_of)
    counts = (
        pd.DataFrame(
            {
                "board_id": health["board_id"].astype("int64"),
                "open_issues": 1,
                "issues_with_problems": health["problem_count"].gt(0).astype("int64"),
                "stale_issues": health["stale"].astype("int64"),
                "missing_estimate_issues": health["missing_estimate"].astype("int64"),
                "blocked_issues": health["blocked_now"].astype("int64"),
                "in_progress_too_long_issues": health["in_progress_too_long"].astype("int64"),
            }
        )
        .groupby("board_id")
        .sum()
    )
    scores = pd.DataFrame(
        {
            "as_of": as_of,
            "date": as_of.date().isoformat(),
            "board_id": boards["board_id"].astype("int64"),
            "board_name": boards["name"].astype(str),
        }
    ).join(counts, on="board_id")
    count_columns = list(counts.columns)
    scores[count_columns] = scores[count_columns].fillna(0).astype("int64")
    open_count = scores["open_issues"].where(scores["open_issues"] > 0)
    healthy = scores["open_issues"] - scores["issues_with_problems"]
    scores["hygiene_score"] = (100.0 * healthy / open_count).astype(float)
    scores["hygiene_alert"] = scores["hygiene_score"].lt(thresholds.hygiene_score_min)
    return scores.sort_values(["hygiene_score", "board_id"], na_position="last").reset_index(
        drop=True
    )
