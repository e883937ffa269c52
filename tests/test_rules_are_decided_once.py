"""Every threshold rule is decided once, as a boolean column of its metric table, and everything
downstream follows that column: the asset check, the insight's severity, title and first
sentence, the alert and the report figure.

Real materializations of the real Definitions (model off) on the bundled sample site and on the
real-data snapshots under tests/data, plus one run whose thresholds are changed through the
`thresholds` resource's run config (as the launchpad changes them), so that every rule
flips on the sample site. For every row whose flag is set on the rows its rule judges, the
matching insight exists, is at least as severe as the rule, carries the rule's alarm headline
and states the crossed threshold in its first sentence; where no flag is set, nothing is above
`info`. The healthy board (PLAT) raises nothing under the default thresholds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pytest
from automation_runs import materialize

from jira_insights_pipeline.automation.crossings import crossings_for, watched_rules
from jira_insights_pipeline.insights.values import render_value
from jira_insights_pipeline.registry import Thresholds, use_cases
from jira_insights_pipeline.rules import SEVERITY_RANK
from jira_insights_pipeline.use_case import UseCase

DATA = Path(__file__).parent / "data"
REAL_SNAPSHOTS = ("devlake_site", "kanalyzer_site", "actionableagile_site")
PLAT = 4

# Thresholds under which no sample board crosses anything, except a completion target no
# sprint can reach, so that missed targets cross on every board (the healthy one too).
FLIPPED = {
    "scope_creep": {"grown_story_share_alert": 0.99},
    "missed_target": {"completion_rate_min": 1.5},
    "defect_leakage": {"escape_rate_alert": 0.99},
    "team_health": {"hygiene_score_min": 1.0},
    "velocity": {"velocity_drop_ratio": 0.01},
    "flow": {"cycle_time_rise": 9.0},
}
FLIPPED_RUN_CONFIG = {"resources": {"thresholds": {"config": FLIPPED}}}


def _run(tmp: Path, snapshot: Path | None = None, run_config: dict | None = None) -> dict:
    """Materialize everything into `tmp`; the warehouse tables, insights and check results."""
    data_dir = tmp / "data"
    with dg.instance_for_test() as instance:
        result = materialize(instance, data_dir, snapshot_dir=snapshot, run_config=run_config)
        assert result.success
        checks = {
            evaluation.check_name: evaluation.passed
            for evaluation in result.get_asset_check_evaluations()
        }
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        tables = {
            rule.table: connection.execute(f"select * from metrics.{rule.table}").fetchdf()
            for use_case in use_cases()
            for rule in use_case.rules
        }
        boards = connection.execute("select board_id, name from jira.jira_boards").fetchdf()
    feed = json.loads((data_dir / "insights" / "insights_feed.json").read_text())["insights"]
    report = (data_dir / "report" / "insights.html").read_text(encoding="utf-8")
    return {
        "tables": tables,
        "checks": checks,
        "insights": feed,
        "report": report,
        "board_names": {int(r.board_id): str(r.name) for r in boards.itertuples()},
    }


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _run(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def flipped(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _run(tmp_path_factory.mktemp("flipped"), run_config=FLIPPED_RUN_CONFIG)


@pytest.fixture(scope="module", params=REAL_SNAPSHOTS)
def real(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _run(tmp_path_factory.mktemp(request.param), snapshot=DATA / request.param)


def _matching(insights: list[dict], use_case: UseCase, board_id: int, sprint_id: Any) -> dict:
    found = [
        insight
        for insight in insights
        if insight["type"] == use_case.name
        and insight["board"]["id"] == board_id
        and (sprint_id is None or (insight["sprint"] or {}).get("id") == sprint_id)
    ]
    assert len(found) == 1, f"{use_case.name} board {board_id} sprint {sprint_id}: {found}"
    return found[0]


def _first_sentence(message: str) -> str:
    return re.split(r"(?<=[.!?])\s+(?=[A-Z0-9{])", message, maxsplit=1)[0]


def assert_every_crossing_is_said(run: dict) -> int:
    """Each flagged row's insight says so; every other insight of a judged row is `info`."""
    crossed_count = 0
    for use_case in use_cases():
        for rule in use_case.rules:
            table = run["tables"][rule.table]
            crossed = rule.crossed(table)
            assert run["checks"][rule.check] is crossed.empty, rule.check
            said = set()
            for _, row in crossed.iterrows():
                if pd.isna(row["board_id"]):
                    continue
                sprint_id = int(row["sprint_id"]) if rule.per_sprint else None
                insight = _matching(run["insights"], use_case, int(row["board_id"]), sprint_id)
                said.add(insight["id"])
                assert SEVERITY_RANK[insight["severity"]] >= SEVERITY_RANK[rule.severity]
                sprint = (insight["sprint"] or {}).get("name")
                title = use_case.wording.titles.alarm.format(
                    board=insight["board"]["name"], sprint=sprint
                )
                assert insight["title"] == title
                limit = insight["facts"][rule.limit_fact]
                # Every limit is a share, but for the hygiene score (points out of 100).
                kind = "score" if rule.limit_fact == "hygiene_score_min" else "ratio"
                assert render_value(limit, kind) in _first_sentence(insight["message"]), insight[
                    "message"
                ]
                crossed_count += 1
            for insight in run["insights"]:
                if insight["type"] == use_case.name and insight["id"] not in said:
                    assert insight["severity"] == "info", insight
    return crossed_count


def test_sample_site_every_crossed_rule_is_in_its_insight(sample: dict) -> None:
    # PLANTED.md: scope creep and a cycle-time rise on CHK, a missed target and a velocity drop
    # on MOB, leakage (two sprints), hygiene and a missed target on PAY; nothing on PLAT.
    assert assert_every_crossing_is_said(sample) == 8
    assert all(i["severity"] == "info" for i in sample["insights"] if i["board"]["id"] == PLAT)
    flow = [i for i in sample["insights"] if i["type"] == "flow" and i["board"]["id"] == 1]
    assert [(i["severity"], i["sprint"]["name"]) for i in flow] == [("warning", "CHK Sprint 15")]
    assert flow[0]["facts"]["median_cycle_days"] == 7.6
    assert flow[0]["facts"]["previous_median_cycle_days"] == 3.9
    # The rise leads with its cause (PLANTED.md: the extra time waited in review).
    assert "In Review rose most, from 1.9 to 6.9 days" in flow[0]["message"]
    assert "cycle time on CHK board from 3.9 to 7.6 days" in flow[0]["message"]
    velocity = [i for i in sample["insights"] if i["type"] == "velocity" and i["board"]["id"] == 1]
    assert velocity[0]["severity"] == "info" and "cycle" not in velocity[0]["message"]


def test_real_snapshots_every_crossed_rule_is_in_its_insight(real: dict) -> None:
    # The Kanban sites (no sprints, nothing open) have no judged row; DevLake's has many.
    assert_every_crossing_is_said(real)


def test_thresholds_set_in_run_config_move_every_rule(sample: dict, flipped: dict) -> None:
    assert assert_every_crossing_is_said(flipped) == 4  # a missed target on each board
    for use_case in use_cases():
        for rule in use_case.rules:
            before = rule.crossed(sample["tables"][rule.table])
            after = rule.crossed(flipped["tables"][rule.table])
            if use_case.name == "missed_target":
                assert len(after) == 4 and len(before) == 2
                assert not flipped["checks"][rule.check]
            else:
                assert len(before) > 0 and after.empty, rule.name
                assert flipped["checks"][rule.check] and not sample["checks"][rule.check]
    severities = {(i["type"], i["severity"]) for i in flipped["insights"]}
    assert {severity for kind, severity in severities if kind != "missed_target"} == {"info"}
    plat = [i for i in flipped["insights"] if i["board"]["id"] == PLAT]
    assert {i["severity"] for i in plat if i["type"] == "missed_target"} == {"warning"}
    # The report marks exactly the figures whose rule is crossed: completion rates only.
    marked = re.findall(r'class="figure alert">\s*<div class="label">([^<]+)<', flipped["report"])
    assert marked == ["Completion rate"] * 4
    # The alerts follow the same columns and the same run-config thresholds.
    thresholds = Thresholds(**FLIPPED)
    alerted = {
        watched.rule.name: crossings_for(
            watched, flipped["tables"][watched.asset], thresholds, flipped["board_names"]
        )
        for watched in watched_rules()
    }
    assert {name: len(found) for name, found in alerted.items() if found} == {"missed_target": 4}
    message = alerted["missed_target"][0].message
    assert "below the 150% target" in message


def test_a_threshold_out_of_its_range_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="escape_rate_alert"):
        Thresholds(defect_leakage={"escape_rate_alert": -5})
    with pytest.raises(ValueError, match="small_max_points"):
        Thresholds(sprints={"small_max_points": 8, "large_min_points": 8})
