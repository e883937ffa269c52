"""Alert delivery: the append-only JSONL feed, and webhooks with bounded retries across ticks.

The feed (`<data folder>/alerts/alerts.jsonl`) is the outbox: every alert is appended there
first, and the threshold sensor hands each new alert line to every configured webhook. A POST
gets short timeouts, so a webhook that is down or slow never holds up a tick; a delivery that
fails with a retryable error (connection refused, timeout, 408, 429, 5xx) stays pending in the
sensor's cursor and is tried again on a later tick, with doubling back-off, up to a bound. What
finally fails is written to the feed as a `delivery_failed` line. Webhook URLs are secrets (a
Slack webhook URL is its own credential): they never reach the cursor, the feed or a log; a
webhook is named by a hash of its URL and its host.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import jsonschema
import requests
from jsonschema.protocols import Validator

from jira_insights_pipeline.automation.crossings import alert_types
from jira_insights_pipeline.automation.records import (
    ALERT_SCHEMA_VERSION,
    DELIVERED_RECORDS,
    FEED_RECORD_DELIVERY_FAILED,
    FEED_RECORD_DIGEST,
)
from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.jsonschemas import instance_location, packaged_schema, schema_validator

SCHEMA_FILE = "alert.schema.json"
WEBHOOKS_ENV = "JIRA_INSIGHTS_ALERT_WEBHOOKS"

WebhookKind = Literal["slack", "json"]
WEBHOOK_KINDS: tuple[WebhookKind, ...] = ("slack", "json")
# Retrying these may succeed later; any other 4xx means the request itself is wrong.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class WebhookConfigError(ValueError):
    """JIRA_INSIGHTS_ALERT_WEBHOOKS cannot be read."""


class AlertRecordError(ValueError):
    """A feed line does not follow alert.schema.json."""


# --------------------------------------------------------------------------------------------
# The feed
# --------------------------------------------------------------------------------------------


@functools.cache
def alert_schema() -> dict[str, Any]:
    """The JSON Schema of one feed line (shipped in the package; docs/alerts.md), its alert
    types taken from the registry's rules (a test keeps the shipped file in step)."""
    schema = packaged_schema("jira_insights_pipeline.automation", SCHEMA_FILE)
    schema["$defs"]["alert"]["properties"]["type"]["enum"] = list(alert_types())
    return schema


@functools.cache
def _validator() -> Validator:
    return schema_validator(alert_schema())


def validate_record(record: Mapping[str, Any]) -> None:
    """Raise AlertRecordError when `record` breaks alert.schema.json."""
    errors = list(_validator().iter_errors(dict(record)))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        where = instance_location(best.absolute_path)
        raise AlertRecordError(
            f"Feed record {record.get('alert_id', '?')} breaks {SCHEMA_FILE} at {where}: "
            f"{best.message}"
        )


def feed_path(data_dir: str | os.PathLike[str]) -> Path:
    return DataFolder.at(data_dir).alerts


@dataclass(frozen=True)
class FeedLine:
    offset: int
    record: dict[str, Any]


class AlertFeed:
    """The append-only JSONL feed. Appends take an exclusive lock on a sidecar file, because
    the threshold sensor and the run-failure sensor may append at the same moment."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def read_from(self, offset: int = 0) -> tuple[list[FeedLine], int]:
        """Complete lines from byte `offset` on, and the offset after the last complete one. A
        feed shorter than `offset` (deleted or rotated) is read from its start."""
        if not self.path.exists():
            return [], 0
        with open(self.path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() < offset:
                offset = 0
            handle.seek(offset)
            data = handle.read()
        lines: list[FeedLine] = []
        position = offset
        for raw in data.splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                break  # a line still being written: read it next time
            if raw.strip():
                lines.append(FeedLine(position, json.loads(raw)))
            position += len(raw)
        return lines, position

    def record_at(self, offset: int) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        with open(self.path, "rb") as handle:
            handle.seek(offset)
            line = handle.readline()
        try:
            return json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            return None

    def alert_ids(self) -> set[str]:
        """The ids of every alert and digest in the feed."""
        lines, _ = self.read_from(0)
        return {
            line.record["alert_id"]
            for line in lines
            if line.record.get("record") in DELIVERED_RECORDS
        }

    def append(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Append records that follow the schema; an alert or digest whose id is already in the
        feed is skipped (a tick re-run after a crash, or a digest seen again after a restart,
        appends nothing twice). Returns what was written."""
        for record in records:
            validate_record(record)
        written: list[dict[str, Any]] = []
        with self._locked():
            known = self.alert_ids()
            with open(self.path, "a", encoding="utf-8") as handle:
                for record in records:
                    if record["record"] in DELIVERED_RECORDS and record["alert_id"] in known:
                        continue
                    handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                    known.add(record["alert_id"])
                    written.append(dict(record))
                handle.flush()
                os.fsync(handle.fileno())
        return written


# --------------------------------------------------------------------------------------------
# Webhooks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Webhook:
    """One webhook: Slack-compatible (`{"text", "blocks"}`) or plain JSON (the feed record)."""

    kind: WebhookKind
    url: str = field(repr=False)

    @property
    def webhook_id(self) -> str:
        return "webhook-" + hashlib.sha256(self.url.encode()).hexdigest()[:10]

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "?"

    def describe(self) -> dict[str, str]:
        """How the feed and the logs name it: never the URL."""
        return {"id": self.webhook_id, "kind": self.kind, "host": self.host}


def parse_webhooks(spec: str | None) -> list[Webhook]:
    """Webhooks from JIRA_INSIGHTS_ALERT_WEBHOOKS: entries separated by commas or whitespace,
    each `slack=<url>`, `json=<url>`, or a bare URL (Slack for hooks.slack.com, else JSON)."""
    webhooks: list[Webhook] = []
    for entry in (spec or "").replace(",", " ").split():
        kind, _, url = entry.partition("=") if "=" in entry.split("://")[0] else ("", "", entry)
        if not kind:
            kind = "slack" if urlsplit(url).hostname == "hooks.slack.com" else "json"
        if kind not in WEBHOOK_KINDS:
            raise WebhookConfigError(
                f"{WEBHOOKS_ENV} has an entry of kind {kind!r}; use slack=<url>, json=<url> or "
                "a bare URL."
            )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WebhookConfigError(
                f"{WEBHOOKS_ENV} has an entry of kind {kind} whose URL is not http(s)://host/...; "
                "fix that entry (the URL is not shown here because it may hold a secret)."
            )
        webhooks.append(Webhook(kind, url))  # type: ignore[arg-type]
    return webhooks


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


SEVERITY_EMOJI = {"error": ":red_circle:", "warning": ":warning:", "info": ":information_source:"}


def slack_payload(alert: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` (notifications, and clients without blocks) and
    Block Kit blocks with the title, message, recommendations and the two links."""
    where = " · ".join(
        part["name"] for part in (alert.get("board"), alert.get("sprint")) if part is not None
    )
    severity = alert["severity"]
    heading = f"{severity.upper()}: {alert['title']}"
    text = f"{heading}" + (f" ({where})" if where else "") + f". {alert['message']}"
    body = f"*{_slack_escape(heading)}*\n"
    if where:
        body += f"_{_slack_escape(where)}_\n"
    body += _slack_escape(alert["message"])
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}}
    ]
    if alert.get("recommendations"):
        tips = "\n".join(f"• {_slack_escape(tip)}" for tip in alert["recommendations"])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": tips[:2900]}})
    links = (
        f"{SEVERITY_EMOJI.get(severity, '')} <{alert['report_url']}|Open the report> · "
        f"<{alert['dagster_run']['url']}|Dagster run> · `{alert['alert_id']}`"
    )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": links}]})
    return {"text": _slack_escape(text)[:3000], "blocks": blocks}


# Slack's limits: a section's text, and the blocks of one message.
SLACK_SECTION_CHARS = 3000
SLACK_MAX_BLOCKS = 50


def _sections(lines: Sequence[str]) -> list[str]:
    """The lines, escaped, packed into as few section texts as fit Slack's limit, never
    splitting a line (a line longer than the limit is cut, with an ellipsis)."""
    sections: list[str] = []
    for line in lines:
        text = _slack_escape(line)
        if len(text) > SLACK_SECTION_CHARS:
            text = text[: SLACK_SECTION_CHARS - 1] + "…"
        if sections and len(sections[-1]) + 1 + len(text) <= SLACK_SECTION_CHARS:
            sections[-1] += "\n" + text
        else:
            sections.append(text)
    return sections


def slack_digest_payload(digest: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack message of one board's weekly digest: a header, its lines as Block Kit sections
    (whole lines, within Slack's limits), and the links."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": digest["title"][:150]}},
    ]
    sections = _sections(digest["lines"])[: SLACK_MAX_BLOCKS - 2]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections]
    links = (
        f"<{digest['report_url']}|Open the report> · <{digest['digest_url']}|The digest> · "
        f"`{digest['alert_id']}`"
    )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": links}]})
    raised = digest["attention"]
    summary = (
        f"{raised} problem{'s' if raised != 1 else ''} need{'s' if raised == 1 else ''} attention"
    )
    text = f"{_slack_escape(digest['title'])}: {summary}"
    return {"text": text[:SLACK_SECTION_CHARS], "blocks": blocks}


def webhook_payload(webhook: Webhook, record: Mapping[str, Any]) -> dict[str, Any]:
    """What `webhook` receives: the Slack message, or the feed record itself."""
    if webhook.kind != "slack":
        return dict(record)
    if record["record"] == FEED_RECORD_DIGEST:
        return slack_digest_payload(record)
    return slack_payload(record)


@dataclass(frozen=True)
class PostOutcome:
    delivered: bool
    retryable: bool
    error: str | None = None


Poster = Callable[[Webhook, Mapping[str, Any]], PostOutcome]


def http_poster(session: requests.Session, connect_timeout: float, read_timeout: float) -> Poster:
    """POSTs with short timeouts and no retries in place (retries happen on later ticks, so no
    tick ever sleeps). Errors are described without the URL, which may hold a secret."""

    def post(webhook: Webhook, payload: Mapping[str, Any]) -> PostOutcome:
        try:
            response = session.post(
                webhook.url,
                json=payload,
                timeout=(connect_timeout, read_timeout),
                allow_redirects=False,
            )
        except requests.Timeout:
            return PostOutcome(
                False, True, f"timed out (connect {connect_timeout:g} s, read {read_timeout:g} s)"
            )
        except requests.ConnectionError:
            return PostOutcome(False, True, f"could not connect to {webhook.host}")
        except requests.RequestException as error:
            return PostOutcome(False, True, f"request failed ({type(error).__name__})")
        if 200 <= response.status_code < 300:
            return PostOutcome(True, False)
        return PostOutcome(
            False, response.status_code in RETRYABLE_STATUS, f"HTTP {response.status_code}"
        )

    return post


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per delivery, the back-off between ticks (doubling, capped),
    and the wall-clock budget one tick may spend on deliveries."""

    max_attempts: int = 6
    backoff_seconds: float = 60.0
    max_backoff_seconds: float = 3600.0
    tick_budget_seconds: float = 20.0

    def delay_after(self, attempts: int) -> float:
        return min(self.backoff_seconds * 2 ** max(attempts - 1, 0), self.max_backoff_seconds)


@dataclass
class DeliveryReport:
    pending: list[dict[str, Any]]
    feed_offset: int
    delivered: list[tuple[str, str]] = field(default_factory=list)
    retrying: list[tuple[str, str, str]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)


def _failure(
    pending: Mapping[str, Any], webhook: Mapping[str, str], error: str, now: float
) -> dict[str, Any]:
    return {
        "record": FEED_RECORD_DELIVERY_FAILED,
        "schema_version": ALERT_SCHEMA_VERSION,
        "alert_id": pending["alert_id"],
        "webhook": dict(webhook),
        "attempts": int(pending["attempts"]),
        "error": error,
        "failed_at": datetime.fromtimestamp(now, tz=UTC).isoformat(),
    }


def deliver(
    feed: AlertFeed,
    webhooks: Sequence[Webhook],
    pending: Sequence[Mapping[str, Any]],
    feed_offset: int,
    policy: RetryPolicy,
    post: Poster,
    now: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> DeliveryReport:
    """One tick of delivery: queue every alert line after `feed_offset` for every webhook, then
    try each pending delivery that is due. A webhook that fails once is not tried again in the
    same tick (so a slow one costs at most one timeout), and the tick stops trying when its
    budget is spent; both leave deliveries pending without counting an attempt."""
    now = time.time() if now is None else now
    lines, end_offset = feed.read_from(feed_offset)
    queue = [dict(item) for item in pending]
    for line in lines:
        if line.record.get("record") not in DELIVERED_RECORDS:
            continue
        for webhook in webhooks:
            queue.append(
                {
                    "alert_id": line.record["alert_id"],
                    "offset": line.offset,
                    "webhook": webhook.webhook_id,
                    "attempts": 0,
                    "due": now,
                    "error": None,
                }
            )
    by_id = {webhook.webhook_id: webhook for webhook in webhooks}
    report = DeliveryReport(pending=[], feed_offset=end_offset)
    failed_this_tick: set[str] = set()
    started = clock()
    for item in queue:
        webhook = by_id.get(item["webhook"])
        if webhook is None:
            report.failed.append(
                _failure(
                    item,
                    {"id": item["webhook"], "kind": "json", "host": "?"},
                    f"webhook removed from {WEBHOOKS_ENV} before delivery "
                    f"(last error: {item['error']})",
                    now,
                )
            )
            continue
        out_of_budget = clock() - started >= policy.tick_budget_seconds
        if item["due"] > now or webhook.webhook_id in failed_this_tick or out_of_budget:
            report.pending.append(item)
            continue
        alert = feed.record_at(item["offset"])
        if alert is None or alert.get("alert_id") != item["alert_id"]:
            report.failed.append(
                _failure(item, webhook.describe(), "alert line no longer in the feed", now)
            )
            continue
        outcome = post(webhook, webhook_payload(webhook, alert))
        if outcome.delivered:
            report.delivered.append((item["alert_id"], webhook.webhook_id))
            continue
        failed_this_tick.add(webhook.webhook_id)
        item["attempts"] += 1
        item["error"] = outcome.error
        if not outcome.retryable or item["attempts"] >= policy.max_attempts:
            report.failed.append(
                _failure(item, webhook.describe(), outcome.error or "unknown error", now)
            )
        else:
            item["due"] = now + policy.delay_after(item["attempts"])
            report.retrying.append((item["alert_id"], webhook.webhook_id, outcome.error or ""))
            report.pending.append(item)
    if report.failed:
        feed.append(report.failed)
    return report
