"""Secrets never reach a log: the redaction filter on its own (headers, cookies, password and
token fields, the configured values and their encodings), installed on a logger of the lead's
choice, and a whole scrape run with urllib3 at DEBUG and http.client's wire dump routed into
logging (the usual "debug requests" recipe, which prints every request header) - not one
token, password or basic-auth string may appear in what was captured."""

from __future__ import annotations

import base64
import http.client
import io
import logging
from pathlib import Path

import pytest
from fake_jira import FakeJira
from fake_jira.helpers import SleepRecorder, settings_for

from jira_insights_pipeline.live import (
    LiveSettings,
    SecretRedactionFilter,
    install_redaction,
    scrape_to_snapshot,
)
from jira_insights_pipeline.live.redaction import REDACTED

pytest_plugins = ["fake_jira.fixtures"]


def redacted(text: str, *secrets: str) -> str:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, text, None, None)
    SecretRedactionFilter(secrets).filter(record)
    return record.getMessage()


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Authorization: Basic bWlrZUBleGFtcGxlOnRva2Vu", "Authorization: Basic [REDACTED]"),
        ("{'Authorization': 'Bearer abc.def.ghi', 'Accept': '*/*'}", "'Accept': '*/*'"),
        ("Cookie: JSESSIONID=0A1B2C; seraph.rememberme.cookie=77", "Cookie: [REDACTED]"),
        ("header: Set-Cookie: JSESSIONID=0A1B2C; Path=/; HttpOnly", "header: Set-Cookie: "),
        ("redirect to /x;JSESSIONID=0A1B2C3D?y=1", "JSESSIONID=[REDACTED]"),
        ("os_username=mike&os_password=s3cr%21t&login=Log+In", "os_username=mike&"),
        ('{"api_token": "ATATT3xFfGF0", "email": "a@b.c"}', '"email": "a@b.c"'),
        ("password='hunter2' user=mike", "user=mike"),
        (
            "/element/e.3/value {'text': 'x', 'value': ['h', 'u', 'n', 't', 'e', 'r', '2']}",
            "/value",
        ),
    ],
)
def test_headers_cookies_and_secret_fields_are_redacted(line: str, kept: str) -> None:
    out = redacted(line)
    assert REDACTED in out
    assert kept in out
    for secret in ("bWlrZUBleGFtcGxlOnRva2Vu", "abc.def.ghi", "0A1B2C", "s3cr%21t", "ATATT3xFfGF0"):
        assert secret not in out
    assert "hunter2" not in out
    assert "'h', 'u'" not in out


def test_configured_secrets_and_their_encodings_are_redacted() -> None:
    settings = LiveSettings(
        base_url="https://jira.example.com",
        email="mike@example.com",
        api_token="tok-123/=+",
        username="mike",
        password="p@ss word!",
    )
    basic = base64.b64encode(b"mike@example.com:tok-123/=+").decode()
    values = settings.secret_values()
    assert {"tok-123/=+", "p@ss word!", "p%40ss%20word%21", "p%40ss+word%21", basic} <= set(values)
    text = f"token tok-123/=+ form p%40ss+word%21 raw p@ss word! basic {basic} user mike"
    out = redacted(text, *values)
    assert out == f"token {REDACTED} form {REDACTED} raw {REDACTED} basic {REDACTED} user mike"
    assert "tok-123" not in repr(settings) and "p@ss" not in repr(settings)


def test_arguments_and_exception_text_are_redacted_too() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("test_live_redaction.lead")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        install_redaction(["sekrit-value"], loggers=("test_live_redaction.lead",))
        logger.warning("calling with %s", {"Authorization": "Bearer sekrit-value"})
        try:
            raise RuntimeError("token=sekrit-value was refused")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "sekrit-value" not in output
    assert output.count(REDACTED) >= 2
    assert "RuntimeError" in output


def test_a_debug_scrape_logs_no_secret(
    fake_jira: FakeJira,
    sleeps: SleepRecorder,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wire = logging.getLogger("http.client.wire")
    monkeypatch.setattr(http.client.HTTPConnection, "debuglevel", 1)
    monkeypatch.setattr(
        http.client, "print", lambda *parts: wire.debug(" ".join(map(str, parts))), raising=False
    )
    caplog.set_level(logging.DEBUG)
    settings = settings_for(fake_jira)
    scrape_to_snapshot(settings, "rest", tmp_path / "raw", sleep=sleeps)

    captured = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /rest/api/3/search/jql" in captured  # urllib3's DEBUG lines were captured
    assert "send: b'GET /rest/api/2/myself" in captured  # and the wire dump with headers
    assert "Authorization: Basic [REDACTED]" in captured
    basic = base64.b64encode(f"{fake_jira.email}:{fake_jira.api_token}".encode()).decode()
    for secret in (fake_jira.api_token, basic, fake_jira.password, fake_jira.pat):
        assert secret not in captured
