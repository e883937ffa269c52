"""The sprint tables (the ledger of `assets/sprints`, and `sprint_scope_creep`,
`sprint_targets`, `sprint_velocity` from their use cases' homes) on the bundled sample site,
parsed by the real staging parser: every sprint situation planted in
jira_insights_pipeline/sample/PLANTED.md must be found, and the healthy Platform board must trip
nothing.

- Checkout (CHK): scope creep in the active CHK Sprint 16 (CHK-172, CHK-184, CHK-185, CHK-196,
  CHK-198 re-estimated upwards; CHK-184 and CHK-198 small to large; CHK-214, CHK-219, CHK-224
  added after start; acceptance criteria grown in the description).
- Mobile App (MOB): completion 28/42, 22/40, 16/42 in Sprints 28 to 30 with 6, 9, 13 issues
  spilling over (missed targets, work spilling over in each of the last three sprints), and a
  velocity drop (16 against a mean of 30.3: ratio 0.53).
- Payments (PAY): completion at least 78%, velocity steady (0.86).
- Platform (PLAT): at most one grown story a sprint, completion at least 95%, velocity 1.02.

The threshold checks, run in Dagster on the same tables, must name exactly CHK Sprint 16 (scope
creep), MOB Sprint 30 (velocity drop) and, for the 80% completion target, the latest closed
sprints of MOB (Sprint 30, 38%) and PAY (Sprint 26, its 78% low).

Like PLANTED.md, the ledger shares out grown stories among the estimated committed issues of
type Story only (5/12 in CHK Sprint 16), as docs/metrics.md explains.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from metrics_sprint_site import SprintTables, evaluations, run, sprint_tables

from jira_insights_pipeline.parsing.staging import build_staging_tables
from jira_insights_pipeline.sample import SITE_DIR
from jira_insights_pipeline.snapshot import load_snapshot


@cache
def staging() -> dict[str, pd.DataFrame]:
    return build_staging_tables(load_snapshot(SITE_DIR), source="sample").tables()


@cache
def computed() -> SprintTables:
    tables = staging()
    return sprint_tables(tables, tables["jira_snapshot"]["exported_at"].iloc[0])


def commitments() -> pd.DataFrame:
    return computed().commitments.set_index("sprint_name")


def scope_creep() -> pd.DataFrame:
    return computed().scope_creep.set_index("sprint_name")


def targets() -> pd.DataFrame:
    return computed().targets.set_index("sprint_name")


def velocity_latest(board_id: int) -> pd.Series:
    velocity = computed().velocity
    latest = velocity.loc[velocity["latest_closed"] & velocity["board_id"].eq(board_id)]
    assert len(latest) == 1
    return latest.iloc[0]


def test_checkout_scope_creep_in_the_active_sprint() -> None:
    scope = computed().scope_changes
    sprint = scope.loc[scope["sprint_name"] == "CHK Sprint 16"].set_index("issue_key")
    grown = sorted(sprint.index[sprint["grew"] & sprint["committed"]])
    assert grown == ["CHK-172", "CHK-184", "CHK-185", "CHK-196", "CHK-198"]
    assert sorted(sprint.index[sprint["became_large"]]) == ["CHK-184", "CHK-198"]
    assert sprint.loc["CHK-184", ["points_at_start", "points_at_end"]].tolist() == [2.0, 8.0]
    assert sorted(sprint.index[sprint["added_after_start"]]) == ["CHK-214", "CHK-219", "CHK-224"]
    # Each re-estimated story had its Acceptance Criteria section grown first, and one more
    # committed story grew its criteria without a re-estimate.
    criteria_grew = sprint["acceptance_criteria_length_at_end"].gt(
        sprint["acceptance_criteria_length_at_start"]
    )
    assert set(grown) < set(sprint.index[criteria_grew])
    assert len(sprint.index[criteria_grew & sprint["committed"]]) == len(grown) + 1
    row = commitments().loc["CHK Sprint 16"]
    assert row["sprint_state"] == "active"
    assert row["grown_stories"] == 5
    assert row["grown_story_share"] > 0.2
    creep = scope_creep().loc["CHK Sprint 16"]
    assert (creep["grown_stories"], creep["estimated_committed_stories"]) == (5, 12)
    assert creep["grown_story_share"] == pytest.approx(5 / 12)
    assert creep["scope_creep_alert"]


def test_mobile_missed_targets_spillover_and_velocity_drop() -> None:
    table = commitments()
    expected = {
        "MOB Sprint 27": (41, 42, 3),
        "MOB Sprint 28": (28, 42, 6),
        "MOB Sprint 29": (22, 40, 9),
        "MOB Sprint 30": (16, 42, 13),
    }
    for sprint, (completed, committed, spillover) in expected.items():
        row = table.loc[sprint]
        assert (row["completed_points"], row["committed_points"]) == (completed, committed)
        assert row["completion_rate"] == pytest.approx(completed / committed)
        if sprint != "MOB Sprint 27":
            assert row["spillover_issues"] == spillover, sprint
    mob_targets = targets().loc[list(expected)]
    assert mob_targets["completion_rate"].tolist() == pytest.approx(
        [completed / committed for completed, committed, _ in expected.values()]
    )
    assert mob_targets["missed_target"].tolist() == [False, True, True, True]
    # Work spilled over in each of the three sprints up to Sprint 30.
    sprint_30 = mob_targets.loc["MOB Sprint 30"]
    assert (sprint_30["window_sprints"], sprint_30["spillover_sprints"]) == (3, 3)
    latest = velocity_latest(2)
    assert latest["sprint_name"] == "MOB Sprint 30"
    assert latest["previous_mean_points"] == pytest.approx((41 + 28 + 22) / 3)
    assert latest["velocity_ratio"] == pytest.approx(0.53, abs=0.005)
    assert latest["velocity_drop"]
    assert latest["forecast_sprint_name"] == "MOB Sprint 31"


def test_mobile_issue_spilled_over_three_sprints_in_a_row() -> None:
    scope = computed().scope_changes
    mob_119 = scope.loc[scope["issue_key"] == "MOB-119"].set_index("sprint_name")
    carried = mob_119.index[mob_119["carried_over"]].tolist()
    assert carried == ["MOB Sprint 28", "MOB Sprint 29", "MOB Sprint 30"]
    assert mob_119.loc["MOB Sprint 31", "committed"]


def test_payments_and_checkout_velocity_and_completion() -> None:
    assert velocity_latest(1)["velocity_ratio"] == pytest.approx(1.00, abs=0.005)
    assert velocity_latest(3)["velocity_ratio"] == pytest.approx(0.86, abs=0.005)
    closed = commitments().loc[lambda t: t["sprint_state"].eq("closed")]
    by_board = closed.groupby("board_id")["completion_rate"].min()
    assert by_board[1] == pytest.approx(0.81, abs=0.005)
    assert by_board[3] == pytest.approx(0.78, abs=0.005)


def test_platform_is_healthy() -> None:
    table = commitments()
    platform = table.loc[table["board_id"] == 4]
    assert not scope_creep().loc[lambda t: t["board_id"].eq(4), "scope_creep_alert"].any()
    assert platform["grown_stories"].max() <= 1
    assert not targets().loc[lambda t: t["board_id"].eq(4), "missed_target"].any()
    closed = platform.loc[platform["sprint_state"].eq("closed")]
    assert closed["completion_rate"].min() == pytest.approx(0.95, abs=0.005)
    assert closed["spillover_issues"].max() <= 2
    latest = velocity_latest(4)
    assert latest["velocity_ratio"] == pytest.approx(1.02, abs=0.005)
    assert not computed().velocity.loc[lambda v: v["board_id"].eq(4), "velocity_drop"].any()


def test_checks_name_exactly_the_planted_sprints(tmp_path: Path) -> None:
    result = run(staging(), tmp_path)
    assert result.success
    checks = evaluations(result)
    creep = checks["sprint_scope_creep_within_threshold"]
    assert not creep.passed and creep.severity == dg.AssetCheckSeverity.WARN
    assert "CHK Sprint 16" in creep.description
    for other in ("MOB", "PAY", "PLAT"):
        assert other not in creep.description
    drop = checks["sprint_velocity_holds"]
    assert not drop.passed and drop.severity == dg.AssetCheckSeverity.WARN
    assert "MOB Sprint 30" in drop.description
    for other in ("CHK", "PAY", "PLAT"):
        assert other not in drop.description
    velocity = result.asset_materializations_for_node("sprint_velocity")[0].metadata
    assert velocity["min_latest_velocity_ratio"].value == pytest.approx(0.5275, abs=1e-4)
    target = checks["sprint_target_met"]
    assert not target.passed and target.severity == dg.AssetCheckSeverity.WARN
    assert target.metadata["crossed_rows"].value == 2
    assert "MOB Sprint 30" in target.description and "PAY Sprint 26" in target.description
    for other in ("CHK", "PLAT"):
        assert other not in target.description
