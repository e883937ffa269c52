"""Sprint velocity (`assets/velocity/metrics.py`) on hand-made histories: the mean of the
previous three sprints, the drop below 70% of it, the forecast drawn from the last six sprints
(seeded: the same data gives the same forecast, and one board's forecast does not depend on
another board), the sprint the forecast is for, and the full path from staging tables (only
closed sprints have a velocity)."""

from __future__ import annotations

import pandas as pd
import pytest
from metrics_sprint_site import AS_OF, DEFAULTS, build_site, sprint_tables, t

from jira_insights_pipeline.assets.velocity.metrics import velocity_from_completed
from jira_insights_pipeline.assets.velocity.schemas import SprintVelocitySchema
from jira_insights_pipeline.assets.velocity.thresholds import VelocityThresholds

VELOCITY = DEFAULTS.velocity


def closed_sprints(completed_by_board: dict[int, list[float]]) -> pd.DataFrame:
    rows = []
    for board_id, completed in completed_by_board.items():
        for number, points in enumerate(completed):
            start = t("2026-01-05 09:00") + pd.Timedelta(weeks=2 * number)
            rows.append(
                {
                    "board_id": board_id,
                    "sprint_id": board_id * 100 + number,
                    "sprint_name": f"Board {board_id} sprint {number + 1}",
                    "sprint_start": start,
                    "sprint_end": start + pd.Timedelta(days=11),
                    "committed_points": 20.0,
                    "completed_points": points,
                }
            )
    return pd.DataFrame(rows).astype({"board_id": "Int64"})


NO_UPCOMING = pd.DataFrame(
    {"board_id": pd.Series(dtype="Int64"), "sprint_id": [], "sprint_name": []}
)


def test_drop_below_70_percent_of_previous_three() -> None:
    table = velocity_from_completed(
        closed_sprints({1: [20, 22, 18, 12], 2: [10, 10, 10, 8]}), NO_UPCOMING, AS_OF, VELOCITY
    )
    SprintVelocitySchema.validate(table)
    board_1 = table.loc[table["board_id"] == 1]
    assert board_1["previous_mean_points"].isna().tolist() == [True, True, True, False]
    last = board_1.iloc[-1]
    # 12 against mean(20, 22, 18) = 20: ratio 0.6, under 0.7.
    assert last["previous_mean_points"] == 20.0 and last["velocity_ratio"] == pytest.approx(0.6)
    assert last["velocity_drop"]
    board_2 = table.loc[table["board_id"] == 2].iloc[-1]
    assert board_2["velocity_ratio"] == pytest.approx(0.8) and not board_2["velocity_drop"]
    assert table["velocity_drop"].sum() == 1


def test_drop_threshold_comes_from_thresholds() -> None:
    table = velocity_from_completed(
        closed_sprints({2: [10, 10, 10, 8]}),
        NO_UPCOMING,
        AS_OF,
        VelocityThresholds(velocity_drop_ratio=0.9),
    )
    assert table.iloc[-1]["velocity_drop"]


def test_forecast_resamples_the_last_six_sprints() -> None:
    completed = [100, 100, 20, 22, 18, 12, 30, 26]
    table = velocity_from_completed(closed_sprints({1: completed}), NO_UPCOMING, AS_OF, VELOCITY)
    latest = table.loc[table["latest_closed"]]
    assert len(latest) == 1 and latest.index[0] == len(completed) - 1
    row = latest.iloc[0]
    # The last six: 20, 22, 18, 12, 30, 26 (the two old 100s are out of the window). Each is
    # a sixth of the draws: the median falls between 20 and 22, and the 85%-confidence figure
    # (the 15th percentile) is the lowest value, 12, whose sixth covers it.
    assert row["forecast_sprints_used"] == 6
    assert 20 <= row["forecast_p50_points"] <= 22
    assert row["forecast_p85_points"] == 12
    assert table.loc[~table["latest_closed"], "forecast_p50_points"].isna().all()


def test_forecast_is_seeded_and_per_board() -> None:
    alone = velocity_from_completed(
        closed_sprints({1: [5, 9, 14, 2]}), NO_UPCOMING, AS_OF, VELOCITY
    )
    together = velocity_from_completed(
        closed_sprints({1: [5, 9, 14, 2], 2: [40, 1, 7]}), NO_UPCOMING, AS_OF, VELOCITY
    )
    columns = ["forecast_p50_points", "forecast_p85_points"]
    first = alone.loc[alone["latest_closed"], columns].reset_index(drop=True)
    second = together.loc[
        together["latest_closed"] & together["board_id"].eq(1), columns
    ].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, second)
    again = velocity_from_completed(
        closed_sprints({1: [5, 9, 14, 2]}), NO_UPCOMING, AS_OF, VELOCITY
    )
    pd.testing.assert_frame_equal(alone, again)


def test_velocity_from_staging_tables_only_closed_sprints() -> None:
    tables = build_site().tables(exported_at="2026-04-01 00:00")
    velocity = sprint_tables(tables, AS_OF).velocity
    # Sprint 3 is active, Sprint 4 future: only Sprints 1 and 2 have a velocity.
    assert list(velocity["sprint_id"]) == [1, 2]
    # Committed and completed points as in test_metrics_sprint_handmade: 16/19, then 19/13.
    assert velocity["committed_points"].tolist() == [16.0, 19.0]
    assert velocity["completed_points"].tolist() == [19.0, 13.0]
    assert velocity["previous_mean_points"].isna().all() and not velocity["velocity_drop"].any()
    latest = velocity.iloc[-1]
    assert latest["latest_closed"] and latest["forecast_sprints_used"] == 2
    # The forecast is for the sprint that follows: the active Sprint 3.
    assert (latest["forecast_sprint_id"], latest["forecast_sprint_name"]) == (3, "Sprint 3")
    assert 13 <= latest["forecast_p85_points"] <= latest["forecast_p50_points"] <= 19
    assert (velocity["as_of"] == AS_OF).all()


def test_velocity_forecast_targets_the_future_sprint_when_none_is_active() -> None:
    tables = build_site().tables(exported_at="2026-04-01 00:00")
    sprints = tables["jira_sprints"].copy()
    sprints = sprints.loc[sprints["sprint_id"] != 3]
    velocity = sprint_tables(tables | {"jira_sprints": sprints}, AS_OF).velocity
    assert velocity.iloc[-1]["forecast_sprint_name"] == "Sprint 4"
