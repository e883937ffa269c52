"""The daily, hourly and weekly schedules, their jobs, and everything automation adds to
`Definitions`.

Daily (08:00 UTC by default): a full refresh of the raw data, then every staging and metric
table, every insight and the report, and yesterday's partition of the history tables (the day
that has just ended; `partitions.py`). Hourly (at half past, by default): an incremental refresh
(`raw_jira_scrape` with `full_refresh: false`), then only the tables the alerts read often (team
health, sprint commitments and scope changes, defect leakage), the insights and the report.
Weekly (Monday 08:00 UTC by default): the weekly digest, from the last published data
(`assets/digest.py`); the alert sensor posts it.

Cron strings and the time zone are plain values when `Definitions` is built, unlike resource
settings (which Dagster resolves from a `dg.EnvVar` at launch), because Dagster's scheduler needs
them to plan ticks. So they are read from the environment by `automation_from_env()`, called
by `build_definitions()` when the code location loads, and checked there: a bad value stops the
code location from loading with a message naming the variable, instead of never firing. A cron
string is checked by Dagster itself: `ScheduleDefinition` refuses one it cannot plan ticks for.
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import dagster as dg

from jira_insights_pipeline.assets.digest import DIGEST_ASSET
from jira_insights_pipeline.assets.publication import PUBLICATION_ASSET
from jira_insights_pipeline.assets.raw import RawScrapeConfig
from jira_insights_pipeline.automation.run_status import (
    ACTIVE_STATUSES,
    fail_runs_whose_worker_died,
)
from jira_insights_pipeline.automation.sensors import (
    build_run_failure_sensor,
    build_threshold_alert_sensor,
)
from jira_insights_pipeline.automation.settings import alert_settings_from_env
from jira_insights_pipeline.partitions import DAILY_HISTORY, HISTORY_START_ENV
from jira_insights_pipeline.registry import use_cases

DAILY_CRON_ENV = "JIRA_INSIGHTS_DAILY_CRON"
HOURLY_CRON_ENV = "JIRA_INSIGHTS_HOURLY_CRON"
WEEKLY_CRON_ENV = "JIRA_INSIGHTS_WEEKLY_CRON"
TIMEZONE_ENV = "JIRA_INSIGHTS_TIMEZONE"
AUTOMATION_ENV = "JIRA_INSIGHTS_AUTOMATION"

DAILY_JOB = "daily_refresh_job"
HOURLY_JOB = "hourly_refresh_job"
WEEKLY_JOB = "weekly_digest_job"
DAILY_SCHEDULE = "daily_full_refresh"
HOURLY_SCHEDULE = "hourly_incremental_refresh"
WEEKLY_SCHEDULE = "weekly_digest"
REFRESH_TAG = "jira_insights/refresh"
# One tag on every pipeline run, for a run-queue limit (README: "Running on its own").
PIPELINE_TAG = "jira_insights/pipeline"
MAX_RUNTIME_TAG = "dagster/max_runtime"

# The longest a refresh may run before run monitoring (.dagster/dagster.yaml) ends it: a full
# refresh of 100 boards with the model takes well under an hour on 2 cores, and an hourly run
# that outlives its hour only delays the next one.
DAILY_MAX_RUNTIME_SECONDS = 3 * 3600
HOURLY_MAX_RUNTIME_SECONDS = 3600


class AutomationSettingsError(ValueError):
    """A schedule variable holds a value Dagster cannot use."""


@dataclass(frozen=True)
class ScheduleSettings:
    """When the schedules fire, and whether they (and the sensors) start switched on."""

    daily_cron: str = "0 8 * * *"
    hourly_cron: str = "30 * * * *"
    weekly_cron: str = "0 8 * * 1"
    timezone: str = "UTC"
    running: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ScheduleSettings:
        defaults = cls()
        daily = environ.get(DAILY_CRON_ENV, "").strip() or defaults.daily_cron
        hourly = environ.get(HOURLY_CRON_ENV, "").strip() or defaults.hourly_cron
        weekly = environ.get(WEEKLY_CRON_ENV, "").strip() or defaults.weekly_cron
        timezone = environ.get(TIMEZONE_ENV, "").strip() or defaults.timezone
        _check_cron(DAILY_CRON_ENV, daily, DAILY_SCHEDULE, DAILY_JOB, defaults.daily_cron)
        _check_cron(HOURLY_CRON_ENV, hourly, HOURLY_SCHEDULE, HOURLY_JOB, defaults.hourly_cron)
        _check_cron(WEEKLY_CRON_ENV, weekly, WEEKLY_SCHEDULE, WEEKLY_JOB, defaults.weekly_cron)
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise AutomationSettingsError(
                f"{TIMEZONE_ENV}={timezone!r} is not an IANA time zone; use a name such as "
                "'UTC' or 'Europe/Berlin'."
            ) from None
        switch = environ.get(AUTOMATION_ENV, "").strip().lower() or "stopped"
        if switch not in ("running", "stopped"):
            raise AutomationSettingsError(
                f"{AUTOMATION_ENV}={switch!r}: use 'running' (schedules and sensors start "
                "switched on) or 'stopped' (switch them on in the Dagster UI)."
            )
        return cls(daily, hourly, weekly, timezone, switch == "running")


def _check_cron(variable: str, value: str, schedule: str, job: str, default: str) -> None:
    """Refuses a cron string the way Dagster would: by building a schedule on it (of the same
    name, for the same job, as `build_schedules` will), so that Dagster's own rules decide, not
    a copy of them. Checked here, where the variable is read, so that a `ScheduleSettings`
    always holds values the schedules accept, and the error can name the variable."""
    try:
        dg.ScheduleDefinition(name=schedule, cron_schedule=value, job_name=job)
    except dg.DagsterInvalidDefinitionError as error:
        raise AutomationSettingsError(
            f"{variable}={value!r} is not a cron string Dagster understands; write five "
            "fields, minute hour day-of-month month day-of-week, e.g. '0 8 * * *', or unset "
            f"{variable} for the default {default!r}."
        ) from error


def raw_scrape_config(full_refresh: bool) -> dg.RunConfig:
    return dg.RunConfig(ops={"raw_jira_scrape": RawScrapeConfig(full_refresh=full_refresh)})


def daily_selection() -> dg.AssetSelection:
    """Everything but the weekly digest: raw, staging, metrics, history, insights, report."""
    return dg.AssetSelection.all() - dg.AssetSelection.assets(DIGEST_ASSET)


def weekly_selection() -> dg.AssetSelection:
    """The digest, from the last published data, and the publication."""
    return dg.AssetSelection.assets(DIGEST_ASSET, PUBLICATION_ASSET)


def hourly_tables() -> tuple[str, ...]:
    """The metric tables the hourly run rebuilds: those of the use cases marked `hourly`,
    whose figures can change within a day and whose alerts must follow. Not their daily history
    tables (`history_assets`): a day's partition is written once the day is over, by the daily
    run."""
    return tuple(table for u in use_cases() if u.hourly for table in u.tables)


def hourly_selection() -> dg.AssetSelection:
    """The raw scrape, staging, the alert tables, the insights, the report and the
    publication. The insights and the report read the other metric tables as the daily run
    left them."""
    return (
        dg.AssetSelection.assets("raw_jira_scrape")
        | dg.AssetSelection.groups("staging")
        | dg.AssetSelection.groups("sprints")
        | dg.AssetSelection.assets(*hourly_tables())
        | dg.AssetSelection.groups("insights")
        | dg.AssetSelection.assets(PUBLICATION_ASSET)
    )


class Jobs(NamedTuple):
    daily: dg.UnresolvedAssetJobDefinition
    hourly: dg.UnresolvedAssetJobDefinition
    weekly: dg.UnresolvedAssetJobDefinition


def build_jobs() -> Jobs:
    daily = dg.define_asset_job(
        DAILY_JOB,
        selection=daily_selection(),
        description="Full refresh: re-read all of Jira, rebuild every table, insight and the "
        "report.",
        tags={
            REFRESH_TAG: "full",
            PIPELINE_TAG: "refresh",
            MAX_RUNTIME_TAG: str(DAILY_MAX_RUNTIME_SECONDS),
        },
        config=raw_scrape_config(full_refresh=True),
    )
    hourly = dg.define_asset_job(
        HOURLY_JOB,
        selection=hourly_selection(),
        description="Incremental refresh: fetch what changed in Jira, rebuild the tables the "
        "alerts read (team health, sprint commitments and scope changes, defect leakage), the "
        "insights and the report.",
        tags={
            REFRESH_TAG: "incremental",
            PIPELINE_TAG: "refresh",
            MAX_RUNTIME_TAG: str(HOURLY_MAX_RUNTIME_SECONDS),
        },
        config=raw_scrape_config(full_refresh=False),
    )
    weekly = dg.define_asset_job(
        WEEKLY_JOB,
        selection=weekly_selection(),
        description="The weekly digest of every board, from the last published data; "
        "the alert sensor posts it to the webhooks once per board and week.",
        tags={PIPELINE_TAG: "digest"},
    )
    return Jobs(daily, hourly, weekly)


def last_complete_day(at: datetime) -> str:
    """The history partition a run at `at` adds: the last UTC day that has ended by then."""
    yesterday = at.astimezone(UTC).date() - timedelta(days=1)
    if yesterday < DAILY_HISTORY.start.date():
        raise AutomationSettingsError(
            f"No history day has ended by {at.isoformat()}: {HISTORY_START_ENV} is later than "
            "that; set it to a past day."
        )
    return yesterday.isoformat()


def _status(settings: ScheduleSettings) -> dg.DefaultScheduleStatus:
    return (
        dg.DefaultScheduleStatus.RUNNING if settings.running else dg.DefaultScheduleStatus.STOPPED
    )


def build_schedules(settings: ScheduleSettings, jobs: Jobs) -> list[dg.ScheduleDefinition]:
    @dg.schedule(
        name=DAILY_SCHEDULE,
        cron_schedule=settings.daily_cron,
        execution_timezone=settings.timezone,
        job=jobs.daily,
        default_status=_status(settings),
        description=f"Full refresh at {settings.daily_cron!r} ({settings.timezone}), adding "
        f"the history's partition of the last full UTC day; {DAILY_CRON_ENV} and "
        f"{TIMEZONE_ENV} change it.",
    )
    def daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(
            run_config=raw_scrape_config(full_refresh=True),
            partition_key=last_complete_day(context.scheduled_execution_time),
        )

    @dg.schedule(
        name=HOURLY_SCHEDULE,
        cron_schedule=settings.hourly_cron,
        execution_timezone=settings.timezone,
        job=jobs.hourly,
        default_status=_status(settings),
        description=f"Incremental refresh at {settings.hourly_cron!r} ({settings.timezone}); "
        f"skipped while another refresh is queued or running. {HOURLY_CRON_ENV} changes it.",
    )
    def hourly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        refreshes = dg.RunsFilter(statuses=ACTIVE_STATUSES, tags={PIPELINE_TAG: "refresh"})
        under_way = [r.dagster_run for r in context.instance.get_run_records(filters=refreshes)]
        for message in fail_runs_whose_worker_died(context.instance, under_way):
            context.log.warning(message)
        busy = context.instance.get_run_records(filters=refreshes, limit=1)
        if busy:
            return dg.SkipReason(
                f"Run {busy[0].dagster_run.run_id} of {busy[0].dagster_run.job_name} is still "
                "queued or running; the next hour's tick refreshes instead."
            )
        return dg.RunRequest(run_config=raw_scrape_config(full_refresh=False))

    weekly = dg.ScheduleDefinition(
        name=WEEKLY_SCHEDULE,
        cron_schedule=settings.weekly_cron,
        execution_timezone=settings.timezone,
        job=jobs.weekly,
        default_status=_status(settings),
        description=f"The weekly digest at {settings.weekly_cron!r} ({settings.timezone}); "
        f"{WEEKLY_CRON_ENV} changes it.",
    )
    return [daily, hourly, weekly]


@dataclass(frozen=True)
class Automation:
    """What automation adds to `Definitions`: jobs, schedules, sensors and their resource."""

    jobs: list[dg.UnresolvedAssetJobDefinition]
    schedules: list[dg.ScheduleDefinition]
    sensors: list[dg.SensorDefinition]
    resources: dict[str, Any]


def automation_from_env(environ: Mapping[str, str] | None = None) -> Automation:
    """Schedules, sensors and jobs configured from the environment (see module docstring)."""
    settings = ScheduleSettings.from_env(os.environ if environ is None else environ)
    jobs = build_jobs()
    sensor_status = (
        dg.DefaultSensorStatus.RUNNING if settings.running else dg.DefaultSensorStatus.STOPPED
    )
    return Automation(
        jobs=list(jobs),
        schedules=build_schedules(settings, jobs),
        sensors=[
            build_threshold_alert_sensor(sensor_status),
            build_run_failure_sensor(sensor_status),
        ],
        resources={"alert_settings": alert_settings_from_env()},
    )
