"""The facts an insight may state: named values, how each reads in a sentence, and the insight
they belong to.

Every number, issue key, sprint name and board name an insight shows is a `Fact`, computed
exactly from the metric tables by its use case's facts builder; the model only words them.
`render_value` is the one function that turns a value into text, so the validator can compare
what the text says with what the facts hold.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from jira_insights_pipeline.rules import Severity

FactKind = Literal[
    "count", "points", "ratio", "percent", "days", "score", "key", "keys", "name", "label"
]

MAX_EVIDENCE = 5
MAX_UNTRUSTED_SUMMARIES = 3


@dataclass(frozen=True)
class Fact:
    """One named value an insight may state. `meaning` tells the model what it is."""

    name: str
    value: int | float | str | tuple[str, ...]
    kind: FactKind
    meaning: str
    # Extra decimals shown for a ratio (of its percent) or a score: only when the value would
    # otherwise read the same as the limit it is judged against ("20.4%, above the 20% limit").
    decimals: int = 0

    @property
    def rendered(self) -> str:
        return render_value(self.value, self.kind, self.decimals)

    def json_value(self) -> int | float | str | list[str]:
        """The value at the precision the text shows it, so a reader can match every number of
        the message to a fact: counts and scores whole, points and days to one decimal, ratios
        as fractions of the whole percent shown (0.42 for "42%")."""
        if isinstance(self.value, tuple):
            return list(self.value)
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            return self.value
        if self.kind == "ratio":
            return round(round(float(self.value) * 100, self.decimals) / 100, 2 + self.decimals)
        if self.kind == "score" and self.decimals:
            return round(float(self.value), self.decimals)
        if self.kind in ("percent", "count", "score"):
            return round(float(self.value))
        if self.kind in ("points", "days"):
            number = round(float(self.value), 1)
            return int(number) if number.is_integer() else number
        return self.value


@dataclass(frozen=True)
class Evidence:
    issue_key: str
    reason: str


@dataclass(frozen=True)
class InsightFacts:
    """Everything one insight is about: who, when, how bad, and the facts it may state."""

    use_case: str
    severity: Severity
    board_id: int
    board_name: str
    sprint_id: int | None
    sprint_name: str | None
    as_of: str
    status: str  # a few plain words for the model, e.g. "more stories grew than the limit"
    facts: tuple[Fact, ...]
    evidence: tuple[Evidence, ...] = ()
    # Jira text (issue summaries): shown to the model as quoted data, never as instructions.
    untrusted_text: tuple[str, ...] = ()
    # A shipped message must name at least one of these facts, so it says something concrete.
    key_facts: tuple[str, ...] = ()
    # Whether the finding is about its sprint (False: about the board; the sprint is context,
    # so the same finding keeps its subject when the next sprint starts). The rule decides.
    per_sprint: bool = True

    @functools.cached_property
    def by_name(self) -> dict[str, Fact]:
        # Built once: plans, templates and the validator look facts up by name many times.
        return {fact.name: fact for fact in self.facts}

    @property
    def insight_id(self) -> str:
        return insight_id(self.board_id, self.sprint_id, self.use_case, self.as_of)

    @property
    def subject(self) -> str:
        sprint_id = self.sprint_id if self.per_sprint else None
        return insight_subject(self.board_id, sprint_id, self.use_case)

    def fact(self, name: str) -> Fact | None:
        return self.by_name.get(name)


def _hashed(use_case: str, *parts: object) -> str:
    """`<use case>-<16 hex>`: the use case readable, the rest a hash (the schema's pattern)."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()
    return f"{use_case}-{digest[:16]}"


def insight_id(board_id: int, sprint_id: int | None, use_case: str, as_of: str) -> str:
    """A stable id: the same board, sprint, use case and snapshot time give the same id."""
    sprint = "" if sprint_id is None else str(sprint_id)
    return _hashed(use_case, board_id, sprint, use_case, as_of)


def insight_subject(board_id: int, sprint_id: int | None, use_case: str) -> str:
    """What an insight is about, the same on every day: board, sprint and use case, without
    the snapshot time. Yesterday's insight and today's compare on it (insights/history.py)."""
    sprint = "" if sprint_id is None else str(sprint_id)
    return _hashed(use_case, board_id, sprint, use_case)


def _decimal(number: float, decimals: int) -> str:
    return f"{number:.{decimals}f}" if decimals else str(round(number))


def render_value(value: Any, kind: FactKind, decimals: int = 0) -> str:
    """How a fact's value reads in a sentence. One function, so the validator can compare."""
    if kind == "ratio":
        return _decimal(float(value) * 100, decimals) + "%"
    if kind == "percent":
        return f"{round(float(value))}%"
    if kind == "score":
        return _decimal(float(value), decimals)
    if kind == "count":
        return str(round(float(value)))
    if kind in ("points", "days"):
        number = round(float(value), 1)
        return str(int(number)) if number.is_integer() else f"{number:.1f}"
    if kind == "keys":
        return ", ".join(value)
    return str(value)


def rounded(value: float) -> int | float:
    """Whole numbers as int, others to 4 decimals, so the JSON never shows float noise."""
    rounded = round(float(value), 4)
    return int(rounded) if rounded.is_integer() else rounded


def judged(name: str, value: float, limit: float, kind: FactKind, meaning: str) -> Fact:
    """The fact of `value`, judged against `limit`, shown with as many decimals (up to two) as
    it takes not to read the same as the limit: "20.4%, above the 20% limit", never
    "20%, above the 20% limit"."""
    decimals = 0
    while (
        decimals < 2
        and value != limit
        and render_value(value, kind, decimals) == render_value(limit, kind, decimals)
    ):
        decimals += 1
    return Fact(name, rounded(value), kind, meaning, decimals)
