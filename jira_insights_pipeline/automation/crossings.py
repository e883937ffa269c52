"""Which thresholds are crossed now: every rule of every use case, read from its flag column.

Pure logic, no Dagster and no I/O: the sensor reads the rules' tables and hands them here. A
*crossing* is one (rule, board, sprint) whose flag is set on the rows the rule judges now (the
same rows its asset check judges), worded by the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from jira_insights_pipeline.registry import use_cases
from jira_insights_pipeline.rules import Rule, Severity
from jira_insights_pipeline.use_case import UseCase

RUN_FAILURE = "run_failure"
# Asset check severities (dg.AssetCheckSeverity values) in alert terms.
CHECK_SEVERITY: dict[str, Severity] = {"WARN": "warning", "ERROR": "error"}


@dataclass(frozen=True)
class WatchedRule:
    """A rule the threshold sensor reacts to, with the use case whose insight words it."""

    use_case: UseCase
    rule: Rule

    @property
    def asset(self) -> str:
        return self.rule.table

    @property
    def check(self) -> str:
        return self.rule.check


def watched_rules() -> tuple[WatchedRule, ...]:
    return tuple(WatchedRule(u, rule) for u in use_cases() for rule in u.rules)


def alert_types() -> tuple[str, ...]:
    """Every alert type: one per rule, and the failed scheduled run."""
    return (*(watched.rule.name for watched in watched_rules()), RUN_FAILURE)


@dataclass(frozen=True)
class Crossing:
    """One threshold crossed by one board (and sprint) in the current tables."""

    alert_type: str
    severity: Severity
    board_id: int
    board_name: str
    sprint_id: int | None
    sprint_name: str | None
    as_of: str
    title: str
    message: str
    figures: dict[str, float | int | str | None] = field(default_factory=dict)
    # The insight use case whose title and message the alert carries.
    insight_type: str = ""

    @property
    def key(self) -> str:
        return crossing_key(self.alert_type, self.board_id, self.sprint_id)

    @property
    def per_sprint(self) -> bool:
        return self.sprint_id is not None


def crossing_key(alert_type: str, board_id: int, sprint_id: int | None) -> str:
    """The dedup key: alert type, board and sprint ("-" for a board-wide crossing)."""
    return f"{alert_type}|{board_id}|{'-' if sprint_id is None else sprint_id}"


def _board_name(row: Any, board_names: Mapping[int, str]) -> str:
    named = row.get("board_name")
    if isinstance(named, str) and named:
        return named
    return board_names.get(int(row["board_id"]), f"board {int(row['board_id'])}")


def crossings_for(
    watched: WatchedRule,
    table: pd.DataFrame,
    thresholds: Any,
    board_names: Mapping[int, str],
    check_severity: str | None = None,
) -> list[Crossing]:
    """Every crossing of `watched`'s rule in its table. `check_severity` (the asset check's own
    severity, "WARN" or "ERROR") overrides the rule's severity, so a check whose severity a
    deployment changed alerts as it says."""
    rule = watched.rule
    severity = CHECK_SEVERITY.get(check_severity or "", rule.severity)
    section = watched.use_case.thresholds_of(thresholds)
    found = []
    for _, row in rule.crossed(table).iterrows():
        if pd.isna(row["board_id"]):
            continue  # a sprint of no board has nobody to alert
        board = _board_name(row, board_names)
        text = rule.crossing(row, section, board)
        found.append(
            Crossing(
                alert_type=rule.name,
                severity=severity,
                board_id=int(row["board_id"]),
                board_name=board,
                sprint_id=int(row["sprint_id"]) if rule.per_sprint else None,
                sprint_name=str(row["sprint_name"]) if rule.per_sprint else None,
                as_of=pd.Timestamp(row["as_of"]).isoformat(),
                title=text.title,
                message=text.message,
                figures=dict(text.figures),
                insight_type=watched.use_case.name,
            )
        )
    return found
