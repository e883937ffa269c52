"""The sprint metric assets in real Dagster runs on a real DuckDB warehouse: staging stand-ins
(small assets returning hand-made staging tables) feed the sprint ledger (`assets/sprints`:
`sprint_scope_changes`, `sprint_commitments`) and the sprint use cases' tables read from it
(`sprint_scope_creep`, `sprint_targets`, `sprint_velocity`, from their homes); the stored tables
are read back with DuckDB, and the non-blocking threshold checks built from the rules
(`assets/checks.py`) must warn about exactly the sprints that crossed (scope creep in the last
closed sprint, a missed target, a velocity drop) and pass otherwise. The "as of" override of the
`pipeline_settings` resource must reach the computation."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
from metrics_sprint_site import SPRINT_ASSETS, SprintSite, build_site, evaluations, run, stored


def test_assets_sit_in_their_homes_groups() -> None:
    groups = {
        key.path[-1]: asset.group_names_by_key[key] for asset in SPRINT_ASSETS for key in asset.keys
    }
    assert groups == {
        "sprint_scope_changes": "sprints",
        "sprint_commitments": "sprints",
        "sprint_scope_creep": "scope_creep",
        "scope_growth_causes": "scope_creep",
        "sprint_scope_causes": "scope_creep",
        "sprint_targets": "missed_target",
        "spillover_reasons": "missed_target",
        "spillover_patterns": "missed_target",
        "sprint_velocity": "velocity",
        "velocity_causes": "velocity",
    }


def test_tables_are_stored_and_checks_pass_on_a_calm_recent_sprint(tmp_path: Path) -> None:
    result = run(build_site().tables(exported_at="2026-04-01 00:00"), tmp_path)
    assert result.success
    commitments = stored(tmp_path, "sprint_commitments").set_index("sprint_id")
    assert commitments.loc[1, "committed_points"] == 16.0
    assert commitments.loc[1, "completed_points"] == 19.0
    assert commitments.loc[3, "sprint_state"] == "active"
    assert "scope_creep_alert" not in commitments.columns
    creep_table = stored(tmp_path, "sprint_scope_creep").set_index("sprint_id")
    assert creep_table["scope_creep_alert"].to_dict() == {1: True, 2: False, 3: False}
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
    assert creep.metadata["judged_rows"].value == 2
    assert creep.metadata["crossed_rows"].value == 0
    assert creep.metadata["rule_column"].value == "scope_creep_alert"
    assert checks["sprint_velocity_holds"].passed
    materialization = result.asset_materializations_for_node("sprint_commitments")[0]
    assert materialization.metadata["dagster/row_count"].value == 3
    creep_figures = result.asset_materializations_for_node("sprint_scope_creep")[0].metadata
    assert creep_figures["dagster/row_count"].value == 3
    assert creep_figures["max_judged_grown_story_share"].value == 0.0
    assert creep_figures["alerting_sprints"].value == 0
    assert creep_figures["grown_story_share_alert"].value == 0.2
    # Sprint 2, the latest closed sprint, completed 13 of 19 committed points (68%).
    targets = stored(tmp_path, "sprint_targets").set_index("sprint_id")
    assert targets["missed_target"].to_dict() == {1: False, 2: True}
    target = checks["sprint_target_met"]
    assert not target.passed and target.severity == dg.AssetCheckSeverity.WARN
    assert target.metadata["judged_rows"].value == 1
    assert target.description == (
        "board 1, Sprint 2: The team completed 13 points against a commitment of 19 (68%), "
        "below the 80% target; 0 issues spilled over."
    )


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
    assert creep.description.startswith(
        "board 1, Sprint 1: 2 of 5 estimated committed stories (40%) grew after the sprint "
        "started, above the 20% limit."
    )
    assert creep.metadata["crossed_rows"].value == 1
    assert creep.metadata["thresholds"].value == {
        "grown_story_share_alert": 0.2,
        "criteria_lookback_days": 3.0,
    }
    figures = result.asset_materializations_for_node("sprint_scope_creep")[0].metadata
    assert figures["max_judged_grown_story_share"].value == 0.4
    assert figures["alerting_sprints"].value == 1
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
    expected = (
        "board 1, Sprint 4: Sprint 4 completed 5 points against a mean of 10.0 over the "
        "previous 3 sprints (50%)"
    )
    assert expected in check.description
    figures = result.asset_materializations_for_node("sprint_velocity")[0].metadata
    assert figures["min_latest_velocity_ratio"].value == 0.5
    velocity = stored(tmp_path, "sprint_velocity")
    assert velocity["velocity_drop"].tolist() == [False, False, False, True]
