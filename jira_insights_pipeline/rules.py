"""Threshold rules: each is one boolean column of one metric table, decided once.

A use case's home defines its rules and the metric function that computes each rule's column
(the only place its threshold is compared). The asset checks, the insights' severities, the
alerts and the report read that column through the `Rule`, on the rows the rule judges now (its
`scope`), so none of them can disagree with the table or with each other.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class AlertText:
    """What one crossed row says: a headline, one sentence with its figures, and the figures."""

    title: str
    message: str
    figures: dict[str, float | int | str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """One threshold: where it is decided (`table`, `flag`), how bad crossing it is, which rows
    are judged, and how a crossed row is worded.

    `name` is the alert type; `check` the asset check's name; `holds` the sentence a passing
    check shows and `message` the one sentence an alert of a crossed row says, both format
    strings over `row` (the crossed row) and `t` (the rule's use case's threshold section);
    `title` the alarm headline (the insight's own, over `{board}` and `{sprint}`); `figures` the
    row's columns an alert carries, with `threshold` (the field of `t` that is the limit);
    `limit_fact` the insight fact holding that limit, which the first sentence of a crossed
    rule's insight always states."""

    name: str
    table: str
    flag: str
    severity: Severity
    scope: Scope
    check: str
    description: str
    holds: str
    title: str
    message: str
    figures: tuple[str, ...]
    threshold: str
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

    def passing(self, thresholds: Any) -> str:
        """What a passing check says."""
        return self.holds.format(t=thresholds)

    def crossing(self, row: pd.Series, thresholds: Any, board: str) -> AlertText:
        """The headline, sentence and figures of one crossed row."""
        sprint = row.get("sprint_name")
        figures = {column: _figure(row[column]) for column in self.figures}
        figures["threshold"] = _figure(getattr(thresholds, self.threshold))
        return AlertText(
            title=self.title.format(board=board, sprint=sprint),
            message=self.message.format(row=row, t=thresholds),
            figures=figures,
        )

    def crossed(self, table: pd.DataFrame) -> pd.DataFrame:
        """The judged rows whose flag column is set."""
        judged = self.judged(table)
        if judged.empty:
            return judged
        return judged.loc[judged[self.flag].fillna(False).astype(bool)]


def _figure(value: Any) -> float | int | None:
    """A figure as an alert's JSON carries it: whole numbers as int, others to 4 places."""
    if value is None or pd.isna(value):
        return None
    number = round(float(value), 4)
    return int(number) if number.is_integer() else number


def highest(severities: list[Severity]) -> Severity:
    """The most severe of `severities`; info when there is none."""
    return max(severities, key=SEVERITY_RANK.__getitem__, default="info")
