"""What the scope-creep diagnosis lets another use case's insight cite about one sprint.

A drop in completed points whose cause is work added after the start says what that work was,
and what was added is this home's to decide (`sprint_scope_causes`: the added work in the final
scope, and the bugs among it). So the facts and the sentence live here, and other homes import
only this module: the figures are read from the table, never recomputed.
"""

from __future__ import annotations

from jira_insights_pipeline.insights.plans import has, one, same
from jira_insights_pipeline.insights.tables import MetricTables, count, rows
from jira_insights_pipeline.insights.tables import has as has_columns
from jira_insights_pipeline.insights.values import Fact, InsightFacts


def added_work_facts(tables: MetricTables, board_id: int, sprint_id: int) -> list[Fact]:
    """How many of the issues added after the start (and still in the sprint at its close)
    were bugs; empty when none were, or the sprint has no row."""
    scope = rows(tables["sprint_scope_causes"], board_id, sprint_id)
    if not has_columns(scope, "added_issues_in_scope", "added_bugs_in_scope"):
        return []
    row = scope.iloc[-1]
    if count(row, "added_bugs_in_scope") == 0:
        return []
    return [
        Fact(
            "added_in_scope",
            count(row, "added_issues_in_scope"),
            "count",
            "issues added after the start and still in the sprint at its close",
        ),
        Fact("added_bugs", count(row, "added_bugs_in_scope"), "count", "of those, bugs"),
    ]


def added_work_sentence(facts: InsightFacts) -> str | None:
    """The bugs among the added work, said right after the added work itself."""
    if not has(facts, "added_bugs", "added_in_scope"):
        return None
    if same(facts, "added_bugs", "added_in_scope"):
        if one(facts, "added_in_scope"):
            return "The one that stayed in the sprint was a bug."
        return "All {added_in_scope} that stayed in the sprint were bugs."
    verb = " was a bug." if one(facts, "added_bugs") else " were bugs."
    return "{added_bugs} of the {added_in_scope} that stayed in the sprint" + verb
