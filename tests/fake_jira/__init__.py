"""A fake Jira site on 127.0.0.1 for the live-source tests and benchmark: it serves any
snapshot folder over Jira's real endpoints and paging (see server.py)."""

from .server import FakeJira, Fault, RecordedRequest

__all__ = ["FakeJira", "Fault", "RecordedRequest"]
