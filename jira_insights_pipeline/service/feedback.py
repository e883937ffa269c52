"""The team's feedback on insights, and what it changes: which insights are shown, in what order.

Feedback lives in its own SQLite file, `<data folder>/feedback/feedback.sqlite3`, which no
pipeline run reads, replaces or removes (a run publishes only the files of its draft). Each
verdict is attached to the insight's `subject` (board, sprint and use case: the same on every
day), not to its `id` (which changes with every snapshot), and records the insight's id,
use case, board, severity and a fingerprint of its `facts` at that moment, so that later feeds
can be compared with what the person saw.

The rules, as plain functions so they are tested without HTTP:

- `is_dismissed`: an insight stays hidden after its subject's latest dismissal until its
  severity rises above the dismissed severity or its facts differ from the dismissed ones.
- `order_insights`: most severe first, then the use cases the team found most helpful
  (helpful minus not-helpful verdicts, over all its insights), then the feed's own order.

Pipeline runs read the store only through `read_feedback` (`ReadOnlyFeedbackStore`, opened
with SQLite's `mode=ro`): the insight assets' feedback counts and the weekly digest's order.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.rules import SEVERITY_RANK

Verdict = Literal["helpful", "not_helpful", "dismiss"]
VERDICTS: tuple[Verdict, ...] = ("helpful", "not_helpful", "dismiss")
NOTE_MAX_CHARS = 500

_SCHEMA = """
create table if not exists feedback (
    feedback_id integer primary key autoincrement,
    subject text not null,
    insight_id text not null,
    use_case text not null,
    board_id integer not null,
    severity text not null,
    facts_fingerprint text not null,
    verdict text not null check (verdict in ('helpful', 'not_helpful', 'dismiss')),
    note text not null default '',
    recorded_at text not null
);
create index if not exists feedback_by_subject on feedback (subject, feedback_id);
"""


def feedback_path(data_root: Path) -> Path:
    """Where the feedback of the data folder at `data_root` is kept (`DataFolder.feedback`)."""
    return DataFolder(data_root).feedback


def facts_fingerprint(facts: Mapping[str, Any]) -> str:
    """A short hash of an insight's facts that ignores key order: equal facts, equal print."""
    canonical = json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class FeedbackRecord:
    """One verdict on one insight, as stored."""

    feedback_id: int
    subject: str
    insight_id: str
    use_case: str
    board_id: int
    severity: str
    facts_fingerprint: str
    verdict: Verdict
    note: str
    recorded_at: str


@dataclass(frozen=True)
class Dismissal:
    """What a subject looked like when it was last dismissed."""

    severity: str
    facts_fingerprint: str


def is_dismissed(insight: Mapping[str, Any], dismissal: Dismissal | None) -> bool:
    """Whether `insight` is hidden by its subject's latest dismissal: it is, while its severity
    is no higher than when it was dismissed; a rise brings it back, since that is news.

    Its facts are recorded (`facts_fingerprint`) but do not decide: many count days ("open for
    12 days", "the oldest bug appeared 21 days after its story"), so they change with every
    snapshot, and a dismissal undone by tomorrow's day count would hide nothing."""
    if dismissal is None:
        return False
    return SEVERITY_RANK[insight["severity"]] <= SEVERITY_RANK[dismissal.severity]


def order_insights(
    insights: Sequence[Mapping[str, Any]], helpfulness: Mapping[str, int]
) -> list[dict[str, Any]]:
    """`insights` most severe first, then by their use case's helpfulness score (higher first;
    a use case with no feedback scores 0), then in the order given (the sort is stable)."""
    return sorted(
        (dict(insight) for insight in insights),
        key=lambda insight: (
            -SEVERITY_RANK[insight["severity"]],
            -helpfulness.get(insight["type"], 0),
        ),
    )


class FeedbackStore:
    """The feedback file: append-only verdicts, read back as dismissals and helpfulness.

    A connection is opened per operation: the service answers from several threads, and
    SQLite (in WAL mode, so readers never wait for the writer) makes that cheap. Reading a
    store whose file does not exist yet finds nothing and creates nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connection(self, *, create: bool) -> Iterator[sqlite3.Connection | None]:
        if not create and not self.path.is_file():
            yield None
            return
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as connection:
            connection.row_factory = sqlite3.Row
            if create:
                connection.execute("pragma journal_mode=wal")
                # A verdict acknowledged to the person must survive a power cut.
                connection.execute("pragma synchronous=full")
                connection.executescript(_SCHEMA)
            yield connection

    def record(
        self, insight: Mapping[str, Any], verdict: Verdict, note: str = ""
    ) -> FeedbackRecord:
        """Stores a verdict on `insight` (a feed insight) and returns it as stored."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
        if len(note) > NOTE_MAX_CHARS:
            raise ValueError(f"a note holds at most {NOTE_MAX_CHARS} characters")
        values = {
            "subject": insight["subject"],
            "insight_id": insight["id"],
            "use_case": insight["type"],
            "board_id": int(insight["board"]["id"]),
            "severity": insight["severity"],
            "facts_fingerprint": facts_fingerprint(insight["facts"]),
            "verdict": verdict,
            "note": note,
            "recorded_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        }
        with self._connection(create=True) as connection:
            assert connection is not None
            with connection:  # one transaction, committed on leaving
                cursor = connection.execute(
                    f"insert into feedback ({', '.join(values)}) "
                    f"values ({', '.join('?' for _ in values)})",
                    tuple(values.values()),
                )
            feedback_id = int(cursor.lastrowid or 0)
        return FeedbackRecord(feedback_id=feedback_id, **values)  # type: ignore[arg-type]

    def records(self) -> list[FeedbackRecord]:
        """Every verdict, oldest first."""
        with self._connection(create=False) as connection:
            if connection is None:
                return []
            rows = connection.execute("select * from feedback order by feedback_id").fetchall()
        return [FeedbackRecord(**dict(row)) for row in rows]

    def dismissals(self) -> dict[str, Dismissal]:
        """Per subject, its latest dismissal."""
        with self._connection(create=False) as connection:
            if connection is None:
                return {}
            rows = connection.execute(
                "select subject, severity, facts_fingerprint from feedback "
                "where feedback_id in (select max(feedback_id) from feedback "
                "where verdict = 'dismiss' group by subject)"
            ).fetchall()
        return {
            row["subject"]: Dismissal(row["severity"], row["facts_fingerprint"]) for row in rows
        }

    def helpfulness(self) -> dict[str, int]:
        """Per use case, helpful minus not-helpful verdicts."""
        with self._connection(create=False) as connection:
            if connection is None:
                return {}
            rows = connection.execute(
                "select use_case, sum(case verdict when 'helpful' then 1 "
                "when 'not_helpful' then -1 else 0 end) as score from feedback group by use_case"
            ).fetchall()
        return {row["use_case"]: int(row["score"]) for row in rows}


# What a use case's feedback counts hold, in this order (the Dagster UI's metadata names).
COUNT_NAMES: tuple[str, ...] = ("helpful", "not_helpful", "dismissed")


class ReadOnlyFeedbackStore(FeedbackStore):
    """The feedback file as a pipeline run reads it: opened read-only (`mode=ro`), so a run
    never creates the file, writes to it or takes its write lock. A missing file reads as no
    feedback; a file that cannot be read raises `sqlite3.Error` (or `OSError`)."""

    @contextmanager
    def _connection(self, *, create: bool) -> Iterator[sqlite3.Connection | None]:
        if create:
            raise PermissionError("a read-only feedback store records nothing")
        if not self.path.is_file():
            yield None
            return
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as connection:
            connection.row_factory = sqlite3.Row
            yield connection

    def counts(self) -> dict[str, dict[str, int]]:
        """Per use case that has feedback, its verdicts counted: `helpful`, `not_helpful`,
        `dismissed`."""
        with self._connection(create=False) as connection:
            if connection is None:
                return {}
            rows = connection.execute(
                "select use_case, verdict, count(*) as n from feedback group by use_case, verdict"
            ).fetchall()
        found: dict[str, dict[str, int]] = {}
        for row in rows:
            name = "dismissed" if row["verdict"] == "dismiss" else row["verdict"]
            found.setdefault(row["use_case"], dict.fromkeys(COUNT_NAMES, 0))[name] = int(row["n"])
        return found


@dataclass(frozen=True)
class FeedbackSnapshot:
    """What a run reads of the feedback: counts per use case, helpfulness per use case (the
    score `order_insights` sorts by) and the latest dismissal per subject."""

    counts: Mapping[str, Mapping[str, int]]
    helpfulness: Mapping[str, int]
    dismissals: Mapping[str, Dismissal]

    def counts_of(self, use_case: str) -> dict[str, int]:
        """A use case's counts, zeros when it has no feedback."""
        return {name: int(self.counts.get(use_case, {}).get(name, 0)) for name in COUNT_NAMES}


NO_FEEDBACK = FeedbackSnapshot(counts={}, helpfulness={}, dismissals={})


def read_feedback(path: Path, warn: Callable[[str], object]) -> FeedbackSnapshot | None:
    """The feedback at `path` (`DataFolder.feedback`), read-only: `NO_FEEDBACK` when the file
    does not exist; None, after calling `warn` with why, when it cannot be read (a run shows no
    feedback rather than failing)."""
    store = ReadOnlyFeedbackStore(path)
    try:
        return FeedbackSnapshot(
            counts=store.counts(), helpfulness=store.helpfulness(), dismissals=store.dismissals()
        )
    except (sqlite3.Error, OSError) as error:
        warn(f"The feedback store {path} cannot be read ({error}): no feedback is shown.")
        return None
