"""`sprint_targets`: per closed sprint, what it completed against its commitment, how often the
board's recent sprints left work unfinished, and the missed-target rule.

The points come from the sprint ledger (`sprint_commitments`): completed points over committed
points is the completion rate Jira's Velocity Chart compares, so finished added work counts
toward it, and the committed points finished on their own are kept beside it.
"""

from __future__ import annotations

import pandas as pd

from jira_insights_pipeline.assets.missed_target.thresholds import MissedTargetThresholds
from jira_insights_pipeline.metrics.issue_history import SPRINT_COLUMNS, utc_column

TARGET_COLUMNS = [
    *SPRINT_COLUMNS,
    "committed_points",
    "completed_points",
    "completed_committed_points",
    "completion_rate",
    "spillover_issues",
    "added_issues",
    "window_sprints",
    "spillover_sprints",
    "missed_target",
    "as_of",
]


def sprint_targets(
    sprint_commitments: pd.DataFrame, thresholds: MissedTargetThresholds
) -> pd.DataFrame:
    """One row per closed sprint of `sprint_commitments`, in the order the board closed them:
    its points and completion rate, `window_sprints` (this sprint and the board's closed
    sprints before it, at most `recent_sprints`), `spillover_sprints` (how many of those left
    unfinished work that spilled over), and `missed_target` (completion rate under
    `completion_rate_min`; a sprint that committed nothing had no target to miss)."""
    closed = sprint_commitments.loc[sprint_commitments["sprint_state"].eq("closed")].copy()
    closed["sprint_start"] = utc_column(closed["sprint_start"])
    closed["sprint_end"] = utc_column(closed["sprint_end"])
    closed = closed.sort_values(["board_id", "sprint_end", "sprint_start", "sprint_id"])
    closed = closed.reset_index(drop=True)
    window = thresholds.recent_sprints
    spilled = closed["spillover_issues"].gt(0).astype("int64")
    by_board = spilled.groupby(closed["board_id"], dropna=False, sort=False)
    closed["spillover_sprints"] = by_board.transform(
        lambda flags: flags.rolling(window, min_periods=1).sum()
    ).astype("int64")
    closed["window_sprints"] = by_board.cumcount().add(1).clip(upper=window).astype("int64")
    closed["missed_target"] = (
        closed["completion_rate"].lt(thresholds.completion_rate_min).astype(bool)
    )
    return closed[TARGET_COLUMNS]


def worst_targets(table: pd.DataFrame, rows: int = 10) -> pd.DataFrame:
    """Missed targets first, then the lowest completion rate."""
    ranked = table.sort_values(
        ["missed_target", "completion_rate"], ascending=[False, True], na_position="last"
    )
    return ranked.head(rows)[["board_id", "sprint_name", *TARGET_COLUMNS[6:-1]]]
