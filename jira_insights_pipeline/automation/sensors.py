"""The alert sensors.

`metric_threshold_alerts` reacts to new materializations of the watched metric tables and to
new evaluations of their asset checks. Once the run that wrote a table has finished and
published (so the insights written later in the same run are current too; a run that did not
publish changed nothing a reader sees, so it raises nothing), it reads the table from the DuckDB
warehouse (read-only), finds the crossings, keeps those the dedup state lets through, words each
with the matching insight's title and message, appends them to the feed and delivers the feed's
new alerts to the webhooks. Its cursor holds the dedup state and the pending deliveries, so a
restart neither repeats nor drops an alert.

Each tick also appends the newest published weekly digest (one line per board, each id once)
and delivers it with the alerts, with the same retries.

`scheduled_run_failure_alerts` appends an alert to the feed when a run started by a schedule
fails, naming the failed steps and their errors; the threshold sensor's next tick delivers it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import requests

from jira_insights_pipeline.assets.publication import PUBLICATION_ASSET
from jira_insights_pipeline.automation.crossings import crossings_for, watched_rules
from jira_insights_pipeline.automation.cursor import AlertCursor
from jira_insights_pipeline.automation.dedup import decide_alerts
from jira_insights_pipeline.automation.delivery import (
    AlertFeed,
    Poster,
    deliver,
    feed_path,
    http_poster,
    validate_record,
)
from jira_insights_pipeline.automation.records import (
    AlertSource,
    FailedStep,
    alert_record,
    digest_records,
    matching_insight,
    run_failure_record,
)
from jira_insights_pipeline.automation.settings import AlertSettings
from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.report.digest import (
    board_lines,
    digest_file_stem,
    due_for_posting,
    latest_digest,
)
from jira_insights_pipeline.resources.io_managers import warehouse_connection
from jira_insights_pipeline.resources.settings import PipelineSettings

THRESHOLD_SENSOR_NAME = "metric_threshold_alerts"
RUN_FAILURE_SENSOR_NAME = "scheduled_run_failure_alerts"
THRESHOLD_SENSOR_INTERVAL_SECONDS = 60
SCHEDULE_NAME_TAG = "dagster/schedule_name"
PUBLICATION_KEY = dg.AssetKey(PUBLICATION_ASSET)


@dataclass(frozen=True)
class TableSignal:
    """The latest materialization of a rule's table and the latest evaluation of its check."""

    check: str
    asset: str
    storage_id: int
    run_id: str
    check_record_id: int
    check_passed: bool | None
    check_severity: str | None

    @property
    def seen_ids(self) -> list[int]:
        return [self.storage_id, self.check_record_id]


def latest_signals(instance: dg.DagsterInstance) -> dict[str, TableSignal]:
    """Per rule (by its check's name) whose table was ever materialized, the table's latest
    materialization and the check's latest evaluation."""
    signals: dict[str, TableSignal] = {}
    for watched in watched_rules():
        key = dg.AssetKey(watched.asset)
        records = instance.fetch_materializations(key, limit=1).records
        if not records:
            continue
        check = instance.get_latest_asset_check_evaluation_record(
            dg.AssetCheckKey(key, watched.check)
        )
        evaluation = check.evaluation if check is not None else None
        signals[watched.check] = TableSignal(
            check=watched.check,
            asset=watched.asset,
            storage_id=records[0].storage_id,
            run_id=records[0].run_id,
            check_record_id=check.id if check is not None and evaluation is not None else 0,
            check_passed=evaluation.passed if evaluation is not None else None,
            check_severity=evaluation.severity.value if evaluation is not None else None,
        )
    return signals


def _run_finished(instance: dg.DagsterInstance, run_id: str) -> bool:
    run = instance.get_run_by_id(run_id)
    return run is None or run.is_finished


def _run_published(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the run's publication made its tables current: a run that failed, or left the
    publication out, wrote only its draft, and what the warehouse shows is an earlier run's."""
    materialized = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    return any(
        record.event_log_entry.asset_materialization is not None
        and record.event_log_entry.asset_materialization.asset_key == PUBLICATION_KEY
        for record in materialized
    )


def read_tables(
    warehouse: Path, assets: list[str]
) -> tuple[dict[str, pd.DataFrame], dict[int, str], dict[str, str]]:
    """The watched tables (schema `metrics`) and the board names, over one read-only
    connection. A table that cannot be read is reported in the third value, not raised."""
    tables: dict[str, pd.DataFrame] = {}
    problems: dict[str, str] = {}
    # Read-only, waiting while a run's step holds the write lock.
    with warehouse_connection(warehouse, read_only=True) as connection:
        for asset in assets:
            try:
                tables[asset] = connection.execute(f"select * from metrics.{asset}").fetchdf()
            except duckdb.CatalogException as error:
                problems[asset] = str(error).splitlines()[0]
        try:
            boards = connection.execute("select board_id, name from jira.jira_boards").fetchdf()
            names = {int(row.board_id): str(row.name) for row in boards.itertuples()}
        except duckdb.CatalogException:
            names = {}
    return tables, names, problems


def load_insights(folder: DataFolder) -> list[dict[str, Any]]:
    """Every current insight: the feed file if written, else the per-use-case files."""
    files = [folder.insights_feed]
    if not files[0].exists():
        files = sorted(folder.insights.glob("*_insights.json"))
    insights: list[dict[str, Any]] = []
    for path in files:
        if not path.exists():
            continue
        try:
            insights += json.loads(path.read_text(encoding="utf-8")).get("insights", [])
        except (OSError, json.JSONDecodeError, AttributeError):
            continue  # a file being rewritten: the alert falls back to the table's wording
    return insights


def weekly_digest_records(
    folder: DataFolder, alert_settings: AlertSettings, problems: list[str]
) -> list[dict[str, Any]]:
    """The feed lines of the newest published weekly digest, one per board, when the weekly
    schedule wrote it lately (`due_for_posting`). The feed appends each id once, so a digest
    is posted once per board and week, across restarts. A digest file that cannot be turned
    into feed lines is named in `problems` and skipped: it never holds up the alerts."""
    found = latest_digest(folder.report.parent)
    if found is None:
        return []
    path, digest = found
    now = datetime.now(tz=UTC)
    try:
        if not due_for_posting(digest, now):
            return []
        links = alert_settings.links(folder.root)
        name = f"{digest_file_stem(digest['week'])}.html"
        records = digest_records(
            digest, board_lines, links, links.beside_report(name), now.isoformat()
        )
        for record in records:
            validate_record(record)
    except (KeyError, TypeError, ValueError) as error:
        problems.append(
            f"weekly digest {path} not posted: {type(error).__name__}: {error}. Rebuild it "
            "(materialize weekly_digest) or remove the file."
        )
        return []
    return records


@dataclass
class TickSummary:
    raised: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    unpublished: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    def text(self) -> str:
        parts = [
            f"{len(self.raised)} alert(s) raised"
            + (f": {', '.join(self.raised)}" if self.raised else "")
        ]
        if self.recovered:
            parts.append(f"recovered: {', '.join(self.recovered)}")
        if self.waiting:
            parts.append(f"waiting for running runs to finish: {', '.join(self.waiting)}")
        if self.unpublished:
            parts.append(
                "written by runs that did not publish (nothing current changed): "
                + ", ".join(self.unpublished)
            )
        if self.problems:
            parts.append("; ".join(self.problems))
        parts.append(
            f"webhooks: {self.delivered} delivered, {self.retrying} to retry, "
            f"{self.failed} given up"
        )
        return "; ".join(parts)


def evaluate_threshold_alerts(
    context: dg.SensorEvaluationContext,
    pipeline_settings: PipelineSettings,
    thresholds: Thresholds,
    alert_settings: AlertSettings,
    poster: Poster | None = None,
) -> dg.SensorResult:
    """One tick of `metric_threshold_alerts` (see the module docstring)."""
    state = AlertCursor.from_json(context.cursor)
    summary = TickSummary()
    data_dir = pipeline_settings.data_path
    signals = latest_signals(context.instance)
    changed = {
        check: signal
        for check, signal in signals.items()
        if state.seen.get(check) != signal.seen_ids
    }
    ready = {}
    for check, signal in changed.items():
        if not _run_finished(context.instance, signal.run_id):
            summary.waiting.append(signal.asset)
        elif _run_published(context.instance, signal.run_id):
            ready[check] = signal
        else:
            # Nothing current changed: no alert, and no waiting on it again.
            state.seen[check] = signal.seen_ids
            summary.unpublished.append(signal.asset)

    records: list[dict[str, Any]] = []
    if ready and pipeline_settings.warehouse_path.exists():
        try:
            tables, board_names, problems = read_tables(
                pipeline_settings.warehouse_path, sorted({s.asset for s in ready.values()})
            )
        except duckdb.Error as error:
            # A run holds the warehouse's write lock: the tables are judged on a later tick.
            summary.problems.append(f"warehouse not readable now ({type(error).__name__})")
            tables, board_names, problems = {}, {}, {}
        summary.problems += [f"{asset}: {problem}" for asset, problem in problems.items()]
        insights = load_insights(pipeline_settings.folder)
        links = alert_settings.links(data_dir)
        raised_at = datetime.now(tz=UTC).isoformat()
        for watched in watched_rules():
            signal = ready.get(watched.check)
            if signal is None or (watched.asset not in tables and watched.asset not in problems):
                continue
            state.seen[watched.check] = signal.seen_ids
            if watched.asset in problems:
                continue
            crossings = crossings_for(
                watched,
                tables[watched.asset],
                thresholds,
                board_names,
                signal.check_severity,
            )
            outcome = decide_alerts(state.open, [watched.rule.name], crossings)
            state.open = outcome.open_crossings
            summary.recovered += outcome.recovered
            source = AlertSource(
                asset=watched.asset,
                materialization_storage_id=signal.storage_id,
                run_id=signal.run_id,
                check_name=watched.check if signal.check_passed is not None else None,
                check_passed=signal.check_passed,
                check_severity=signal.check_severity,
            )
            for decision in outcome.alerts:
                insight = matching_insight(decision.crossing, insights)
                records.append(alert_record(decision, insight, source, links, raised_at))
    elif ready:
        summary.problems.append(f"no warehouse at {pipeline_settings.warehouse_path}")

    records += weekly_digest_records(pipeline_settings.folder, alert_settings, summary.problems)
    feed = AlertFeed(feed_path(data_dir))
    if state.feed_offset is None:
        state.feed_offset = feed.size()  # never send history that predates this sensor
    written = feed.append(records)
    summary.raised = [
        f"{record.get('type', record['record'])} {record['title']!r}" for record in written
    ]

    with requests.Session() as session:
        report = deliver(
            feed,
            alert_settings.parsed_webhooks(),
            state.pending,
            state.feed_offset,
            alert_settings.retry_policy(),
            poster
            or http_poster(
                session,
                alert_settings.connect_timeout_seconds,
                alert_settings.read_timeout_seconds,
            ),
        )
    state.pending = report.pending
    state.feed_offset = report.feed_offset
    summary.delivered = len(report.delivered)
    summary.retrying = len(report.retrying)
    summary.failed = len(report.failed)
    for alert_id, webhook_id, error in report.retrying:
        context.log.warning(f"Delivery of {alert_id} to {webhook_id} failed ({error}); retrying.")
    for failure in report.failed:
        context.log.error(
            f"Gave up delivering {failure['alert_id']} to {failure['webhook']['id']} after "
            f"{failure['attempts']} attempt(s): {failure['error']}. Recorded in {feed.path}."
        )
    text = summary.text()
    context.log.info(text)
    return dg.SensorResult(skip_reason=text, cursor=state.to_json())


def build_threshold_alert_sensor(
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=THRESHOLD_SENSOR_NAME,
        minimum_interval_seconds=THRESHOLD_SENSOR_INTERVAL_SECONDS,
        default_status=default_status,
        description="Alerts once per crossed threshold rule (of every use case) per board and "
        "sprint, when its metric table or its check is newly evaluated: appends to <data "
        "folder>/alerts/alerts.jsonl and posts to JIRA_INSIGHTS_ALERT_WEBHOOKS, retrying failed "
        "deliveries on later ticks.",
    )
    def metric_threshold_alerts(
        context: dg.SensorEvaluationContext,
        pipeline_settings: PipelineSettings,
        thresholds: Thresholds,
        alert_settings: AlertSettings,
    ) -> dg.SensorResult:
        return evaluate_threshold_alerts(context, pipeline_settings, thresholds, alert_settings)

    return metric_threshold_alerts


def failed_steps(context: dg.RunFailureSensorContext) -> list[FailedStep]:
    steps = []
    for event in context.get_step_failure_events():
        error = getattr(event.event_specific_data, "error", None)
        # Dagster wraps the asset's own exception; its cause says what to do.
        while error is not None and error.cause is not None:
            error = error.cause
        message = error.message if error is not None else (event.message or "step failed")
        steps.append(FailedStep(step_key=event.step_key or "?", error=message))
    return steps


def run_failure_alert(
    context: dg.RunFailureSensorContext,
    pipeline_settings: PipelineSettings,
    alert_settings: AlertSettings,
) -> dict[str, Any] | None:
    """Append the alert for a failed scheduled run to the feed; None for an unscheduled run."""
    run = context.dagster_run
    schedule: str | None = run.tags.get(SCHEDULE_NAME_TAG)
    if schedule is None:
        context.log.info(f"Run {run.run_id} was not started by a schedule: no alert.")
        return None
    record = run_failure_record(
        run_id=run.run_id,
        job_name=run.job_name,
        schedule_name=schedule,
        run_error=context.failure_event.message or "run failed",
        failed_steps=failed_steps(context),
        links=alert_settings.links(pipeline_settings.data_path),
        raised_at=datetime.now(tz=UTC).isoformat(),
    )
    feed = AlertFeed(feed_path(pipeline_settings.data_path))
    written = feed.append([record])
    context.log.info(f"Recorded {record['alert_id']} in {feed.path}: {record['title']}")
    return written[0] if written else None


def build_run_failure_sensor(
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name=RUN_FAILURE_SENSOR_NAME,
        default_status=default_status,
        description="Alerts when a run started by a schedule fails, naming the failed steps and "
        "their errors (appended to the alert feed; delivered to the webhooks by "
        f"{THRESHOLD_SENSOR_NAME}).",
    )
    def scheduled_run_failure_alerts(
        context: dg.RunFailureSensorContext,
        pipeline_settings: PipelineSettings,
        alert_settings: AlertSettings,
    ) -> None:
        run_failure_alert(context, pipeline_settings, alert_settings)

    return scheduled_run_failure_alerts
