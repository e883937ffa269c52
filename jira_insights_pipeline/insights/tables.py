"""The tables an insight is computed from, and the small readers every facts builder shares.

`MetricTables` holds the current metric tables and the staging tables the insights read (board
names, issue summaries) by asset name; a table that is missing reads as an empty frame. Board
names and issue summaries are indexed once per run, so building every insight stays linear in
the size of the tables.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from jira_insights_pipeline.insights.values import (
    MAX_UNTRUSTED_SUMMARIES,
    Evidence,
    Fact,
    InsightFacts,
    rounded,
)
from jira_insights_pipeline.rules import Rule, Severity, highest


@dataclass(frozen=True)
class MetricTables:
    """The tables of one run by asset name, and the snapshot instant insights are dated by."""

    as_of: str
    frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        frame = self.frames.get(name)
        return pd.DataFrame() if frame is None else frame

    @functools.cached_property
    def board_names(self) -> dict[int, str]:
        boards = self["jira_boards"]
        if has(boards, "board_id", "name"):
            return {int(row.board_id): str(row.name) for row in boards.itertuples()}
        return {}

    def board_name(self, board_id: int) -> str:
        return self.board_names.get(board_id, f"board {board_id}")

    @functools.cached_property
    def summaries(self) -> dict[str, str]:
        """Every issue's summary (untrusted Jira text) by key, read once from the tables that
        carry one: the staging `jira_issues` first, then any metric table with a summary."""
        by_key: dict[str, str] = {}
        names = ["jira_issues", *(name for name in self.frames if name != "jira_issues")]
        for name in names:
            frame = self[name]
            if has(frame, "issue_key", "summary"):
                for key, summary in zip(frame["issue_key"], frame["summary"], strict=True):
                    if not missing(summary):
                        by_key.setdefault(str(key), str(summary))
        return by_key

    def summaries_of(self, keys: Iterable[str]) -> tuple[str, ...]:
        """Summaries of the first few `keys` that have one."""
        found = [self.summaries[key] for key in dict.fromkeys(keys) if key in self.summaries]
        return tuple(found[:MAX_UNTRUSTED_SUMMARIES])


def latest_as_of(frames: Iterable[pd.DataFrame]) -> str:
    """The "as of" instant of the metric tables (ISO-8601, UTC): the only time an insight
    carries, so the same snapshot always gives the same insights."""
    instants = [
        pd.Timestamp(frame["as_of"].max())
        for frame in frames
        if "as_of" in frame.columns and frame["as_of"].notna().any()
    ]
    if not instants:
        raise ValueError(
            "None of the metric tables has an as_of value, so the insights cannot be dated. "
            "Materialize the metric assets before the insights."
        )
    latest = max(
        instant.tz_localize("UTC") if instant.tzinfo is None else instant.tz_convert("UTC")
        for instant in instants
    )
    return latest.isoformat()


# ---------------------------------------------------------------------------------------------
# Reading cells and rows
# ---------------------------------------------------------------------------------------------


def has(frame: pd.DataFrame, *columns: str) -> bool:
    return not frame.empty and all(column in frame.columns for column in columns)


def missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def num(value: Any, default: float = 0.0) -> float:
    return default if missing(value) else float(value)


def flag(value: Any) -> bool:
    return False if missing(value) else bool(value)


def count(row: Any, column: str) -> int:
    return int(num(row.get(column)))


def points(row: Any, column: str) -> int | float:
    return rounded(num(row.get(column)))


def keys(value: Any) -> tuple[str, ...]:
    """Issue keys (or names) from a list-like cell or a comma/space separated string."""
    if missing(value):
        return ()
    if isinstance(value, str):
        parts: Iterable[Any] = value.replace(",", " ").split()
    elif isinstance(value, Iterable):
        parts = value
    else:
        return ()
    cleaned = (str(part).strip() for part in parts if not missing(part))
    return tuple(dict.fromkeys(part for part in cleaned if part))


def rows(frame: pd.DataFrame, board_id: int, sprint_id: int | None = None) -> pd.DataFrame:
    """The rows of one board (and sprint)."""
    if not has(frame, "board_id"):
        return pd.DataFrame()
    mask = frame["board_id"].eq(board_id).fillna(False)
    if sprint_id is not None:
        if "sprint_id" not in frame.columns:
            return pd.DataFrame()
        mask &= frame["sprint_id"].eq(sprint_id).fillna(False)
    return frame.loc[mask.astype(bool)]


def sprint_of(row: Any) -> tuple[int, str]:
    """A sprint row's (id, name); a table without names calls it by its id."""
    sprint_id = int(row["sprint_id"])
    return sprint_id, str(row.get("sprint_name", f"sprint {sprint_id}"))


def active_sprint(tables: MetricTables, board_id: int) -> tuple[int | None, str | None]:
    """The board's running sprint that started last, from the sprint ledger; (None, None)."""
    ledger = rows(tables["sprint_commitments"], board_id)
    if not has(ledger, "sprint_state", "sprint_start"):
        return None, None
    active = ledger.loc[ledger["sprint_state"].eq("active")]
    if active.empty:
        return None, None
    return sprint_of(active.sort_values(["sprint_start", "sprint_id"]).iloc[-1])


# ---------------------------------------------------------------------------------------------
# Building an insight
# ---------------------------------------------------------------------------------------------


def judged_rows(rule: Rule, table: pd.DataFrame) -> list[tuple[int, Any]]:
    """The rows `rule` judges now that belong to a board, as (board id, row), by board and then
    in the table's order: the rows an insight is written for."""
    judged = rule.judged(table)
    if not has(judged, "board_id"):
        return []
    found = [
        (int(row["board_id"]), row) for _, row in judged.iterrows() if not missing(row["board_id"])
    ]
    return sorted(found, key=lambda item: item[0])


def latest_judged_row(rule: Rule, tables: MetricTables, board_id: int) -> pd.Series | None:
    """The last row of one board that `rule` judges now (what its report figure shows), or
    None when the board has none."""
    judged = rule.judged(rows(tables[rule.table], board_id))
    return None if judged.empty else judged.iloc[-1]


def severity_of(rules: Iterable[Rule], row: Any) -> Severity:
    """The highest severity of the rules whose flag column is set on `row` (info if none)."""
    return highest([rule.severity for rule in rules if flag(row.get(rule.flag))])


def context_facts(board: str, sprint: str | None) -> list[Fact]:
    facts = [Fact("board", board, "name", "the board (team)")]
    if sprint is not None:
        facts.append(Fact("sprint", sprint, "name", "the sprint"))
    return facts


def added_story_evidence(
    stories: pd.DataFrame, room: int, listed: Iterable[Evidence] = ()
) -> list[Evidence]:
    """Up to `room` of the sprint's stories (`sprint_scope_changes` rows) added after it
    started, by key, leaving out those already `listed` as evidence for another reason."""
    if room <= 0 or not has(stories, "issue_key", "added_after_start"):
        return []
    already = {item.issue_key for item in listed}
    added = stories.loc[stories["added_after_start"].map(flag)].sort_values("issue_key")
    keys = [str(key) for key in added["issue_key"] if str(key) not in already]
    return [Evidence(key, "added after the sprint started") for key in keys[:room]]


def insight(
    tables: MetricTables,
    use_case: str,
    severity: Severity,
    board_id: int,
    sprint: tuple[int | None, str | None],
    *,
    status: str,
    facts: Iterable[Fact],
    key_facts: tuple[str, ...],
    evidence: Iterable[Evidence] = (),
    per_sprint: bool = True,
) -> InsightFacts:
    """One insight of the current snapshot, with the Jira summaries of its evidence issues;
    `per_sprint` False for a board-wide finding (its rule's scope is the board)."""
    evidence = tuple(evidence)
    sprint_id, sprint_name = sprint
    return InsightFacts(
        use_case=use_case,
        severity=severity,
        board_id=board_id,
        board_name=tables.board_name(board_id),
        sprint_id=sprint_id,
        sprint_name=sprint_name,
        as_of=tables.as_of,
        status=status,
        facts=tuple(facts),
        evidence=evidence,
        untrusted_text=tables.summaries_of(item.issue_key for item in evidence),
        key_facts=key_facts,
        per_sprint=per_sprint,
    )
