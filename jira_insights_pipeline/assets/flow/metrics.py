"""Cycle time: how long each done issue took from its first entry into the in-progress category
to its last entry into done, and per board and sprint its median and 85th percentile and whether
the median rose against the sprints before.

Reopened issues count from their first start to their final finish, since the work they needed
to be really done includes the rework. An issue that never passed through an in-progress status
(moved straight from To Do to Done) has a row with no cycle time rather than a made-up one.
"""

from __future__ import annotations

import pandas as pd

from jira_insights_pipeline.assets.flow.thresholds import FlowThresholds
from jira_insights_pipeline.metrics.issue_history import (
    DONE,
    IN_PROGRESS,
    SPRINT_COLUMNS,
    current_run_start,
    days_between,
    sprint_containing,
    sprint_windows,
    status_history,
    utc_column,
    utc_instant,
)

PERCENTILE = 0.85


def cycle_times(
    issues: pd.DataFrame,
    status_intervals: pd.DataFrame,
    sprints: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """One row per issue done at `as_of` (status category done): when it first entered the
    in-progress category, when it last entered done, the cycle time in days between the two,
    how many times it entered done (more than once: it was reopened), and the sprint of its board
    during which it was finished.

    Inputs are the staging tables jira_issues, jira_status_intervals and jira_sprints.
    """
    as_of = utc_instant(as_of)
    history = status_history(status_intervals, as_of)
    done = current_run_start(history, DONE).rename(
        columns={"run_start": "done_at", "entries": "done_entries"}
    )
    started = (
        history.loc[history["status_category"].eq(IN_PROGRESS).fillna(False).to_numpy(dtype=bool)]
        .groupby("issue_id", sort=False)["entered_at"]
        .min()
        .rename("in_progress_at")
    )
    done = done.join(started, on="issue_id")
    # A start after the finish cannot happen for an issue done now (it would not be done), but
    # an in-progress entry is only a start if it precedes the finish.
    done.loc[done["in_progress_at"] > done["done_at"], "in_progress_at"] = pd.NaT

    details = pd.DataFrame(
        {
            "issue_id": issues["issue_id"].astype(str),
            "issue_key": issues["issue_key"].astype(str),
            "board_id": issues["board_id"].astype("Int64"),
            "issue_type": issues["issue_type"].astype(str),
            "is_subtask": issues["is_subtask"].astype(bool),
            "summary": issues["summary"],
        }
    )
    rows = details.merge(done, on="issue_id", how="inner")
    rows["in_progress_at"] = utc_column(rows["in_progress_at"])
    rows["done_at"] = utc_column(rows["done_at"])
    rows = sprint_containing(rows, sprint_windows(sprints, as_of), at="done_at")
    result = pd.DataFrame(
        {
            "as_of": as_of,
            "board_id": rows["board_id"],
            "sprint_id": rows["sprint_id"].astype("Int64"),
            "sprint_name": rows["sprint_name"],
            "issue_key": rows["issue_key"],
            "issue_type": rows["issue_type"],
            "is_subtask": rows["is_subtask"],
            "summary": rows["summary"],
            "in_progress_at": rows["in_progress_at"],
            "done_at": rows["done_at"],
            "cycle_time_days": days_between(rows["in_progress_at"], rows["done_at"]).astype(float),
            "done_entries": rows["done_entries"].astype("int64"),
        }
    )
    result["reopened"] = result["done_entries"] > 1
    result = result.sort_values(
        ["cycle_time_days", "issue_key"], ascending=[False, True], na_position="last"
    )
    return result.reset_index(drop=True)


def cycle_time_trends(
    cycle_time_table: pd.DataFrame,
    sprints: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: FlowThresholds,
) -> pd.DataFrame:
    """One row per board and sprint started by `as_of`: the median and 85th percentile cycle
    time of the issues (sub-tasks left out) finished during it, the median of the issues
    finished in the board's previous `cycle_time_window` sprints taken together, and
    `cycle_time_rise` (the sprint's median above that by more than `cycle_time_rise`).

    `cycle_time_table` is the `cycle_times` table; `sprints` the staging jira_sprints. The
    previous median is null (and nothing rises) until a board has that many earlier sprints.
    Percentiles interpolate linearly between the two nearest cycle times.
    """
    as_of = utc_instant(as_of)
    windows = sprint_windows(sprints, as_of).dropna(subset=["board_id"]).reset_index(drop=True)
    windows["sprint_order"] = windows.groupby("board_id").cumcount()
    measured = cycle_time_table.loc[
        cycle_time_table["sprint_id"].notna()
        & cycle_time_table["cycle_time_days"].notna()
        & ~cycle_time_table["is_subtask"].astype(bool),
        ["sprint_id", "cycle_time_days"],
    ].astype({"sprint_id": "int64", "cycle_time_days": float})
    per_sprint = measured.groupby("sprint_id")["cycle_time_days"]
    stats = pd.DataFrame(
        {
            "finished_issues": per_sprint.size(),
            "median_cycle_time_days": per_sprint.median(),
            "p85_cycle_time_days": per_sprint.quantile(PERCENTILE),
        }
    )
    trends = windows.join(stats, on="sprint_id")
    trends["finished_issues"] = trends["finished_issues"].fillna(0).astype("int64")

    # Pair each sprint with its board's `window` previous sprints, then pool their issues.
    window = thresholds.cycle_time_window
    order = windows[["board_id", "sprint_id", "sprint_order"]]
    earlier = pd.concat(
        [
            order.assign(sprint_order=order["sprint_order"] + back).rename(
                columns={"sprint_id": "earlier_sprint_id"}
            )
            for back in range(1, window + 1)
        ],
        ignore_index=True,
    ).merge(order, on=["board_id", "sprint_order"])
    pooled = earlier.merge(
        measured.rename(columns={"sprint_id": "earlier_sprint_id"}), on="earlier_sprint_id"
    )
    previous_median = pooled.groupby("sprint_id")["cycle_time_days"].median()
    has_full_window = trends["sprint_order"] >= window
    trends["previous_median_cycle_time_days"] = (
        trends["sprint_id"].map(previous_median).where(has_full_window).astype(float)
    )
    trends["median_change_pct"] = (
        100.0 * (trends["median_cycle_time_days"] / trends["previous_median_cycle_time_days"] - 1.0)
    ).where(trends["previous_median_cycle_time_days"] > 0)
    trends["cycle_time_rise"] = trends["median_cycle_time_days"].gt(
        trends["previous_median_cycle_time_days"] * (1.0 + thresholds.cycle_time_rise)
    )
    trends.insert(0, "as_of", as_of)
    return trends.sort_values(["board_id", "sprint_start", "sprint_id"]).reset_index(drop=True)[
        [
            "as_of",
            *SPRINT_COLUMNS,
            "finished_issues",
            "median_cycle_time_days",
            "p85_cycle_time_days",
            "previous_median_cycle_time_days",
            "median_change_pct",
            "cycle_time_rise",
        ]
    ]
