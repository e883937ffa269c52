"""The issue metric tables (of the defect-leakage, team-health and flow homes under
`assets/`) on the bundled sample site, parsed by the real staging parser: every situation
jira_insights_pipeline/sample/PLANTED.md plants for defect leakage, ticket hygiene and cycle time
is found with the figures listed there (Payments leaks 2 of 5 classified bugs to
production in every sprint and has a hygiene score of 58.1 with the named stale, blocked,
unestimated and long-running issues; Checkout's last closed sprint has a median cycle time 1.93
times that of the three before), and the healthy Platform board trips nothing. One Dagster run
checks that the threshold checks built from the homes' rules name exactly those boards."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from staging_builders import staging_stand_ins

from jira_insights_pipeline.assets.checks import rule_check
from jira_insights_pipeline.assets.defect_leakage.metrics import (
    defect_escape_rates,
    defect_leakage,
)
from jira_insights_pipeline.assets.flow.metrics import cycle_time_trends, cycle_times
from jira_insights_pipeline.assets.team_health.metrics import hygiene_scores, work_item_health
from jira_insights_pipeline.insights.engine import write_insights
from jira_insights_pipeline.insights.tables import MetricTables
from jira_insights_pipeline.parsing.staging import build_staging_tables
from jira_insights_pipeline.registry import Thresholds, use_case
from jira_insights_pipeline.resources.io_managers import WarehouseIOManager
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.sample import SITE_DIR
from jira_insights_pipeline.snapshot import load_snapshot

CHK, MOB, PAY, PLAT = 1, 2, 3, 4
THRESHOLDS = Thresholds()
ISSUE_USE_CASES = [use_case(name) for name in ("defect_leakage", "team_health", "flow")]


@cache
def _staging() -> dict[str, pd.DataFrame]:
    return build_staging_tables(load_snapshot(SITE_DIR)).tables()


def _as_of() -> pd.Timestamp:
    return _staging()["jira_snapshot"]["exported_at"].iloc[0]


@cache
def _leakage() -> pd.DataFrame:
    tables = _staging()
    return defect_leakage(
        tables["jira_issues"],
        tables["jira_status_intervals"],
        tables["jira_issue_links"],
        tables["jira_sprints"],
        _as_of(),
    )


@cache
def _health() -> pd.DataFrame:
    tables = _staging()
    return work_item_health(
        tables["jira_issues"],
        tables["jira_changelog"],
        tables["jira_status_intervals"],
        tables["jira_estimates"],
        tables["jira_sprint_membership"],
        tables["jira_sprints"],
        _as_of(),
        THRESHOLDS.team_health,
    )


def _keys(frame: pd.DataFrame, board: int, column: str) -> list[str]:
    rows = frame.loc[frame["board_id"].eq(board) & frame[column].astype(bool)]
    return sorted(rows["issue_key"], key=lambda key: int(key.split("-")[1]))


def test_payments_leaks_two_of_five_bugs_every_sprint() -> None:
    rates = defect_escape_rates(
        _leakage(), _staging()["jira_sprints"], _as_of(), THRESHOLDS.defect_leakage
    )
    totals = rates.groupby("board_id")[["production_bugs", "qa_bugs"]].sum()
    assert totals.loc[PAY].tolist() == [18, 27]  # 18/45
    assert totals.loc[CHK].tolist() == [1, 45] and totals.loc[MOB].tolist() == [1, 45]
    assert totals.loc[PLAT].tolist() == [0, 45]
    pay = rates.loc[rates["board_id"].eq(PAY)].set_index("sprint_name")
    assert len(pay) == 9
    assert pay["escape_rate"].tolist() == pytest.approx([0.4] * 9)
    assert pay["leakage_alert"].all()
    assert (pay["unknown_bugs"] == 1).all()
    assert not rates.loc[rates["board_id"].ne(PAY), "leakage_alert"].any()
    # Each production bug is caused by a story finished in an earlier sprint.
    leakage = _leakage().set_index("issue_key")
    assert list(leakage.loc["PAY-195", "done_story_keys"]) == ["PAY-124"]
    assert list(leakage.loc["PAY-198", "done_story_keys"]) == ["PAY-165"]
    assert leakage.loc["PAY-195", "sprint_name"] == "PAY Sprint 26"
    production = leakage.loc[leakage["environment_class"].eq("production")]
    assert production.loc[production["board_id"].eq(PAY), "linked_to_done_story"].sum() >= 17


def test_payments_hygiene_and_the_others() -> None:
    health = _health()
    assert _keys(health, PAY, "in_progress_too_long") == ["PAY-152", "PAY-169", "PAY-179"]
    assert _keys(health, PAY, "missing_estimate") == ["PAY-193", "PAY-197", "PAY-210"]
    assert _keys(health, PAY, "stale") == [
        "PAY-39",
        "PAY-61",
        "PAY-79",
        "PAY-101",
        "PAY-122",
        "PAY-146",
        "PAY-171",
        "PAY-190",
        "PAY-193",
    ]
    blocked = health.loc[health["blocked_now"]].set_index("issue_key")["blocked_days"]
    assert sorted(blocked.index) == ["PAY-170", "PAY-172", "PAY-187", "PAY-191"]
    assert blocked.round(1).to_dict() == {
        "PAY-170": 3.3,
        "PAY-172": 1.0,
        "PAY-187": 7.7,
        "PAY-191": 5.6,
    }
    scores = hygiene_scores(health, _staging()["jira_boards"], _as_of(), THRESHOLDS.team_health)
    scores = scores.set_index("board_id")
    assert scores.loc[PAY, "open_issues"] == 43
    assert round(scores.loc[PAY, "hygiene_score"], 1) == 58.1 and scores.loc[PAY, "hygiene_alert"]
    assert round(scores.loc[CHK, "hygiene_score"], 1) == 90.6
    assert round(scores.loc[MOB, "hygiene_score"], 1) == 81.4
    assert scores.loc[PLAT, "hygiene_score"] == 100.0
    assert scores["hygiene_alert"].tolist() == [True, False, False, False]  # worst first
    assert health.loc[health["board_id"].eq(PLAT), "problem_count"].sum() == 0


def test_checkout_cycle_time_rises_and_platform_does_not() -> None:
    tables = _staging()
    table = cycle_times(
        tables["jira_issues"], tables["jira_status_intervals"], tables["jira_sprints"], _as_of()
    )
    trends = cycle_time_trends(table, tables["jira_sprints"], _as_of(), THRESHOLDS.flow)
    last_closed = (
        trends.loc[trends["sprint_state"].eq("closed")]
        .drop_duplicates("board_id", keep="last")
        .set_index("board_id")
    )
    assert last_closed.loc[CHK, "sprint_name"] == "CHK Sprint 15"
    ratios = 1 + last_closed["median_change_pct"] / 100
    assert ratios.round(2).to_dict() == {CHK: 1.93, MOB: 1.10, PAY: 0.86, PLAT: 0.83}
    assert last_closed["cycle_time_rise"].to_dict() == {
        CHK: True,
        MOB: False,
        PAY: False,
        PLAT: False,
    }
    assert not trends.loc[trends["board_id"].eq(PLAT), "cycle_time_rise"].any()


def test_checks_name_the_planted_boards_only(tmp_path: Path) -> None:
    result = dg.materialize(
        [
            *staging_stand_ins(_staging()),
            *(asset for issue_use_case in ISSUE_USE_CASES for asset in issue_use_case.assets),
            *(
                rule_check(issue_use_case, rule)
                for issue_use_case in ISSUE_USE_CASES
                for rule in issue_use_case.rules
            ),
        ],
        resources={
            "io_manager": WarehouseIOManager(data_dir=str(tmp_path)),
            "pipeline_settings": PipelineSettings(data_dir=str(tmp_path)),
            "thresholds": THRESHOLDS,
        },
    )
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    leakage = checks["defect_escape_rate_within_threshold"]
    assert not leakage.passed and leakage.severity == dg.AssetCheckSeverity.ERROR
    assert leakage.description == (
        "board 3, PAY Sprint 26: Bugs found in production: 2, in testing: 3; an escape rate of "
        "40% against a 20% limit. board 3, PAY Sprint 27: Bugs found in production: 2, in "
        "testing: 3; an escape rate of 40% against a 20% limit."
    )
    hygiene = checks["hygiene_score_above_minimum"]
    assert not hygiene.passed
    assert hygiene.description.startswith("PAY board: The hygiene score is 58, below")
    assert hygiene.metadata["crossed_rows"].value == 1
    flow = checks["cycle_time_median_steady"]
    assert not flow.passed
    assert flow.description.startswith("board 1, CHK Sprint 15: The median cycle time was")
    assert "(+93%), more than the allowed 20% rise." in flow.description
    assert flow.metadata["crossed_rows"].value == 1
    for check in checks.values():
        assert "PLAT" not in check.description and "board 4" not in check.description


def test_the_payments_health_insight_names_the_longest_blocked_issue_and_where_problems_sit() -> (
    None
):
    """Issue #11, team health: the insight says which issue has been blocked longest (PLANTED.md:
    PAY-187, flagged 7.7 days ago; PAY-191 5.6, PAY-170 3.3, PAY-172 1) and which status holds
    the most open issues with a problem, both computed from `work_item_health`."""
    health = _health()
    scores = hygiene_scores(health, _staging()["jira_boards"], _as_of(), THRESHOLDS.team_health)
    tables = MetricTables(
        as_of=_as_of().isoformat(),
        frames={**_staging(), "work_item_health": health, "hygiene_scores": scores},
    )
    team_health = use_case("team_health")
    (payments,) = [
        i for i in team_health.facts(tables, THRESHOLDS.team_health) if i.board_id == PAY
    ]
    assert payments.severity == "warning"
    assert payments.fact("oldest_blocked_issue").value == "PAY-187"
    assert payments.fact("oldest_blocked_days").value == 7.7
    pay = health.loc[health["board_id"].eq(PAY) & health["problem_count"].gt(0)]
    by_status = pay.groupby("status")["issue_key"].count()
    assert payments.fact("worst_status").value == by_status.idxmax()
    assert payments.fact("worst_status_issues").value == by_status.max()
    (written,), _ = write_insights([payments], team_health.wording, None)
    assert "PAY-187 has been blocked for 7.7 days." in written.document["message"]
    assert "The most common problem is stale issues (9)." in written.document["message"]
