"""The one place that builds the pipeline's `Definitions`."""

from __future__ import annotations

import os
from datetime import timedelta

import dagster as dg

from jira_insights_pipeline.assets import raw, staging
from jira_insights_pipeline.assets.checks import threshold_checks
from jira_insights_pipeline.assets.digest import build_digest_asset
from jira_insights_pipeline.assets.insights import build_insights_asset
from jira_insights_pipeline.assets.publication import build_publication_asset
from jira_insights_pipeline.assets.report import build_report_asset
from jira_insights_pipeline.assets.sprints import assets as sprint_ledger
from jira_insights_pipeline.automation.schedules import automation_from_env
from jira_insights_pipeline.data_folder import DATA_DIR_ENV
from jira_insights_pipeline.insights.io_manager import InsightsIOManager
from jira_insights_pipeline.registry import Thresholds, use_cases
from jira_insights_pipeline.resources.env import env_var_or
from jira_insights_pipeline.resources.io_managers import RawSnapshotIOManager, WarehouseIOManager
from jira_insights_pipeline.resources.jira_source import JiraSource
from jira_insights_pipeline.resources.llm import MODE_ENV, MODEL_PATH_ENV, LlamaModelResource
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.resources.snapshot_guard import SnapshotGuard


def _data_dir() -> dg.EnvVar | str:
    return env_var_or(DATA_DIR_ENV, "data")


def _jira_source() -> JiraSource:
    return JiraSource(
        kind=env_var_or("JIRA_SOURCE", "sample"),
        snapshot_dir=env_var_or("JIRA_SNAPSHOT_DIR", None),
        base_url=env_var_or("JIRA_BASE_URL", None),
        email=env_var_or("JIRA_EMAIL", None),
        api_token=env_var_or("JIRA_API_TOKEN", None),
        pat=env_var_or("JIRA_PAT", None),
        username=env_var_or("JIRA_USERNAME", None),
        password=env_var_or("JIRA_PASSWORD", None),
        browser_profile_dir=env_var_or("JIRA_BROWSER_PROFILE_DIR", None),
        projects=env_var_or("JIRA_PROJECTS", None),
        board_ids=env_var_or("JIRA_BOARD_IDS", None),
        jql=env_var_or("JIRA_JQL", None),
    )


# The daily schedule refreshes everything once a day: an asset older than a day and an hour has
# missed a daily run (warn), and older than 26 hours the team is reading stale figures (fail).
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=26), warn_window=timedelta(hours=25)
)


def pipeline_assets() -> list[dg.AssetsDefinition]:
    """The lineage: raw scrape, staging, the sprint ledger, each use case's metric tables and
    daily history tables (from the registry), the insights of every use case, the report and
    the weekly digest, and last the publication, which makes what a run wrote current."""
    every = use_cases()
    written = [
        *dg.load_assets_from_modules([raw, staging, sprint_ledger]),
        *(asset for use_case in every for asset in use_case.assets),
        *(asset for use_case in every for asset in use_case.history_assets),
        build_insights_asset(every),
        build_report_asset(every),
        build_digest_asset(every),
    ]
    upstream = [key for asset in written for key in asset.keys]
    return [*written, build_publication_asset(upstream)]


def build_definitions() -> dg.Definitions:
    automation = automation_from_env()  # schedules, alert sensors, their jobs and resource
    definitions = dg.Definitions(
        assets=pipeline_assets(),
        asset_checks=threshold_checks(),
        resources={
            "jira_source": _jira_source(),
            "pipeline_settings": PipelineSettings(
                data_dir=_data_dir(), as_of=env_var_or("JIRA_INSIGHTS_AS_OF", None)
            ),
            # Defaults in code; a run changes any of them in its run config (the launchpad).
            "thresholds": Thresholds(),
            # Refuses snapshots that would read as falsely healthy; a run may allow one.
            "snapshot_guard": SnapshotGuard(),
            "io_manager": WarehouseIOManager(data_dir=_data_dir()),
            "raw_snapshot_io_manager": RawSnapshotIOManager(data_dir=_data_dir()),
            "insights_io_manager": InsightsIOManager(data_dir=_data_dir()),
            "llm": LlamaModelResource(
                model_path=env_var_or(MODEL_PATH_ENV, ""), mode=env_var_or(MODE_ENV, "on")
            ),
            **automation.resources,
        },
        jobs=automation.jobs,
        schedules=automation.schedules,
        sensors=automation.sensors,
    )
    return definitions.map_asset_specs(
        func=lambda spec: dg.apply_freshness_policy(spec, DAILY_FRESHNESS)
    )


def describe_automation(definitions: dg.Definitions) -> str:
    """One line per schedule and sensor, for `dagster definitions validate` to print."""
    lines = ["Schedules and sensors:"]
    for schedule in definitions.schedules or []:
        lines.append(
            f"  schedule {schedule.name}: {schedule.cron_schedule} "
            f"({schedule.execution_timezone or 'UTC'})"
        )
    for sensor in definitions.sensors or []:
        lines.append(f"  sensor {sensor.name}")
    return "\n".join(lines)


defs = build_definitions()

# Dagster sets this while `dagster definitions validate` loads the code location, so that code
# can say more in validation mode: list what runs on its own.
if os.environ.get("DAGSTER_IS_DEFS_VALIDATION_CLI"):
    dg.get_dagster_logger().info(describe_automation(defs))
