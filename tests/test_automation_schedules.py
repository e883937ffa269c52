"""The daily and hourly schedules: the run requests they make (through
`dg.build_schedule_context`, as the daemon evaluates them), what their jobs select, how the
environment configures them (and refuses values Dagster cannot use), and that the hourly one
stands aside while a refresh is still running."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from automation_runs import environment

from jira_insights_pipeline.automation.schedules import (
    AUTOMATION_ENV,
    DAILY_CRON_ENV,
    DAILY_JOB,
    DAILY_SCHEDULE,
    HOURLY_CRON_ENV,
    HOURLY_JOB,
    HOURLY_SCHEDULE,
    PIPELINE_TAG,
    TIMEZONE_ENV,
    WEEKLY_CRON_ENV,
    WEEKLY_JOB,
    WEEKLY_SCHEDULE,
    AutomationSettingsError,
    ScheduleSettings,
)
from jira_insights_pipeline.definitions import build_definitions

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE_VARS = (DAILY_CRON_ENV, HOURLY_CRON_ENV, WEEKLY_CRON_ENV, TIMEZONE_ENV, AUTOMATION_ENV)


@pytest.fixture
def defs() -> dg.Definitions:
    with environment(**dict.fromkeys(SCHEDULE_VARS)):
        return build_definitions()


def _raw_config(request: dg.RunRequest) -> dict:
    return request.run_config["ops"]["raw_jira_scrape"]["config"]


def test_daily_schedule_requests_a_full_refresh_and_yesterdays_history_at_eight_utc(
    defs: dg.Definitions,
) -> None:
    schedule = defs.resolve_schedule_def(DAILY_SCHEDULE)
    assert schedule.cron_schedule == "0 8 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == DAILY_JOB
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2026, 11, 24, 8, tzinfo=UTC),
            repository_def=defs.get_repository_def(),
        )
        data = schedule.evaluate_tick(context)
    (request,) = data.run_requests
    assert _raw_config(request) == {"full_refresh": True}
    # The day that has just ended becomes the history tables' newest partition.
    assert request.partition_key == "2026-11-23"


def test_hourly_schedule_requests_an_incremental_refresh(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def(HOURLY_SCHEDULE)
    assert schedule.cron_schedule == "30 * * * *"
    assert schedule.job_name == HOURLY_JOB
    with dg.instance_for_test() as instance:
        request = schedule(dg.build_schedule_context(instance=instance))
    assert isinstance(request, dg.RunRequest)
    assert _raw_config(request) == {"full_refresh": False}


def test_hourly_schedule_skips_while_a_refresh_is_running(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def(HOURLY_SCHEDULE)
    with dg.instance_for_test() as instance:
        running = dg.DagsterRun(
            job_name=DAILY_JOB,
            run_id=str(uuid.uuid4()),
            status=dg.DagsterRunStatus.STARTED,
            tags={PIPELINE_TAG: "refresh"},
        )
        instance.add_run(running)
        outcome = schedule(dg.build_schedule_context(instance=instance))
        assert isinstance(outcome, dg.SkipReason)
        assert running.run_id in (outcome.skip_message or "")

        instance.report_run_failed(running)  # no longer running: the next tick refreshes
        assert isinstance(schedule(dg.build_schedule_context(instance=instance)), dg.RunRequest)


def test_daily_job_selects_all_but_the_digest_and_hourly_only_the_alert_tables(
    defs: dg.Definitions,
) -> None:
    graph = defs.resolve_asset_graph()
    every = {key.to_user_string() for key in graph.materializable_asset_keys}
    daily = defs.resolve_job_def(DAILY_JOB)
    hourly = defs.resolve_job_def(HOURLY_JOB)
    daily_keys = {key.to_user_string() for key in daily.asset_layer.selected_asset_keys}
    hourly_keys = {key.to_user_string() for key in hourly.asset_layer.selected_asset_keys}
    assert daily_keys == every - {"weekly_digest"}  # the weekly schedule's
    weekly = defs.resolve_job_def(WEEKLY_JOB)
    assert {key.to_user_string() for key in weekly.asset_layer.selected_asset_keys} == {
        "weekly_digest",
        "publication",
    }
    assert {"raw_jira_scrape", "insights_report", "sprint_velocity", "cycle_times"} <= daily_keys
    staging = {
        s.key.to_user_string() for s in defs.resolve_all_asset_specs() if s.group_name == "staging"
    }
    alert_tables = {
        "sprint_scope_changes",
        "sprint_commitments",
        "sprint_scope_creep",
        "scope_growth_causes",
        "sprint_scope_causes",
        "sprint_targets",
        "spillover_reasons",
        "spillover_patterns",
        "defect_leakage",
        "defect_escape_rates",
        "escape_causes",
        "escape_clusters",
        "work_item_health",
        "hygiene_scores",
    }
    insights = {
        s.key.to_user_string()
        for s in defs.resolve_all_asset_specs()
        if s.group_name == "insights" and s.key.to_user_string() in every
    }
    assert "insights_report" in insights
    assert hourly_keys == {"raw_jira_scrape"} | staging | alert_tables | insights | {"publication"}
    assert not {"sprint_velocity", "cycle_times", "cycle_time_trends"} & hourly_keys


def test_environment_sets_times_zone_and_switch() -> None:
    with environment(
        **{
            DAILY_CRON_ENV: "15 6 * * 1-5",
            HOURLY_CRON_ENV: "5 7-18 * * 1-5",
            TIMEZONE_ENV: "Europe/Berlin",
            AUTOMATION_ENV: "running",
        }
    ):
        defs = build_definitions()
    daily = defs.resolve_schedule_def(DAILY_SCHEDULE)
    hourly = defs.resolve_schedule_def(HOURLY_SCHEDULE)
    assert (daily.cron_schedule, daily.execution_timezone) == ("15 6 * * 1-5", "Europe/Berlin")
    assert (hourly.cron_schedule, hourly.execution_timezone) == ("5 7-18 * * 1-5", "Europe/Berlin")
    assert daily.default_status == dg.DefaultScheduleStatus.RUNNING
    assert {sensor.default_status for sensor in defs.sensors} == {dg.DefaultSensorStatus.RUNNING}


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        (DAILY_CRON_ENV, "at eight", "not a cron string"),
        (HOURLY_CRON_ENV, "61 * * * *", "not a cron string"),
        (WEEKLY_CRON_ENV, "on mondays", "not a cron string"),
        (TIMEZONE_ENV, "Mars/Olympus", "not an IANA time zone"),
        (AUTOMATION_ENV, "maybe", "use 'running'"),
    ],
)
def test_a_bad_value_stops_loading_and_names_the_variable(
    name: str, value: str, words: str
) -> None:
    with pytest.raises(AutomationSettingsError, match=words) as caught:
        ScheduleSettings.from_env({name: value})
    assert name in str(caught.value)
    assert repr(value) in str(caught.value)


def test_the_weekly_digest_fires_on_monday_at_eight_unless_configured(
    defs: dg.Definitions,
) -> None:
    schedule = defs.resolve_schedule_def(WEEKLY_SCHEDULE)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 8 * * 1", "UTC")
    assert schedule.job_name == WEEKLY_JOB
    settings = ScheduleSettings.from_env(
        {WEEKLY_CRON_ENV: "30 7 * * 5", TIMEZONE_ENV: "Europe/Berlin"}
    )
    assert (settings.weekly_cron, settings.timezone) == ("30 7 * * 5", "Europe/Berlin")


def test_blank_values_fall_back_to_the_defaults() -> None:
    assert ScheduleSettings.from_env({DAILY_CRON_ENV: " ", TIMEZONE_ENV: ""}) == ScheduleSettings()


def test_the_cli_lists_the_three_schedules_and_the_alert_sensors(tmp_path: Path) -> None:
    """`dagster definitions validate` accepts the workspace (tests/test_definitions.py); `dg list
    defs` is the command that lists what it holds."""
    bin_dir = Path(sys.executable).parent
    completed = subprocess.run(
        [bin_dir / "dg", "list", "defs", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir), "DAGSTER_HOME": str(tmp_path), "HOME": str(tmp_path)},
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    listed = json.loads(completed.stdout)
    assert {(s["name"], s["cron_schedule"]) for s in listed["schedules"]} == {
        (DAILY_SCHEDULE, "0 8 * * *"),
        (HOURLY_SCHEDULE, "30 * * * *"),
        (WEEKLY_SCHEDULE, "0 8 * * 1"),
    }
    assert {s["name"] for s in listed["sensors"]} == {
        "metric_threshold_alerts",
        "scheduled_run_failure_alerts",
    }
    assert {j["name"] for j in listed["jobs"]} >= {DAILY_JOB, HOURLY_JOB}
