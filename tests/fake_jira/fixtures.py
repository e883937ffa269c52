"""Pytest fixtures of the live-source tests. Test modules load them with
`pytest_plugins = ["fake_jira.fixtures"]` (there is deliberately no tests/conftest.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import IMPROVINGFLOW, SleepRecorder
from .server import FakeJira


@pytest.fixture
def served_snapshot(tmp_path: Path) -> Path:
    """A private copy of the test snapshot (tests may add sprint reports to it)."""
    copy = tmp_path / "served"
    shutil.copytree(IMPROVINGFLOW, copy)
    return copy


@pytest.fixture
def fake_jira(served_snapshot: Path) -> Iterator[FakeJira]:
    """A Jira Cloud fake serving the test snapshot on 127.0.0.1."""
    with FakeJira(served_snapshot) as fake:
        yield fake


@pytest.fixture
def fake_server_jira(served_snapshot: Path) -> Iterator[FakeJira]:
    """A Jira Server/Data Center fake serving the test snapshot on 127.0.0.1."""
    with FakeJira(served_snapshot, deployment="server") as fake:
        yield fake


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()
