"""A fake Jira on 127.0.0.1 that serves any snapshot folder over Jira's real endpoints and
paging, signs users in the ways Jira does, and misbehaves on request.

It answers what the live source calls: `/rest/api/3/search/jql` (`nextPageToken`/`isLast`,
Cloud), `/rest/api/2/search` (`startAt`, Server), `/rest/api/{2,3}/issue/{key}/changelog`,
`/rest/api/{2,3}/issue/{key}`, `/field`, `/status`, `/myself`, `/serverInfo`, the Agile boards,
configuration and sprints, and the greenhopper sprint report (from `sprint_reports/` in the
snapshot folder). It signs in with basic auth (e-mail + API token), a bearer personal access
token, or the Server login form (`/login.jsp`, a `JSESSIONID` session and a remember-me cookie).

Faults a test switches on: any status with any headers and body on matching paths, slow
answers, dropped connections, a page token that repeats, an `isLast` that never comes, a
`maxResults` silently capped, and sessions that expire after some requests (answered with 401 or
with a redirect to the HTML login page). With `echo_request=True` its 400/401/500 error bodies
quote the request back (request line, query, every header, credentials included), as some
Jira instances and proxies do.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.cookies
import json
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

from jira_insights_pipeline.snapshot import load_snapshot

from .jql import JqlError, compile_jql

JSON_TYPE = "application/json;charset=UTF-8"
HTML_TYPE = "text/html;charset=UTF-8"
# The error statuses whose bodies quote the request back when `FakeJira(echo_request=True)`.
ECHOED_STATUSES = frozenset({400, 401, 500})
SEARCH_GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A "
    "full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)


@dataclass
class Fault:
    """One misbehaviour: applies to requests whose path matches `path` (a regular expression),
    after letting `after` of them through, for `times` requests (None: for ever)."""

    path: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    content_type: str = JSON_TYPE
    delay_s: float = 0.0
    drop: bool = False
    times: int | None = 1
    after: int = 0
    method: str = "GET"

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and re.search(self.path, path) is not None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


class FakeJira:
    """Serves `snapshot_dir` as a Jira site. Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        snapshot_dir: str | Path,
        *,
        deployment: Literal["cloud", "server"] = "cloud",
        email: str = "mike@improvingflow.example",
        api_token: str = "cloud-api-token-8c1f2a9d",
        pat: str = "server-pat-Zm9vYmFyYmF6",
        username: str = "mbowler",
        password: str = "hunter2-Passw0rd!",
        display_name: str = "Mike Bowler",
        user_time_zone: str = "UTC",
        embedded_changelog_limit: int = 100,
        search_max_results: int = 100,
        agile_max_results: int = 50,
        captcha_after_failures: int | None = None,
        echo_request: bool = False,
    ) -> None:
        snapshot = load_snapshot(snapshot_dir)
        self.snapshot_dir = Path(snapshot_dir)
        self.issues: list[dict[str, Any]] = list(snapshot.iter_issues())
        self.fields = snapshot.fields
        self.statuses = snapshot.statuses or []
        self.boards = [
            {k: v for k, v in board.items() if k != "configuration"} for board in snapshot.boards
        ]
        self.configurations = {
            board["id"]: board["configuration"]
            for board in snapshot.boards
            if board.get("configuration")
        }
        self.sprints = snapshot.sprints
        self.deployment = deployment
        self.email, self.api_token, self.pat = email, api_token, pat
        self.username, self.password = username, password
        self.display_name = display_name
        self.user_time_zone = user_time_zone
        self.embedded_changelog_limit = embedded_changelog_limit
        self.search_max_results = search_max_results
        self.agile_max_results = agile_max_results
        self.captcha_after_failures = captcha_after_failures
        # Like a Jira or proxy that quotes the request back: every 400/401/500 error body (and
        # a Fault with one of those statuses and no body of its own) echoes the request line,
        # its query and all its headers, credentials included, as Jira error messages.
        self.echo_request = echo_request
        self.sprint_reports_answered = True
        # Server/Data Center embeds whole histories; tests may cut them anyway to exercise the
        # fallback for sites without the changelog endpoint.
        self.cut_server_changelogs = False
        # Paging faults.
        self.repeat_page_token = False
        self.never_last: Literal["empty", "repeat"] | None = None
        self.tokens_past_the_end = 0
        # Expiry: after this many more signed-in data requests every session and token stops
        # working, answered with 401 or a redirect to the login page.
        self.expire_after_requests: int | None = None
        self.expired_answer: Literal["401", "login_page"] = "401"
        self.expired = False
        # Bumped by every edit through touch_issue/delete_issue; select() caches by it.
        self.version = 0
        self._selections: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self._sessions: set[str] = set()
        self._remember_tokens: set[str] = set()
        self._login_failures = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -------------------------------------------------------------------------------------
    # Lifecycle and test controls
    # -------------------------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(_Handler):
            jira = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeJira:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def requests_to(self, pattern: str) -> list[RecordedRequest]:
        return [r for r in list(self.requests) if re.search(pattern, r.path)]

    def issue(self, key: str) -> dict[str, Any]:
        return next(issue for issue in self.issues if issue["key"] == key)

    def touch_issue(self, key: str, *, updated: str, summary: str | None = None) -> None:
        """Edits an issue as a user would: a new `updated`, optionally a new summary."""
        issue = self.issue(key)
        self.version += 1
        issue["fields"]["updated"] = updated
        if summary is not None:
            issue["fields"]["summary"] = summary

    def delete_issue(self, key: str) -> None:
        self.version += 1
        self.issues = [issue for issue in self.issues if issue["key"] != key]

    # -------------------------------------------------------------------------------------
    # Authentication
    # -------------------------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    continue
                if fault.times is not None:
                    if fault.times <= 0:
                        continue
                    fault.times -= 1
                return fault
        return None

    def _credentials(self, headers: dict[str, str]) -> Literal["valid", "invalid", "none"]:
        authorization = headers.get("authorization", "")
        if authorization.startswith("Basic "):
            try:
                user, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            except ValueError:
                return "invalid"
            ok = (user, secret) == (self.email, self.api_token)
            return "valid" if ok and not self.expired else "invalid"
        if authorization.startswith("Bearer "):
            ok = authorization[7:] == self.pat
            return "valid" if ok and not self.expired else "invalid"
        cookie = http.cookies.SimpleCookie(headers.get("cookie", ""))
        session = cookie.get("JSESSIONID")
        remember = cookie.get("seraph.rememberme.cookie")
        with self._lock:
            if (session and session.value in self._sessions) or (
                remember and remember.value in self._remember_tokens
            ):
                return "valid"
        return "invalid" if session or remember else "none"

    def _count_signed_in_request(self) -> None:
        with self._lock:
            if self.expire_after_requests is None:
                return
            if self.expire_after_requests <= 0:
                self._expire()
            else:
                self.expire_after_requests -= 1

    def _expire(self) -> None:
        self.expired = True
        self._sessions.clear()
        self._remember_tokens.clear()

    def sign_in(self, username: str, password: str, remember: bool) -> tuple[str, str | None]:
        if (username, password) != (self.username, self.password):
            raise PermissionError
        session = secrets.token_hex(16)
        token = secrets.token_hex(16) if remember else None
        with self._lock:
            self.expired = False
            self._sessions.add(session)
            if token:
                self._remember_tokens.add(token)
        return session, token

    # -------------------------------------------------------------------------------------
    # Data
    # -------------------------------------------------------------------------------------

    def myself(self) -> dict[str, Any]:
        if self.deployment == "cloud":
            return {
                "self": f"{self.base_url}/rest/api/3/user?accountId=557058:13cc9354",
                "accountId": "557058:13cc9354-0be8-432f-959a-13d34c55315f",
                "emailAddress": self.email,
                "displayName": self.display_name,
                "active": True,
                "timeZone": self.user_time_zone,
                "accountType": "atlassian",
            }
        return {
            "self": f"{self.base_url}/rest/api/2/user?username={self.username}",
            "key": self.username,
            "name": self.username,
            "emailAddress": self.email,
            "displayName": self.display_name,
            "active": True,
            "timeZone": self.user_time_zone,
        }

    def server_info(self) -> dict[str, Any]:
        return {
            "baseUrl": self.base_url,
            "version": "1001.0.0-SNAPSHOT" if self.deployment == "cloud" else "9.12.2",
            "deploymentType": "Cloud" if self.deployment == "cloud" else "Server",
            "serverTitle": "Fake Jira",
        }

    def embedded(self, issue: dict[str, Any], expand: str) -> dict[str, Any]:
        """An issue as search returns it: with `expand=changelog` its history, cut to the
        first `embedded_changelog_limit` entries on Cloud (Jira says `total` is more)."""
        served = {k: v for k, v in issue.items() if k != "changelog"}
        if "changelog" not in expand.split(",") or "changelog" not in issue:
            return served
        changelog = issue["changelog"]
        histories = changelog.get("histories") or []
        limit = self.embedded_changelog_limit
        if (self.deployment == "cloud" or self.cut_server_changelogs) and len(histories) > limit:
            served["changelog"] = {
                "startAt": 0,
                "maxResults": limit,
                "total": len(histories),
                "histories": histories[:limit],
            }
        else:
            served["changelog"] = changelog
        return served

    def select(self, jql: str) -> list[dict[str, Any]]:
        """The issues a query selects; cached per query while the issues stay the same (pages
        of one search would otherwise each filter and sort the whole site again)."""
        key = (jql, self.user_time_zone, self.version, id(self.issues), len(self.issues))
        with self._lock:
            cached = self._selections.get(key)
        if cached is None:
            cached = compile_jql(jql, self.user_time_zone)(self.issues)
            with self._lock:
                self._selections = {key: cached}
        return cached

    def board_project(self, board: dict[str, Any]) -> set[str]:
        location = board.get("location") or {}
        configured = (self.configurations.get(board["id"]) or {}).get("location") or {}
        return {
            str(value).upper()
            for value in (
                location.get("projectKey"),
                location.get("projectId"),
                configured.get("key"),
                configured.get("id"),
            )
            if value is not None
        }

    def sprint_report_file(self, board_id: str, sprint_id: str) -> Path | None:
        folder = self.snapshot_dir / "sprint_reports"
        for name in (f"board_{board_id}_sprint_{sprint_id}.json", f"{sprint_id}.json"):
            if (folder / name).is_file():
                return folder / name
        return None


def _page_token(offset: int, jql: str) -> str:
    digest = hashlib.sha1(jql.encode()).hexdigest()[:8]
    return base64.urlsafe_b64encode(f"{offset}:{digest}".encode()).decode()


def _read_token(token: str, jql: str) -> int | None:
    try:
        offset, _, digest = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
    except ValueError:
        return None
    if digest != hashlib.sha1(jql.encode()).hexdigest()[:8] or not offset.isdigit():
        return None
    return int(offset)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _login_page(error: str = "", captcha: bool = False, destination: str = "") -> str:
    parts = [
        "<!DOCTYPE html><html><head><title>Log in - Fake Jira</title></head><body>",
        '<form id="login-form" method="post" action="/login.jsp">',
        f'<div class="error">{error}</div>' if error else "",
        '<input id="login-form-username" name="os_username" type="text">',
        '<input id="login-form-password" name="os_password" type="password">',
        '<input id="login-form-remember-me" name="os_cookie" type="checkbox" value="true">',
        '<div id="captcha"><input name="os_captcha" type="text"></div>' if captcha else "",
        f'<input name="os_destination" type="hidden" value="{destination}">',
        '<input id="login-form-submit" name="login" type="submit" value="Log In">',
        "</form></body></html>",
    ]
    return "".join(parts)


class _Handler(BaseHTTPRequestHandler):
    jira: FakeJira
    protocol_version = "HTTP/1.1"
    server_version = "FakeJira/1.0"
    # One buffered write per answer and no Nagle delay: keep-alive answers go out at once.
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FakeJira.requests` instead."""

    # --- responses -----------------------------------------------------------------------

    def send(
        self,
        status: int,
        body: Any,
        *,
        content_type: str = JSON_TYPE,
        headers: dict[str, str] | None = None,
    ) -> None:
        if isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode("utf-8")
        else:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def error(self, status: int, *messages: str) -> None:
        echoed = self.echoed_request() if status in ECHOED_STATUSES else []
        self.send(status, {"errorMessages": [*messages, *echoed], "errors": {}})

    def echoed_request(self) -> list[str]:
        """The request quoted back, as a careless Jira or proxy does, when echo is on."""
        if not self.jira.echo_request:
            return []
        headers = dict(self.headers.items())
        authorization = headers.get("Authorization", "")
        query = urlsplit(self.path).query
        return [
            f"Invalid request: Authorization {authorization} {self.command} {self.path}",
            f"query: {query}" if query else "query: (none)",
            f"headers: {headers!r}",
            "\r\n".join(f"{name}: {value}" for name, value in headers.items()),
        ]

    def redirect(self, location: str, cookies: list[str] | None = None) -> None:
        headers = {"Location": location}
        self.send_response(302)
        for cookie in cookies or []:
            self.send_header("Set-Cookie", cookie)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # --- dispatch ------------------------------------------------------------------------

    def do_GET(self) -> None:
        self.handle_request("GET")

    def do_POST(self) -> None:
        self.handle_request("POST")

    def handle_request(self, method: str) -> None:
        jira = self.jira
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        jira.requests.append(RecordedRequest(method, path, query, headers, time.monotonic()))
        body = b""
        if method == "POST":
            body = self.rfile.read(int(headers.get("content-length", "0") or 0))
        fault = jira._take_fault(method, path)
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            if fault.drop:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status in ECHOED_STATUSES and fault.body is None and jira.echo_request:
                self.error(fault.status, f"Fault {fault.status} on {path}.")
                return
            if fault.status is not None:
                self.send(
                    fault.status,
                    fault.body if fault.body is not None else b"",
                    content_type=fault.content_type,
                    headers=fault.headers,
                )
                return
        try:
            self.route(method, path, query, headers, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> None:
        jira = self.jira
        if path == "/login.jsp":
            self.login(method, query, body)
            return
        if path in ("/", "/secure/Dashboard.jspa"):
            if jira._credentials(headers) == "valid":
                self.send(
                    200,
                    "<html><head><title>System Dashboard - Fake Jira</title></head>"
                    "<body>Dashboard</body></html>",
                    content_type=HTML_TYPE,
                )
            else:
                self.redirect(f"/login.jsp?os_destination={quote(path, safe='')}")
            return
        if path == "/rest/api/2/serverInfo":
            self.send(200, jira.server_info())
            return
        if not (path.startswith("/rest/") and method == "GET"):
            self.send(404, "<html><body>Page not found</body></html>", content_type=HTML_TYPE)
            return
        credentials = jira._credentials(headers)
        if credentials != "valid":
            if jira.expired and jira.expired_answer == "login_page":
                self.redirect(
                    f"/login.jsp?permissionViolation=true&os_destination={quote(path, safe='')}"
                )
                return
            if re.fullmatch(r"/rest/api/[23]/myself", path) or credentials == "invalid":
                self.error(
                    401,
                    "You are not authenticated. Authentication required to perform this operation.",
                )
                return
            # Anonymous: Jira answers as a user who can see nothing.
            self.anonymous(path)
            return
        jira._count_signed_in_request()
        self.data(path, query)

    def anonymous(self, path: str) -> None:
        if "/search" in path:
            self.send(200, {"issues": [], "isLast": True, "startAt": 0, "total": 0})
        elif path.startswith("/rest/agile/1.0/board"):
            self.send(
                200, {"startAt": 0, "maxResults": 50, "total": 0, "isLast": True, "values": []}
            )
        else:
            self.error(401, "You are not authenticated.")

    def login(self, method: str, query: dict[str, str], body: bytes) -> None:
        jira = self.jira
        if method == "GET":
            self.send(
                200,
                _login_page(destination=query.get("os_destination", "")),
                content_type=HTML_TYPE,
            )
            return
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8")).items()}
        captcha = (
            jira.captcha_after_failures is not None
            and jira._login_failures >= jira.captcha_after_failures
        )
        try:
            if captcha:
                raise PermissionError
            session, remember = jira.sign_in(
                form.get("os_username", ""),
                form.get("os_password", ""),
                form.get("os_cookie") == "true",
            )
        except PermissionError:
            jira._login_failures += 1
            self.send(
                200,
                _login_page(
                    "Sorry, your username and password are incorrect - please try again.",
                    captcha=captcha
                    or (
                        jira.captcha_after_failures is not None
                        and jira._login_failures >= jira.captcha_after_failures
                    ),
                ),
                content_type=HTML_TYPE,
                headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"},
            )
            return
        cookies = [f"JSESSIONID={session}; Path=/; HttpOnly"]
        if remember:
            cookies.append(
                f"seraph.rememberme.cookie={remember}; Path=/; Max-Age=1209600; HttpOnly"
            )
        self.redirect(form.get("os_destination") or "/secure/Dashboard.jspa", cookies)

    def data(self, path: str, query: dict[str, str]) -> None:
        jira = self.jira
        cloud = jira.deployment == "cloud"
        if match := re.fullmatch(r"/rest/api/([23])/(myself|field|status)", path):
            if match[1] == "3" and not cloud:
                self.send(404, "<html><body>Not found</body></html>", content_type=HTML_TYPE)
                return
            self.send(
                200,
                {
                    "myself": jira.myself,
                    "field": lambda: jira.fields,
                    "status": lambda: jira.statuses,
                }[match[2]](),
            )
            return
        if path == "/rest/api/3/search/jql":
            if not cloud:
                self.send(404, "<html><body>Not found</body></html>", content_type=HTML_TYPE)
                return
            self.search_jql(query)
            return
        if re.fullmatch(r"/rest/api/(2|3|latest)/search", path):
            if cloud:
                self.error(410, SEARCH_GONE)
                return
            self.search_start_at(query)
            return
        if match := re.fullmatch(r"/rest/api/[23]/issue/([^/]+)/changelog", path):
            if not cloud:
                self.send(404, "<html><body>Not found</body></html>", content_type=HTML_TYPE)
                return
            self.changelog(match[1], query)
            return
        if match := re.fullmatch(r"/rest/api/[23]/issue/([^/]+)", path):
            issue = self.find_issue(match[1])
            if issue is None:
                self.error(404, "Issue does not exist or you do not have permission to see it.")
            else:
                self.send(200, issue)
            return
        if path == "/rest/agile/1.0/board":
            wanted = query.get("projectKeyOrId")
            boards = [
                board
                for board in jira.boards
                if wanted is None or wanted.upper() in jira.board_project(board)
            ]
            self.send(200, self.agile_page(boards, query))
            return
        if match := re.fullmatch(r"/rest/agile/1.0/board/(\d+)(/configuration|/sprint)?", path):
            board = next((b for b in jira.boards if b["id"] == int(match[1])), None)
            if board is None:
                self.error(404, "Board does not exist or you do not have permission to see it.")
                return
            if match[2] is None:
                self.send(200, board)
            elif match[2] == "/configuration":
                configuration = jira.configurations.get(board["id"])
                if configuration is None:
                    self.error(404, "Board configuration not found.")
                else:
                    self.send(200, configuration)
            elif board.get("type") == "kanban":
                self.error(400, "The board does not support sprints")
            else:
                sprints = [s for s in jira.sprints if s.get("originBoardId") == board["id"]]
                self.send(200, self.agile_page(sprints, query))
            return
        if path == "/rest/greenhopper/1.0/rapid/charts/sprintreport":
            report = jira.sprint_report_file(
                query.get("rapidViewId", ""), query.get("sprintId", "")
            )
            if not jira.sprint_reports_answered or report is None:
                self.error(404, "Could not find the requested sprint report.")
            else:
                self.send(200, report.read_bytes())
            return
        self.send(404, "<html><body>Not found</body></html>", content_type=HTML_TYPE)

    def find_issue(self, id_or_key: str) -> dict[str, Any] | None:
        return next((i for i in self.jira.issues if id_or_key in (i["key"], str(i["id"]))), None)

    def agile_page(self, values: list[Any], query: dict[str, str]) -> dict[str, Any]:
        jira = self.jira
        start = _int(query.get("startAt"), 0)
        size = min(_int(query.get("maxResults"), 50), jira.agile_max_results)
        page = values[start : start + size]
        is_last = start + len(page) >= len(values)
        if jira.never_last and is_last:
            is_last = False
        return {
            "maxResults": size,
            "startAt": start,
            "total": len(values) if not jira.never_last else len(values) + 1,
            "isLast": is_last,
            "values": page,
        }

    def changelog(self, id_or_key: str, query: dict[str, str]) -> None:
        issue = self.find_issue(id_or_key)
        if issue is None:
            self.error(404, "Issue does not exist or you do not have permission to see it.")
            return
        histories = (issue.get("changelog") or {}).get("histories") or []
        start = _int(query.get("startAt"), 0)
        size = min(_int(query.get("maxResults"), 100), 100, self.jira.agile_max_results * 2)
        page = histories[start : start + size]
        self.send(
            200,
            {
                "self": f"{self.jira.base_url}/rest/api/3/issue/{id_or_key}/changelog",
                "maxResults": size,
                "startAt": start,
                "total": len(histories),
                "isLast": start + len(page) >= len(histories),
                "values": page,
            },
        )

    def selected(self, query: dict[str, str]) -> list[dict[str, Any]] | None:
        try:
            return self.jira.select(query.get("jql", ""))
        except JqlError as error:
            self.error(400, str(error))
            return None

    def served(self, issues: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
        fields = query.get("fields")
        expand = query.get("expand", "")
        if not fields:
            # /search/jql returns only ids unless fields are asked for.
            return [{"id": issue["id"]} for issue in issues]
        return [self.jira.embedded(issue, expand) for issue in issues]

    def search_jql(self, query: dict[str, str]) -> None:
        jira = self.jira
        chosen = self.selected(query)
        if chosen is None:
            return
        jql = query.get("jql", "")
        size = min(_int(query.get("maxResults"), 50), jira.search_max_results)
        token = query.get("nextPageToken")
        start = 0
        if token:
            offset = _read_token(token, jql)
            if offset is None:
                self.error(400, "The provided next page token is invalid or expired.")
                return
            start = offset
        if jira.never_last == "repeat" and start >= len(chosen):
            start = max(0, len(chosen) - size)
        page = chosen[start : start + size]
        following = start + len(page)
        result: dict[str, Any] = {"issues": self.served(page, query)}
        if jira.repeat_page_token:
            result["nextPageToken"] = _page_token(size, jql)
            result["isLast"] = False
        elif following < len(chosen):
            result["nextPageToken"] = _page_token(following, jql)
            result["isLast"] = False
        elif jira.never_last:
            # A fresh token every time, pointing past the end: only isLast gives the end away.
            jira.tokens_past_the_end += 1
            result["nextPageToken"] = _page_token(len(chosen) + jira.tokens_past_the_end, jql)
            result["isLast"] = False
        else:
            result["isLast"] = True
        self.send(200, result)

    def search_start_at(self, query: dict[str, str]) -> None:
        jira = self.jira
        chosen = self.selected(query)
        if chosen is None:
            return
        start = _int(query.get("startAt"), 0)
        size = min(_int(query.get("maxResults"), 50), jira.search_max_results)
        page = chosen[start : start + size]
        self.send(
            200,
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": size,
                "total": len(chosen),
                "issues": self.served(page, query),
            },
        )
