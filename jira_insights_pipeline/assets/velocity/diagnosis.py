"""Why velocity dropped: the causes behind a velocity insight.

`velocity_causes` measures, for every closed sprint of a board that has a full previous window
(the `velocity_window` closed sprints before it, the same window `sprint_velocity`'s drop rule
takes its mean over, in the same order: by close, then start, then id), eight factors that take
points away from a sprint, and compares each with its mean over that window:

- `added_points`, `added_issues`: work added after the start (the sprint ledger's
  `added_points` / `added_issues`, as Jira's sprint report counts them); harmful when up;
- `bug_share_of_finished_points`: the share of the sprint's completed points that were bugs
  (issue type named like Bug or Defect; 0 when nothing with points finished); harmful when up,
  since points spent on bugs are not spent on planned stories;
- `blocked_days`: the days the sprint's issues were blocked inside the sprint, summed over its
  issues (the shared blocked-time definition of `metrics/blocking.py`: Flagged or in a status
  named like Blocked or On Hold, overlaps within one issue counted once, clipped to the sprint
  window [start, close)); harmful when up;
- `finishers`: how many people finished work in the sprint, counted by the CURRENT assignee of
  the issues the sprint completed (the snapshot keeps no assignee history, so an issue handed
  over after it was finished counts for its current assignee; unassigned issues count nobody);
  harmful when down;
- `working_days`: the weekdays (Monday to Friday) from the start's date up to the close's date
  (the close day not counted; public holidays are not in Jira); harmful when down;
- `unfinished_committed_points`: committed points left unfinished (committed minus
  committed-and-completed); harmful when up;
- `committed_points`: the size of the commitment; harmful when down (a smaller plan lowers
  velocity without anything going wrong).

A factor is `harmful` when it moved the harmful way by more than `cause_margin` of its window
mean. When the mean is 0 there is no relative change: a factor whose harmful direction is up
counts when its value is above 0 (work that appeared from nothing), and one whose harmful
direction is down cannot fall. The harmful factors are ranked largest first by their relative
change the harmful way, those that appeared from nothing first (an infinite change), ties
going to the factor listed first in `FACTORS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jira_insights_pipeline.assets.velocity.thresholds import VelocityThresholds
from jira_insights_pipeline.metrics.blocking import blocked_intervals
from jira_insights_pipeline.metrics.issue_history import (
    BUG_TYPE_PATTERN,
    names_matching,
    union_length,
    utc_column,
    utc_instant,
)

UP = "up"
DOWN = "down"

ADDED_POINTS = "added_points"
ADDED_ISSUES = "added_issues"
BUG_SHARE = "bug_share_of_finished_points"
BLOCKED_DAYS = "blocked_days"
FINISHERS = "finishers"
WORKING_DAYS = "working_days"
UNFINISHED_COMMITTED = "unfinished_committed_points"
COMMITTED_POINTS = "committed_points"

# Each factor with the direction that lowers velocity, in the order ties are broken: work that
# came from outside the plan first, then what held the planned work up, then capacity, then the
# plan itself (a smaller commitment is no fault, so it is named last).
FACTORS: dict[str, str] = {
    ADDED_POINTS: UP,
    ADDED_ISSUES: UP,
    BUG_SHARE: UP,
    BLOCKED_DAYS: UP,
    FINISHERS: DOWN,
    WORKING_DAYS: DOWN,
    UNFINISHED_COMMITTED: UP,
    COMMITTED_POINTS: DOWN,
}

CAUSE_COLUMNS = [
    "board_id",
    "sprint_id",
    "sprint_name",
    "sprint_start",
    "sprint_end",
    "window_sprints",
    "first_window_sprint_name",
    "factor",
    "harmful_direction",
    "value",
    "window_mean",
    "relative_change",
    "harmful",
    "rank",
    "as_of",
]


def _closed_sprints(sprint_commitments: pd.DataFrame) -> pd.DataFrame:
    closed = sprint_commitments.loc[sprint_commitments["sprint_state"].eq("closed")].copy()
    closed["board_id"] = closed["board_id"].astype("Int64")
    closed["sprint_start"] = utc_column(closed["sprint_start"])
    closed["sprint_end"] = utc_column(closed["sprint_end"])
    # The order `sprint_velocity` takes its window in, so both speak of the same sprints.
    closed = closed.sort_values(
        ["board_id", "sprint_end", "sprint_start", "sprint_id"], kind="stable"
    )
    return closed.reset_index(drop=True)


def _bug_share(closed: pd.DataFrame, scope: pd.DataFrame) -> np.ndarray:
    """Per closed sprint, the share of its completed points that were bugs (0 without any)."""
    done = scope.loc[scope["completed"].astype(bool).to_numpy()]
    is_bug = names_matching(done["issue_type"].astype(str), BUG_TYPE_PATTERN).to_numpy()
    bug_points = (
        done.loc[is_bug]
        .assign(points=done.loc[is_bug, "points_at_end"].astype(float).fillna(0.0))
        .groupby("sprint_id")["points"]
        .sum()
    )
    completed = closed["completed_points"].astype(float)
    bugs = closed["sprint_id"].map(bug_points).fillna(0.0).astype(float)
    return np.where(completed > 0, bugs / completed.where(completed > 0, 1.0), 0.0)


def _blocked_days(
    closed: pd.DataFrame,
    scope: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    as_of: pd.Timestamp,
) -> np.ndarray:
    """Per closed sprint, the blocked days of its issues inside [start, close), summed."""
    history = jira_status_intervals.loc[
        (utc_column(jira_status_intervals["entered_at"]) <= as_of).to_numpy()
    ]
    blocked = blocked_intervals(jira_changelog, jira_issues, history)
    blocked = blocked.loc[(blocked["start"] <= as_of).to_numpy()]
    # Issues completed outside the sprint were never worked in it.
    members = scope.loc[
        ~scope["completed_outside"].astype(bool).to_numpy(), ["sprint_id", "issue_id"]
    ].drop_duplicates()
    members = members.assign(issue_id=members["issue_id"].astype(str))
    windows = closed[["sprint_id", "sprint_start", "sprint_end"]]
    pairs = members.merge(windows, on="sprint_id", how="inner").merge(
        blocked[["issue_id", "start", "end"]], on="issue_id", how="inner"
    )
    if pairs.empty:
        return np.zeros(len(closed))
    start = pairs["start"].where(pairs["start"] > pairs["sprint_start"], pairs["sprint_start"])
    end = pairs["end"].fillna(pairs["sprint_end"])
    end = end.where(end < pairs["sprint_end"], pairs["sprint_end"])
    clipped = pd.DataFrame(
        {
            "key": pairs["sprint_id"].astype(str) + "|" + pairs["issue_id"],
            "sprint_id": pairs["sprint_id"].to_numpy(),
            "start": start,
            "end": end,
        }
    )
    days = union_length(clipped, key="key", start="start", end="end", as_of=clipped["end"].max())
    sprint_of_key = clipped.drop_duplicates("key").set_index("key")["sprint_id"]
    per_sprint = days.groupby(days.index.map(sprint_of_key)).sum()
    return closed["sprint_id"].map(per_sprint).fillna(0.0).to_numpy(dtype=float)


def _finishers(closed: pd.DataFrame, scope: pd.DataFrame, jira_issues: pd.DataFrame) -> np.ndarray:
    """Per closed sprint, the distinct current assignees of the issues it completed."""
    assignees = pd.Series(
        jira_issues["assignee"].to_numpy(dtype=object),
        index=jira_issues["issue_id"].astype(str).to_numpy(),
    )
    done = scope.loc[scope["completed"].astype(bool).to_numpy(), ["sprint_id", "issue_id"]]
    done = done.assign(assignee=done["issue_id"].astype(str).map(assignees))
    people = done.dropna(subset=["assignee"]).groupby("sprint_id")["assignee"].nunique()
    return closed["sprint_id"].map(people).fillna(0).to_numpy(dtype=float)


def _working_days(closed: pd.DataFrame) -> np.ndarray:
    """Per closed sprint, the weekdays from its start's date up to its close's date."""
    starts = closed["sprint_start"].dt.tz_convert(None).dt.normalize().to_numpy(dtype="M8[D]")
    ends = closed["sprint_end"].dt.tz_convert(None).dt.normalize().to_numpy(dtype="M8[D]")
    return np.busday_count(starts, ends).clip(min=0).astype(float)


def factor_values(
    sprint_commitments: pd.DataFrame,
    sprint_scope_changes: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """One row per closed sprint (in window order) with its sprint columns and one column per
    factor of `FACTORS`."""
    as_of = utc_instant(as_of)
    closed = _closed_sprints(sprint_commitments)
    scope = sprint_scope_changes.loc[
        sprint_scope_changes["sprint_id"].isin(closed["sprint_id"]).to_numpy()
    ]
    values = closed[["board_id", "sprint_id", "sprint_name", "sprint_start", "sprint_end"]].copy()
    values[ADDED_POINTS] = closed["added_points"].astype(float)
    values[ADDED_ISSUES] = closed["added_issues"].astype(float)
    values[BUG_SHARE] = _bug_share(closed, scope)
    values[BLOCKED_DAYS] = _blocked_days(
        closed, scope, jira_changelog, jira_issues, jira_status_intervals, as_of
    )
    values[FINISHERS] = _finishers(closed, scope, jira_issues)
    values[WORKING_DAYS] = _working_days(closed)
    committed = closed["committed_points"].astype(float)
    finished = closed["completed_committed_points"].astype(float)
    values[UNFINISHED_COMMITTED] = (committed - finished).clip(lower=0.0)
    values[COMMITTED_POINTS] = closed["committed_points"].astype(float)
    return values


def judge_factors(
    values: pd.DataFrame, as_of: pd.Timestamp, thresholds: VelocityThresholds
) -> pd.DataFrame:
    """The causes table (`CAUSE_COLUMNS`) from `factor_values`' rows: each sprint with a full
    previous window, per factor, against the window's mean."""
    window = thresholds.velocity_window
    margin = thresholds.cause_margin
    records: list[dict[str, object]] = []
    for _, sprints in values.groupby("board_id", dropna=False, sort=True):
        sprints = sprints.reset_index(drop=True)
        for position in range(window, len(sprints)):
            row = sprints.iloc[position]
            previous = sprints.iloc[position - window : position]
            judged = []
            for factor, direction in FACTORS.items():
                value = float(row[factor])
                mean = float(previous[factor].mean())
                change = (value - mean) / mean if mean > 0 else np.nan
                if mean > 0:
                    harmful = change > margin if direction == UP else change < -margin
                    harm = change if direction == UP else -change
                else:
                    harmful = direction == UP and value > 0
                    harm = np.inf
                judged.append((factor, direction, value, mean, change, harmful, harm))
            ranked = sorted(
                (item for item in judged if item[5]),
                key=lambda item: (-item[6], list(FACTORS).index(item[0])),
            )
            ranks = {item[0]: place for place, item in enumerate(ranked, start=1)}
            for factor, direction, value, mean, change, harmful, _ in judged:
                records.append(
                    {
                        "board_id": row["board_id"],
                        "sprint_id": int(row["sprint_id"]),
                        "sprint_name": str(row["sprint_name"]),
                        "sprint_start": row["sprint_start"],
                        "sprint_end": row["sprint_end"],
                        "window_sprints": window,
                        "first_window_sprint_name": str(previous.iloc[0]["sprint_name"]),
                        "factor": factor,
                        "harmful_direction": direction,
                        "value": value,
                        "window_mean": mean,
                        "relative_change": change,
                        "harmful": bool(harmful),
                        "rank": ranks.get(factor),
                    }
                )
    table = pd.DataFrame.from_records(records, columns=CAUSE_COLUMNS[:-1])
    table["board_id"] = table["board_id"].astype("Int64")
    table["sprint_id"] = table["sprint_id"].astype("int64")
    table["window_sprints"] = table["window_sprints"].astype("int64")
    for column in ("sprint_start", "sprint_end"):
        table[column] = (
            utc_column(table[column]) if len(table) else pd.Series(dtype="datetime64[ns, UTC]")
        )
    for column in ("value", "window_mean", "relative_change"):
        table[column] = table[column].astype(float)
    table["harmful"] = table["harmful"].astype(bool)
    table["rank"] = pd.array(
        [None if pd.isna(rank) else int(rank) for rank in table["rank"]], dtype="Int64"
    )
    for column in ("sprint_name", "first_window_sprint_name", "factor", "harmful_direction"):
        table[column] = table[column].astype(object)
    table["as_of"] = utc_instant(as_of)
    return table[CAUSE_COLUMNS]


def velocity_causes(
    sprint_commitments: pd.DataFrame,
    sprint_scope_changes: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: VelocityThresholds,
) -> pd.DataFrame:
    """One row per (board, closed sprint with a full previous window, factor) with
    `CAUSE_COLUMNS`; see the module docstring for each factor and the margin rule."""
    values = factor_values(
        sprint_commitments,
        sprint_scope_changes,
        jira_issues,
        jira_changelog,
        jira_status_intervals,
        as_of,
    )
    return judge_factors(values, as_of, thresholds)
