"""Secrets never reach what Dagster stores. A Jira (or a proxy) that echoes the request in its
error bodies (`Invalid request: Authorization Basic c21A… token=tok-…`) must not get the
credential, raw or Base64, into the raised error: Dagster keeps that error in the run database,
the event log, the index and the compute log. Every `LiveSourceError` is redacted when built,
by the same rules as log records.

Unit: each error class, built from an echoed body (directly, and by the Jira client from the
fake Jira's echoing 400/401/500 answers), holds a `[REDACTED]` marker instead of every secret
and still says what failed and what to do. End to end: the real raw asset runs against the
echoing fake Jira on 127.0.0.1 (e-mail + API token, and separately a PAT) on an on-disk
DAGSTER_HOME, fails, and no file under DAGSTER_HOME or the data folder holds any secret."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import dagster as dg
import pytest
import requests
from fake_jira import FakeJira, Fault
from fake_jira.helpers import SleepRecorder, settings_for

from jira_insights_pipeline.live import errors
from jira_insights_pipeline.live.client import JiraClient
from jira_insights_pipeline.live.errors import (
    JiraAuthError,
    JiraConnectionError,
    JiraQueryError,
    JiraServerError,
    LiveSourceError,
)
from jira_insights_pipeline.live.redaction import REDACTED, install_redaction, redact_secrets
from jira_insights_pipeline.live.settings import LiveSettings
from jira_insights_pipeline.live.transports import HttpTransport

pytest_plugins = ["fake_jira.fixtures"]

# Secrets the redaction knows only by their field names, never configured anywhere.
UNKNOWN = {
    "token": "tok-unconfigured-6d2b",
    "password": "pw-unconfigured-77aa",
    "api_token": "apitok-unconfigured-19c3",
    "pat": "pat-unconfigured-0f4e",
}


def _secrets(fake: FakeJira) -> list[str]:
    """Every credential of the fake, with the forms it takes on the wire."""
    raw = [fake.api_token, fake.pat, fake.password]
    forms = [
        *raw,
        base64.b64encode(f"{fake.email}:{fake.api_token}".encode()).decode(),
        base64.b64encode(f"{fake.username}:{fake.password}".encode()).decode(),
        base64.b64encode(fake.pat.encode()).decode(),
        base64.b64encode(fake.api_token.encode()).decode(),
    ]
    forms += [quote(value, safe="") for value in raw] + [quote_plus(value) for value in raw]
    return sorted(set(forms))


def _echoed_body(fake: FakeJira) -> str:
    """What a careless Jira or proxy sends back: the request, credentials and all."""
    basic = base64.b64encode(f"{fake.email}:{fake.api_token}".encode()).decode()
    return (
        f"Invalid request: Authorization Basic {basic} token={UNKNOWN['token']} "
        f"password={UNKNOWN['password']}&api_token={UNKNOWN['api_token']}&pat={UNKNOWN['pat']} "
        f"{{'Authorization': 'Bearer {fake.pat}', 'Cookie': 'JSESSIONID=ABCDEF0123456789'}} "
        f"Authorization: Bearer {fake.pat} raw {fake.api_token} {fake.password}"
    )


def _assert_clean(text: str, secrets: list[str]) -> None:
    for secret in [*secrets, *UNKNOWN.values(), "ABCDEF0123456789"]:
        assert secret not in text, f"{secret!r} in {text!r}"
    assert REDACTED in text


@pytest.fixture
def echoing_jira(served_snapshot: Path) -> Iterator[FakeJira]:
    with FakeJira(served_snapshot, echo_request=True) as fake:
        yield fake


def _all_error_classes() -> list[type[LiveSourceError]]:
    found = [LiveSourceError]
    index = 0
    while index < len(found):
        found.extend(found[index].__subclasses__())
        index += 1
    assert {c.__module__ for c in found} == {errors.__name__}
    return found


def test_every_error_class_built_from_an_echoed_body_is_redacted(echoing_jira: FakeJira) -> None:
    install_redaction(settings_for(echoing_jira).secret_values())
    install_redaction(settings_for(echoing_jira, "server").secret_values())
    install_redaction(settings_for(echoing_jira, "form").secret_values())
    secrets = _secrets(echoing_jira)
    body = _echoed_body(echoing_jira)
    classes = _all_error_classes()
    assert len(classes) >= 12
    for cls in classes:
        message = f"Jira rejected GET /rest/api/3/field (400).{body} Check JIRA_BASE_URL."
        error = (
            cls(message, (body,)) if cls is JiraQueryError else cls(message)  # type: ignore[call-arg]
        )
        for text in (str(error), repr(error), *map(str, error.args)):
            _assert_clean(text, secrets)
        assert "GET /rest/api/3/field (400)" in str(error)
        assert "Check JIRA_BASE_URL." in str(error)
        if isinstance(error, JiraQueryError):
            for quoted in error.jira_messages:
                _assert_clean(quoted, secrets)
    # The same rules as the log filter, through the one function.
    assert redact_secrets("Authorization Basic c21Ax") == f"Authorization Basic {REDACTED}"
    assert redact_secrets("pat=abc&token=def") == f"pat={REDACTED}&token={REDACTED}"
    assert redact_secrets("Authorization failed for this user") == (
        "Authorization failed for this user"
    )


@pytest.mark.parametrize("kind", ["cloud", "server"])
@pytest.mark.parametrize(
    ("status", "error_class", "what_failed", "what_to_do"),
    [
        (400, JiraQueryError, "400 Bad Request", "Jira said:"),
        (401, JiraAuthError, "401 on GET /rest/api/", "JIRA_API_TOKEN"),
        (500, JiraServerError, "(500) after every retry", "The stored"),
    ],
)
def test_client_errors_from_echoing_jira_hold_no_secret(
    echoing_jira: FakeJira,
    sleeps: SleepRecorder,
    kind: str,
    status: int,
    error_class: type[LiveSourceError],
    what_failed: str,
    what_to_do: str,
) -> None:
    settings = settings_for(echoing_jira, kind)
    install_redaction(settings.secret_values())
    client = JiraClient(HttpTransport.from_settings(settings, sleep=sleeps))
    echoing_jira.add_fault(Fault(r"/field$", status=status))
    with pytest.raises(error_class) as raised:
        client.fields()
    text = str(raised.value)
    # The fake really echoed the credential; the error does not hold it.
    authorization = echoing_jira.requests_to(r"/field$")[-1].headers["authorization"]
    assert authorization.split()[-1] in "".join(_secrets(echoing_jira))
    _assert_clean(text, _secrets(echoing_jira))
    assert f"Authorization {authorization.split()[0]} {REDACTED}" in text
    assert what_failed in text and what_to_do in text


def test_http_library_errors_are_redacted(
    fake_jira: FakeJira, sleeps: SleepRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(fake_jira, "server")
    install_redaction(settings.secret_values())
    transport = HttpTransport.from_settings(settings, sleep=sleeps)

    def broken(*args: object, **kwargs: object) -> None:
        raise requests.exceptions.ChunkedEncodingError(
            f"url: {fake_jira.base_url}/rest/api/2/field?pat={fake_jira.pat} "
            f"headers {{'Authorization': 'Bearer {fake_jira.pat}'}}"
        )

    monkeypatch.setattr(transport._session, "get", broken)
    with pytest.raises(JiraConnectionError) as raised:
        transport.get("/rest/api/2/field")
    _assert_clean(str(raised.value), _secrets(fake_jira))
    assert "ChunkedEncodingError" in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def _files_holding(folder: Path, secrets: list[str]) -> list[str]:
    hits = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for secret in secrets:
            encoded = secret.encode()
            if encoded in data or base64.b64encode(encoded) in data:
                hits.append(f"{path.relative_to(folder)}: {secret}")
    return hits


@pytest.mark.parametrize("kind", ["cloud", "server"])
def test_a_failed_run_against_echoing_jira_stores_no_secret(
    echoing_jira: FakeJira,
    tmp_path: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    from jira_insights_pipeline.definitions import build_definitions

    assert re.match(r"http://127\.0\.0\.1:\d+$", echoing_jira.base_url)
    monkeypatch.setenv("JIRA_SOURCE", "rest")
    monkeypatch.setenv("JIRA_BASE_URL", echoing_jira.base_url)
    for name in ("JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT", "JIRA_USERNAME", "JIRA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    if kind == "cloud":
        monkeypatch.setenv("JIRA_EMAIL", echoing_jira.email)
        monkeypatch.setenv("JIRA_API_TOKEN", echoing_jira.api_token)
    else:
        monkeypatch.setenv("JIRA_PAT", echoing_jira.pat)
    # Reading the boards is answered with a 400 that quotes the whole request back.
    echoing_jira.add_fault(Fault(r"/rest/agile/1\.0/board$", status=400, times=None))
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))

    defs = build_definitions()
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        result = job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey("raw_jira_scrape")],
            raise_on_error=False,
        )
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        message = failure.step_failure_data.error.to_string()
        assert "JiraQueryError" in message and "400 Bad Request" in message
        assert f"Authorization {'Basic' if kind == 'cloud' else 'Bearer'} {REDACTED}" in message
        run_id = result.run_id
        assert instance.get_run_by_id(run_id).is_failure
    assert echoing_jira.requests_to(r"/rest/agile/1\.0/board$")

    stored = [p for p in dagster_home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in stored), stored
    assert any(REDACTED.encode() in p.read_bytes() for p in stored)
    secrets = _secrets(echoing_jira)
    assert _files_holding(dagster_home, secrets) == []
    if data_dir.exists():
        assert _files_holding(data_dir, secrets) == []


def test_redaction_does_not_change_settings_repr(echoing_jira: FakeJira) -> None:
    settings: LiveSettings = settings_for(echoing_jira)
    assert echoing_jira.api_token not in repr(settings)
