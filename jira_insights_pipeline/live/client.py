"""The Jira client: which endpoints to call, how Jira pages them, and what each failure means
for the user. It sends every request through a `Transport` (token over HTTP, or a signed-in
browser), so both paths get the same JSON and the same error messages.

Paging is defensive: a repeated `nextPageToken`, an `isLast` that never comes, or a page that
brings nothing new stops the scrape with `PaginationError` instead of looping; a server that
silently returns fewer items than `maxResults` asked for is followed by what it returned.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from jira_insights_pipeline.live.errors import (
    EndpointGoneError,
    JiraAuthError,
    JiraNotFoundError,
    JiraPermissionError,
    JiraQueryError,
    JiraRateLimitedError,
    JiraServerError,
    LiveSourceError,
    NotJiraError,
    PaginationError,
    SessionExpiredError,
)
from jira_insights_pipeline.live.transports import QueryParams, RawResponse, Transport

log = logging.getLogger(__name__)

Deployment = Literal["cloud", "server"]

AGILE = "/rest/agile/1.0"
SPRINT_REPORT_PATH = "/rest/greenhopper/1.0/rapid/charts/sprintreport"
CLOUD_HOST_SUFFIXES = (".atlassian.net", ".jira.com", ".jira-dev.com")
# Agile and changelog endpoints never return more than this many items per page.
AGILE_PAGE_LIMIT = 50
CHANGELOG_PAGE_LIMIT = 100
BROWSER_LOGIN_HINT = (
    "Sign in again: run `jira-insights browser-login` (it opens a browser window on the profile "
    "in JIRA_BROWSER_PROFILE_DIR; sign in there, with SSO or 2FA if your site uses them), or "
    "set JIRA_USERNAME and JIRA_PASSWORD so the scrape can use Jira's login form."
)
TOKEN_HINT = (
    "For Jira Cloud, create a new API token at "
    "https://id.atlassian.com/manage-profile/security/api-tokens and set JIRA_API_TOKEN, with "
    "JIRA_EMAIL the e-mail address of that account; for Jira Server/Data Center, create a "
    "personal access token in your profile and set JIRA_PAT."
)


@dataclass(frozen=True)
class JiraUser:
    """Who the credentials belong to; `time_zone` is the profile's, in which Jira reads the
    dates of a JQL query."""

    display_name: str
    account: str
    time_zone: str | None
    deployment: Deployment


def jira_error_messages(response: RawResponse) -> tuple[str, ...]:
    """Jira's own error text (`errorMessages`, `errors`, `message`), exactly as sent: a German
    or Chinese Jira's messages are passed through untranslated and intact."""
    try:
        data = json.loads(response.body)
    except ValueError:
        return ()
    if not isinstance(data, dict):
        return ()
    messages = [str(m) for m in data.get("errorMessages") or [] if m]
    errors = data.get("errors")
    if isinstance(errors, dict):
        messages.extend(f"{name}: {text}" for name, text in errors.items() if text)
    if data.get("message"):
        messages.append(str(data["message"]))
    return tuple(messages)


def _looks_like_login_page(response: RawResponse) -> bool:
    text = response.text()[:20000].lower()
    markers = ("os_username", "login-form", 'name="login"', "log in", "sign in", "/login")
    return any(marker in text for marker in markers)


def _is_html(response: RawResponse) -> bool:
    return response.content_type in ("text/html", "application/xhtml+xml") or (
        response.body.lstrip()[:1] == b"<"
    )


class JiraClient:
    """Jira's REST API (platform v3 on Cloud, v2 on Server/Data Center) and Agile API."""

    def __init__(
        self,
        transport: Transport,
        *,
        deployment: Deployment = "cloud",
        page_size: int = 100,
        max_pages: int = 100_000,
    ) -> None:
        self.transport = transport
        self.deployment: Deployment = deployment
        self.page_size = page_size
        self.max_pages = max_pages
        self.changelogs_completed = 0

    @property
    def api(self) -> str:
        return "/rest/api/3" if self.deployment == "cloud" else "/rest/api/2"

    # ---------------------------------------------------------------------------------------
    # One request
    # ---------------------------------------------------------------------------------------

    def get_json(self, path: str, params: QueryParams | None = None) -> Any:
        """GET one endpoint and return its JSON, or raise the error the user can act on."""
        response = self.transport.get(path, params)
        log.debug("GET %s -> %s (%d bytes)", path, response.status, len(response.body))
        if 200 <= response.status < 300:
            if _is_html(response):
                raise self._html_instead_of_json(path, response)
            try:
                return json.loads(response.body)
            except ValueError:
                raise NotJiraError(
                    f"{self.transport.base_url} answered GET {path} with something that is not "
                    f"JSON ({response.content_type or 'no content type'}). Check that "
                    "JIRA_BASE_URL is the address of your Jira site."
                ) from None
        raise self._error_for(path, response)

    def _html_instead_of_json(self, path: str, response: RawResponse) -> LiveSourceError:
        if _looks_like_login_page(response):
            if self.transport.kind == "browser":
                return SessionExpiredError(
                    f"Jira answered GET {path} with its login page instead of data: the browser "
                    f"session is not signed in (or has expired). {BROWSER_LOGIN_HINT}"
                )
            return JiraAuthError(
                f"Jira answered GET {path} with a login page instead of data: it did not "
                f"accept the token. {TOKEN_HINT}"
            )
        return NotJiraError(
            f"{self.transport.base_url} answered GET {path} with an HTML page, not Jira's JSON. "
            "Check that JIRA_BASE_URL is the address of your Jira site (without a path such as "
            "/secure/Dashboard.jspa)."
        )

    def _error_for(self, path: str, response: RawResponse) -> LiveSourceError:
        status = response.status
        messages = jira_error_messages(response)
        said = f" Jira said: {' | '.join(messages)}" if messages else ""
        if status == 400:
            return JiraQueryError(f"Jira rejected GET {path} (400 Bad Request).{said}", messages)
        if status == 401:
            if self.transport.kind == "browser":
                return SessionExpiredError(
                    f"Jira answered GET {path} with 401: the browser session is not signed in "
                    f"(or has expired).{said} {BROWSER_LOGIN_HINT}"
                )
            return JiraAuthError(
                f"Jira did not accept the credentials (401 on GET {path}).{said} {TOKEN_HINT}"
            )
        if status == 403:
            reason = response.headers.get("x-seraph-loginreason", "")
            if "AUTHENTICATION_DENIED" in reason or "captcha" in response.text()[:5000].lower():
                return JiraAuthError(
                    f"Jira refused GET {path} (403, {reason or 'CAPTCHA'}): after failed "
                    "sign-ins Jira wants a CAPTCHA. Sign in once in a web browser to clear it, "
                    "then check the credentials."
                )
            return JiraPermissionError(
                f"Jira refused GET {path} to this user (403 Forbidden).{said} Ask a Jira "
                "administrator for Browse Projects permission, or narrow JIRA_PROJECTS / "
                "JIRA_BOARD_IDS to what you can see."
            )
        if status == 404:
            return JiraNotFoundError(f"Jira has no GET {path} (404 Not Found).{said}")
        if status == 410:
            return EndpointGoneError(
                f"Jira answered GET {path} with 410 Gone: this site removed that endpoint.{said} "
                "Jira Cloud replaced /rest/api/*/search with /rest/api/3/search/jql; if the "
                "site is Jira Cloud, set the deployment to 'cloud' (or 'auto')."
            )
        if status in (429, 503):
            return JiraRateLimitedError(
                f"Jira kept answering GET {path} with {status} (rate limited or overloaded) "
                f"after every retry.{said} The stored snapshot is unchanged; run again later."
            )
        if status >= 500:
            return JiraServerError(
                f"Jira failed on GET {path} ({status}) after every retry.{said} The stored "
                "snapshot is unchanged; try again later or ask your Jira administrator."
            )
        return LiveSourceError(f"Jira answered GET {path} with {status}.{said}")

    # ---------------------------------------------------------------------------------------
    # Who and where
    # ---------------------------------------------------------------------------------------

    def myself(self) -> JiraUser:
        """The signed-in user, asked first: an expired token or session is otherwise answered
        as an anonymous user, who sees no issues, and the scrape would look empty instead of
        failing. Also settles Cloud or Server (only Cloud users have an `accountId`)."""
        path = "/rest/api/2/myself"
        try:
            me = self.get_json(path)
        except JiraNotFoundError:
            raise NotJiraError(
                f"{self.transport.base_url} has no {path}: it does not look like a Jira site. "
                "Check JIRA_BASE_URL (e.g. https://your-team.atlassian.net, or the address you "
                "open Jira at, without /secure/... or /browse/...)."
            ) from None
        account = None
        if isinstance(me, dict):
            account = me.get("accountId") or me.get("key") or me.get("name")
        if not account:
            raise JiraAuthError(
                f"Jira answered {path} without a user: the request was treated as anonymous, "
                "so the credentials were not accepted. "
                + (BROWSER_LOGIN_HINT if self.transport.kind == "browser" else TOKEN_HINT)
            )
        host = urlsplit(self.transport.base_url).hostname or ""
        deployment: Deployment = (
            "cloud" if me.get("accountId") or host.endswith(CLOUD_HOST_SUFFIXES) else "server"
        )
        return JiraUser(
            display_name=str(me.get("displayName") or account),
            account=str(account),
            time_zone=me.get("timeZone"),
            deployment=deployment,
        )

    # ---------------------------------------------------------------------------------------
    # Small listings
    # ---------------------------------------------------------------------------------------

    def fields(self) -> list[dict[str, Any]]:
        return self._array(f"{self.api}/field")

    def statuses(self) -> list[dict[str, Any]]:
        return self._array(f"{self.api}/status")

    def _array(self, path: str) -> list[dict[str, Any]]:
        data = self.get_json(path)
        if not isinstance(data, list):
            raise NotJiraError(f"GET {path} returned {type(data).__name__}, not Jira's array.")
        return data

    def boards(
        self, *, board_ids: tuple[int, ...] = (), project_keys: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """The boards asked for by id, else those of the projects, else every board the user
        can see; each once, in Jira's order."""
        if board_ids:
            boards = []
            for board_id in board_ids:
                try:
                    boards.append(self.get_json(f"{AGILE}/board/{board_id}"))
                except (JiraNotFoundError, JiraPermissionError) as error:
                    raise JiraNotFoundError(
                        f"Board {board_id} (from JIRA_BOARD_IDS) does not exist or this user "
                        f"cannot see it: {error}"
                    ) from None
            return boards
        found: dict[int, dict[str, Any]] = {}
        for project in project_keys or (None,):
            params = {"projectKeyOrId": project} if project else {}
            for board in self.paged_values(f"{AGILE}/board", params, limit=AGILE_PAGE_LIMIT):
                found.setdefault(board["id"], board)
        return list(found.values())

    def board_configuration(self, board_id: int) -> dict[str, Any] | None:
        try:
            return self.get_json(f"{AGILE}/board/{board_id}/configuration")
        except (JiraNotFoundError, JiraPermissionError) as error:
            log.warning("Board %s: no configuration readable (%s); continuing.", board_id, error)
            return None

    def board_sprints(self, board_id: int) -> list[dict[str, Any]]:
        """A board's sprints; a board without sprints (kanban) answers 400 and has none."""
        try:
            return list(
                self.paged_values(f"{AGILE}/board/{board_id}/sprint", {}, limit=AGILE_PAGE_LIMIT)
            )
        except JiraQueryError as error:
            log.debug("Board %s has no sprints: %s", board_id, error)
            return []

    def sprint_report(self, board_id: int, sprint_id: int) -> dict[str, Any] | None:
        """Jira's own sprint report (an internal endpoint: None where the site does not answer
        it)."""
        try:
            report = self.get_json(
                SPRINT_REPORT_PATH, {"rapidViewId": board_id, "sprintId": sprint_id}
            )
        except (JiraNotFoundError, JiraPermissionError, EndpointGoneError, JiraQueryError):
            return None
        return report if isinstance(report, dict) and "contents" in report else None

    # ---------------------------------------------------------------------------------------
    # Paging
    # ---------------------------------------------------------------------------------------

    def paged_values(
        self, path: str, params: Mapping[str, str | int], *, limit: int
    ) -> Iterator[dict[str, Any]]:
        """Agile-style pages (`startAt`, `maxResults`, `isLast`/`total`, `values`). The next
        page starts after what this page really returned, so a server that caps `maxResults`
        below what was asked is paged correctly."""
        start = 0
        asked = min(self.page_size, limit)
        for page_number in range(1, self.max_pages + 1):
            page = self.get_json(path, {**params, "startAt": start, "maxResults": asked})
            values = page.get("values") or []
            yield from values
            start += len(values)
            if page.get("isLast") is True:
                return
            total = page.get("total")
            if isinstance(total, int) and start >= total:
                return
            if not values:
                if page.get("isLast") is False or (isinstance(total, int) and start < total):
                    raise PaginationError(
                        f"GET {path}: page {page_number} (startAt={start}) was empty but Jira "
                        f"says more follow (isLast={page.get('isLast')}, total={total}). "
                        "Stopping instead of asking forever; try again later."
                    )
                return
        raise self._too_many_pages(path)

    def _too_many_pages(self, path: str) -> PaginationError:
        return PaginationError(
            f"GET {path}: still no last page after {self.max_pages} pages; Jira's paging "
            "never ends. Stopping; narrow JIRA_JQL or try again later."
        )

    def search(self, jql: str) -> Iterator[dict[str, Any]]:
        """Every issue the JQL matches, with all fields and its complete changelog. Cloud pages
        with `nextPageToken`/`isLast` on /rest/api/3/search/jql; Server/Data Center with
        `startAt` on /rest/api/2/search."""
        pages = self._search_cloud(jql) if self.deployment == "cloud" else self._search_server(jql)
        for issue in pages:
            yield self.complete_changelog(issue)

    def _search_params(self, jql: str) -> dict[str, str | int]:
        return {"jql": jql, "maxResults": self.page_size, "fields": "*all", "expand": "changelog"}

    def _search_cloud(self, jql: str) -> Iterator[dict[str, Any]]:
        path = f"{self.api}/search/jql"
        seen_ids: set[str] = set()
        seen_tokens: set[str] = set()
        token: str | None = None
        for page_number in range(1, self.max_pages + 1):
            params = self._search_params(jql)
            if token:
                params["nextPageToken"] = token
            page = self._search_page(path, params, jql)
            issues = page.get("issues") or []
            fresh = [issue for issue in issues if str(issue.get("id")) not in seen_ids]
            if issues and not fresh:
                raise PaginationError(
                    f"GET {path}: page {page_number} only repeats issues already received, "
                    "and isLast never came. Stopping instead of looping."
                )
            for issue in fresh:
                seen_ids.add(str(issue.get("id")))
                yield issue
            next_token = page.get("nextPageToken")
            if page.get("isLast") is True or (not next_token and page.get("isLast") is None):
                return
            if not next_token:
                raise PaginationError(
                    f"GET {path}: page {page_number} says isLast=false but has no "
                    "nextPageToken. Stopping; try again later."
                )
            if next_token == token or next_token in seen_tokens:
                raise PaginationError(
                    f"GET {path}: Jira sent page token {next_token!r} a second time (page "
                    f"{page_number}); following it would loop forever. Stopping."
                )
            if not issues:
                raise PaginationError(
                    f"GET {path}: page {page_number} was empty but not the last. Stopping."
                )
            seen_tokens.add(next_token)
            token = next_token
        raise self._too_many_pages(path)

    def _search_server(self, jql: str) -> Iterator[dict[str, Any]]:
        path = f"{self.api}/search"
        seen_ids: set[str] = set()
        start = 0
        for page_number in range(1, self.max_pages + 1):
            params = {**self._search_params(jql), "startAt": start}
            page = self._search_page(path, params, jql)
            issues = page.get("issues") or []
            total = page.get("total")
            for issue in issues:
                if str(issue.get("id")) not in seen_ids:
                    seen_ids.add(str(issue.get("id")))
                    yield issue
            start += len(issues)
            if isinstance(total, int) and start >= total:
                return
            if not issues:
                if isinstance(total, int) and start < total:
                    raise PaginationError(
                        f"GET {path}: page {page_number} (startAt={start}) was empty but "
                        f"total={total}. Stopping instead of asking forever."
                    )
                return
        raise self._too_many_pages(path)

    def _search_page(self, path: str, params: dict[str, str | int], jql: str) -> dict[str, Any]:
        try:
            page = self.get_json(path, params)
        except JiraQueryError as error:
            said = " | ".join(error.jira_messages) or str(error)
            raise JiraQueryError(
                f"Jira rejected the JQL query {jql!r}: {said} Check JIRA_JQL (or the project "
                "keys in JIRA_PROJECTS).",
                error.jira_messages,
            ) from None
        if not isinstance(page, dict) or not isinstance(page.get("issues", []), list):
            raise NotJiraError(f"GET {path} did not return a search result ('issues').")
        return page

    def complete_changelog(self, issue: dict[str, Any]) -> dict[str, Any]:
        """Search results embed at most a page of history; when Jira says there is more
        (`total` above the histories sent), fetch all of it from the changelog endpoint."""
        changelog = issue.get("changelog")
        histories = (changelog or {}).get("histories") or []
        total = (changelog or {}).get("total")
        if changelog is not None and not (isinstance(total, int) and total > len(histories)):
            return issue
        key = issue.get("key") or issue.get("id")
        path = f"{self.api}/issue/{key}/changelog"
        try:
            full = list(self.paged_values(path, {}, limit=CHANGELOG_PAGE_LIMIT))
        except JiraNotFoundError:
            # Server/Data Center before 8.x has no changelog endpoint, but its issue endpoint
            # returns the whole history.
            single = self.get_json(
                f"{self.api}/issue/{key}", {"expand": "changelog", "fields": "*all"}
            )
            full = (single.get("changelog") or {}).get("histories") or []
        self.changelogs_completed += 1
        issue["changelog"] = {
            "startAt": 0,
            "maxResults": len(full),
            "total": len(full),
            "histories": full,
        }
        return issue
