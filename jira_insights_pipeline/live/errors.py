"""The errors a live scrape can end with. Each message says what failed, on which endpoint or
input, and what the user can do; none ever holds a token, password or cookie.

That is enforced here, at one depth: `LiveSourceError` passes its message (and every other
text argument) through `redact_secrets`, the rules of the logging filter, when it is built. A
message that quotes a Jira or proxy answer echoing the request (`Authorization: Basic …`,
`token=…`) therefore holds `[REDACTED]` instead, whichever raise site built it, before Dagster
serializes the error into its run database, event log and compute logs."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.live.redaction import redact_secrets


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_secrets(value)
    if isinstance(value, tuple | list):
        return type(value)(_redacted(item) for item in value)
    return value


class LiveSourceError(RuntimeError):
    """Base class: reading a live Jira site failed. The stored snapshot is left as it was.
    Its text never holds a configured secret or anything after `Authorization`, `token=`,
    `password=`, `api_token=`, `pat=` or a cookie name: see `redact_secrets`."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*(_redacted(arg) for arg in args))

    def __str__(self) -> str:
        # Redacted again when shown: a secret configured after the error was built (or args
        # replaced later) is still removed.
        return redact_secrets(super().__str__())


class JiraConnectionError(LiveSourceError):
    """Jira could not be reached: refused, unknown host, timed out, or the connection dropped
    on every retry."""


class NotJiraError(LiveSourceError):
    """The server answered, but not as Jira does (e.g. JIRA_BASE_URL points at another site)."""


class JiraAuthError(LiveSourceError):
    """Jira did not accept the credentials (401, or answered as an anonymous user)."""


class SessionExpiredError(JiraAuthError):
    """The browser session is not (or no longer) signed in."""


class JiraPermissionError(LiveSourceError):
    """Jira refused a resource to this user (403)."""


class JiraNotFoundError(LiveSourceError):
    """An endpoint or object does not exist on this site (404)."""


class EndpointGoneError(LiveSourceError):
    """Jira answered 410 Gone: the endpoint was removed from this site's API."""


class JiraQueryError(LiveSourceError):
    """Jira rejected a request's input (400), typically the JQL; holds Jira's own messages."""

    def __init__(self, message: str, jira_messages: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.jira_messages = tuple(redact_secrets(text) for text in jira_messages)


class JiraRateLimitedError(LiveSourceError):
    """Jira kept answering 429 or 503 after every allowed retry."""


class JiraServerError(LiveSourceError):
    """Jira answered with a server error (5xx) after every allowed retry."""


class PaginationError(LiveSourceError):
    """Jira's paging went wrong (a repeated page token, an `isLast` that never comes, a page
    that makes no progress): the scrape stops instead of looping."""


class LiveConfigurationError(LiveSourceError):
    """The live source is missing a setting or has one it cannot use."""
