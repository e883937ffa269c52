"""Threshold rules: each is one boolean column of one metric table, decided once.

A use case's home defines its rules and the metric function that computes each rule's column
(the only place its threshold is compared). The asset checks, the insights' severities, the
alerts and the report read that column through the `Rule`, on the rows the rule judges now (its
`scope`), so none of them can disagree with the table or with each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from jira_insights_pipeline.metrics.issue_history import latest_closed_sprints, recent_sprints

# How bad a finding is, for checks, insights and alerts alike; the rank grows with severity.
Severity = Literal["info", "warning", "error"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}

# Which rows of a rule's table it judges now. A Scrum Master acts on the running sprint and the
# one closed last; older rows stay in the table as history and raise nothing.
#   recent_sprints: per board, the active sprint(s) and the sprint closed last;
#   latest_closed_sprint: per board, the sprint closed last only (figures of a finished sprint);
#   board: per board, its latest row (by `date` where the table has one).
Scope = Literal["recent_sprints", "latest_closed_sprint", "board"]
SCOPE_WORDS: dict[str, str] = {
    "recent_sprints": "each board's running and latest closed sprint",
    "latest_closed_sprint": "each board's latest closed sprint",
    "board": "every board",
}


@dataclass(frozen=True)
class AlertText:
    """What one crossed row says: a headline, one sentence with its figures, and the figures."""

    title: str
    message: str
    figures: dict[str, float | int | str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """One threshold: where it is decided (`table`, `flag`), how bad crossing it is, which rows
    are judged, and how a crossed row is worded (`crossing(row, thresholds, board_name)`).

    `name` is the alert type; `check` the asset check's name; `holds(thresholds)` the sentence a
    passing check shows; `limit_fact` the insight fact holding the threshold, which the first
    sentence of a crossed rule's insight always states. `thresholds` is always the rule's own
    use case's threshold section."""

    name: str
    table: str
    flag: str
    severity: Severity
    scope: Scope
    check: str
    description: str
    holds: Callable[[Any], str]
    crossing: Callable[[Any, Any, str], AlertText]
    limit_fact: str

    @property
    def per_sprint(self) -> bool:
        return self.scope != "board"

    def judged(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of `table` this rule judges now, in the table's order."""
        if table.empty:
            return table
        if self.scope == "recent_sprints":
            return recent_sprints(table)
        if self.scope == "latest_closed_sprint":
            return latest_closed_sprints(table)
        ordered = table.sort_values("date", kind="stable") if "date" in table.columns else table
        latest = ordered.groupby("board_id", dropna=False, sort=False).tail(1)
        return table.loc[table.index.isin(latest.index)]

    def crossed(self, table: pd.DataFrame) -> pd.DataFrame:
        """The judged rows whose flag column is set."""
        judged = self.judged(table)
        if judged.empty:
            return judged
        return judged.loc[judged[self.flag].fillna(False).astype(bool)]


def highest(severities: list[Severity]) -> Severity:
    """The most severe of `severities`; info when there is none."""
    return max(severities, key=SEVERITY_RANK.__getitem__, default="info")
