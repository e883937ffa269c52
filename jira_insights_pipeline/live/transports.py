"""How requests reach Jira: over HTTP with a token (`HttpTransport`, requests + urllib3), or
from inside a signed-in Chromium page (`BrowserTransport`, Selenium). Both return the same
`RawResponse`, so the Jira client above them, and every parser after it, never know which ran.

Retries are urllib3's `Retry` in both: `JiraRetry` only adds Jira's `X-RateLimit-Reset` header
(ISO 8601) to the `Retry-After` urllib3 already honours, and an injectable sleep so that tests
never really wait. The browser transport drives the very same `Retry` object by hand, with
urllib3's own response and error types.
"""

from __future__ import annotations

import base64
import gzip
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth
from urllib3.exceptions import (
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.response import HTTPResponse
from urllib3.util.retry import Retry

from jira_insights_pipeline.live.errors import JiraConnectionError, LiveConfigurationError
from jira_insights_pipeline.live.settings import LiveSettings

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]
Clock = Callable[[], float]
QueryParams = Mapping[str, str | int]

# Statuses worth another try: rate limits (429), an overloaded or restarting Jira (502-504).
RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RawResponse:
    """One answer of Jira, whichever transport fetched it. Header names are lower case."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Transport(Protocol):
    """Sends one GET to Jira (retrying what is worth retrying) and returns its answer."""

    kind: str
    base_url: str
    request_count: int

    def get(self, path: str, params: QueryParams | None = None) -> RawResponse: ...

    def close(self) -> None: ...


def parse_rate_limit_reset(value: str, now: float) -> float | None:
    """Seconds until Jira's `X-RateLimit-Reset` instant: ISO 8601 (`2024-08-20T15:00Z`, as
    Jira Cloud sends it) or epoch seconds. None when it is neither."""
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text) - now
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if instant.tzinfo is None:
        return None
    return instant.timestamp() - now


class JiraRetry(Retry):
    """urllib3's Retry, plus Jira's `X-RateLimit-Reset` when `Retry-After` is absent, and a
    sleep function that can be swapped (tests record the waits instead of waiting)."""

    RETRY_AFTER_STATUS_CODES = frozenset({413, 429, 503})

    def __init__(self, *args: Any, sleep: Sleep = time.sleep, clock: Clock = time.time, **kw: Any):
        super().__init__(*args, **kw)
        self.sleep_function = sleep
        self.clock = clock

    def new(self, **kw: Any) -> JiraRetry:
        kw.setdefault("sleep", self.sleep_function)
        kw.setdefault("clock", self.clock)
        return super().new(**kw)

    def get_retry_after(self, response: Any) -> float | None:
        retry_after = super().get_retry_after(response)
        if retry_after is not None:
            return retry_after
        reset = response.headers.get("X-RateLimit-Reset")
        if not reset:
            return None
        seconds = parse_rate_limit_reset(reset, self.clock())
        if seconds is None:
            return None
        return min(max(seconds, 0.0), float(self.retry_after_max))

    def sleep_for_retry(self, response: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            log.info(
                "Jira answered %s and asked to wait %.1f s; waiting before the next try.",
                response.status,
                retry_after,
            )
            self.sleep_function(retry_after)
            return True
        return False

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            log.info("Retrying a Jira request in %.1f s (exponential backoff).", backoff)
            self.sleep_function(backoff)


def build_retry(settings: LiveSettings, *, sleep: Sleep = time.sleep) -> JiraRetry:
    """The retry policy of both transports: GET only (reads are safe to repeat), connection
    errors, timeouts and dropped connections, and the statuses of RETRY_STATUSES."""
    return JiraRetry(
        total=settings.max_retries,
        connect=settings.max_retries,
        read=settings.max_retries,
        status=settings.max_retries,
        other=0,
        redirect=5,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=settings.backoff_factor_s,
        backoff_jitter=settings.backoff_jitter_s,
        backoff_max=settings.backoff_max_s,
        retry_after_max=int(settings.retry_after_max_s),
        respect_retry_after_header=True,
        raise_on_status=False,
        sleep=sleep,
    )


class BearerAuth(AuthBase):
    """A Server/Data Center personal access token, sent as `Authorization: Bearer`."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<token>)"


def token_auth(settings: LiveSettings) -> AuthBase:
    """Basic auth with e-mail and API token (Cloud), or a bearer personal access token
    (Server/Data Center); a clear error naming the settings when neither is configured."""
    if settings.pat:
        return BearerAuth(settings.pat)
    if settings.email and settings.api_token:
        return HTTPBasicAuth(settings.email, settings.api_token)
    if settings.api_token and not settings.email:
        raise LiveConfigurationError(
            "JIRA_API_TOKEN is set but JIRA_EMAIL is not: Jira Cloud signs API tokens in with "
            "the e-mail address of the account that created them."
        )
    raise LiveConfigurationError(
        "The rest source needs credentials: JIRA_EMAIL and JIRA_API_TOKEN for Jira Cloud, or "
        "JIRA_PAT (a personal access token) for Jira Server/Data Center. Without a token, use "
        "the browser source (JIRA_SOURCE=browser)."
    )


def _describe_failure(error: BaseException, base_url: str, path: str, settings: str) -> str:
    """Names the cause of a failed connection from urllib3's own exception types."""
    reason: BaseException | None = error
    while reason is not None and not isinstance(
        reason, NameResolutionError | NewConnectionError | ReadTimeoutError | ProtocolError
    ):
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        elif reason.args and isinstance(reason.args[0], BaseException):
            reason = reason.args[0]
        else:
            reason = reason.__cause__ or reason.__context__
    host = urlsplit(base_url).netloc
    if isinstance(reason, NameResolutionError):
        return (
            f"Could not find the Jira host {host!r} (name not resolved) while calling GET "
            f"{path}. Check JIRA_BASE_URL."
        )
    if isinstance(reason, NewConnectionError):
        return (
            f"Could not connect to {base_url} (connection refused or unreachable) while calling "
            f"GET {path}, after every retry. Check JIRA_BASE_URL and that Jira is up."
        )
    if isinstance(reason, ReadTimeoutError):
        return (
            f"Jira at {base_url} did not answer GET {path} in time ({settings}), after every "
            "retry. Jira may be overloaded; try again later or raise the read timeout."
        )
    return (
        f"The connection to {base_url} dropped while calling GET {path}, after every retry "
        f"({type(reason or error).__name__}). Check the network and try again."
    )


class HttpTransport:
    """GETs over requests with a pooled session and urllib3 retries. Safe to call from several
    threads at once: the scrape sends up to `parallel_requests` independent GETs together."""

    kind = "rest"
    parallel_requests = 4

    def __init__(
        self,
        base_url: str,
        auth: AuthBase,
        *,
        retry: JiraRetry,
        connect_timeout_s: float,
        read_timeout_s: float,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.request_count = 0
        self._count_lock = threading.Lock()
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._session = requests.Session()
        adapter = HTTPAdapter(
            max_retries=retry, pool_connections=1, pool_maxsize=self.parallel_requests
        )
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.auth = auth
        self._session.headers.update(
            {"Accept": "application/json", "User-Agent": "jira-insights-pipeline"}
        )

    @classmethod
    def from_settings(cls, settings: LiveSettings, *, sleep: Sleep = time.sleep) -> HttpTransport:
        return cls(
            settings.base_url,
            token_auth(settings),
            retry=build_retry(settings, sleep=sleep),
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=settings.read_timeout_s,
        )

    def get(self, path: str, params: QueryParams | None = None) -> RawResponse:
        with self._count_lock:
            self.request_count += 1
        try:
            response = self._session.get(
                f"{self.base_url}{path}", params=params, timeout=self._timeout
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            timeouts = f"{self._timeout[0]:g} s to connect, {self._timeout[1]:g} s to answer"
            raise JiraConnectionError(
                _describe_failure(error, self.base_url, path, timeouts)
            ) from None
        except requests.RequestException as error:
            # Any other failure of the HTTP library (too many redirects, a broken chunked or
            # compressed body, an invalid URL): its text can hold URLs and headers, so it is
            # quoted only through the redaction of LiveSourceError, and not chained.
            raise JiraConnectionError(
                f"GET {path} on {self.base_url} failed ({type(error).__name__}: {error}). Check "
                "JIRA_BASE_URL and any proxy between here and Jira, then try again."
            ) from None
        return RawResponse(
            status=response.status_code,
            headers={name.lower(): value for name, value in response.headers.items()},
            body=response.content,
            url=response.url,
        )

    def close(self) -> None:
        self._session.close()


# Runs inside the signed-in page: the same REST call, with the page's cookies. The body comes
# back as Jira's own bytes, gzipped in the page and base64-encoded: a large page then crosses
# the WebDriver connection several times faster than as a JSON-escaped string, and Python
# parses exactly the bytes Jira sent, as the HTTP transport does.
_FETCH_SCRIPT = """
const [url, timeoutMs] = arguments;
const done = arguments[arguments.length - 1];
const controller = new AbortController();
const timer = setTimeout(() => controller.abort(), timeoutMs);
fetch(url, {credentials: "include", headers: {"Accept": "application/json"},
            signal: controller.signal})
  .then(async (response) => {
    const headers = {};
    response.headers.forEach((value, name) => { headers[name] = value; });
    const answer = {status: response.status, url: response.url, headers: headers};
    if (typeof CompressionStream === "function" && response.body) {
      const zipped = response.body.pipeThrough(new CompressionStream("gzip"));
      const bytes = new Uint8Array(await new Response(zipped).arrayBuffer());
      let binary = "";
      for (let i = 0; i < bytes.length; i += 32768) {
        binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 32768));
      }
      answer.gzipBase64 = btoa(binary);
    } else {
      answer.text = await response.text();
    }
    clearTimeout(timer);
    done(answer);
  })
  .catch((error) => {
    clearTimeout(timer);
    done({error: error.name === "AbortError" ? "timeout" : String(error)});
  });
"""


class BrowserTransport:
    """GETs run by `fetch(url, {credentials: "include"})` inside a Chromium page that is on
    the Jira site and signed in. Retries follow the same urllib3 `Retry` policy as HTTP. One
    request at a time: a WebDriver session is not for several threads."""

    kind = "browser"
    parallel_requests = 1

    def __init__(
        self,
        driver: Any,
        base_url: str,
        *,
        retry: JiraRetry,
        read_timeout_s: float,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.request_count = 0
        self._driver = driver
        self._retry = retry
        self._timeout_ms = int(read_timeout_s * 1000)
        self._on_close = on_close
        # The script must be allowed to outlive the fetch's own timeout, or Selenium would
        # abandon a request that Jira is still answering.
        driver.set_script_timeout(read_timeout_s + 30)

    def _fetch_once(self, url: str) -> dict[str, Any]:
        from selenium.common.exceptions import WebDriverException

        try:
            result = self._driver.execute_async_script(_FETCH_SCRIPT, url, self._timeout_ms)
        except WebDriverException as error:
            # Selenium's text quotes the script's arguments and the page's URL; it reaches
            # the user only through LiveSourceError's redaction, and is not chained.
            raise JiraConnectionError(
                f"The browser failed to run GET {url.split('?')[0]} on {self.base_url} "
                f"({type(error).__name__}: {error.msg or error}). Check that Chromium and "
                "chromedriver still run, then try again."
            ) from None
        if not isinstance(result, dict):
            return {"error": f"unexpected script result {type(result).__name__}"}
        return result

    def get(self, path: str, params: QueryParams | None = None) -> RawResponse:
        self.request_count += 1
        url = path + (f"?{urlencode(params)}" if params else "")
        retry = self._retry
        while True:
            result = self._fetch_once(url)
            if "error" in result:
                error: Exception = (
                    ReadTimeoutError(None, url, "no answer in time")  # type: ignore[arg-type]
                    if result["error"] == "timeout"
                    else ProtocolError(f"fetch failed: {result['error']}")
                )
                try:
                    retry = retry.increment("GET", url, error=error)
                except MaxRetryError as exhausted:
                    timeouts = f"{self._timeout_ms / 1000:g} s to answer"
                    message = _describe_failure(exhausted, self.base_url, path, timeouts)
                    raise JiraConnectionError(message) from None
                retry.sleep()
                continue
            headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
            status = int(result["status"])
            if result.get("gzipBase64") is not None:
                body = gzip.decompress(base64.b64decode(result["gzipBase64"]))
            else:
                body = str(result.get("text", "")).encode("utf-8")
            raw = RawResponse(
                status=status,
                headers=headers,
                body=body,
                url=str(result.get("url") or f"{self.base_url}{url}"),
            )
            as_urllib3 = HTTPResponse(body=b"", headers=headers, status=status, request_url=url)
            if not retry.is_retry("GET", status, "retry-after" in headers):
                return raw
            try:
                retry = retry.increment("GET", url, response=as_urllib3)
            except MaxRetryError:
                return raw
            retry.sleep(as_urllib3)

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
            self._on_close = None
