"""The issue metric assets in real Dagster runs on a real DuckDB warehouse: staging stand-ins (small
assets returning the hand-made site's staging tables) feed the six issue metric tables of the
defect-leakage, team-health and flow use cases (each home's assets, in the group named after it),
which must land in schema `metrics` with the values the pure functions give, with "as of" from
the snapshot or the JIRA_INSIGHTS_AS_OF setting; the threshold checks built from the homes' rules
(`assets/checks.py`) must report the sprints and boards that crossed with the right severity
without blocking; and a table that breaks its Pandera model must fail its asset with a message
naming the rows."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from metrics_issue_site import Site, t, trend_site
from publishing import with_publication
from staging_builders import staging_stand_ins

from jira_insights_pipeline.assets.checks import rule_check
from jira_insights_pipeline.registry import Thresholds, use_case
from jira_insights_pipeline.resources.io_managers import WarehouseIOManager
from jira_insights_pipeline.resources.settings import PipelineSettings

EXPORTED_AT = "2026-03-25 12:00"
ISSUE_USE_CASES = [use_case(name) for name in ("defect_leakage", "team_health", "flow")]
METRIC_ASSETS = [asset for issue_use_case in ISSUE_USE_CASES for asset in issue_use_case.assets]
CHECKS = [
    rule_check(issue_use_case, rule)
    for issue_use_case in ISSUE_USE_CASES
    for rule in issue_use_case.rules
]


def _site() -> Site:
    site = Site()
    site.boards.append({"board_id": 2, "name": "Calm board"})
    site.sprint(101, "S1", "closed", "2026-03-02 09:00", "2026-03-16 09:00", "2026-03-16 10:00")
    site.sprint(102, "S2", "active", "2026-03-16 11:00", "2026-03-30 09:00")
    site.sprint(201, "Q1", "active", "2026-03-16 11:00", "2026-03-30 09:00", board_id=2)
    site.issue("A-1", "2026-02-25").move("A-1", "2026-03-03", "In Progress")
    site.move("A-1", "2026-03-05 10:00", "Done")
    site.issue("A-2", "2026-03-06", issue_type="Bug", labels=["prod"]).link("A-2", "A-1")
    site.issue("A-3", "2026-03-07", issue_type="Bug", environment="QA")
    site.issue("A-4", "2026-03-01", updated="2026-03-02")  # stale
    site.issue("A-5", "2026-03-20").in_sprint("A-5", 102, "2026-03-20")  # missing estimate
    site.issue("B-1", "2026-03-20", board_id=2).estimate("B-1", "2026-03-20", 3)
    site.move("B-1", "2026-03-21", "In Progress")
    return site


def _materialize(
    tables: dict[str, pd.DataFrame], tmp_path: Path, as_of: str | None = None
) -> tuple[dg.ExecuteInProcessResult, Path]:
    database = tmp_path / "warehouse.duckdb"
    result = dg.materialize(
        with_publication([*staging_stand_ins(tables), *METRIC_ASSETS, *CHECKS]),
        resources={
            "io_manager": WarehouseIOManager(data_dir=str(tmp_path)),
            "pipeline_settings": PipelineSettings(data_dir=str(tmp_path), as_of=as_of),
            "thresholds": Thresholds(),
        },
        raise_on_error=False,
    )
    return result, database


def _read(database: Path, table: str) -> pd.DataFrame:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(f"select * from metrics.{table}").df()


def test_assets_and_checks_come_from_their_homes() -> None:
    groups = {
        key.path[-1]: asset.group_names_by_key[key] for asset in METRIC_ASSETS for key in asset.keys
    }
    assert groups == {
        "defect_leakage": "defect_leakage",
        "defect_escape_rates": "defect_leakage",
        "escape_causes": "defect_leakage",
        "escape_clusters": "defect_leakage",
        "work_item_health": "team_health",
        "hygiene_scores": "team_health",
        "cycle_times": "flow",
        "cycle_time_trends": "flow",
        "status_time_changes": "flow",
        "aged_work": "flow",
    }
    checks = {key.name: key.asset_key.path[-1] for check in CHECKS for key in check.check_keys}
    assert checks == {
        "defect_escape_rate_within_threshold": "defect_escape_rates",
        "hygiene_score_above_minimum": "hygiene_scores",
        "cycle_time_median_steady": "cycle_time_trends",
    }


def test_tables_land_in_the_warehouse_with_their_values(tmp_path: Path) -> None:
    result, database = _materialize(_site().tables(EXPORTED_AT), tmp_path)
    assert result.success
    leakage = _read(database, "defect_leakage").set_index("issue_key")
    assert leakage["environment_class"].to_dict() == {"A-2": "production", "A-3": "qa"}
    assert list(leakage.loc["A-2", "done_story_keys"]) == ["A-1"]
    rates = _read(database, "defect_escape_rates").set_index("sprint_id")
    assert rates.loc[101, "escape_rate"] == pytest.approx(0.5)
    assert bool(rates.loc[101, "leakage_alert"])
    assert (pd.to_datetime(rates["as_of"], utc=True) == t(EXPORTED_AT)).all()
    health = _read(database, "work_item_health").set_index("issue_key")
    assert list(health.loc["A-4", "problems"]) == ["stale"]
    assert list(health.loc["A-5", "problems"]) == ["missing_estimate"]
    scores = _read(database, "hygiene_scores").set_index("board_id")
    # Board 1 open, A-5 (A-2/A-3 bugs filed 18+ days ago are stale too).
    assert scores.loc[1, "open_issues"] == 4
    assert scores.loc[1, "hygiene_score"] == pytest.approx(0.0)
    assert scores.loc[2, "hygiene_score"] == pytest.approx(100.0)
    cycle = _read(database, "cycle_times").set_index("issue_key")
    assert cycle.loc["A-1", "cycle_time_days"] == pytest.approx(2 + 10 / 24)
    trends = _read(database, "cycle_time_trends").set_index("sprint_id")
    assert trends.loc[101, "median_cycle_time_days"] == pytest.approx(2 + 10 / 24)

    materialization = result.asset_materializations_for_node("defect_escape_rates")[0]
    assert materialization.metadata["dagster/row_count"].value == 3
    assert materialization.metadata["max_judged_escape_rate"].value == pytest.approx(0.5)
    assert materialization.metadata["alerting_sprints"].value == 1
    assert "S1" in materialization.metadata["preview"].value


def test_threshold_checks_report_who_crossed(tmp_path: Path) -> None:
    result, _ = _materialize(_site().tables(EXPORTED_AT), tmp_path)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    leakage = evaluations["defect_escape_rate_within_threshold"]
    assert not leakage.passed
    assert leakage.severity == dg.AssetCheckSeverity.ERROR
    # S1 (closed last), S2 and Q1 (running) are judged; S1 leaked 1 of its 2 bugs.
    assert leakage.description == (
        "board 1, S1: Bugs found in production: 1, in testing: 1; an escape rate of 50% against "
        "a 20% limit."
    )
    assert leakage.metadata["judged_rows"].value == 3
    assert leakage.metadata["crossed_rows"].value == 1
    hygiene = evaluations["hygiene_score_above_minimum"]
    assert not hygiene.passed and hygiene.severity == dg.AssetCheckSeverity.WARN
    assert hygiene.description == (
        "Team board: The hygiene score is 0, below the healthy 70; 4 of 4 open issues have a "
        "problem."
    )
    assert "Calm board" not in hygiene.description
    assert hygiene.metadata["crossed_rows"].value == 1
    scores = result.asset_materializations_for_node("hygiene_scores")[0].metadata
    assert scores["min_hygiene_score"].value == pytest.approx(0.0)
    flow = evaluations["cycle_time_median_steady"]
    assert flow.passed and flow.severity == dg.AssetCheckSeverity.WARN
    # Failed checks do not fail the run: the insights must still be written.
    assert result.success


def test_as_of_setting_overrides_the_snapshot(tmp_path: Path) -> None:
    result, database = _materialize(
        _site().tables(EXPORTED_AT), tmp_path, as_of="2026-03-06T12:00:00+00:00"
    )
    assert result.success
    leakage = _read(database, "defect_leakage")
    assert leakage["issue_key"].tolist() == ["A-2"]
    rates = _read(database, "defect_escape_rates")
    assert rates["sprint_id"].tolist() == [101]
    assert rates["sprint_state"].tolist() == ["active"]
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not evaluations["defect_escape_rate_within_threshold"].passed  # 1 of 1 in production


def test_a_table_breaking_its_model_fails_its_asset(tmp_path: Path) -> None:
    tables = _site().tables(EXPORTED_AT)
    # Two boards with the same id: hygiene_scores would hold two rows for one board.
    tables["jira_boards"] = pd.concat([tables["jira_boards"], tables["jira_boards"].iloc[[0]]])
    result, _ = _materialize(tables, tmp_path)
    assert not result.success
    failures = [
        event for event in result.all_events if event.event_type == dg.DagsterEventType.STEP_FAILURE
    ]
    assert [event.step_key for event in failures] == ["hygiene_scores"]
    message = failures[0].step_failure_data.error.message
    assert "Table hygiene_scores failed validation" in message
    assert "board_id" in message


def test_cycle_time_check_judges_the_last_closed_sprint(tmp_path: Path) -> None:
    # On 02-05, P5 is still running and P4 (median 3.5 days against 2.5 before: +40%) is the
    # board's last closed sprint.
    result, database = _materialize(
        trend_site().tables("2026-02-05 00:00"), tmp_path, as_of="2026-02-05T00:00:00+00:00"
    )
    assert result.success
    trends = _read(database, "cycle_time_trends").set_index("sprint_name")
    assert trends.loc["P5", "sprint_state"] == "active"
    flow = {e.check_name: e for e in result.get_asset_check_evaluations()}[
        "cycle_time_median_steady"
    ]
    assert not flow.passed and flow.severity == dg.AssetCheckSeverity.WARN
    assert flow.description == (
        "board 1, P4: The median cycle time was 3.5 days against 2.5 in the previous 3 sprints "
        "(+40%), more than the allowed 20% rise."
    )
    assert flow.metadata["judged_rows"].value == 1
    figures = result.asset_materializations_for_node("cycle_time_trends")[0].metadata
    assert figures["max_judged_median_change_pct"].value == pytest.approx(40.0)
    assert trends.loc["P4", "cycle_time_rise"] and not trends.loc["P5", "cycle_time_rise"]
