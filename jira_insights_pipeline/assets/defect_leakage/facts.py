"""The facts of a defect-leakage insight: one per board and judged sprint (its running and
latest closed sprint), from `defect_escape_rates`, with the production bugs of
`defect_leakage` and the stories they are linked to as evidence."""

from __future__ import annotations

from typing import Any

import pandas as pd

from jira_insights_pipeline.assets.defect_leakage import NAME
from jira_insights_pipeline.assets.defect_leakage.metrics import PRODUCTION
from jira_insights_pipeline.assets.defect_leakage.rules import LEAKAGE
from jira_insights_pipeline.assets.defect_leakage.thresholds import DefectLeakageThresholds
from jira_insights_pipeline.insights.tables import (
    MetricTables,
    context_facts,
    count,
    flag,
    has,
    insight,
    judged_rows,
    keys,
    missing,
    num,
    rows,
    severity_of,
    sprint_of,
)
from jira_insights_pipeline.insights.values import (
    MAX_EVIDENCE,
    Evidence,
    Fact,
    InsightFacts,
    judged,
)


def _production_bugs(tables: MetricTables, board_id: int, sprint_id: int) -> pd.DataFrame:
    bugs = rows(tables["defect_leakage"], board_id, sprint_id)
    if not has(bugs, "issue_key", "environment_class"):
        return pd.DataFrame()
    return bugs.loc[bugs["environment_class"].eq(PRODUCTION)].sort_values("issue_key")


def _one(
    tables: MetricTables, thresholds: DefectLeakageThresholds, board_id: int, row: Any
) -> InsightFacts:
    sprint_id, sprint = sprint_of(row)
    severity = severity_of([LEAKAGE], row)
    limit = thresholds.escape_rate_alert
    source_counts: dict[str, int] = {}
    evidence: list[Evidence] = []
    for bug in _production_bugs(tables, board_id, sprint_id).itertuples():
        stories = keys(getattr(bug, "linked_story_keys", None))
        for story in stories:
            source_counts[story] = source_counts.get(story, 0) + 1
        if len(evidence) < MAX_EVIDENCE:
            reason = "found in production"
            if stories:
                reason += f", linked to {', '.join(stories)}"
            if flag(getattr(bug, "linked_to_done_story", False)):
                reason += " after the story was done"
            evidence.append(Evidence(str(bug.issue_key), reason))
    sources = sorted(source_counts, key=lambda key: (-source_counts[key], key))
    facts = [
        *context_facts(tables.board_name(board_id), sprint),
        Fact("bugs_found", count(row, "bugs_found"), "count", "bugs found in the sprint"),
        Fact("production_bugs", count(row, "production_bugs"), "count", "bugs found in production"),
        Fact("qa_bugs", count(row, "qa_bugs"), "count", "bugs caught in testing"),
        Fact("escape_rate_limit", limit, "ratio", "the team's limit for the escape rate"),
        Fact(
            "bugs_from_done_stories",
            count(row, "bugs_linked_to_done_stories"),
            "count",
            "bugs linked to stories already done",
        ),
    ]
    if not missing(row["escape_rate"]):
        rate = judged(
            "escape_rate", num(row["escape_rate"]), limit, "ratio", "share of bugs that escaped"
        )
        facts.insert(5, rate)
    if sources:
        facts.append(
            Fact("source_stories", tuple(sources[:3]), "keys", "stories the bugs came from")
        )
    for story in sources:
        if len(evidence) >= MAX_EVIDENCE:
            break
        evidence.append(Evidence(story, "a production bug was linked to this story"))
    status = (
        "too many bugs escaped to production"
        if severity != "info"
        else "few bugs escaped to production"
    )
    return insight(
        tables,
        NAME,
        severity,
        board_id,
        (sprint_id, sprint),
        status=status,
        facts=facts,
        evidence=evidence,
        key_facts=("escape_rate", "production_bugs", "source_stories", "bugs_found"),
    )


def defect_leakage_facts(
    tables: MetricTables, thresholds: DefectLeakageThresholds
) -> list[InsightFacts]:
    """Per board and judged sprint: its bugs, the share that escaped to production, and the
    stories the production bugs were linked to."""
    table = tables[LEAKAGE.table]
    if not has(table, "board_id", "sprint_id", "escape_rate", "sprint_state"):
        return []
    return [
        _one(tables, thresholds, board_id, row) for board_id, row in judged_rows(LEAKAGE, table)
    ]
