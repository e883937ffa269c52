"""The one place that builds the pipeline's `Definitions`."""

from __future__ import annotations

import dagster as dg

from jira_insights_pipeline.assets import issue_metrics, raw, sprint_metrics, staging
from jira_insights_pipeline.resources.env import env_var_or
from jira_insights_pipeline.resources.io_managers import RawSnapshotIOManager, WarehouseIOManager
from jira_insights_pipeline.resources.jira_source import JiraSource
from jira_insights_pipeline.resources.settings import PipelineSettings

DATA_DIR_VAR = "JIRA_INSIGHTS_DATA_DIR"
ASSET_MODULES = [raw, staging, sprint_metrics, issue_metrics]


def _data_dir() -> dg.EnvVar | str:
    return env_var_or(DATA_DIR_VAR, "data")


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


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules(ASSET_MODULES),
        asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
        resources={
            "jira_source": _jira_source(),
            "pipeline_settings": PipelineSettings(
                data_dir=_data_dir(), as_of=env_var_or("JIRA_INSIGHTS_AS_OF", None)
            ),
            "io_manager": WarehouseIOManager(data_dir=_data_dir()),
            "raw_snapshot_io_manager": RawSnapshotIOManager(data_dir=_data_dir()),
        },
    )


defs = build_definitions()
