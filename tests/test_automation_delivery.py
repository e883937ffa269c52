"""Alert delivery without Dagster: reading JIRA_INSIGHTS_ALERT_WEBHOOKS, the Slack and JSON
payloads, the feed (idempotent, schema-checked, intact under concurrent appends), and `deliver`
against a real receiver on 127.0.0.1: success, retryable and final failures, back-off, the
per-tick budget, a webhook removed from the configuration, and no URL in any error text."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import requests
from webhook_receiver import WebhookReceiver

from jira_insights_pipeline.automation.crossings import Crossing
from jira_insights_pipeline.automation.dedup import decide_alerts
from jira_insights_pipeline.automation.delivery import (
    AlertFeed,
    AlertRecordError,
    PostOutcome,
    RetryPolicy,
    Webhook,
    WebhookConfigError,
    deliver,
    http_poster,
    parse_webhooks,
    slack_payload,
)
from jira_insights_pipeline.automation.records import AlertLinks, AlertSource, alert_record

LINKS = AlertLinks("http://reports.local/insights.html", "http://127.0.0.1:3000")


def record(board_id: int = 1, title: str = "Scope grew during CHK Sprint 16") -> dict:
    crossing = Crossing(
        alert_type="scope_creep",
        severity="warning",
        board_id=board_id,
        board_name="CHK board",
        sprint_id=33,
        sprint_name="CHK Sprint 16",
        as_of="2026-11-20T09:00:00+00:00",
        title=title,
        message="5 of 12 committed stories (42%) grew <a lot> & more.",
    )
    decision = decide_alerts({}, ["scope_creep"], [crossing]).alerts[0]
    source = AlertSource("sprint_commitments", board_id, "run-1")
    return alert_record(decision, None, source, LINKS, "2026-11-24T08:00:00+00:00")


def test_webhook_entries_kinds_and_errors() -> None:
    hooks = parse_webhooks(
        "slack=http://127.0.0.1:9/a, json=http://127.0.0.1:9/b https://hooks.slack.com/services/T/B/X"
        " http://example.invalid/c"
    )
    assert [(h.kind, h.host) for h in hooks] == [
        ("slack", "127.0.0.1"),
        ("json", "127.0.0.1"),
        ("slack", "hooks.slack.com"),
        ("json", "example.invalid"),
    ]
    assert len({h.webhook_id for h in hooks}) == 4
    assert "services" not in repr(hooks[2]), "the URL (a secret) stays out of repr"
    assert parse_webhooks(None) == [] and parse_webhooks("  ") == []
    with pytest.raises(WebhookConfigError, match="kind 'teams'"):
        parse_webhooks("teams=https://x.example/hook")
    with pytest.raises(WebhookConfigError) as caught:
        parse_webhooks("slack=ftp://secret-token@x/hook")
    assert "secret-token" not in str(caught.value)


def test_slack_payload_escapes_and_links() -> None:
    payload = slack_payload(record())
    assert payload["text"].startswith("WARNING: Scope grew during CHK Sprint 16 (CHK board")
    assert "&lt;a lot&gt; &amp; more" in payload["text"]
    section = payload["blocks"][0]["text"]["text"]
    assert section.startswith("*WARNING: Scope grew during CHK Sprint 16*\n_CHK board · CHK")
    context = payload["blocks"][-1]["elements"][0]["text"]
    assert "<http://reports.local/insights.html#board-1|Open the report>" in context
    assert "<http://127.0.0.1:3000/runs/run-1|Dagster run>" in context


def test_feed_appends_once_per_alert_and_refuses_bad_records(tmp_path: Path) -> None:
    feed = AlertFeed(tmp_path / "alerts" / "alerts.jsonl")
    first = record()
    assert feed.append([first]) == [first]
    assert feed.append([first, record(board_id=2)]) == [record(board_id=2)]
    lines, end = feed.read_from(0)
    assert [line.record["board"]["id"] for line in lines] == [1, 2]
    assert end == feed.size()
    assert feed.record_at(lines[1].offset) == record(board_id=2)
    with pytest.raises(AlertRecordError):
        feed.append([dict(first, alert_id="alert-3", type="mood")])
    assert feed.read_from(end) == ([], end)


def test_concurrent_appends_keep_every_line_whole(tmp_path: Path) -> None:
    feed = AlertFeed(tmp_path / "alerts.jsonl")

    def append_many(start: int) -> None:
        for board in range(start, start + 25):
            feed.append([record(board_id=board, title="x" * 2000)])

    threads = [threading.Thread(target=append_many, args=(n * 100,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert len(lines) == 100
    assert len({json.loads(line)["alert_id"] for line in lines}) == 100


def deliver_once(feed: AlertFeed, hooks, pending, offset, policy, now=1000.0):
    with requests.Session() as session:
        return deliver(feed, hooks, pending, offset, policy, http_poster(session, 0.5, 0.5), now)


def test_deliver_retries_with_backoff_then_gives_up_and_records_it(tmp_path: Path) -> None:
    feed = AlertFeed(tmp_path / "alerts.jsonl")
    feed.append([record()])
    policy = RetryPolicy(max_attempts=3, backoff_seconds=60, max_backoff_seconds=90)
    with WebhookReceiver() as receiver:
        receiver.mode = "fail"
        hooks = [Webhook("json", receiver.url)]
        report = deliver_once(feed, hooks, [], 0, policy, now=1000.0)
        (item,) = report.pending
        assert (item["attempts"], item["due"], item["error"]) == (1, 1060.0, "HTTP 503")
        assert report.feed_offset == feed.size()

        early = deliver_once(feed, hooks, report.pending, report.feed_offset, policy, now=1059.0)
        assert receiver.attempts == 1 and early.pending == report.pending, "not due yet"

        second = deliver_once(feed, hooks, early.pending, early.feed_offset, policy, now=1060.0)
        assert second.pending[0]["due"] == 1060.0 + 90.0, "120 s capped at 90 s"
        third = deliver_once(feed, hooks, second.pending, second.feed_offset, policy, now=2000.0)
        assert third.pending == [] and receiver.attempts == 3
        (failure,) = third.failed
        assert (failure["attempts"], failure["error"]) == (3, "HTTP 503")
        assert failure["webhook"] == hooks[0].describe()
        lines, _ = feed.read_from(0)
        assert [line.record["record"] for line in lines] == ["alert", "delivery_failed"]
        assert str(receiver.port) not in json.dumps(failure)


def test_deliver_within_budget_and_for_removed_webhooks(tmp_path: Path) -> None:
    feed = AlertFeed(tmp_path / "alerts.jsonl")
    feed.append([record(board_id=n) for n in range(1, 4)])
    calls: list[str] = []

    def post(webhook: Webhook, payload: dict) -> PostOutcome:
        calls.append(payload["alert_id"])
        return PostOutcome(True, False)

    ticks = iter([0.0, 0.0, 5.0, 30.0, 30.0, 30.0])
    hook = Webhook("json", "http://127.0.0.1:9/hook")
    policy = RetryPolicy(tick_budget_seconds=10.0)
    report = deliver(feed, [hook], [], 0, policy, post, now=0.0, clock=lambda: next(ticks))
    assert len(report.delivered) == 2 and len(report.pending) == 1
    assert report.pending[0]["attempts"] == 0, "deferred for time is not a failed attempt"

    # The webhook was removed from the configuration before its delivery went out.
    gone = deliver(feed, [], report.pending, report.feed_offset, policy, post, now=1.0)
    assert gone.pending == [] and len(gone.failed) == 1
    assert "removed from JIRA_INSIGHTS_ALERT_WEBHOOKS" in gone.failed[0]["error"]
