"""`sprint_velocity`: what each board completed sprint by sprint, whether that fell, and what the
board's next sprint will likely complete.

One row per board and closed sprint: its committed and completed points (the two bars of Jira's
velocity chart), the mean of the previous sprints, the drop flag, and on the board's latest
closed sprint a forecast for the sprint that follows, drawn by resampling the last sprints'
completed points with a fixed seed so the same data always gives the same forecast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jira_insights_pipeline.assets.velocity.thresholds import VelocityThresholds
from jira_insights_pipeline.metrics.issue_history import (
    latest_closed_sprints,
    sprint_windows,
    utc_column,
    utc_instant,
)
from jira_insights_pipeline.metrics.ranking import alerts_first

# "P85" is the points the board completes in at least 85% of the resampled sprints: the 15th
# percentile of the samples, the figure a team can commit to with 85% confidence.
P85_PERCENTILE = 15.0
P50_PERCENTILE = 50.0

# What `velocity_from_completed` needs of each closed sprint: the two bars of the velocity chart.
CLOSED_SPRINT_COLUMNS = [
    "board_id",
    "sprint_id",
    "sprint_name",
    "sprint_start",
    "sprint_end",
    "committed_points",
    "completed_points",
]
VELOCITY_COLUMNS = [
    *CLOSED_SPRINT_COLUMNS,
    "previous_mean_points",
    "velocity_ratio",
    "velocity_drop",
    "latest_closed",
    "forecast_sprint_id",
    "forecast_sprint_name",
    "forecast_sprints_used",
    "forecast_p50_points",
    "forecast_p85_points",
    "as_of",
]


def sprint_velocity(
    sprint_commitments: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: VelocityThresholds,
) -> pd.DataFrame:
    """One row per board and sprint closed by `as_of`, with `VELOCITY_COLUMNS`, from the closed
    sprints of `sprint_commitments` (their committed and completed points); see docs/metrics.md
    for each column."""
    as_of = utc_instant(as_of)
    periods = sprint_windows(jira_sprints, as_of)
    closed = sprint_commitments.loc[sprint_commitments["sprint_state"].eq("closed")]
    closed = closed.assign(
        sprint_start=utc_column(closed["sprint_start"]), sprint_end=utc_column(closed["sprint_end"])
    )
    return velocity_from_completed(closed, next_sprints(jira_sprints, periods), as_of, thresholds)


def next_sprints(jira_sprints: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """Per board, the sprint that follows its closed ones: the active sprint that started first,
    else the future sprint planned first (by start date, then id)."""
    closed_ids = periods.loc[periods["sprint_state"].eq("closed"), "sprint_id"]
    upcoming = pd.DataFrame(
        {
            "board_id": jira_sprints["board_id"].astype("Int64").to_numpy(),
            "sprint_id": jira_sprints["sprint_id"].astype("int64").to_numpy(),
            "sprint_name": jira_sprints["name"].astype(str).to_numpy(),
            "_start": utc_column(jira_sprints["start_date"]).to_numpy(),
        }
    )
    upcoming["_start"] = utc_column(upcoming["_start"])
    upcoming = upcoming.loc[~upcoming["sprint_id"].isin(closed_ids)]
    upcoming = upcoming.sort_values(["_start", "sprint_id"], na_position="last", kind="stable")
    upcoming = upcoming.drop_duplicates("board_id", keep="first")
    return upcoming[["board_id", "sprint_id", "sprint_name"]].reset_index(drop=True)


def velocity_from_completed(
    closed: pd.DataFrame,
    upcoming: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: VelocityThresholds,
) -> pd.DataFrame:
    """The velocity table from one row per closed sprint (`CLOSED_SPRINT_COLUMNS`) and each
    board's upcoming sprint (`board_id`, `sprint_id`, `sprint_name`; may be empty).

    Sprints are ordered by when they closed. `previous_mean_points` needs `velocity_window`
    earlier sprints (null before that, and then no drop is claimed).
    """
    table = closed[CLOSED_SPRINT_COLUMNS].copy()
    table["board_id"] = table["board_id"].astype("Int64")
    table = table.sort_values(
        ["board_id", "sprint_end", "sprint_start", "sprint_id"], kind="stable"
    )
    table = table.reset_index(drop=True)
    by_board = table.groupby("board_id", dropna=False, sort=False)["completed_points"]
    window = thresholds.velocity_window
    table["previous_mean_points"] = by_board.transform(
        lambda points: points.rolling(window, min_periods=window).mean().shift(1)
    )
    mean = table["previous_mean_points"]
    table["velocity_ratio"] = table["completed_points"] / mean.where(mean > 0)
    table["velocity_drop"] = (
        mean.notna() & (table["completed_points"] < thresholds.velocity_drop_ratio * mean)
    ).astype(bool)
    table["latest_closed"] = table.index.isin(latest_closed_sprints(table).index)
    _add_forecasts(table, upcoming, thresholds)
    table["as_of"] = utc_instant(as_of)
    return table[VELOCITY_COLUMNS]


def _add_forecasts(
    table: pd.DataFrame, upcoming: pd.DataFrame, thresholds: VelocityThresholds
) -> None:
    table["forecast_sprint_id"] = pd.array([pd.NA] * len(table), dtype="Int64")
    table["forecast_sprint_name"] = pd.Series([None] * len(table), index=table.index, dtype=object)
    table["forecast_sprints_used"] = pd.array([pd.NA] * len(table), dtype="Int64")
    table["forecast_p50_points"] = np.nan
    table["forecast_p85_points"] = np.nan
    following = {
        _board_key(row.board_id): (row.sprint_id, row.sprint_name)
        for row in upcoming.itertuples(index=False)
    }
    # One small loop per board: each draws its own seeded samples.
    for board_id, group in table.groupby("board_id", dropna=False, sort=False):
        history = group["completed_points"].to_numpy(dtype=float)[-thresholds.forecast_window :]
        p50, p85 = forecast_points(history, _board_key(board_id), thresholds)
        latest = group.index[-1]
        table.loc[latest, "forecast_sprints_used"] = len(history)
        table.loc[latest, "forecast_p50_points"] = p50
        table.loc[latest, "forecast_p85_points"] = p85
        if _board_key(board_id) in following:
            sprint_id, sprint_name = following[_board_key(board_id)]
            table.loc[latest, "forecast_sprint_id"] = sprint_id
            table.loc[latest, "forecast_sprint_name"] = sprint_name


def _board_key(board_id: object) -> int:
    return 0 if pd.isna(board_id) else int(board_id)  # type: ignore[arg-type]


def forecast_points(
    completed_points: np.ndarray, board_key: int, thresholds: VelocityThresholds
) -> tuple[float, float]:
    """P50 and P85 of the next sprint's completed points: `forecast_samples` draws with
    replacement from `completed_points`, seeded by `forecast_seed` and the board, so each board's
    forecast depends on its own history only."""
    rng = np.random.default_rng([thresholds.forecast_seed, abs(board_key)])
    samples = rng.choice(completed_points, size=thresholds.forecast_samples, replace=True)
    p50, p85 = np.percentile(samples, [P50_PERCENTILE, P85_PERCENTILE])
    return float(p50), float(p85)


def worst_velocity(table: pd.DataFrame, rows: int = 10) -> pd.DataFrame:
    """Drops first, then the lowest ratio to the previous mean."""
    columns = [
        "board_id",
        "sprint_name",
        "completed_points",
        "previous_mean_points",
        "velocity_ratio",
        "velocity_drop",
        "forecast_p50_points",
        "forecast_p85_points",
    ]
    return alerts_first(table, "velocity_drop", "velocity_ratio", columns, rows)
