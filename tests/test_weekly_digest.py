"""The weekly digest: what it says per board, the files it writes, and its delivery.

A Scrum Master reads it on Monday: per board the key figures, completion over the last sprints,
what needs attention and why, and what is new or resolved since the feed of a week before. The
tests check the pure building and wording (including that Jira text stays text in the HTML), and
then, on the bundled sample site materialized a week apart with a real webhook receiver on
127.0.0.1, that each board's digest reaches every webhook once per ISO week, never twice: not on
the next tick, not after the sensor's state is lost, not when the digest is rebuilt in the same
week.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from automation_runs import alert_settings, materialize, tick
from webhook_receiver import WebhookReceiver

from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.insights.history import PreviousFeed
from jira_insights_pipeline.report.digest import (
    POSTED_WITHIN,
    DigestWeek,
    board_lines,
    build_digest,
    compared_day,
    digest_html,
    digest_markdown,
    due_for_posting,
    iso_week,
)
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.service.feedback import (
    Dismissal,
    FeedbackSnapshot,
    facts_fingerprint,
)

WEEK_BEFORE = "2026-11-06T18:00:00+00:00"  # a Friday of ISO week 2026-W45
SAMPLE_DAY = "2026-11-20"  # the sample's own as-of day, in 2026-W47


def _insight(
    subject: str, board_id: int, severity: str, title: str, use_case: str = "missed_target"
) -> dict[str, Any]:
    return {
        "subject": subject,
        "id": f"{subject}-x",
        "type": use_case,
        "severity": severity,
        "title": title,
        "message": f"{title}, because of a cause.",
        "recommendations": ["Do one thing."],
        "board": {"id": board_id, "name": f"Board {board_id}"},
        "sprint": None,
        "facts": {"subject": subject, "severity": severity},
    }


def test_the_iso_week_and_the_day_a_week_before() -> None:
    assert iso_week(date(2026, 11, 20)) == "2026-W47"
    assert iso_week(date(2027, 1, 1)) == "2026-W53"  # ISO weeks cross the calendar year
    # Feeds dated strictly before 11-14 are at least a week older than 11-20.
    assert compared_day(date(2026, 11, 20)) == date(2026, 11, 14)


def test_the_week_is_the_one_that_ended_before_the_schedules_tick() -> None:
    now = datetime(2026, 11, 23, 8, 0, 5, tzinfo=UTC)
    # Monday 08:00: the week just ended (Sunday's), whatever day the data is from.
    scheduled = DigestWeek.of_run("2026-11-23T08:00:00+00:00", date(2026, 11, 23), now)
    assert (scheduled.week, scheduled.scheduled) == ("2026-W47", True)
    assert DigestWeek.of_run("2026-11-23T08:00:00+09:00", date(2026, 11, 22), now).week == (
        "2026-W47"
    )  # Tokyo's Monday 08:00 is still Sunday in UTC: the same week
    manual = DigestWeek.of_run(None, date(2026, 11, 20), now)
    assert (manual.week, manual.scheduled) == ("2026-W47", False)
    digest = {"scheduled": True, "written_at": now.isoformat()}
    assert due_for_posting(digest, now + POSTED_WITHIN)
    assert not due_for_posting(digest, now + POSTED_WITHIN + timedelta(seconds=1))  # found late
    assert not due_for_posting({**digest, "scheduled": False}, now)


def test_a_digest_lists_what_is_new_and_resolved_per_board() -> None:
    before = PreviousFeed(
        date(2026, 11, 13),
        (
            _insight("s-open", 1, "warning", "Still missing"),
            _insight("s-gone", 1, "error", "Was missing"),
            _insight("s-two", 2, "warning", "Board two problem"),
            _insight("s-was-fine", 2, "info", "Board two was fine"),
        ),
    )
    now = [
        _insight("s-open", 1, "error", "Still missing"),
        _insight("s-new", 1, "warning", "Newly missing"),
        _insight("s-two", 2, "info", "Board two fine"),
        _insight("s-was-fine", 2, "warning", "Board two turned bad"),  # healthy a week before
    ]
    digest = build_digest(
        DigestWeek("2026-W47", True, "2026-11-23T08:00:05+00:00"),
        "2026-11-20T09:00:00+00:00",
        now,
        before,
        {1: "Board 1", 2: "Board 2"},
        lambda board_id: [Figure("Completion rate", "40%", f"board {board_id}", True)],
        lambda board_id: [f"Trend of {board_id}."],
    )
    assert digest["week"] == "2026-W47" and digest["compared_with"] == "2026-11-13"
    one, two = digest["boards"]
    assert one["digest_id"] == "digest-2026-W47-board-1"
    assert [item["title"] for item in one["attention"]] == ["Still missing", "Newly missing"]
    assert one["new"] == ["Newly missing"]
    assert one["resolved"] == [{"severity": "error", "title": "Was missing"}]
    assert [item["title"] for item in two["attention"]] == ["Board two turned bad"]
    assert two["new"] == ["Board two turned bad"]
    assert two["resolved"] == [{"severity": "warning", "title": "Board two problem"}]
    lines = board_lines(digest, one)
    assert lines[0] == "Completion rate: 40% (board 1)"
    assert "Trend of 1." in lines
    assert "New since 2026-11-13: Newly missing" in lines
    assert "Resolved since 2026-11-13: Was missing" in lines


def test_attention_follows_severity_then_the_teams_helpfulness() -> None:
    feed = [  # the feed's order: most severe first, then the registry's use case order
        _insight("s-scope", 1, "error", "Scope grew", "scope_creep"),
        _insight("s-miss", 1, "warning", "Target missed", "missed_target"),
        _insight("s-flow", 1, "warning", "Work is slow", "flow"),
        _insight("s-velocity", 1, "warning", "Velocity fell", "velocity"),
        _insight("s-fine", 1, "info", "Hygiene is fine", "hygiene"),
    ]

    def attention(feedback: FeedbackSnapshot | None = None) -> list[dict[str, Any]]:
        extra = () if feedback is None else (feedback,)
        digest = build_digest(
            DigestWeek("2026-W47", False, "2026-11-23T08:00:05+00:00"),
            "2026-11-20T09:00:00+00:00",
            feed,
            None,
            {1: "Board 1"},
            lambda board_id: [],
            lambda board_id: [],
            *extra,
        )
        return digest["boards"][0]["attention"]

    # Without feedback: the feed's order, nothing dismissed.
    assert [i["title"] for i in attention()] == [
        "Scope grew",
        "Target missed",
        "Work is slow",
        "Velocity fell",
    ]
    assert [i["dismissed"] for i in attention()] == [False] * 4
    # Velocity most helpful (+2), flow unrated (0), missed target unhelpful (-1): within the
    # warnings velocity comes first and missed target last; the error stays above them all,
    # however unhelpful its use case (-5).
    liked = FeedbackSnapshot(
        counts={},
        helpfulness={"velocity": 2, "missed_target": -1, "scope_creep": -5},
        dismissals={
            # Dismissed with the facts it still has: marked, but still listed.
            "s-flow": Dismissal("warning", facts_fingerprint(feed[2]["facts"])),
            # Dismissed as info and raised since: news, so not dismissed.
            "s-velocity": Dismissal("info", facts_fingerprint(feed[3]["facts"])),
        },
    )
    ordered = attention(liked)
    assert [(i["title"], i["type"]) for i in ordered] == [
        ("Scope grew", "scope_creep"),
        ("Velocity fell", "velocity"),
        ("Work is slow", "flow"),
        ("Target missed", "missed_target"),
    ]
    assert [i["dismissed"] for i in ordered] == [False, False, True, False]
    # Equal helpfulness keeps the feed's order (the sort is stable).
    tied = FeedbackSnapshot({}, {"missed_target": 1, "flow": 1, "velocity": 1}, {})
    assert [i["title"] for i in attention(tied)][1:] == [
        "Target missed",
        "Work is slow",
        "Velocity fell",
    ]


def test_jira_text_stays_text_in_the_digest() -> None:
    hostile = "<script>alert(1)</script> <img src=x onerror=alert(1)> *bold* [x](y)"
    digest = build_digest(
        DigestWeek("2026-W47", False, "2026-11-23T08:00:05+00:00"),
        "2026-11-20T09:00:00+00:00",
        [_insight("s", 1, "error", hostile)],
        None,
        {1: "Board <b>1</b>"},
        lambda board_id: [],
        lambda board_id: [],
    )
    page = digest_html(digest)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Board &lt;b&gt;1&lt;/b&gt;" in page
    markdown = digest_markdown(digest)
    assert "\\<script\\>" in markdown and "\\*bold\\*" in markdown
    # With no feed from a week before, the digest says so instead of calling everything new.
    assert digest["compared_with"] is None and digest["boards"][0]["new"] == []
    assert "No feed from a week before to compare with yet" in markdown


def _as_of(data_dir: Path, instant: str) -> dict[str, Any]:
    return {
        "resources": {
            "pipeline_settings": {"config": {"data_dir": str(data_dir), "as_of": instant}}
        }
    }


def _digests(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [body for body in receiver.bodies() if body.get("record") == "digest"]


def _slack_digests(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [
        body
        for body in receiver.bodies()
        if body.get("blocks") and body["blocks"][0]["type"] == "header"
    ]


def _weekly_tick(instant: str) -> dict[str, str]:
    """The tags the weekly schedule gives its run, ticking at `instant`."""
    return {"dagster/schedule_name": "weekly_digest", "dagster/scheduled_execution_time": instant}


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample site materialized as of a Friday and as of two Fridays later, each followed
    by the weekly schedule's digest run the Monday after, with the alert sensor ticking after
    each run and posting to a JSON and a Slack receiver on 127.0.0.1."""
    data_dir = tmp_path_factory.mktemp("digest") / "data"
    seen: dict[str, Any] = {"data_dir": data_dir}
    digest_only = "key:weekly_digest"
    with (
        dg.instance_for_test() as instance,
        WebhookReceiver() as plain,
        WebhookReceiver() as slack,
    ):
        settings = alert_settings(f"json={plain.url},slack={slack.url}")
        _, cursor = tick(instance, None, data_dir, settings)  # the sensor is running already
        first_week = _as_of(data_dir, WEEK_BEFORE)
        assert materialize(instance, data_dir, run_config=first_week).success
        _, cursor = tick(instance, cursor, data_dir, settings)
        seen["manual"] = _digests(plain)  # a digest nobody scheduled is a file, not a post
        monday = _weekly_tick("2026-11-09T08:00:00+00:00")
        assert materialize(
            instance, data_dir, selection=digest_only, run_config=first_week, **monday
        ).success
        _, cursor = tick(instance, cursor, data_dir, settings)
        seen["first_week"] = _digests(plain)
        _, cursor = tick(instance, cursor, data_dir, settings)  # the next tick: nothing again
        _, _ = tick(instance, None, data_dir, settings)  # the sensor's state lost: still nothing
        assert materialize(  # the same Monday's digest run again
            instance, data_dir, selection=digest_only, run_config=first_week, **monday
        ).success
        _, cursor = tick(instance, cursor, data_dir, settings)
        seen["after_repeats"] = _digests(plain)
        assert materialize(instance, data_dir).success  # two weeks later: the sample's own day
        assert materialize(
            instance, data_dir, selection=digest_only, **_weekly_tick("2026-11-23T08:00:00+00:00")
        ).success
        _, cursor = tick(instance, cursor, data_dir, settings)
        seen["plain"] = _digests(plain)
        seen["slack"] = _slack_digests(slack)
    return seen


def test_each_board_gets_one_digest_per_week_on_every_webhook(two_weeks: dict[str, Any]) -> None:
    assert two_weeks["manual"] == []
    first = two_weeks["first_week"]
    assert sorted(d["alert_id"] for d in first) == [
        f"digest-2026-W45-board-{board}" for board in (1, 2, 3, 4)
    ]
    # No repeat after another tick, a lost cursor, or the same Monday's run again.
    assert two_weeks["after_repeats"] == first
    ids = [d["alert_id"] for d in two_weeks["plain"]]
    assert len(ids) == len(set(ids)) == 8
    assert sorted(ids)[4:] == [f"digest-2026-W47-board-{board}" for board in (1, 2, 3, 4)]
    slack = two_weeks["slack"]
    assert len(slack) == 8
    assert {block["text"]["text"] for body in slack for block in body["blocks"][:1]} == {
        d["title"] for d in two_weeks["plain"]
    }


def test_the_second_weeks_digest_compares_with_the_first(two_weeks: dict[str, Any]) -> None:
    folder = DataFolder(two_weeks["data_dir"])
    report_dir = folder.report.parent
    for week in ("2026-W45", "2026-W47"):
        for suffix in (".md", ".html", ".json"):
            assert (report_dir / f"weekly-{week}{suffix}").is_file()
    digest = json.loads((report_dir / "weekly-2026-W47.json").read_text(encoding="utf-8"))
    assert digest["compared_with"] == "2026-11-06"
    before = json.loads((folder.insights_history / "2026-11-06.json").read_text("utf-8"))
    now = json.loads(folder.insights_feed.read_text(encoding="utf-8"))

    def raised(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {
            i["subject"]: i for i in document["insights"] if i["severity"] in ("warning", "error")
        }

    earlier, current = raised(before), raised(now)
    for board in digest["boards"]:
        board_id = board["board"]["id"]
        mine = {s: i for s, i in current.items() if i["board"]["id"] == board_id}
        assert board["new"] == [i["title"] for s, i in mine.items() if s not in earlier]  # raised
        assert [r["title"] for r in board["resolved"]] == [
            i["title"]
            for s, i in earlier.items()
            if i["board"]["id"] == board_id and s not in current
        ]
        assert len(board["attention"]) == len(mine)
    # Something did change in the week, so the comparison is not vacuous.
    assert any(board["new"] or board["resolved"] for board in digest["boards"])
    # The posted digest is the file's, board by board.
    posted = {d["alert_id"]: d for d in two_weeks["plain"]}
    for board in digest["boards"]:
        assert posted[board["digest_id"]]["lines"] == board_lines(digest, board)
