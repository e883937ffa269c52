"""The browser source with real headless Chromium (Debian's, through Selenium and its
chromedriver) against the fake Jira: signing in through the Server login form, reusing a
profile signed in once by `browser_login`, the same REST JSON fetched from inside the page (so
the round trip equals the served snapshot), retries through `fetch`, and the clear errors for a
wrong password, a CAPTCHA, a profile that is not signed in and a session that expires mid-run -
which must leave the stored snapshot as it was. Selenium's DEBUG log, which echoes the typed
password, must come out redacted."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fake_jira import FakeJira, Fault
from fake_jira.helpers import (
    IMPROVINGFLOW,
    SleepRecorder,
    folder_digest,
    settings_for,
    snapshot_contents,
)

from jira_insights_pipeline.live import (
    JiraAuthError,
    SessionExpiredError,
    browser_login,
    scrape_to_snapshot,
)

pytest_plugins = ["fake_jira.fixtures"]
pytestmark = pytest.mark.browser

if not (Path("/usr/bin/chromium").is_file() and Path("/usr/bin/chromedriver").is_file()):
    pytest.skip("needs Debian's chromium and chromium-driver", allow_module_level=True)


def test_form_sign_in_round_trip_equals_the_served_snapshot(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    fake_jira.embedded_changelog_limit = 3
    fake_jira.search_max_results = 3
    result = scrape_to_snapshot(
        settings_for(fake_jira, "form"), "browser", tmp_path / "raw", sleep=sleeps
    )
    assert snapshot_contents(tmp_path / "raw") == snapshot_contents(IMPROVINGFLOW)
    assert (result.transport, result.issue_count, result.changelogs_completed) == (
        "browser",
        10,
        6,
    )
    logins = [r for r in fake_jira.requests if r.path == "/login.jsp" and r.method == "POST"]
    assert len(logins) == 1
    rest_calls = [r for r in fake_jira.requests if r.path.startswith("/rest/api/3/")]
    assert rest_calls and all("JSESSIONID=" in r.headers.get("cookie", "") for r in rest_calls)
    assert not any("authorization" in r.headers for r in rest_calls)


def test_a_profile_signed_in_once_is_reused_headless(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    profile = tmp_path / "profile"
    login_settings = settings_for(fake_jira, "form", browser_profile_dir=profile)
    user = browser_login(login_settings, headless=True, timeout_s=30)
    assert user.display_name == "Mike Bowler"
    assert profile.is_dir() and (profile.stat().st_mode & 0o777) == 0o700

    reuse = settings_for(
        fake_jira, "form", username=None, password=None, browser_profile_dir=profile
    )
    posts_before = sum(r.method == "POST" for r in fake_jira.requests)
    result = scrape_to_snapshot(reuse, "browser", tmp_path / "raw", sleep=sleeps)
    assert result.issue_count == 10
    assert sum(r.method == "POST" for r in fake_jira.requests) == posts_before  # no new sign-in


def test_a_profile_that_is_not_signed_in_says_how_to_sign_in(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    settings = settings_for(
        fake_jira, "form", username=None, password=None, browser_profile_dir=tmp_path / "empty"
    )
    with pytest.raises(SessionExpiredError) as caught:
        scrape_to_snapshot(settings, "browser", tmp_path / "raw", sleep=sleeps)
    assert "401" in str(caught.value)
    assert "jira-insights browser-login" in str(caught.value)
    assert not (tmp_path / "raw").exists()


def test_a_wrong_password_shows_jiras_message(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    settings = settings_for(fake_jira, "form", password="not-the-password")
    with pytest.raises(JiraAuthError) as caught:
        scrape_to_snapshot(settings, "browser", tmp_path / "raw", sleep=sleeps)
    assert "did not accept JIRA_USERNAME='mbowler'" in str(caught.value)
    assert "Sorry, your username and password are incorrect" in str(caught.value)
    assert "not-the-password" not in str(caught.value)


def test_a_captcha_is_named(fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path) -> None:
    fake_jira.captcha_after_failures = 0
    with pytest.raises(JiraAuthError, match="CAPTCHA"):
        scrape_to_snapshot(
            settings_for(fake_jira, "form"), "browser", tmp_path / "raw", sleep=sleeps
        )


@pytest.mark.parametrize("answer", ["login_page", "401"])
def test_a_session_expiring_mid_run_leaves_the_stored_snapshot(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path, answer: str
) -> None:
    stored = tmp_path / "store" / "raw"
    scrape_to_snapshot(settings_for(fake_jira), "rest", stored, sleep=sleeps)
    before = folder_digest(stored)
    fake_jira.expire_after_requests = 8
    fake_jira.expired_answer = answer  # type: ignore[assignment]
    with pytest.raises(SessionExpiredError) as caught:
        scrape_to_snapshot(settings_for(fake_jira, "form"), "browser", stored, sleep=sleeps)
    message = str(caught.value)
    assert ("login page" if answer == "login_page" else "401") in message
    assert "jira-insights browser-login" in message
    assert folder_digest(stored) == before
    assert [p.name for p in stored.parent.iterdir()] == ["raw"]


def test_fetch_in_the_page_retries_like_http(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    fake_jira.add_fault(Fault(r"/field$", status=429, headers={"Retry-After": "3"}))
    fake_jira.add_fault(Fault(r"/status$", status=503, times=2))
    result = scrape_to_snapshot(
        settings_for(fake_jira, "form"), "browser", tmp_path / "raw", sleep=sleeps
    )
    assert result.field_count == 45
    assert len(fake_jira.requests_to(r"/rest/api/3/field$")) == 2
    assert len(fake_jira.requests_to(r"/rest/api/3/status$")) == 3
    # Retry-After first; then urllib3's backoff for the 503s: at once, then 1.0-1.25 s.
    assert sleeps.waits[0] == 3.0
    assert len(sleeps.waits) == 2 and 1.0 <= sleeps.waits[1] <= 1.25


def test_selenium_debug_logging_does_not_leak_the_password(
    fake_jira: FakeJira,
    sleeps: SleepRecorder,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    scrape_to_snapshot(settings_for(fake_jira, "form"), "browser", tmp_path / "raw", sleep=sleeps)
    selenium_records = [r for r in caplog.records if r.name.startswith("selenium")]
    assert any("/element/" in r.getMessage() for r in selenium_records)  # the typing was logged
    captured = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert fake_jira.password not in captured
    assert str(list(fake_jira.password)) not in captured  # Selenium also logs it per character
    assert "[REDACTED]" in captured


def test_browser_login_waits_for_someone_to_sign_in_then_gives_up(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    settings = settings_for(
        fake_jira, "form", username=None, password=None, browser_profile_dir=tmp_path / "p"
    )
    with pytest.raises(SessionExpiredError, match=r"Nobody signed in .* within 1 s"):
        browser_login(settings, headless=True, timeout_s=1, poll_s=0.2)
    # It opened the login page and kept asking Jira who is signed in.
    assert fake_jira.requests_to(r"^/login\.jsp$")
    assert len(fake_jira.requests_to(r"/rest/api/2/myself$")) >= 2
