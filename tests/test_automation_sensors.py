"""The alert sensors, evaluated for real against a Dagster test instance after real
materializations of the real Definitions: on the bundled sample site (which crosses scope
creep, velocity, missed targets, leakage, hygiene and cycle time on boards 1-3 and nothing on
board 4) and on snapshots cut from it (Payments alone; Platform alone, which crosses nothing).

They show what the issue asks: one tick writes exactly one alert per crossing to the feed and
to a real webhook receiver on 127.0.0.1, a second tick writes none, a restart from the stored
cursor repeats nothing, a recovered crossing that crosses again alerts again, a webhook that is
down, slow or failing neither blocks a tick nor loses an alert (and gives up within its bound,
recording that in the feed), and a scheduled run that really fails raises an alert naming its
failed step.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from automation_runs import (
    alert_settings,
    board_subset_snapshot,
    environment,
    materialize,
    pipeline_definitions,
    tick,
)
from webhook_receiver import WebhookReceiver

from jira_insights_pipeline.automation.crossings import crossing_key
from jira_insights_pipeline.automation.cursor import AlertCursor
from jira_insights_pipeline.automation.delivery import feed_path, validate_record
from jira_insights_pipeline.automation.schedules import HOURLY_JOB, HOURLY_SCHEDULE
from jira_insights_pipeline.automation.sensors import RUN_FAILURE_SENSOR_NAME
from jira_insights_pipeline.resources.settings import PipelineSettings

# (type, board id, sprint name) of every crossing on the sample site (PLANTED.md).
SAMPLE_CROSSINGS = {
    ("scope_creep", 1, "CHK Sprint 16"),
    ("cycle_time", 1, "CHK Sprint 15"),
    ("missed_target", 2, "MOB Sprint 30"),
    ("velocity_drop", 2, "MOB Sprint 30"),
    ("missed_target", 3, "PAY Sprint 26"),
    ("defect_leakage", 3, "PAY Sprint 26"),
    ("defect_leakage", 3, "PAY Sprint 27"),
    ("hygiene", 3, None),
}
PAYMENTS_CROSSINGS = {item for item in SAMPLE_CROSSINGS if item[1] == 3}


def feed(data_dir: Path) -> list[dict[str, Any]]:
    path = feed_path(data_dir)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def alerts(data_dir: Path) -> list[dict[str, Any]]:
    return [record for record in feed(data_dir) if record["record"] == "alert"]


def crossing_of(record: dict[str, Any]) -> tuple[str, int, str | None]:
    sprint = record["sprint"]["name"] if record["sprint"] else None
    return record["type"], record["board"]["id"], sprint


def webhooks(receiver: WebhookReceiver) -> str:
    return (
        f"slack=http://127.0.0.1:{receiver.port}/slack, json=http://127.0.0.1:{receiver.port}/json"
    )


@pytest.fixture(scope="module")
def sample_site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dg.DagsterInstance, Path]]:
    """One full materialization of the sample site, kept for the module's tests."""
    root = tmp_path_factory.mktemp("sample")
    with dg.instance_for_test() as instance:
        result = materialize(instance, root / "data")
        assert result.success
        yield instance, root / "data"


@pytest.fixture
def sample_data(sample_site: tuple[dg.DagsterInstance, Path], tmp_path: Path) -> Path:
    """A copy of the sample run's data folder, so each test starts with no feed."""
    _, data_dir = sample_site
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    return copy


def test_one_tick_alerts_each_crossing_once_to_the_feed_and_both_webhooks(
    sample_site: tuple[dg.DagsterInstance, Path], sample_data: Path
) -> None:
    instance, _ = sample_site
    with WebhookReceiver() as receiver:
        settings = alert_settings(webhooks(receiver))
        result, cursor = tick(instance, None, sample_data, settings)

        written = alerts(sample_data)
        assert sorted(map(crossing_of, written)) == sorted(SAMPLE_CROSSINGS)
        assert all(record["board"]["id"] != 4 for record in written), "Platform is healthy"
        for record in written:
            validate_record(record)
            assert record["reason"] == "new"
            assert record["report_url"].endswith(f"insights.html#board-{record['board']['id']}")
            run = instance.get_run_by_id(record["dagster_run"]["run_id"])
            assert run is not None and run.is_success
            assert record["dagster_run"]["url"].startswith("http://127.0.0.1:3000/runs/")
        severities = {crossing_of(r): r["severity"] for r in written}
        assert severities[("defect_leakage", 3, "PAY Sprint 26")] == "error"  # an ERROR check
        assert severities[("scope_creep", 1, "CHK Sprint 16")] == "warning"

        # Every crossing has its insight (the rows a rule judges are the rows insights are
        # written for), and the alert carries that insight's title and message.
        insight_file = json.loads((sample_data / "insights" / "insights_feed.json").read_text())
        insights = {item["id"]: item for item in insight_file["insights"]}
        with_insight = [record for record in written if record["insight_id"]]
        assert {crossing_of(r) for r in with_insight} == SAMPLE_CROSSINGS
        for record in with_insight:
            insight = insights[record["insight_id"]]
            assert (record["title"], record["message"]) == (insight["title"], insight["message"])
            assert insight["severity"] != "info"
        scope = next(r for r in written if r["type"] == "scope_creep")
        assert scope["figures"]["grown_stories"] == 5
        assert scope["figures"]["estimated_committed_stories"] == 12

        # Each webhook got each alert once: the JSON one the feed record, Slack a message.
        by_path = {"/slack": [], "/json": []}
        for item in receiver.received:
            by_path[item.path].append(item.body)
        assert len(by_path["/json"]) == len(written)
        assert {b["alert_id"]: b for b in by_path["/json"]} == {r["alert_id"]: r for r in written}
        assert len(by_path["/slack"]) == len(written)
        slack_texts = " ".join(body["text"] for body in by_path["/slack"])
        for record in written:
            assert record["title"].replace("&", "&amp;") in slack_texts
        assert all(body["blocks"][-1]["type"] == "context" for body in by_path["/slack"])
        assert "8 alert(s) raised" in result.skip_reason.skip_message

        # A second tick finds nothing new.
        received_before = len(receiver.received)
        result, cursor = tick(instance, cursor, sample_data, settings)
        assert len(alerts(sample_data)) == len(SAMPLE_CROSSINGS)
        assert len(receiver.received) == received_before
        assert "0 alert(s) raised" in result.skip_reason.skip_message

        # A restart: fresh Definitions and sensor, the cursor as the instance stored it.
        restored = AlertCursor.from_json(cursor)
        assert set(restored.open) == {
            crossing_key(r["type"], r["board"]["id"], r["sprint"]["id"] if r["sprint"] else None)
            for r in written
        }
        _, cursor_after = tick(instance, restored.to_json(), sample_data, settings)
        assert len(alerts(sample_data)) == len(SAMPLE_CROSSINGS)
        assert len(receiver.received) == received_before
        assert AlertCursor.from_json(cursor_after).open == restored.open


def test_a_webhook_that_is_down_gets_every_alert_once_after_it_returns(
    sample_site: tuple[dg.DagsterInstance, Path], sample_data: Path
) -> None:
    instance, _ = sample_site
    receiver = WebhookReceiver()
    receiver.start()
    settings = alert_settings(f"json={receiver.url}")
    receiver.stop()  # down: connections to its port are refused

    _, cursor = tick(instance, None, sample_data, settings)
    assert len(alerts(sample_data)) == len(SAMPLE_CROSSINGS), "the feed never waits"
    pending = AlertCursor.from_json(cursor).pending
    assert len(pending) == len(SAMPLE_CROSSINGS)
    assert [item["attempts"] for item in pending].count(1) == 1, "one refused try per tick"
    assert "could not connect" in pending[0]["error"]

    _, cursor = tick(instance, cursor, sample_data, settings)  # still down
    assert receiver.received == []

    receiver.start()  # back, on the same port
    try:
        _, cursor = tick(instance, cursor, sample_data, settings)
        assert sorted(b["alert_id"] for b in receiver.bodies()) == sorted(
            r["alert_id"] for r in alerts(sample_data)
        )
        assert AlertCursor.from_json(cursor).pending == []
        _, cursor = tick(instance, cursor, sample_data, settings)
        assert len(receiver.received) == len(SAMPLE_CROSSINGS), "nothing delivered twice"
        assert [r for r in feed(sample_data) if r["record"] == "delivery_failed"] == []
    finally:
        receiver.stop()


def test_a_slow_webhook_costs_one_timeout_per_tick_and_loses_nothing(
    sample_site: tuple[dg.DagsterInstance, Path], sample_data: Path
) -> None:
    instance, _ = sample_site
    with WebhookReceiver(slow_seconds=2.0) as receiver:
        receiver.mode = "slow"
        settings = alert_settings(f"json={receiver.url}", read_timeout_seconds=0.3)
        _, cursor = tick(instance, None, sample_data, settings)
        assert receiver.attempts == 1, "after one timeout the tick stops trying that webhook"
        pending = AlertCursor.from_json(cursor).pending
        assert len(pending) == len(SAMPLE_CROSSINGS)
        assert any("timed out" in (item["error"] or "") for item in pending)

        receiver.mode = "ok"
        _, cursor = tick(instance, cursor, sample_data, settings)
        assert {b["alert_id"] for b in receiver.bodies()} == {
            r["alert_id"] for r in alerts(sample_data)
        }
        assert AlertCursor.from_json(cursor).pending == []


def test_a_failing_webhook_is_retried_within_its_bound_and_the_failures_are_recorded(
    sample_site: tuple[dg.DagsterInstance, Path], sample_data: Path
) -> None:
    instance, _ = sample_site
    with WebhookReceiver() as receiver:
        receiver.mode = "fail"  # 503 every time
        settings = alert_settings(f"json={receiver.url}", max_attempts=2)
        cursor = None
        for _ in range(3 * len(SAMPLE_CROSSINGS)):
            _, cursor = tick(instance, cursor, sample_data, settings)
            if not AlertCursor.from_json(cursor).pending:
                break
        assert AlertCursor.from_json(cursor).pending == []
        assert receiver.attempts == 2 * len(SAMPLE_CROSSINGS)
        failures = [r for r in feed(sample_data) if r["record"] == "delivery_failed"]
        assert sorted(f["alert_id"] for f in failures) == sorted(
            r["alert_id"] for r in alerts(sample_data)
        )
        for failure in failures:
            validate_record(failure)
            assert failure["attempts"] == 2
            assert failure["error"] == "HTTP 503"
            assert failure["webhook"]["host"] == "127.0.0.1"
        assert "/hook" not in feed_path(sample_data).read_text(), "the URL is never written"

        # A 400 means the request is wrong: no retry.
        receiver.mode = "reject"
        other = sample_data.parent / "other"
        shutil.copytree(sample_data, other)
        feed_path(other).unlink()
        _, cursor = tick(instance, None, other, settings)
        rejected = [r for r in feed(other) if r["record"] == "delivery_failed"]
        assert len(rejected) == 1 and rejected[0]["error"] == "HTTP 400"
        assert rejected[0]["attempts"] == 1


def test_recovery_then_crossing_again_alerts_again_and_an_unchanged_rerun_does_not(
    tmp_path: Path,
) -> None:
    payments = board_subset_snapshot(tmp_path / "payments", [3])
    platform = board_subset_snapshot(tmp_path / "platform", [4])
    data_dir = tmp_path / "data"
    settings = alert_settings()
    with dg.instance_for_test() as instance:
        assert materialize(instance, data_dir, payments).success
        _, cursor = tick(instance, None, data_dir, settings)
        first = alerts(data_dir)
        assert {crossing_of(r) for r in first} == PAYMENTS_CROSSINGS
        assert len(first) == len(PAYMENTS_CROSSINGS)

        # The same data materialized again: new materializations, no new alert.
        assert materialize(instance, data_dir, payments, "group:metrics").success
        _, cursor = tick(instance, cursor, data_dir, settings)
        assert len(alerts(data_dir)) == len(PAYMENTS_CROSSINGS)

        # Healthy now (only Platform is left): every crossing recovers, nothing alerts.
        assert materialize(instance, data_dir, platform).success
        result, cursor = tick(instance, cursor, data_dir, settings)
        assert len(alerts(data_dir)) == len(PAYMENTS_CROSSINGS)
        assert AlertCursor.from_json(cursor).open == {}
        assert "recovered" in result.skip_reason.skip_message

        # Crossing again after recovering: alerted again, as new alerts.
        assert materialize(instance, data_dir, payments).success
        _, cursor = tick(instance, cursor, data_dir, settings)
        again = alerts(data_dir)[len(first) :]
        assert {crossing_of(r) for r in again} == PAYMENTS_CROSSINGS
        assert {r["alert_id"] for r in again}.isdisjoint({r["alert_id"] for r in first})
        assert all(r["reason"] == "new" for r in again)


def test_a_run_that_did_not_publish_raises_no_alert(tmp_path: Path) -> None:
    """Tables written by a run without its publication are only in its draft: the warehouse
    still shows the last published run's, so the new materializations raise nothing."""
    payments = board_subset_snapshot(tmp_path / "payments", [3])
    platform = board_subset_snapshot(tmp_path / "platform", [4])
    data_dir = tmp_path / "data"
    settings = alert_settings()
    with dg.instance_for_test() as instance:
        assert materialize(instance, data_dir, platform).success
        _, cursor = tick(instance, None, data_dir, settings)
        assert alerts(data_dir) == []
        assert materialize(instance, data_dir, payments, publish=False).success
        result, cursor = tick(instance, cursor, data_dir, settings)
        assert alerts(data_dir) == []
        assert "written by runs that did not publish" in result.skip_reason.skip_message
        # Published, the same crossings alert.
        assert materialize(instance, data_dir, payments).success
        _, cursor = tick(instance, cursor, data_dir, settings)
        assert {crossing_of(r) for r in alerts(data_dir)} == PAYMENTS_CROSSINGS


def _failure_context(
    instance: dg.DagsterInstance, run_id: str, data_dir: Path
) -> dg.RunFailureSensorContext:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    assert len(records) == 1
    return dg.build_run_status_sensor_context(
        sensor_name=RUN_FAILURE_SENSOR_NAME,
        dagster_event=records[0].event_log_entry.dagster_event,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(run_id),
        resources={
            "pipeline_settings": PipelineSettings(data_dir=str(data_dir)),
            "alert_settings": alert_settings(),
        },
    ).for_run_failure()


def test_a_scheduled_run_that_fails_raises_an_alert_with_its_step_and_error(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    with (
        dg.instance_for_test() as instance,
        WebhookReceiver() as receiver,
    ):
        settings = alert_settings(f"json={receiver.url}")
        _, cursor = tick(instance, None, data_dir, settings)  # the sensor is running already

        with environment(
            JIRA_INSIGHTS_DATA_DIR=str(data_dir),
            JIRA_INSIGHTS_LLM="off",
            JIRA_SOURCE="snapshot",
            JIRA_SNAPSHOT_DIR=str(tmp_path / "missing-snapshot"),
        ):
            defs = pipeline_definitions()
            job = defs.resolve_job_def(HOURLY_JOB)
            scheduled = job.execute_in_process(
                instance=instance,
                tags={"dagster/schedule_name": HOURLY_SCHEDULE},
                raise_on_error=False,
            )
            manual = job.execute_in_process(instance=instance, raise_on_error=False)
        assert not scheduled.success
        sensor = defs.resolve_sensor_def(RUN_FAILURE_SENSOR_NAME)
        sensor(_failure_context(instance, scheduled.run_id, data_dir))

        (record,) = alerts(data_dir)
        validate_record(record)
        assert record["type"] == "run_failure" and record["severity"] == "error"
        assert record["failure"]["job"] == HOURLY_JOB
        assert record["failure"]["schedule"] == HOURLY_SCHEDULE
        steps = record["failure"]["failed_steps"]
        assert [step["step_key"] for step in steps] == ["raw_jira_scrape"]
        assert "does not exist" in steps[0]["error"]
        assert "raw_jira_scrape" in record["title"]
        assert record["dagster_run"]["run_id"] == scheduled.run_id

        # The same failure seen twice (a sensor restart) is recorded once.
        sensor(_failure_context(instance, scheduled.run_id, data_dir))
        assert len(alerts(data_dir)) == 1

        # The threshold sensor's next tick delivers it.
        _, cursor = tick(instance, cursor, data_dir, settings)
        assert [body["alert_id"] for body in receiver.bodies()] == [record["alert_id"]]

        # A run no schedule started raises nothing.
        assert not manual.success
        sensor(_failure_context(instance, manual.run_id, data_dir))
        assert len(alerts(data_dir)) == 1
