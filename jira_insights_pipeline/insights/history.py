"""The insights' history: a dated copy of every feed, and what changed since the previous one.

Every run that writes the feed also writes `<data folder>/insights/history/<YYYY-MM-DD>.json`
(the UTC day of the feed's `as_of`; a later run on the same day replaces it; every day is kept,
a file is a few tens of kilobytes). When the insights asset builds a feed, it compares it with
the newest history file dated strictly before the feed's own day, on each insight's `subject`
(board, sprint and use case, the same on every day; insights/values.py):

- `new`: the previous feed has no insight of that subject;
- `worse` / `better`: it has one, of a lower / higher severity (`rules.SEVERITY_RANK`);
- `open`: it has one of the same severity;
- None: there is no earlier history file to compare with (the feed's `compared_with` is null).

`resolved` lists the previous feed's warning and error insights whose subject is not at warning
or error today: gone from the feed (e.g. a sprint its rule no longer judges) or healthy now.

Plain functions of documents and a folder, so tests call them without Dagster; the asset only
orchestrates.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from jira_insights_pipeline.rules import SEVERITY_RANK

Change = Literal["new", "worse", "better", "open"]
# Every value `change` takes when there is something to compare with, in the order the counts
# are shown.
CHANGES: tuple[Change, ...] = ("new", "worse", "better", "open")
# The least severity that is a problem to follow up; `info` is a healthy finding.
RAISED_SEVERITY = "warning"
# What a resolved entry keeps of the previous day's insight; a history file must have them.
RESOLVED_FIELDS = ("subject", "id", "type", "severity", "title", "board", "sprint")
HISTORY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json$")

_log = logging.getLogger(__name__)


def feed_day(as_of: str) -> date:
    """The UTC day of an `as_of` instant (ISO 8601 with its offset)."""
    instant = datetime.fromisoformat(as_of)
    if instant.tzinfo is None:  # the insight files always carry an offset; UTC if one did not
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).date()


def history_file_name(as_of: str) -> str:
    """The name of the history file of a feed with this `as_of`: `<YYYY-MM-DD>.json`."""
    return f"{feed_day(as_of).isoformat()}.json"


def is_raised(severity: str) -> bool:
    """Whether an insight of this severity is a problem (warning or error), not a healthy one."""
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[RAISED_SEVERITY]


@dataclass(frozen=True)
class PreviousFeed:
    """The feed an insight's change is judged against: its day and its insights."""

    day: date
    insights: tuple[dict[str, Any], ...]

    def by_subject(self) -> dict[str, dict[str, Any]]:
        return {insight["subject"]: insight for insight in self.insights}


def _problem(document: object) -> str | None:
    """Why a history document cannot be compared with, or None. Only what the comparison
    reads is checked, so a file an older minor schema version wrote still compares."""
    if not isinstance(document, dict) or not isinstance(document.get("insights"), list):
        return "it holds no list of insights"
    for number, insight in enumerate(document["insights"]):
        if not isinstance(insight, dict):
            return f"insight {number} is not an object"
        missing = [name for name in RESOLVED_FIELDS if name not in insight]
        if missing:
            return f"insight {number} has no {', '.join(missing)}"
        if insight["severity"] not in SEVERITY_RANK or not isinstance(insight["subject"], str):
            return f"insight {number} has an unknown severity or subject"
    return None


def previous_feed(
    history_dir: Path,
    as_of_day: date,
    warn: Callable[[str], None] = _log.warning,
) -> PreviousFeed | None:
    """The newest readable history file in `history_dir` dated strictly before `as_of_day`,
    or None when there is none. A file that cannot be read or compared with is skipped (the
    next older one is tried) and reported through `warn`: history must never stop a run."""
    if not history_dir.is_dir():
        return None
    dated: list[tuple[date, Path]] = []
    for path in history_dir.iterdir():
        match = HISTORY_FILE.match(path.name)
        if not match or not path.is_file():
            continue  # a temporary file being written, or something a person put there
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            warn(f"Skipped {path}: its name is not a valid date (YYYY-MM-DD.json).")
            continue
        if day < as_of_day:
            dated.append((day, path))
    for day, path in sorted(dated, reverse=True):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            problem: str | None = f"it is not readable JSON ({error})"
        else:
            problem = _problem(document)
        if problem is None:
            return PreviousFeed(day, tuple(document["insights"]))
        warn(
            f"Skipped the insight history file {path} when comparing with earlier days: "
            f"{problem}. The next older file is used instead; restore or delete this one to "
            "stop this warning."
        )
    return None


def change_of(severity: str, previous_severity: str | None) -> Change:
    """How an insight compares with the previous day's insight of its subject (None: none)."""
    if previous_severity is None:
        return "new"
    now, before = SEVERITY_RANK[severity], SEVERITY_RANK[previous_severity]
    if now > before:
        return "worse"
    if now < before:
        return "better"
    return "open"


def mark_changes(
    documents: Sequence[Mapping[str, Any]], previous: PreviousFeed | None
) -> list[dict[str, Any]]:
    """The insight `documents`, each with its `change` against `previous` (None throughout
    when there is no previous feed: nothing to compare with is not the same as new)."""
    if previous is None:
        return [{**document, "change": None} for document in documents]
    before = previous.by_subject()
    return [
        {
            **document,
            "change": change_of(
                document["severity"], before.get(document["subject"], {}).get("severity")
            ),
        }
        for document in documents
    ]


def resolved(
    documents: Sequence[Mapping[str, Any]], previous: PreviousFeed | None
) -> list[dict[str, Any]]:
    """The previous feed's warning and error insights whose subject is not at warning or error
    among `documents`, in the previous feed's order, each as that feed had it."""
    if previous is None:
        return []
    still_raised = {d["subject"] for d in documents if is_raised(d["severity"])}
    return [
        {name: insight[name] for name in RESOLVED_FIELDS}
        for insight in previous.insights
        if is_raised(insight["severity"]) and insight["subject"] not in still_raised
    ]


def change_counts(
    documents: Sequence[Mapping[str, Any]], resolved_insights: Sequence[Mapping[str, Any]]
) -> dict[str, int]:
    """How many insights are new, worse, better and open, and how many were resolved."""
    counted = Counter(document["change"] for document in documents)
    return {
        **{change: counted.get(change, 0) for change in CHANGES},
        "resolved": len(resolved_insights),
    }
