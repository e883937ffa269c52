"""What the missed-target diagnosis lets another use case's insight cite about one sprint.

A drop in completed points whose cause is committed work left unfinished says why that work was
left, and the reason is this home's to decide (`spillover_reasons`, through `facts.causes`). So
the facts and the sentence that state it live here, and other homes import only this module: the
cited figures are the missed-target insight's own, under names of their own, never recomputed.
"""

from __future__ import annotations

from dataclasses import replace

from jira_insights_pipeline.assets.missed_target.diagnosis import CAUSE_LABELS
from jira_insights_pipeline.assets.missed_target.facts import causes
from jira_insights_pipeline.assets.missed_target.wording import CAUSE_PHRASES
from jira_insights_pipeline.insights.plans import has, one
from jira_insights_pipeline.insights.tables import MetricTables
from jira_insights_pipeline.insights.values import Fact, InsightFacts

# The missed-target facts another insight cites, and the names they take there.
CITED_FACTS = {
    "unfinished": "spillover_unfinished",
    "caused": "spillover_caused",
    "largest_cause": "spillover_reason",
}


def unfinished_work_facts(tables: MetricTables, board_id: int, sprint_id: int) -> list[Fact]:
    """The most common reason this sprint's unfinished issues were left, and how many of them
    it applies to; empty when the diagnosis does not cover the sprint."""
    found = {
        fact.name: fact
        for fact in causes(tables, board_id, sprint_id).facts
        if fact.name in CITED_FACTS
    }
    if len(found) < len(CITED_FACTS):
        return []
    return [replace(found[name], name=cited) for name, cited in CITED_FACTS.items()]


def unfinished_work_sentence(facts: InsightFacts) -> str | None:
    """ "{n} of the {m} unfinished issues were never started.", from the cited facts."""
    label = facts.fact("spillover_reason")
    if label is None or not has(facts, "spillover_caused", "spillover_unfinished"):
        return None
    reason = {words: key for key, words in CAUSE_LABELS.items()}.get(str(label.value))
    if reason is None:
        return None
    plural, singular = CAUSE_PHRASES[reason]
    verb = singular if one(facts, "spillover_caused") else plural
    return "{spillover_caused} of the {spillover_unfinished} unfinished issues " + verb + "."
