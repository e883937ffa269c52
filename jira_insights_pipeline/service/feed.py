"""The published feed and report page as the service reads them: parsed once per version.

A file is re-read only when its modification time or size changes (one `stat` per request
otherwise), so answering from the feed costs no JSON parsing and no schema validation. The
pipeline's publication replaces the files by renaming (publication.py), so a read never sees
half a file; the feed is validated against insight.schema.json when it is parsed
(`read_insight_file`), never trusted as found.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.insights.documents import InsightDocumentError
from jira_insights_pipeline.insights.io_manager import read_insight_file
from jira_insights_pipeline.service.figures import KeyFigure, board_figures

Parsed = TypeVar("Parsed")


class FeedUnavailable(RuntimeError):
    """There is no published feed (or report) to serve, or it cannot be read; the message
    says what to do."""


@dataclass(frozen=True)
class FileStamp:
    """What tells two versions of a file apart without reading it."""

    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> FileStamp | None:
        try:
            status = path.stat()
        except FileNotFoundError:
            return None
        return cls(status.st_mtime_ns, status.st_size)


class CachedFile(Generic[Parsed]):
    """A file parsed by `parse`, kept until the file's stamp changes."""

    def __init__(self, path: Path, parse: Callable[[Path], Parsed]) -> None:
        self.path = path
        self._parse = parse
        self._lock = threading.Lock()
        self._cached: tuple[FileStamp, Parsed] | None = None

    def get(self) -> tuple[FileStamp, Parsed] | None:
        """The parsed file and its stamp, or None when there is no file."""
        stamp = FileStamp.of(self.path)
        if stamp is None:
            return None
        cached = self._cached
        if cached is not None and cached[0] == stamp:
            return cached
        with self._lock:  # one thread parses a new version; the others wait for it
            cached = self._cached
            if cached is None or cached[0] != stamp:
                cached = (stamp, self._parse(self.path))
                self._cached = cached
        return cached


@dataclass(frozen=True)
class Feed:
    """The published feed: the validated document and its insights by id."""

    document: dict[str, Any]
    stamp: FileStamp

    @property
    def insights(self) -> list[dict[str, Any]]:
        return self.document["insights"]

    @property
    def resolved(self) -> list[dict[str, Any]]:
        return self.document["resolved"]

    def insight(self, insight_id: str) -> dict[str, Any] | None:
        return next((i for i in self.insights if i["id"] == insight_id), None)


class PublishedFiles:
    """The feed and the report page of one data folder, each cached by its stamp."""

    def __init__(self, folder: DataFolder) -> None:
        self.folder = folder
        self._feed = CachedFile(folder.insights_feed, read_insight_file)
        self._page = CachedFile(folder.report, lambda path: path.read_text(encoding="utf-8"))
        self._figures = CachedFile(
            folder.report, lambda path: board_figures(path.read_text(encoding="utf-8"))
        )

    def feed(self) -> Feed:
        """The published feed, or FeedUnavailable saying why not and what to do."""
        try:
            found = self._feed.get()
        except InsightDocumentError as error:
            raise FeedUnavailable(str(error)) from None
        except OSError as error:
            raise FeedUnavailable(f"{self.folder.insights_feed} cannot be read: {error}") from None
        if found is None:
            raise FeedUnavailable(
                f"No published insights feed at {self.folder.insights_feed}: run the pipeline "
                "(`make demo`, or a job ending in `publication`), or point "
                "JIRA_INSIGHTS_DATA_DIR / --data-dir at the folder it writes."
            )
        stamp, document = found
        return Feed(document, stamp)

    def page(self) -> str:
        """The published report page, or FeedUnavailable."""
        found = self._page.get()
        if found is None:
            raise FeedUnavailable(
                f"No published report at {self.folder.report}: run the pipeline (`make demo`)."
            )
        return found[1]

    def figures(self) -> dict[int, list[KeyFigure]]:
        """Per board, the key figures of the published page; none without a page."""
        found = self._figures.get()
        return {} if found is None else found[1]

    def version(self) -> str:
        """A short tag that changes whenever the feed or the page is replaced."""
        stamps = [FileStamp.of(self.folder.insights_feed), FileStamp.of(self.folder.report)]
        text = os.pathsep.join("-" if s is None else f"{s.mtime_ns}:{s.size}" for s in stamps)
        return hashlib.sha256(text.encode()).hexdigest()[:20]
