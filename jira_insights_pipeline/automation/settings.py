"""The alert sensors' settings as a Dagster resource: where webhooks are, where links point,
and how hard delivery tries."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from jira_insights_pipeline.automation.delivery import (
    WEBHOOKS_ENV,
    RetryPolicy,
    Webhook,
    parse_webhooks,
)
from jira_insights_pipeline.automation.records import AlertLinks
from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.resources.env import env_var_or


class AlertSettings(dg.ConfigurableResource):
    """Alert delivery: the webhooks (JIRA_INSIGHTS_ALERT_WEBHOOKS, bound as an EnvVar because a
    Slack webhook URL is a secret), the links an alert carries, timeouts and retry bounds."""

    webhooks: str | None = Field(
        default=None,
        description=f"{WEBHOOKS_ENV}: slack=<url>, json=<url> or bare URLs, comma separated.",
    )
    report_url: str | None = Field(
        default=None,
        description="JIRA_INSIGHTS_REPORT_URL: where people open the report; default the "
        "file:// URL of <data folder>/report/insights.html.",
    )
    dagster_url: str = Field(
        default="http://127.0.0.1:3000",
        description="JIRA_INSIGHTS_DAGSTER_URL: the Dagster UI, for links to runs.",
    )
    connect_timeout_seconds: float = Field(default=2.0, gt=0)
    read_timeout_seconds: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, description="Attempts per delivery, over ticks.")
    backoff_seconds: float = Field(
        default=60.0, ge=0, description="Wait after the first failure; doubles each time."
    )
    max_backoff_seconds: float = Field(default=3600.0, ge=0)
    tick_budget_seconds: float = Field(
        default=20.0, gt=0, description="Wall-clock time one tick may spend on deliveries."
    )

    def parsed_webhooks(self) -> list[Webhook]:
        return parse_webhooks(self.webhooks)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            backoff_seconds=self.backoff_seconds,
            max_backoff_seconds=self.max_backoff_seconds,
            tick_budget_seconds=self.tick_budget_seconds,
        )

    def links(self, data_dir: str | Path) -> AlertLinks:
        report = self.report_url or DataFolder.at(data_dir).report.resolve().as_uri()
        return AlertLinks(report_url=report, dagster_url=self.dagster_url)


def alert_settings_from_env() -> AlertSettings:
    """The resource with each variable bound as a `dg.EnvVar` when set (resources/env.py)."""
    return AlertSettings(
        webhooks=env_var_or(WEBHOOKS_ENV, None),
        report_url=env_var_or("JIRA_INSIGHTS_REPORT_URL", None),
        dagster_url=env_var_or("JIRA_INSIGHTS_DAGSTER_URL", "http://127.0.0.1:3000"),
    )
