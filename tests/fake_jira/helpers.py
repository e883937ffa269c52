"""Helpers shared by the live-source tests and the extraction benchmark: where the test data
is, settings that sign in to a fake Jira, a sleep that records instead of sleeping, and what a
round trip must preserve."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from jira_insights_pipeline.live.settings import LiveSettings
from jira_insights_pipeline.snapshot import load_snapshot

from .server import FakeJira

DATA = Path(__file__).resolve().parents[1] / "data"
IMPROVINGFLOW = DATA / "live_improvingflow"
SPRINT_REPORTS = DATA / "live_sprint_reports" / "sprint_reports"


class SleepRecorder:
    """Stands in for time.sleep: records each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def settings_for(fake: FakeJira, kind: str = "cloud", **overrides: Any) -> LiveSettings:
    """Settings that sign in to `fake`: e-mail + API token (`cloud`), a personal access token
    (`server`) or the login form (`form`). Short timeouts; waits go to an injected sleep."""
    credentials: dict[str, Any] = {
        "cloud": {"email": fake.email, "api_token": fake.api_token},
        "server": {"pat": fake.pat},
        "form": {"username": fake.username, "password": fake.password},
    }[kind]
    values: dict[str, Any] = {
        "base_url": fake.base_url,
        **credentials,
        "page_size": 4,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 5.0,
        "max_retries": 3,
        "backoff_factor_s": 0.5,
        "backoff_jitter_s": 0.25,
        "backoff_max_s": 4.0,
        "retry_after_max_s": 120.0,
    }
    values.update(overrides)
    return LiveSettings(**values)


def with_overrides(settings: LiveSettings, **changes: Any) -> LiveSettings:
    return dataclasses.replace(settings, **changes)


def snapshot_contents(path: Path) -> dict[str, Any]:
    """What a round trip must preserve: issues by id (with changelogs), boards, sprints,
    fields and statuses."""
    snapshot = load_snapshot(path)
    return {
        "issues": {issue["id"]: issue for issue in snapshot.iter_issues()},
        "boards": {board["id"]: board for board in snapshot.boards},
        "sprints": {sprint["id"]: sprint for sprint in snapshot.sprints},
        "fields": {entry["id"]: entry for entry in snapshot.fields},
        "statuses": {entry["id"]: entry for entry in snapshot.statuses or []},
    }


def folder_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its SHA-256: equal digests mean nothing changed."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
