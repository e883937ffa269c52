"""Why work was left unfinished: the spillover diagnosis behind a missed-target insight.

`spillover_reasons` takes every issue of a closed sprint that was in the sprint at its close C
and not done (the sprint ledger's "not completed": `sprint_scope_changes` rows neither removed,
completed nor completed outside the sprint) and says which of six reasons Jira's history shows
for it, each as a flag with its figure:

- never started: no status of the In Progress category during the sprint window [S, C);
- blocked: Flagged, or in a status named like Blocked or On Hold, for at least
  `blocked_min_days` inside [S, C) (the union of both kinds of interval, so a flagged issue in a
  Blocked status counts once);
- added late: entered the sprint after S (the ledger's `added_after_start`), with the days after S;
- grew: the ledger's `grew` (points at C above points at S by more than the ledger's
  `growth_pct`);
- waiting: at C in an In Progress status after the board's first in-progress status (such as
  review or QA), with the days since it entered that status;
- carried over again: also unfinished at the close of the board's previous closed sprint, with
  how many of the board's closed sprints in a row ended with it unfinished.

The board's first in-progress status is read from the workflow as issues move, because the
staging tables keep no board columns: for each issue of the board, the first status of the In
Progress category it ever entered (statuses named like Blocked left out, since blocking is its
own reason); the status most issues entered first is the board's first in-progress column, ties
going to the name first in alphabetical order so the choice never depends on row order.

`spillover_pattern` sums the reasons per board over its last `recent_sprints` closed sprints:
the share of unfinished issues per reason, the dominant reason (the largest count; ties go to
the reason listed first in `REASONS`, the order in which a team can act on them), and the
chronic carry-overs (issues unfinished at the close of at least `chronic_carry_over_sprints`
of the board's closed sprints in a row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jira_insights_pipeline.assets.missed_target.thresholds import MissedTargetThresholds
from jira_insights_pipeline.metrics.blocking import BLOCKED_STATUS_PATTERN, blocked_intervals
from jira_insights_pipeline.metrics.issue_history import (
    IN_PROGRESS,
    SPRINT_COLUMNS,
    names_matching,
    union_length,
    utc_column,
    utc_instant,
)
from jira_insights_pipeline.metrics.timeline import values_at
from jira_insights_pipeline.metrics.workflow import first_in_progress_statuses

# Statuses that say the work is held up rather than being worked on; matched anywhere in the
# name, case-insensitive ("Blocked", "On Hold", "Blocked by vendor").

NEVER_STARTED = "never_started"
BLOCKED = "blocked"
ADDED_LATE = "added_late"
GREW = "grew"
WAITING = "waiting"
CARRIED_OVER_AGAIN = "carried_over_again"
# The reasons, in the order ties of the dominant reason are broken: what the team controls at
# planning first (starting too much), then what it can raise daily, then what came from outside.
REASONS = [NEVER_STARTED, BLOCKED, ADDED_LATE, GREW, WAITING, CARRIED_OVER_AGAIN]

# How each reason reads in a sentence or a label ("the most common reason: never started").
CAUSE_LABELS = {
    NEVER_STARTED: "never started",
    BLOCKED: "blocked",
    ADDED_LATE: "added after the start",
    GREW: "grew",
    WAITING: "waiting in a later in-progress status",
    CARRIED_OVER_AGAIN: "carried over again",
}

REASON_COLUMNS = [
    *SPRINT_COLUMNS,
    "issue_key",
    "issue_id",
    "issue_type",
    "status_at_close",
    "points_at_start",
    "points_at_end",
    NEVER_STARTED,
    BLOCKED,
    "blocked_days",
    ADDED_LATE,
    "added_days_after_start",
    GREW,
    "growth_pct",
    WAITING,
    "waiting_status",
    "waiting_days",
    CARRIED_OVER_AGAIN,
    "unfinished_sprints_in_a_row",
    "reason_count",
    "as_of",
]

PATTERN_COLUMNS = [
    "board_id",
    "sprint_id",
    "sprint_name",
    "sprint_end",
    "first_sprint_name",
    "window_sprints",
    "unfinished_issues",
    *(f"{reason}_{suffix}" for reason in REASONS for suffix in ("issues", "share")),
    "unexplained_issues",
    "dominant_reason",
    "dominant_issues",
    "dominant_share",
    "chronic_issue_keys",
    "chronic_streaks",
    "as_of",
]

_INSTANT = "datetime64[ns, UTC]"


def _column(values: pd.Series) -> pd.Series:
    return values.reset_index(drop=True)


def _overlap_days(
    start: pd.Series, end: pd.Series, window_start: pd.Series, window_end: pd.Series
) -> pd.Series:
    """Days an interval [start, end) (null end: still open) lies inside [window_start,
    window_end), never negative."""
    low = start.where(start > window_start, window_start)
    high = end.fillna(window_end)
    high = high.where(high < window_end, window_end)
    return ((high - low) / pd.Timedelta(days=1)).clip(lower=0.0)


def unfinished_at_close(sprint_scope_changes: pd.DataFrame) -> pd.DataFrame:
    """The ledger rows of closed sprints that were in the sprint at C and not done: exactly
    what `sprint_commitments` counts as not completed."""
    scope = sprint_scope_changes
    not_completed = (
        ~scope["removed"].astype(bool)
        & ~scope["completed"].astype(bool)
        & ~scope["completed_outside"].astype(bool)
    )
    closed = scope["sprint_state"].eq("closed")
    rows = scope.loc[(not_completed & closed).to_numpy()].copy()
    rows["sprint_start"] = utc_column(rows["sprint_start"])
    rows["sprint_end"] = utc_column(rows["sprint_end"])
    rows["entered_at"] = utc_column(rows["entered_at"])
    rows["issue_id"] = rows["issue_id"].astype(str)
    return rows.reset_index(drop=True)


def _never_started(rows: pd.DataFrame, status_intervals: pd.DataFrame) -> np.ndarray:
    """Which rows had no In Progress status for any moment of [S, C)."""
    working = status_intervals.loc[
        status_intervals["status_category"].eq(IN_PROGRESS).fillna(False).to_numpy(dtype=bool)
    ]
    spans = pd.DataFrame(
        {
            "issue_id": _column(working["issue_id"].astype(str)),
            "start": _column(utc_column(working["entered_at"])),
            "end": _column(utc_column(working["left_at"])),
        }
    )
    pairs = rows[["issue_id", "sprint_start", "sprint_end"]].reset_index(names="_row")
    pairs = pairs.merge(spans, on="issue_id", how="inner")
    inside = _overlap_days(pairs["start"], pairs["end"], pairs["sprint_start"], pairs["sprint_end"])
    started = pd.Index(pairs.loc[inside.to_numpy() > 0, "_row"].unique())
    return ~rows.index.isin(started)


def _blocked_days(rows: pd.DataFrame, blocked: pd.DataFrame) -> np.ndarray:
    """Days of [S, C) each row's issue was blocked (overlapping intervals counted once)."""
    pairs = rows[["issue_id", "sprint_start", "sprint_end"]].reset_index(names="_row")
    pairs = pairs.merge(blocked, on="issue_id", how="inner")
    if pairs.empty:
        return np.zeros(len(rows))
    start = pairs["start"].where(pairs["start"] > pairs["sprint_start"], pairs["sprint_start"])
    end = pairs["end"].fillna(pairs["sprint_end"])
    end = end.where(end < pairs["sprint_end"], pairs["sprint_end"])
    clipped = pd.DataFrame({"_row": pairs["_row"], "start": start, "end": end})
    latest = clipped["end"].max()
    days = union_length(clipped, key="_row", start="start", end="end", as_of=latest)
    return rows.index.map(days).fillna(0.0).to_numpy(dtype=float)


def _status_at_close(rows: pd.DataFrame, status_intervals: pd.DataFrame) -> pd.DataFrame:
    """Each row's status at C, its category and when it entered that status."""
    spans = pd.DataFrame(
        {
            "issue_id": _column(status_intervals["issue_id"].astype(str)),
            "entered_at": _column(utc_column(status_intervals["entered_at"])),
            "left_at": _column(utc_column(status_intervals["left_at"])),
            "status": _column(status_intervals["status"].astype(object)),
            "status_category": _column(status_intervals["status_category"].astype(object)),
            "status_since": _column(utc_column(status_intervals["entered_at"])),
        }
    )
    queries = pd.DataFrame({"issue_id": rows["issue_id"], "at": rows["sprint_end"]})
    return values_at(
        spans,
        queries,
        start="entered_at",
        end="left_at",
        value_columns=["status", "status_category", "status_since"],
    )


def _unfinished_in_a_row(rows: pd.DataFrame, sprint_scope_changes: pd.DataFrame) -> np.ndarray:
    """For each row, how many of its board's closed sprints in a row, ending with this one,
    closed with the issue unfinished (1: only this one). "In a row" follows the board's closed
    sprints in the order they closed, as `sprint_targets` orders them."""
    scope = sprint_scope_changes
    sprints = scope.loc[scope["sprint_state"].eq("closed"), SPRINT_COLUMNS].drop_duplicates(
        "sprint_id"
    )
    sprints = sprints.assign(
        sprint_start=utc_column(sprints["sprint_start"]),
        sprint_end=utc_column(sprints["sprint_end"]),
    ).sort_values(["board_id", "sprint_end", "sprint_start", "sprint_id"])
    sprints["position"] = sprints.groupby("board_id", dropna=False, sort=False).cumcount()
    position = sprints.set_index("sprint_id")["position"]
    marks = rows[["board_id", "issue_id", "sprint_id"]].assign(
        position=rows["sprint_id"].map(position).to_numpy()
    )
    marks = marks.reset_index(names="_row").sort_values(
        ["board_id", "issue_id", "position"], kind="stable"
    )
    # A new streak starts wherever the previous unfinished sprint of the issue on its board is
    # not the board's sprint just before this one.
    group = [marks["board_id"].fillna(-1), marks["issue_id"]]
    previous = marks.groupby(group, sort=False)["position"].shift(1)
    breaks = previous.isna() | (marks["position"] - previous != 1)
    streak_id = breaks.cumsum()
    marks["streak"] = marks.groupby(streak_id, sort=False).cumcount() + 1
    return marks.set_index("_row")["streak"].reindex(rows.index).to_numpy(dtype="int64")


def spillover_reasons(
    sprint_scope_changes: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: MissedTargetThresholds,
) -> pd.DataFrame:
    """One row per (closed sprint, issue) unfinished at the sprint's close, with `REASON_COLUMNS`:
    each reason's flag and figure (see the module docstring), and how many reasons apply."""
    as_of = utc_instant(as_of)
    rows = unfinished_at_close(sprint_scope_changes)
    history = jira_status_intervals.loc[
        (utc_column(jira_status_intervals["entered_at"]) <= as_of).to_numpy()
    ]
    table = rows[
        [*SPRINT_COLUMNS, "issue_key", "issue_id", "issue_type", "points_at_start", "points_at_end"]
    ].copy()
    table["board_id"] = table["board_id"].astype("Int64")
    table[NEVER_STARTED] = _never_started(rows, history)

    blocked = blocked_intervals(jira_changelog, jira_issues, history)
    blocked = blocked.loc[(blocked["start"] <= as_of).to_numpy()]
    table["blocked_days"] = _blocked_days(rows, blocked)
    table[BLOCKED] = table["blocked_days"].ge(thresholds.blocked_min_days)

    table[ADDED_LATE] = rows["added_after_start"].astype(bool)
    late = (rows["entered_at"] - rows["sprint_start"]) / pd.Timedelta(days=1)
    table["added_days_after_start"] = late.where(table[ADDED_LATE]).astype(float)

    table[GREW] = rows["grew"].astype(bool)
    table["growth_pct"] = rows["growth_pct"].astype(float)

    at_close = _status_at_close(rows, history)
    table["status_at_close"] = at_close["status"].to_numpy(dtype=object)
    first = first_in_progress_statuses(jira_issues, history, as_of)
    board_first = table["board_id"].map(first).to_numpy(dtype=object)
    status = at_close["status"].astype(object)
    in_progress = at_close["status_category"].eq(IN_PROGRESS).fillna(False).to_numpy(dtype=bool)
    held_up = names_matching(status, BLOCKED_STATUS_PATTERN).to_numpy()
    # Without a first in-progress status (no issue of the board ever started) nothing can
    # come after it.
    after_first = pd.notna(board_first) & (status.to_numpy(dtype=object) != board_first)
    waiting = in_progress & ~held_up & after_first
    table[WAITING] = waiting
    table["waiting_status"] = status.where(waiting, None).to_numpy(dtype=object)
    since = utc_column(at_close["status_since"])
    waited = (table["sprint_end"].to_numpy() - since.to_numpy()) / pd.Timedelta(days=1)
    table["waiting_days"] = np.where(waiting, waited, np.nan).astype(float)

    table["unfinished_sprints_in_a_row"] = _unfinished_in_a_row(rows, sprint_scope_changes)
    table[CARRIED_OVER_AGAIN] = table["unfinished_sprints_in_a_row"].ge(2)
    table["reason_count"] = table[REASONS].astype("int64").sum(axis=1).astype("int64")
    table["as_of"] = as_of
    order = ["board_id", "sprint_end", "sprint_start", "sprint_id", "issue_key"]
    table = table.sort_values(order, kind="stable").reset_index(drop=True)
    return table[REASON_COLUMNS]


def spillover_pattern(
    reasons: pd.DataFrame,
    sprint_commitments: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: MissedTargetThresholds,
) -> pd.DataFrame:
    """One row per board with a closed sprint, over its last `recent_sprints` closed sprints
    (from `sprint_commitments`, so a sprint that left nothing unfinished still counts): the
    unfinished issues, each reason's count and share of them, the issues no reason explains,
    the dominant reason with its count and share (null when nothing was unfinished or no reason
    applies), and the chronic carry-overs with their streaks (longest first, then by key)."""
    as_of = utc_instant(as_of)
    closed = sprint_commitments.loc[sprint_commitments["sprint_state"].eq("closed")].copy()
    closed["sprint_start"] = utc_column(closed["sprint_start"])
    closed["sprint_end"] = utc_column(closed["sprint_end"])
    closed = closed.dropna(subset=["board_id"])
    closed = closed.sort_values(["board_id", "sprint_end", "sprint_start", "sprint_id"])
    window = closed.groupby("board_id", sort=False).tail(thresholds.recent_sprints)
    records = []
    for board_id, sprints in window.groupby("board_id", sort=True):
        latest = sprints.iloc[-1]
        inside = reasons.loc[
            reasons["sprint_id"].isin(sprints["sprint_id"]).to_numpy()
            & reasons["board_id"].eq(board_id).fillna(False).to_numpy(dtype=bool)
        ]
        unfinished = len(inside)
        record: dict[str, object] = {
            "board_id": int(board_id),
            "sprint_id": int(latest["sprint_id"]),
            "sprint_name": str(latest["sprint_name"]),
            "sprint_end": latest["sprint_end"],
            "first_sprint_name": str(sprints.iloc[0]["sprint_name"]),
            "window_sprints": len(sprints),
            "unfinished_issues": unfinished,
        }
        counts = {reason: int(inside[reason].astype(bool).sum()) for reason in REASONS}
        for reason in REASONS:
            record[f"{reason}_issues"] = counts[reason]
            record[f"{reason}_share"] = counts[reason] / unfinished if unfinished else np.nan
        record["unexplained_issues"] = int(inside["reason_count"].eq(0).sum())
        most = max(counts.values(), default=0)
        dominant = next((r for r in REASONS if counts[r] == most), None) if most > 0 else None
        record["dominant_reason"] = dominant
        record["dominant_issues"] = most
        record["dominant_share"] = most / unfinished if unfinished else np.nan
        streaks = inside.groupby("issue_key")["unfinished_sprints_in_a_row"].max().rename("streak")
        chronic = streaks.loc[streaks >= thresholds.chronic_carry_over_sprints].reset_index()
        chronic = chronic.sort_values(["streak", "issue_key"], ascending=[False, True])
        record["chronic_issue_keys"] = [str(key) for key in chronic["issue_key"]]
        record["chronic_streaks"] = [int(streak) for streak in chronic["streak"]]
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=PATTERN_COLUMNS[:-1])
    table["as_of"] = as_of
    if table.empty:
        table["sprint_end"] = pd.Series(dtype=_INSTANT)
    for reason in REASONS:
        table[f"{reason}_share"] = table[f"{reason}_share"].astype(float)
    table["dominant_share"] = table["dominant_share"].astype(float)
    return table[PATTERN_COLUMNS]
