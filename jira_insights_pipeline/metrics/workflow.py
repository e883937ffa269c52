"""What the workflow says about a board's columns, read from how its issues move.

The staging tables keep no board columns, so a board's first in-progress status is derived
from the status history: for each issue of the board, the first status of the In Progress
category it ever entered (statuses named like Blocked left out, since being held up is not a
column work starts in); the status most issues entered first is the board's first in-progress
column, ties going to the name first in alphabetical order so the choice never depends on row
order. Statuses of the In Progress category other than that one (review, QA) come after it.
"""

from __future__ import annotations

import pandas as pd

from jira_insights_pipeline.metrics.blocking import BLOCKED_STATUS_PATTERN
from jira_insights_pipeline.metrics.issue_history import (
    IN_PROGRESS,
    names_matching,
    order_by_issue,
    utc_column,
    utc_instant,
)


def first_in_progress_statuses(
    issues: pd.DataFrame, status_intervals: pd.DataFrame, as_of: pd.Timestamp
) -> pd.Series:
    """Per board (index `board_id`), the name of its first in-progress status: the In Progress
    status its issues most often enter first (statuses named like Blocked left out; a tie goes
    to the name first in alphabetical order)."""
    as_of = utc_instant(as_of)
    intervals = pd.DataFrame(
        {
            "issue_id": _column(status_intervals["issue_id"].astype(str)),
            "status": _column(status_intervals["status"].astype(str)),
            "category": _column(status_intervals["status_category"].astype(object)),
            "entered_at": _column(utc_column(status_intervals["entered_at"])),
        }
    )
    working = intervals["category"].eq(IN_PROGRESS).fillna(False).to_numpy(dtype=bool)
    working &= ~names_matching(intervals["status"], BLOCKED_STATUS_PATTERN).to_numpy()
    working &= (intervals["entered_at"] <= as_of).to_numpy()
    entries = order_by_issue(intervals.loc[working], "issue_id", "entered_at")
    firsts = entries.drop_duplicates("issue_id", keep="first")
    boards = pd.DataFrame(
        {
            "issue_id": issues["issue_id"].astype(str).to_numpy(),
            "board_id": issues["board_id"].astype("Int64").to_numpy(),
        }
    )
    firsts = firsts.merge(boards.dropna(subset=["board_id"]), on="issue_id", how="inner")
    if firsts.empty:
        return pd.Series(dtype=object, name="status")
    counts = firsts.groupby(["board_id", "status"]).size().rename("issues").reset_index()
    counts = counts.sort_values(["board_id", "issues", "status"], ascending=[True, False, True])
    chosen = counts.drop_duplicates("board_id", keep="first")
    return chosen.set_index("board_id")["status"]


def _column(values: pd.Series) -> pd.Series:
    # Positional, so columns taken from one frame line up whatever its index was.
    return values.reset_index(drop=True)
