"""The faults a live scrape must survive, each switched on in the fake Jira: 429 and 503 with
`Retry-After` (seconds and HTTP date) and `X-RateLimit-Reset`, exponential backoff with jitter
and a cap, timeouts, dropped connections, retries running out, a wrong address (refused, or a
site that is not Jira) and credentials expiring mid-run. Waits are recorded by an injected
sleep instead of slept, and a failed run must leave the stored snapshot byte for byte as it
was."""

from __future__ import annotations

import email.utils
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fake_jira import FakeJira, Fault
from fake_jira.helpers import SleepRecorder, folder_digest, settings_for
from urllib3.response import HTTPResponse

from jira_insights_pipeline.live import scrape_to_snapshot
from jira_insights_pipeline.live.client import JiraClient
from jira_insights_pipeline.live.errors import (
    JiraAuthError,
    JiraConnectionError,
    JiraRateLimitedError,
    JiraServerError,
    NotJiraError,
)
from jira_insights_pipeline.live.settings import LiveSettings
from jira_insights_pipeline.live.transports import (
    HttpTransport,
    JiraRetry,
    parse_rate_limit_reset,
)

pytest_plugins = ["fake_jira.fixtures"]


def client_for(fake: FakeJira, sleeps: SleepRecorder, **overrides: object) -> JiraClient:
    settings = settings_for(fake, **overrides)  # type: ignore[arg-type]
    return JiraClient(HttpTransport.from_settings(settings, sleep=sleeps), page_size=4)


def test_429_with_retry_after_seconds_waits_that_long(
    fake_jira: FakeJira, sleeps: SleepRecorder
) -> None:
    fake_jira.add_fault(Fault(r"/search/jql$", status=429, headers={"Retry-After": "7"}, times=2))
    issues = list(client_for(fake_jira, sleeps).search("project = SP"))
    assert len(issues) == 10
    assert sleeps.waits == [7.0, 7.0]
    assert len(fake_jira.requests_to(r"/search/jql$")) == 3 + 2  # 3 pages, 2 of them retried


def test_503_with_retry_after_as_an_http_date(fake_jira: FakeJira, sleeps: SleepRecorder) -> None:
    retry_at = email.utils.formatdate(time.time() + 30, usegmt=True)
    fake_jira.add_fault(Fault(r"/field$", status=503, headers={"Retry-After": retry_at}))
    fields = client_for(fake_jira, sleeps).fields()
    assert len(fields) == 45
    assert len(sleeps.waits) == 1
    assert 27 <= sleeps.waits[0] <= 30


def test_429_with_x_ratelimit_reset_waits_until_the_reset(
    fake_jira: FakeJira, sleeps: SleepRecorder
) -> None:
    reset = (datetime.now(UTC) + timedelta(seconds=150)).strftime("%Y-%m-%dT%H:%MZ")
    fake_jira.add_fault(Fault(r"/status$", status=429, headers={"X-RateLimit-Reset": reset}))
    assert len(client_for(fake_jira, sleeps).statuses()) == 6
    assert len(sleeps.waits) == 1
    # Jira Cloud sends the reset to the minute: 150 s ahead, floored to the minute.
    assert 88 <= sleeps.waits[0] <= 150


def test_rate_limit_reset_formats() -> None:
    now = datetime(2024, 8, 20, 14, 58, 30, tzinfo=UTC).timestamp()
    assert parse_rate_limit_reset("2024-08-20T15:00Z", now) == 90.0
    assert parse_rate_limit_reset("2024-08-20T15:00:00.000+00:00", now) == 90.0
    assert parse_rate_limit_reset(str(int(now) + 12), now) == 12.0
    assert parse_rate_limit_reset("soon", now) is None
    assert parse_rate_limit_reset("2024-08-20T15:00", now) is None  # no offset: unknowable


def test_a_very_long_retry_after_is_capped(fake_jira: FakeJira, sleeps: SleepRecorder) -> None:
    fake_jira.add_fault(Fault(r"/field$", status=429, headers={"Retry-After": "86400"}))
    client_for(fake_jira, sleeps, retry_after_max_s=120.0).fields()
    assert sleeps.waits == [120.0]


def test_without_headers_backoff_grows_with_jitter(
    fake_jira: FakeJira, sleeps: SleepRecorder
) -> None:
    fake_jira.add_fault(Fault(r"/field$", status=503, times=3))
    client_for(fake_jira, sleeps, max_retries=3).fields()
    # urllib3 retries the first failure at once, then waits factor * 2**(n-1) plus jitter:
    # factor 0.5 and jitter 0.25 give 1.0-1.25 s, then 2.0-2.25 s.
    assert len(sleeps.waits) == 2
    assert 1.0 <= sleeps.waits[0] <= 1.25
    assert 2.0 <= sleeps.waits[1] <= 2.25


def test_backoff_is_jittered_and_capped() -> None:
    failure = HTTPResponse(body=b"", status=503, headers={})
    recorded: list[float] = []
    retry = JiraRetry(
        total=12,
        status_forcelist={503},
        backoff_factor=1.0,
        backoff_jitter=0.5,
        backoff_max=20.0,
        sleep=recorded.append,
    )
    for _ in range(10):
        retry = retry.increment("GET", "/rest/api/3/field", response=failure)
        retry.sleep(failure)
    # 0, 2, 4, 8, 16 (+ up to 0.5 jitter), then held at the 20 s cap.
    assert recorded[0] == pytest.approx(2.0, abs=0.5)
    assert all(
        2**n <= wait <= 2**n + 0.5 for n, wait in zip([1, 2, 3, 4], recorded[:4], strict=True)
    )
    assert recorded[4:] == [20.0] * 5
    jitters = {round(wait - 2**n, 6) for n, wait in zip([1, 2, 3, 4], recorded[:4], strict=True)}
    assert len(jitters) > 1  # not a constant offset


def test_rate_limited_after_every_retry_is_a_clear_error(
    fake_jira: FakeJira, sleeps: SleepRecorder
) -> None:
    fake_jira.add_fault(
        Fault(
            r"/field$",
            status=429,
            headers={"Retry-After": "1"},
            body={"errorMessages": ["Rate limit exceeded."]},
            times=None,
        )
    )
    with pytest.raises(JiraRateLimitedError) as caught:
        client_for(fake_jira, sleeps, max_retries=3).fields()
    assert "GET /rest/api/3/field" in str(caught.value)
    assert "Rate limit exceeded." in str(caught.value)
    assert len(fake_jira.requests_to(r"/field$")) == 4
    assert sleeps.waits == [1.0, 1.0, 1.0]


def test_a_server_error_outside_the_retry_list_is_reported_at_once(
    fake_jira: FakeJira, sleeps: SleepRecorder
) -> None:
    fake_jira.add_fault(
        Fault(r"/status$", status=500, body={"errorMessages": ["NullPointerException"]})
    )
    with pytest.raises(JiraServerError, match="NullPointerException"):
        client_for(fake_jira, sleeps).statuses()
    assert len(fake_jira.requests_to(r"/status$")) == 1


def test_a_slow_answer_times_out_and_is_retried(fake_jira: FakeJira, sleeps: SleepRecorder) -> None:
    fake_jira.add_fault(Fault(r"/field$", delay_s=2.0))
    fields = client_for(fake_jira, sleeps, read_timeout_s=0.4).fields()
    assert len(fields) == 45
    assert len(fake_jira.requests_to(r"/field$")) == 2


def test_timeouts_on_every_try_end_in_a_clear_error(
    fake_jira: FakeJira, sleeps: SleepRecorder
) -> None:
    fake_jira.add_fault(Fault(r"/field$", delay_s=1.0, times=None))
    with pytest.raises(JiraConnectionError, match=r"did not answer GET /rest/api/3/field in time"):
        client_for(fake_jira, sleeps, read_timeout_s=0.2, max_retries=2).fields()
    assert len(fake_jira.requests_to(r"/field$")) == 3


def test_a_dropped_connection_is_retried(fake_jira: FakeJira, sleeps: SleepRecorder) -> None:
    fake_jira.add_fault(Fault(r"/search/jql$", drop=True, times=2))
    assert len(list(client_for(fake_jira, sleeps).search("project = SP"))) == 10
    assert len(fake_jira.requests_to(r"/search/jql$")) == 3 + 2


def test_connections_dropped_every_time_end_in_a_clear_error(
    fake_jira: FakeJira, sleeps: SleepRecorder
) -> None:
    fake_jira.add_fault(Fault(r"/status$", drop=True, times=None))
    with pytest.raises(JiraConnectionError, match="dropped while calling GET /rest/api/3/status"):
        client_for(fake_jira, sleeps, max_retries=2).statuses()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_wrong_address_is_connection_refused(tmp_path: Path, sleeps: SleepRecorder) -> None:
    settings = LiveSettings(
        base_url=f"http://127.0.0.1:{_closed_port()}",
        email="someone@example.com",
        api_token="a-token-value",
        max_retries=2,
        backoff_factor_s=0.5,
    )
    with pytest.raises(JiraConnectionError) as caught:
        scrape_to_snapshot(settings, "rest", tmp_path / "raw", sleep=sleeps)
    assert "connection refused" in str(caught.value)
    assert "JIRA_BASE_URL" in str(caught.value)
    assert not (tmp_path / "raw").exists()


class _Intranet(BaseHTTPRequestHandler):
    """A web site that is not Jira: a 200 HTML page at every address."""

    def do_GET(self) -> None:
        body = b"<html><body><h1>Welcome to the ACME intranet</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def intranet() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Intranet)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_site_that_is_not_jira_is_named_as_such(intranet: str, tmp_path: Path) -> None:
    settings = LiveSettings(base_url=intranet, pat="a-personal-access-token")
    with pytest.raises(NotJiraError) as caught:
        scrape_to_snapshot(settings, "rest", tmp_path / "raw")
    assert "not Jira's JSON" in str(caught.value)
    assert "JIRA_BASE_URL" in str(caught.value)


def test_a_jira_path_that_does_not_exist_is_not_jira(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    settings = settings_for(fake_jira, base_url=f"{fake_jira.base_url}/wiki")
    with pytest.raises(NotJiraError, match="does not look like a Jira site"):
        scrape_to_snapshot(settings, "rest", tmp_path / "raw", sleep=sleeps)


def test_credentials_expiring_mid_run_leave_the_stored_snapshot_untouched(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    stored = tmp_path / "store" / "raw"
    scrape_to_snapshot(settings_for(fake_jira), "rest", stored, sleep=sleeps)
    before = folder_digest(stored)
    fake_jira.expire_after_requests = 8  # dies while paging the issues
    with pytest.raises(JiraAuthError) as caught:
        scrape_to_snapshot(settings_for(fake_jira), "rest", stored, sleep=sleeps)
    assert "401 on GET /rest/api/3/search/jql" in str(caught.value)
    assert "JIRA_API_TOKEN" in str(caught.value)
    assert folder_digest(stored) == before
    assert [p.name for p in stored.parent.iterdir()] == ["raw"]  # no scratch left behind


def test_independent_listings_are_requested_together(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    for path in (r"/field$", r"/status$", r"/agile/1\.0/board$", r"/configuration$", r"/sprint$"):
        fake_jira.add_fault(Fault(path, delay_s=0.3, times=None))
    result = scrape_to_snapshot(settings_for(fake_jira), "rest", tmp_path / "raw", sleep=sleeps)
    assert result.board_count == 2

    def started(pattern: str) -> list[float]:
        return [call.at for call in fake_jira.requests_to(pattern)]

    listings = started(r"/field$") + started(r"/status$") + started(r"/agile/1\.0/board$")
    per_board = started(r"/configuration$") + started(r"/sprint$")
    assert len(listings) == 3 and len(per_board) == 4
    assert max(listings) - min(listings) < 0.2  # all three sent before the first answered
    assert max(per_board) - min(per_board) < 0.2
    # The boards' own calls wait for the list of boards.
    assert min(per_board) >= started(r"/agile/1\.0/board$")[0] + 0.3
    assert result.request_count == len(fake_jira.requests)


def test_the_first_failing_listing_in_order_is_the_one_reported(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    # /status fails at once, /field after a while: the run still reports /field, as it would
    # reading them one after another.
    fake_jira.add_fault(Fault(r"/field$", status=500, delay_s=0.3, times=None))
    fake_jira.add_fault(Fault(r"/status$", status=500, times=None))
    with pytest.raises(JiraServerError, match=r"GET /rest/api/3/field \(500\)"):
        scrape_to_snapshot(settings_for(fake_jira), "rest", tmp_path / "store/raw", sleep=sleeps)
    assert not (tmp_path / "store").exists()
