"""What a live scrape needs to know: where Jira is, how to sign in, what to read, and how
patient to be. The lead's `JiraSource` resource builds it from `dg.EnvVar`-backed fields."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote, quote_plus, urlsplit

from jira_insights_pipeline.live.errors import LiveConfigurationError

Deployment = Literal["auto", "cloud", "server"]


@dataclass(frozen=True)
class LiveSettings:
    """Settings of the `rest` and `browser` sources. Secrets never appear in its repr."""

    base_url: str
    email: str | None = None
    api_token: str | None = field(default=None, repr=False)
    pat: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    browser_profile_dir: Path | None = field(default=None, repr=False)
    projects: tuple[str, ...] = ()
    board_ids: tuple[int, ...] = ()
    jql: str | None = None
    deployment: Deployment = "auto"
    page_size: int = 100
    chromedriver_path: str = "/usr/bin/chromedriver"
    chromium_path: str = "/usr/bin/chromium"
    # How patient to be: seconds to connect / to wait for a response, retries per request,
    # exponential backoff (factor * 2**n seconds plus up to `backoff_jitter_s`, at most
    # `backoff_max_s`) and the longest Retry-After / X-RateLimit-Reset wait honoured.
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    max_retries: int = 6
    backoff_factor_s: float = 1.0
    backoff_jitter_s: float = 1.0
    backoff_max_s: float = 60.0
    retry_after_max_s: float = 300.0
    # Incremental runs ask for issues updated since the last watermark minus this overlap, so
    # an issue saved while the previous run was reading is not missed.
    overlap_minutes: int = 10
    fetch_sprint_reports: bool = True

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise LiveConfigurationError(
                f"JIRA_BASE_URL={self.base_url!r} is not a web address; set it to your site, "
                "e.g. https://your-team.atlassian.net or https://jira.example.com."
            )
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.page_size < 1:
            raise LiveConfigurationError(f"page_size must be at least 1, not {self.page_size}.")
        if self.deployment not in ("auto", "cloud", "server"):
            raise LiveConfigurationError(
                f"deployment={self.deployment!r}: use auto, cloud or server."
            )

    def secret_values(self) -> tuple[str, ...]:
        """Every configured secret, and the encodings it can take on the wire or in a log
        (basic-auth base64, URL-encoded form fields), for the redaction filter."""
        secrets: list[str] = []
        for value in (self.api_token, self.pat, self.password):
            if value:
                secrets.extend({value, quote(value, safe=""), quote_plus(value)})
        for value in (self.api_token, self.pat):
            # `Bearer <PAT>` is sent raw, but a proxy may echo any header base64-encoded.
            if value:
                secrets.append(base64.b64encode(value.encode()).decode())
        if self.email and self.api_token:
            secrets.append(base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode())
        if self.username and self.password:
            secrets.append(base64.b64encode(f"{self.username}:{self.password}".encode()).decode())
        return tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
