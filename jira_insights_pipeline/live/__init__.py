"""Live extraction from a real Jira site, over its REST API with a token (`rest`) or from a
signed-in headless Chromium (`browser`). Both write the snapshot format
(docs/snapshot-format.md), so everything downstream is the same as for a saved snapshot.
See docs/live-sources.md."""

from jira_insights_pipeline.live.browser_login import browser_login
from jira_insights_pipeline.live.errors import (
    EndpointGoneError,
    JiraAuthError,
    JiraConnectionError,
    JiraNotFoundError,
    JiraPermissionError,
    JiraQueryError,
    JiraRateLimitedError,
    JiraServerError,
    LiveConfigurationError,
    LiveSourceError,
    NotJiraError,
    PaginationError,
    SessionExpiredError,
)
from jira_insights_pipeline.live.redaction import (
    SecretRedactionFilter,
    install_redaction,
    redaction_filter,
)
from jira_insights_pipeline.live.scrape import ScrapeResult, scrape_to_snapshot
from jira_insights_pipeline.live.settings import LiveSettings
from jira_insights_pipeline.live.sprint_reports import (
    compare_sprint_reports,
    load_sprint_reports,
)

__all__ = [
    "EndpointGoneError",
    "JiraAuthError",
    "JiraConnectionError",
    "JiraNotFoundError",
    "JiraPermissionError",
    "JiraQueryError",
    "JiraRateLimitedError",
    "JiraServerError",
    "LiveConfigurationError",
    "LiveSettings",
    "LiveSourceError",
    "NotJiraError",
    "PaginationError",
    "ScrapeResult",
    "SecretRedactionFilter",
    "SessionExpiredError",
    "browser_login",
    "compare_sprint_reports",
    "install_redaction",
    "load_sprint_reports",
    "redaction_filter",
    "scrape_to_snapshot",
]
