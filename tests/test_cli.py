"""`jira-insights summary`, the last thing `make demo` prints: it must name where each output
is, count every warehouse table's rows, and list the findings that need attention, worst first."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from jira_insights_pipeline.cli import main, summary


def test_summary_names_outputs_counts_rows_and_lists_findings(tmp_path: Path, capsys) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as connection:
        connection.execute("create schema metrics")
        connection.execute("create table metrics.hygiene_scores as select 1 as board_id")
        connection.execute("insert into metrics.hygiene_scores values (2)")
    (data_dir / "insights").mkdir()
    feed = {
        "insights": [
            {"severity": "info", "title": "Ticket hygiene on PLAT board is healthy"},
            {"severity": "warning", "title": "Scope grew during CHK Sprint 16"},
            {"severity": "error", "title": "Bugs escaped to production from PAY Sprint 26"},
        ]
    }
    (data_dir / "insights" / "insights_feed.json").write_text(json.dumps(feed))

    assert main(["summary", "--data-dir", str(data_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"  warehouse:    {(data_dir / 'warehouse.duckdb').resolve()}" in lines
    assert "    metrics.hygiene_scores                       2 rows" in lines
    findings = lines.index("  findings:     2 need attention, 1 healthy")
    assert lines[findings + 1 : findings + 3] == [
        "    [error] Bugs escaped to production from PAY Sprint 26",
        "    [warning] Scope grew during CHK Sprint 16",
    ]


def test_summary_before_any_run_says_what_to_do(tmp_path: Path) -> None:
    text = summary(tmp_path / "data")
    assert "no warehouse" in text
    assert "make demo" in text
