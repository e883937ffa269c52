"""Keeps secrets out of logs and errors: a `logging.Filter` that rewrites every record passing
through it, removing `Authorization` headers, cookies, password and token fields, and the
configured secret values themselves (with their base64 and URL-encoded forms).

`redact_secrets` applies the very same rules to any text: every `LiveSourceError` passes its
message through it when constructed (live/errors.py), so an error quoting a Jira answer that
echoed the request (headers, query) never carries a credential into Dagster's run database,
event log or compute logs.

`install_redaction` puts one shared filter on the loggers a live scrape uses (ours, urllib3's,
requests', Selenium's) and on their handlers; the scrape also adds it to the log it is handed,
the raw step's Dagster log, so every message of the scrape reaches Dagster's event log
redacted.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

REDACTED = "[REDACTED]"

# The loggers a live scrape writes to, directly or through its libraries. Child loggers are
# named too because a logger's own filters do not apply to records of its children.
LIVE_LOGGERS: tuple[str, ...] = (
    "jira_insights_pipeline",
    "jira_insights_pipeline.live",
    "jira_insights_pipeline.live.client",
    "jira_insights_pipeline.live.transports",
    "jira_insights_pipeline.live.scrape",
    "jira_insights_pipeline.live.browser_login",
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "requests",
    "selenium",
    "selenium.webdriver.remote.remote_connection",
    "selenium.webdriver.common.service",
    "selenium.webdriver.common.selenium_manager",
)

_SCHEME = r"(?:basic|bearer|digest|token|negotiate)"
# `Authorization: Basic x`, `'Authorization': 'Bearer x'`, `authorization=x`, and the echo of a
# proxy that drops the colon: `Authorization Basic x`.
_HEADER_CREDENTIAL = re.compile(
    rf"(?i)(\b(?:proxy-)?authorization\b['\"]?(?:\s*[:=]\s*['\"]?(?:{_SCHEME}\s+)?"
    rf"|\s+{_SCHEME}\s+))"
    r"[^\s'\",;}]+"
)
_COOKIE_HEADER = re.compile(r"(?i)(\b(?:set-)?cookie\b['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n}]+")
_NAMED_COOKIE = re.compile(
    r"(?i)\b(JSESSIONID|seraph\.rememberme\.cookie|atlassian\.xsrf\.token|"
    r"(?:tenant|cloud)\.session\.token|[\w.-]*session[\w.-]*)=([^;\s'\",&]+)"
)
_SECRET_FIELD = re.compile(
    r"(?i)\b(os_password|password|passwd|api[_-]?token|access[_-]?token|personal[_-]?access"
    r"[_-]?token|token|secret|pat)(['\"]?\s*[:=]\s*['\"]?)([^\s'\",&;}]+)"
)

# What Selenium logs when it types into a field: the text as a list of single characters.
_CHAR = r"""(?:'(?:\\.|[^'\\])'|"(?:\\.|[^"\\])")"""
_TYPED_CHARACTERS = re.compile(rf"\[\s*(?:{_CHAR}\s*,\s*)*{_CHAR}\s*\]")


class SecretRedactionFilter(logging.Filter):
    """Rewrites each record's message (and its exception text) with secrets replaced by
    `[REDACTED]`. Never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Also redacts these exact values from now on (longest first, so a secret that
        contains another is removed whole)."""
        with self._lock:
            merged = {*self._secrets, *(s for s in secrets if s)}
            self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _TYPED_CHARACTERS.sub(REDACTED, text)
        text = _HEADER_CREDENTIAL.sub(rf"\g<1>{REDACTED}", text)
        text = _COOKIE_HEADER.sub(rf"\g<1>{REDACTED}", text)
        text = _NAMED_COOKIE.sub(rf"\g<1>={REDACTED}", text)
        return _SECRET_FIELD.sub(rf"\g<1>\g<2>{REDACTED}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} {record.args}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_shared_filter = SecretRedactionFilter()


def redact_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret the shared filter knows (and `secrets`, if given) replaced by
    `[REDACTED]`, by the same rules as log records: the values, their encodings, and whatever
    follows `Authorization`, `Cookie`, `token=`, `password=`, `api_token=`, `pat=`."""
    extra = tuple(sorted((s for s in secrets if s), key=len, reverse=True))
    for secret in extra:
        text = text.replace(secret, REDACTED)
    return _shared_filter.redact(text)


def redaction_filter() -> SecretRedactionFilter:
    """The one filter every install shares, so installing twice never stacks filters."""
    return _shared_filter


def install_redaction(
    secrets: Iterable[str] = (), *, loggers: Iterable[str] = LIVE_LOGGERS
) -> SecretRedactionFilter:
    """Adds `secrets` to the shared filter and installs it on `loggers`, on every existing
    descendant of them, and on the handlers of those loggers and of the root logger (a
    logger's filters do not see records that merely propagate through it; handlers do)."""
    shared = redaction_filter()
    shared.add_secrets(secrets)
    names = tuple(loggers)
    existing = [
        name
        for name in list(logging.Logger.manager.loggerDict)
        if any(name == prefix or name.startswith(f"{prefix}.") for prefix in names)
    ]
    targets = [logging.getLogger(name) for name in {*names, *existing}]
    for logger in [*targets, logging.getLogger()]:
        if shared not in logger.filters:
            logger.addFilter(shared)
        for handler in logger.handlers:
            if shared not in handler.filters:
                handler.addFilter(shared)
    return shared
