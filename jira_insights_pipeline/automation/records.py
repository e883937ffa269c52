"""What an alert says: the feed line of a threshold crossing (worded by its matching insight
when there is one), of a failed scheduled run, and of one board's weekly digest (docs/alerts.md,
alert.schema.json)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import pandas as pd

from jira_insights_pipeline.automation.crossings import RUN_FAILURE, Crossing
from jira_insights_pipeline.automation.dedup import Decision
from jira_insights_pipeline.rules import Severity

ALERT_SCHEMA_VERSION = "1.0"
FEED_RECORD_ALERT = "alert"
FEED_RECORD_DIGEST = "digest"
# The feed lines that are delivered to the webhooks (and appended once, by their id).
DELIVERED_RECORDS = frozenset({FEED_RECORD_ALERT, FEED_RECORD_DIGEST})
FEED_RECORD_DELIVERY_FAILED = "delivery_failed"
RUN_FAILURE_SEVERITY: Severity = "error"


@dataclass(frozen=True)
class AlertSource:
    """Where a crossing was seen: the table, its check's result, and the Dagster run."""

    asset: str
    materialization_storage_id: int
    run_id: str
    check_name: str | None = None
    check_passed: bool | None = None
    check_severity: str | None = None


@dataclass(frozen=True)
class AlertLinks:
    """Where an alert points: the HTML report and the Dagster UI."""

    report_url: str
    dagster_url: str

    def run_url(self, run_id: str) -> str:
        return f"{self.dagster_url.rstrip('/')}/runs/{run_id}"

    def board_report_url(self, board_id: int | None) -> str:
        return self.report_url if board_id is None else f"{self.report_url}#board-{board_id}"

    def beside_report(self, name: str) -> str:
        """The URL of the file `name` in the report's folder (the weekly digests)."""
        return urljoin(self.report_url, name)


def alert_id(*parts: object) -> str:
    """A stable id: the same parts always give the same id, so re-evaluating the same
    materialization (after a crash before the cursor was saved) never appends twice."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()
    return f"alert-{digest[:20]}"


def matching_insight(crossing: Crossing, insights: Sequence[Mapping[str, Any]]) -> dict | None:
    """The insight of the same use case, board (and sprint) and snapshot instant that also calls
    it a problem, or None (an insight of another snapshot, or one that says "healthy", would
    contradict the alert)."""
    insight_type = crossing.insight_type
    as_of = pd.Timestamp(crossing.as_of)
    for insight in insights:
        if insight.get("type") != insight_type or insight.get("severity") == "info":
            continue
        if int(insight["board"]["id"]) != crossing.board_id:
            continue
        sprint = insight.get("sprint")
        if crossing.per_sprint and (sprint is None or int(sprint["id"]) != crossing.sprint_id):
            continue
        if pd.Timestamp(insight["as_of"]) != as_of:
            continue
        return dict(insight)
    return None


def alert_record(
    decision: Decision,
    insight: Mapping[str, Any] | None,
    source: AlertSource,
    links: AlertLinks,
    raised_at: str,
) -> dict[str, Any]:
    """The feed line for one threshold alert (docs/alerts.md, alert.schema.json)."""
    crossing = decision.crossing
    return {
        "record": FEED_RECORD_ALERT,
        "schema_version": ALERT_SCHEMA_VERSION,
        "alert_id": alert_id(
            crossing.key, crossing.severity, source.asset, source.materialization_storage_id
        ),
        "type": crossing.alert_type,
        "severity": crossing.severity,
        "reason": decision.reason,
        "previous_severity": decision.previous_severity,
        "board": {"id": crossing.board_id, "name": crossing.board_name},
        "sprint": None
        if crossing.sprint_id is None
        else {"id": crossing.sprint_id, "name": crossing.sprint_name},
        "title": insight["title"] if insight else crossing.title,
        "message": insight["message"] if insight else crossing.message,
        "recommendations": list(insight["recommendations"]) if insight else [],
        "insight_id": insight["id"] if insight else None,
        "figures": dict(crossing.figures),
        "as_of": crossing.as_of,
        "raised_at": raised_at,
        "report_url": links.board_report_url(crossing.board_id),
        "dagster_run": {"run_id": source.run_id, "url": links.run_url(source.run_id)},
        "source": {
            "asset": source.asset,
            "check": source.check_name,
            "check_passed": source.check_passed,
            "check_severity": source.check_severity,
        },
        "failure": None,
    }


@dataclass(frozen=True)
class FailedStep:
    step_key: str
    error: str


def run_failure_record(
    *,
    run_id: str,
    job_name: str,
    schedule_name: str | None,
    run_error: str,
    failed_steps: Sequence[FailedStep],
    links: AlertLinks,
    raised_at: str,
) -> dict[str, Any]:
    """The feed line for a scheduled run that failed: which steps failed, and why."""
    steps = ", ".join(step.step_key for step in failed_steps) or "the run itself"
    first_error = failed_steps[0].error if failed_steps else run_error
    return {
        "record": FEED_RECORD_ALERT,
        "schema_version": ALERT_SCHEMA_VERSION,
        "alert_id": alert_id("run_failure", run_id),
        "type": RUN_FAILURE,
        "severity": RUN_FAILURE_SEVERITY,
        "reason": "new",
        "previous_severity": None,
        "board": None,
        "sprint": None,
        "title": f"Scheduled run of {job_name} failed in {steps}",
        "message": first_error_line(first_error),
        "recommendations": [],
        "insight_id": None,
        "figures": {},
        "as_of": raised_at,
        "raised_at": raised_at,
        "report_url": links.report_url,
        "dagster_run": {"run_id": run_id, "url": links.run_url(run_id)},
        "source": {"asset": None, "check": None, "check_passed": None, "check_severity": None},
        "failure": {
            "job": job_name,
            "schedule": schedule_name,
            "run_error": first_error_line(run_error),
            "failed_steps": [
                {"step_key": step.step_key, "error": first_error_line(step.error, 1000)}
                for step in failed_steps
            ],
        },
    }


def digest_records(
    digest: Mapping[str, Any],
    lines_of: Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]],
    links: AlertLinks,
    digest_url: str,
    raised_at: str,
) -> list[dict[str, Any]]:
    """The feed lines of a weekly digest (report/digest.py): one per board, each delivered once
    by its id (`digest-<ISO week>-board-<id>`). `lines_of(digest, board)` words a board."""
    return [
        {
            "record": FEED_RECORD_DIGEST,
            "schema_version": ALERT_SCHEMA_VERSION,
            "alert_id": board["digest_id"],
            "week": digest["week"],
            "board": dict(board["board"]),
            "as_of": digest["as_of"],
            "compared_with": digest["compared_with"],
            "title": f"Weekly digest {digest['week']}: {board['board']['name']}",
            "lines": list(lines_of(digest, board)),
            "attention": len(board["attention"]),
            "report_url": links.board_report_url(board["board"]["id"]),
            "digest_url": f"{digest_url}#board-{board['board']['id']}",
            "raised_at": raised_at,
        }
        for board in digest["boards"]
    ]


def first_error_line(text: str, limit: int = 500) -> str:
    """The first non-empty line of an error message, shortened: what a chat message can hold."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "unknown error")
    return line if len(line) <= limit else line[: limit - 1] + "…"
