"""The insights' history: the feed kept by day, and what each insight says changed.

Covers, without Dagster: the subject (stable across days where the id is not), the history file
name (the feed's UTC day), `previous_feed` (the newest readable file strictly before the day;
a broken file is skipped with a warning, never a crash), `mark_changes` (new, worse, better,
open; no change at all when there is nothing to compare with) and `resolved` (yesterday's
problems no longer raised), and the report page and exports showing them, escaped. Then the
real Definitions on the bundled sample site, materialized on two days: the second feed says
which day it compared with, every insight's change is what the two feeds give, and the history
folder holds both days. A wrong comparison would tell a Scrum Master a problem is new when it
has been open for a week, or hide one that got worse, so the values are asserted exactly.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.insights.documents import (
    InsightDocumentError,
    insight_document,
    validate_document,
)
from jira_insights_pipeline.insights.history import (
    PreviousFeed,
    change_counts,
    feed_day,
    history_file_name,
    mark_changes,
    previous_feed,
    resolved,
)
from jira_insights_pipeline.insights.values import InsightFacts, insight_id, insight_subject
from jira_insights_pipeline.report.exports import export_files
from jira_insights_pipeline.report.render import render_report, report_context

LABELS = {"scope_creep": "Scope creep", "defect_leakage": "Defect leakage", "flow": "Flow"}
# Two days before the sample site's export (2026-11-20T09:00Z), two days apart, that differ:
# between them PAY Sprint 27 (from 2026-11-11) leaks its first bugs to production and PLAT
# Sprint 16 starts (2026-11-12). 2026-11-17 and 2026-11-19 give the same findings.
FIRST_DAY = "2026-11-11T18:00:00+00:00"
SECOND_DAY = "2026-11-13T18:00:00+00:00"


def _insight(use_case: str, board_id: int, severity: str, sprint_id: int | None = 7) -> dict:
    """The fields of an insight the comparison reads (and a resolved entry keeps)."""
    return {
        "id": insight_id(board_id, sprint_id, use_case, "2026-11-19T09:00:00+00:00"),
        "subject": insight_subject(board_id, sprint_id, use_case),
        "type": use_case,
        "severity": severity,
        "title": f"{use_case} on board {board_id}",
        "board": {"id": board_id, "name": f"Board {board_id}"},
        "sprint": None if sprint_id is None else {"id": sprint_id, "name": f"Sprint {sprint_id}"},
    }


def _feed_file(path: Path, insights: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"insights": insights}), encoding="utf-8")


def test_the_subject_stays_the_same_across_days_where_the_id_does_not() -> None:
    first = insight_id(3, 35, "defect_leakage", FIRST_DAY)
    second = insight_id(3, 35, "defect_leakage", SECOND_DAY)
    assert first != second
    subject = insight_subject(3, 35, "defect_leakage")
    assert subject == insight_subject(3, 35, "defect_leakage")
    assert subject.startswith("defect_leakage-") and len(subject) == len(first)
    assert subject != insight_subject(3, None, "defect_leakage") != insight_subject(3, 35, "flow")


def test_a_board_wide_finding_keeps_its_subject_when_the_next_sprint_starts() -> None:
    def hygiene(sprint_id: int, per_sprint: bool) -> InsightFacts:
        return InsightFacts(
            use_case="team_health",
            severity="warning",
            board_id=1,
            board_name="MOB",
            sprint_id=sprint_id,
            sprint_name=f"MOB Sprint {sprint_id}",
            as_of=FIRST_DAY,
            status="hygiene is low",
            facts=(),
            per_sprint=per_sprint,
        )

    # Team health judges the board (its rule's scope): the running sprint is only context.
    assert hygiene(30, per_sprint=False).subject == hygiene(31, per_sprint=False).subject
    assert hygiene(30, per_sprint=True).subject != hygiene(31, per_sprint=True).subject


def test_the_history_file_is_named_after_the_feeds_utc_day() -> None:
    assert history_file_name("2026-11-19T18:00:00+00:00") == "2026-11-19.json"
    # 23:30 at UTC-2 is already the next day in UTC.
    assert history_file_name("2026-11-19T23:30:00-02:00") == "2026-11-20.json"
    assert feed_day("2026-11-20T00:30:00+02:00") == date(2026, 11, 19)


def test_each_insight_is_new_worse_better_or_open_against_the_previous_day() -> None:
    previous = PreviousFeed(
        date(2026, 11, 18),
        (
            _insight("scope_creep", 1, "info"),
            _insight("defect_leakage", 1, "error"),
            _insight("flow", 1, "warning"),
        ),
    )
    today = [
        _insight("scope_creep", 1, "warning"),  # info yesterday: worse
        _insight("defect_leakage", 1, "warning"),  # error yesterday: better
        _insight("flow", 1, "warning"),  # the same: open
        _insight("flow", 2, "info"),  # not there yesterday: new
        _insight("flow", 1, "error", sprint_id=8),  # the next sprint is its own subject: new
    ]
    marked = mark_changes(today, previous)
    assert [item["change"] for item in marked] == ["worse", "better", "open", "new", "new"]
    assert "change" not in today[0], "the documents given are not changed"
    assert change_counts(marked, resolved(marked, previous)) == {
        "new": 2,
        "worse": 1,
        "better": 1,
        "open": 1,
        "resolved": 0,
    }


def test_with_no_previous_day_nothing_is_compared() -> None:
    marked = mark_changes([_insight("flow", 1, "warning")], None)
    assert [item["change"] for item in marked] == [None]
    assert resolved(marked, None) == []
    assert change_counts(marked, []) == {
        "new": 0,
        "worse": 0,
        "better": 0,
        "open": 0,
        "resolved": 0,
    }


def test_yesterdays_problems_no_longer_raised_are_resolved() -> None:
    gone = _insight("scope_creep", 1, "warning", sprint_id=6)
    healthy_now = _insight("defect_leakage", 2, "error")
    previous = PreviousFeed(
        date(2026, 11, 18),
        (
            gone,
            healthy_now,
            _insight("flow", 1, "error"),  # a warning today: still raised
            _insight("flow", 3, "info"),  # healthy yesterday, gone today: nothing to resolve
        ),
    )
    today = [
        {**_insight("defect_leakage", 2, "info"), "title": "Healthy now"},
        _insight("flow", 1, "warning"),
    ]
    found = resolved(today, previous)
    # Yesterday's entries as they were (title and severity of yesterday), in yesterday's order.
    assert found == [gone, healthy_now]
    assert [item["change"] for item in mark_changes(today, previous)] == ["better", "better"]


def test_the_previous_feed_is_the_newest_readable_one_strictly_before_the_day(
    tmp_path: Path,
) -> None:
    history = tmp_path / "history"
    _feed_file(history / "2026-11-15.json", [_insight("flow", 1, "info")])
    _feed_file(history / "2026-11-17.json", [_insight("flow", 1, "warning")])
    (history / "2026-11-18.json").write_text("{ cut short", encoding="utf-8")
    _feed_file(history / "2026-11-19.json", [_insight("flow", 1, "error")])  # the same day
    _feed_file(history / "2026-11-21.json", [_insight("flow", 1, "error")])  # a later day
    (history / ".2026-11-18.json.tmp123").write_text("half", encoding="utf-8")
    (history / "notes.txt").write_text("not a feed", encoding="utf-8")
    warnings: list[str] = []
    found = previous_feed(history, date(2026, 11, 19), warn=warnings.append)
    assert found is not None
    assert found.day == date(2026, 11, 17)
    assert [item["severity"] for item in found.insights] == ["warning"]
    (warning,) = warnings
    assert str(history / "2026-11-18.json") in warning and "not readable JSON" in warning
    assert "next older file is used" in warning


def test_an_incomplete_history_file_is_skipped_and_no_history_is_none(tmp_path: Path) -> None:
    history = tmp_path / "history"
    assert previous_feed(history, date(2026, 11, 19)) is None
    incomplete = _insight("flow", 1, "warning")
    del incomplete["subject"]
    _feed_file(history / "2026-11-18.json", [incomplete])
    (history / "2026-11-11.json").write_text("[]", encoding="utf-8")
    warnings: list[str] = []
    assert previous_feed(history, date(2026, 11, 19), warn=warnings.append) is None
    assert len(warnings) == 2
    assert "insight 0 has no subject" in warnings[0] and "no list of insights" in warnings[1]


def test_only_the_feed_carries_compared_with_and_resolved() -> None:
    previous = _insight("flow", 1, "warning")
    feed = insight_document(
        "insights_feed", SECOND_DAY, [], compared_with="2026-11-11", resolved=[previous]
    )
    validate_document(feed)
    assert (feed["compared_with"], feed["resolved"]) == ("2026-11-11", [previous])
    use_case_file = insight_document("flow_insights", SECOND_DAY, [])
    assert "compared_with" not in use_case_file and "resolved" not in use_case_file
    validate_document(use_case_file)
    with pytest.raises(InsightDocumentError):
        validate_document({**use_case_file, "resolved": []})
    with pytest.raises(InsightDocumentError, match="compared_with"):
        validate_document({**feed, "compared_with": "yesterday"})


def _page_insight(change: str | None, severity: str, title: str, board_id: int = 1) -> dict:
    return {
        **_insight("flow", board_id, severity, sprint_id=len(title)),
        "title": title,
        "change": change,
        "message": "A message.",
        "recommendations": ["A recommendation."],
        "evidence": [],
        "as_of": SECOND_DAY,
    }


def _no_figures(board_id: int) -> list:
    return []


def test_the_page_and_exports_show_each_change_and_what_was_resolved() -> None:
    insights = [
        _page_insight("new", "error", "Leak"),
        _page_insight("worse", "warning", "Worse one"),
        _page_insight("open", "warning", "Still there"),
        _page_insight("better", "info", "Healthy again"),
        _page_insight("open", "info", "Healthy as before"),
    ]
    gone = {**_insight("scope_creep", 1, "warning"), "title": "<b>Grew</b> & shrank"}
    context = report_context(
        insights,
        {1: "Board 1"},
        _no_figures,
        LABELS,
        as_of=SECOND_DAY,
        site=None,
        compared_with="2026-11-11",
        resolved=[gone],
    )
    page = render_report(context)
    assert '<span class="change new">new</span>' in page
    assert '<span class="change worse">worse</span>' in page
    assert '<span class="change open">still open</span>' in page
    assert '<span class="change better">better</span>' in page
    # A healthy finding that was healthy yesterday too has nothing to say.
    assert page.count('class="change open"') == 1
    assert "changes since 11 Nov 2026" in page
    assert "Resolved since 11 Nov 2026" in page
    assert "&lt;b&gt;Grew&lt;/b&gt; &amp; shrank" in page and "<b>Grew" not in page

    exports = export_files(context)
    rows = list(csv.DictReader(exports["insights.csv"].splitlines()))
    assert [row["change"] for row in rows] == ["new", "worse", "open", "better", "open"]
    exported = json.loads(exports["insights.json"])
    assert exported["compared_with"] == "2026-11-11"
    assert [item["subject"] for item in exported["resolved"]] == [gone["subject"]]
    summary = exports["board-1.md"]
    assert "### Worse one (worse)" in summary and "### Still there (still open)" in summary
    assert "### Healthy as before\n" in summary
    assert "## Resolved since 11 Nov 2026" in summary
    assert "- \\<b\\>Grew\\</b\\> \\& shrank (warning, Sprint 7)" in summary


def test_with_nothing_to_compare_the_page_shows_no_change() -> None:
    context = report_context(
        [_page_insight(None, "warning", "First day")],
        {1: "Board 1"},
        _no_figures,
        LABELS,
        as_of=FIRST_DAY,
        site=None,
    )
    page = render_report(context)
    assert 'class="change' not in page and "Resolved since" not in page
    assert "changes since" not in page
    rows = list(csv.DictReader(export_files(context)["insights.csv"].splitlines()))
    assert [row["change"] for row in rows] == [""]


def _feed(data_dir: Path) -> dict[str, Any]:
    return json.loads(DataFolder(data_dir).insights_feed.read_text(encoding="utf-8"))


def _feed_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("insights_feed")
    ]
    return {key: value.value for key, value in event.materialization.metadata.items()}


def _run_day(monkeypatch: pytest.MonkeyPatch, as_of: str) -> dg.ExecuteInProcessResult:
    """One run of the real Definitions as of `as_of`: every unpartitioned asset (the daily
    history tables are filled per day, by a backfill or the daily schedule, not needed here)
    and the publication, on a temporary instance."""
    from jira_insights_pipeline.definitions import build_definitions

    monkeypatch.setenv("JIRA_INSIGHTS_AS_OF", as_of)
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    keys = [
        key for key in sorted(graph.get_all_asset_keys()) if graph.get(key).partitions_def is None
    ]
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.instance_for_test() as instance:
        return job.execute_in_process(instance=instance, asset_selection=keys)


def test_two_days_of_the_sample_site(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = DataFolder(data_dir)
    first_run = _run_day(monkeypatch, FIRST_DAY)
    assert first_run.success
    first = _feed(data_dir)
    assert first["compared_with"] is None and first["resolved"] == []
    assert {item["change"] for item in first["insights"]} == {None}
    assert _feed_metadata(first_run)["compared_with"] == "none"

    second_run = _run_day(monkeypatch, SECOND_DAY)
    assert second_run.success
    second = _feed(data_dir)
    assert second["as_of"] == SECOND_DAY
    assert second["compared_with"] == "2026-11-11"
    assert sorted(path.name for path in folder.insights_history.iterdir()) == [
        "2026-11-11.json",
        "2026-11-13.json",
    ]
    # Each day's file is that day's feed; the first is what the second compared with.
    assert json.loads((folder.insights_history / "2026-11-11.json").read_text()) == first
    assert json.loads((folder.insights_history / "2026-11-13.json").read_text()) == second

    # Every change, recomputed from the two feeds by hand.
    before = {item["subject"]: item["severity"] for item in first["insights"]}
    rank = {"info": 0, "warning": 1, "error": 2}
    expected = []
    for item in second["insights"]:
        was = before.get(item["subject"])
        if was is None:
            expected.append("new")
        else:
            step = rank[item["severity"]] - rank[was]
            expected.append("worse" if step > 0 else "better" if step < 0 else "open")
    assert [item["change"] for item in second["insights"]] == expected
    raised_now = {i["subject"] for i in second["insights"] if i["severity"] != "info"}
    assert [item["subject"] for item in second["resolved"]] == [
        item["subject"]
        for item in first["insights"]
        if item["severity"] != "info" and item["subject"] not in raised_now
    ]
    # The two days differ: Payments' running sprint leaked, Platform's new sprint began
    # (so its sprint findings are new).
    (leak,) = [
        item
        for item in second["insights"]
        if item["type"] == "defect_leakage"
        and (item["sprint"] or {}).get("name") == "PAY Sprint 27"
    ]
    assert (leak["severity"], leak["change"]) == ("error", "worse")
    new = {
        (item["type"], item["board"]["name"])
        for item in second["insights"]
        if item["change"] == "new"
    }
    # Five of them: its ticket hygiene judges the board, so it keeps its subject across sprints.
    assert {board for _, board in new} == {"PLAT board"} and len(new) == 5
    assert ("team_health", "PLAT board") not in new
    assert expected.count("worse") == 1 and second["resolved"] == []
    # Each use case's file carries the same changes as the feed.
    by_id = {item["id"]: item["change"] for item in second["insights"]}
    for path in folder.insights.glob("*_insights.json"):
        for item in json.loads(path.read_text())["insights"]:
            assert item["change"] == by_id[item["id"]]

    metadata = _feed_metadata(second_run)
    assert metadata["compared_with"] == "2026-11-11"
    for change in ("new", "worse", "better", "open"):
        assert metadata[change] == expected.count(change)
    assert metadata["resolved"] == len(second["resolved"])

    page = folder.report.read_text(encoding="utf-8")
    assert "changes since 11 Nov 2026" in page
    rows = list(csv.DictReader((folder.report.parent / "insights.csv").open(encoding="utf-8")))
    assert sorted(row["change"] for row in rows) == sorted(expected)
