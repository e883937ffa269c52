"""The sprint metric assets in real Dagster runs on a real DuckDB warehouse: staging stand-ins
(small assets returning hand-made staging tables) feed `sprint_scope_changes`,
`sprint_commitments` and `sprint_velocity`; the stored tables are read back with DuckDB, and the
non-blocking threshold checks must warn about exactly the sprints that crossed (scope creep in
the last closed sprint, a velocity drop) and pass otherwise. The "as of" override of the
`pipeline_settings` resource must reach the computation."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
from metrics_sprint_site import SprintSite, build_site, evaluations, run, stored


def test_tables_are_stored_and_checks_pass_on_a_calm_recent_sprint(tmp_path: Path) -> None:
    result = run(build_site().tables(exported_at="2026-04-01 00:00"), tmp_path)
    assert result.success
    commitments = stored(tmp_path, "sprint_commitments").set_index("sprint_id")
    assert commitments.loc[1, "committed_points"] == 16.0
    assert commitments.loc[1, "completed_points"] == 19.0
    assert bool(commitments.loc[1, "scope_creep_alert"])
    assert commitments.loc[3, "sprint_state"] == "active"
    scope = stored(tmp_path, "sprint_scope_changes")
    became_large = scope.loc[scope["became_large"], ["sprint_id", "issue_key"]]
    assert became_large.values.tolist() == [[1, "A-2"]]
    assert (scope["as_of"] == pd.Timestamp("2026-04-01", tz="UTC")).all()
    velocity = stored(tmp_path, "sprint_velocity")
    assert velocity["completed_points"].tolist() == [19.0, 13.0]
    # Sprint 1's creep is history: the checks judge the last closed sprint (2) and the active
    # one (3), neither of which crossed.
    checks = evaluations(result)
    creep = checks["sprint_scope_creep_within_threshold"]
    assert creep.passed and creep.severity == dg.AssetCheckSeverity.WARN
    assert creep.metadata["judged_sprints"].value == 2
    assert creep.metadata["max_grown_story_share"].value == 0.0
    assert checks["sprint_velocity_holds"].passed
    materialization = result.asset_materializations_for_node("sprint_commitments")[0]
    assert materialization.metadata["dagster/row_count"].value == 3
    assert materialization.metadata["scope_creep_sprints"].value == 1


def test_scope_creep_warns_when_the_last_closed_sprint_crossed(tmp_path: Path) -> None:
    # On 20 March Sprint 1 was the last closed sprint and Sprint 2 was running.
    result = run(
        build_site().tables(exported_at="2026-04-01 00:00"),
        tmp_path,
        as_of="2026-03-20T00:00:00+00:00",
    )
    assert result.success  # a non-blocking check never fails the run
    creep = evaluations(result)["sprint_scope_creep_within_threshold"]
    assert not creep.passed and creep.severity == dg.AssetCheckSeverity.WARN
    assert "board 1, Sprint 1 (sprint 1): 2 of 5 stories (40%)" in creep.description
    assert creep.metadata["max_grown_story_share"].value == 0.4
    assert creep.metadata["threshold"].value == 0.2
    commitments = stored(tmp_path, "sprint_commitments").set_index("sprint_id")
    assert commitments.loc[2, "sprint_state"] == "active"
    assert commitments.loc[2, "sprint_end"] == pd.Timestamp("2026-03-20", tz="UTC")


def test_velocity_drop_warns(tmp_path: Path) -> None:
    site = SprintSite()
    completed = [10, 10, 10, 5]
    for number, points in enumerate(completed):
        start = pd.Timestamp("2026-01-05 09:00", tz="UTC") + pd.Timedelta(weeks=2 * number)
        end = start + pd.Timedelta(days=11)
        site.sprint(number + 1, f"Sprint {number + 1}", "closed", str(start), str(end), str(end))
        key = f"V-{number + 1}"
        site.issue(key, str(start - pd.Timedelta(days=2)), points=points)
        site.in_sprint(key, number + 1, str(start - pd.Timedelta(days=1)))
        site.move(key, str(start + pd.Timedelta(days=5)), "Done")
    result = run(site.tables(exported_at="2026-03-01 00:00"), tmp_path)
    assert result.success
    check = evaluations(result)["sprint_velocity_holds"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    expected = "board 1, Sprint 4 (sprint 4): 5 points against a mean of 10.0 (50%)"
    assert expected in check.description
    assert check.metadata["min_velocity_ratio"].value == 0.5
    velocity = stored(tmp_path, "sprint_velocity")
    assert velocity["velocity_drop"].tolist() == [False, False, False, True]
