"""The facts of a defect-leakage insight: one per board and judged sprint (its running and
latest closed sprint), from `defect_escape_rates`, with the production bugs of
`defect_leakage` and the stories they are linked to as evidence, and the causes of the
diagnosis: `escape_clusters` (how many traced bugs came from stories done without a testing
status, the largest component, epic or label cluster, the leading cause) and `escape_causes`
(the days from each story's Done to its bug)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from jira_insights_pipeline.assets.defect_leakage import NAME
from jira_insights_pipeline.assets.defect_leakage.diagnosis import (
    CLUSTER,
    EPIC,
    SKIPPED_TESTING,
)
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


# How the leading cause reads as a label fact.
CAUSE_LABELS = {SKIPPED_TESTING: "skipped testing", CLUSTER: "a cluster"}


def causes(
    tables: MetricTables, board_id: int, sprint_id: int
) -> tuple[list[Fact], list[Evidence]]:
    """The diagnosis facts of one judged sprint and the bugs behind them, the bugs of the
    leading cause first; nothing when the diagnosis tables are missing or the sprint's
    production bugs trace to no story."""
    clusters = rows(tables["escape_clusters"], board_id, sprint_id)
    if not has(clusters, "traced_bugs", "untested_bugs", "leading_cause") or clusters.empty:
        return [], []
    row = clusters.iloc[-1]
    traced = count(row, "traced_bugs")
    if traced == 0:
        return [], []
    untested = count(row, "untested_bugs")
    facts = [
        Fact("traced_bugs", traced, "count", "production bugs traced to a story"),
        Fact(
            "untested_bugs",
            untested,
            "count",
            "traced production bugs whose story reached Done without a testing status",
        ),
        Fact(
            "untested_share",
            num(row["untested_share"]),
            "ratio",
            "share of the traced production bugs whose story skipped testing",
        ),
    ]
    untested_stories = keys(row.get("untested_story_keys"))
    if untested_stories:
        facts.append(
            Fact(
                "untested_stories",
                untested_stories[:3],
                "keys",
                "stories done without a testing status",
            )
        )
    cluster_bugs = count(row, "cluster_bugs")
    if cluster_bugs and not missing(row["cluster_kind"]):
        kind = str(row["cluster_kind"])
        facts += [
            Fact("cluster_kind", kind, "label", "what the escaped bugs share"),
            Fact(
                "cluster_name",
                str(row["cluster_name"]),
                "key" if kind == EPIC else "name",
                f"the {kind} most escaped bugs share",
            ),
            Fact("cluster_bugs", cluster_bugs, "count", f"traced production bugs in that {kind}"),
        ]
    leading = None if missing(row["leading_cause"]) else str(row["leading_cause"])
    if leading is not None:
        facts.append(Fact("largest_cause", CAUSE_LABELS[leading], "label", "the leading cause"))
    traced_rows = rows(tables["escape_causes"], board_id, sprint_id)
    if has(traced_rows, "days_done_to_bug"):
        days = traced_rows["days_done_to_bug"].astype(float).dropna()
        if not days.empty:
            facts.append(
                Fact(
                    "done_to_bug_days",
                    round(float(days.median()), 1),
                    "days",
                    "median days from the story's Done to its production bug",
                )
            )
    leading_bugs = keys(
        row.get("untested_bug_keys") if leading == SKIPPED_TESTING else row.get("cluster_bug_keys")
    )
    cause = (
        "its story was done without a testing status"
        if leading == SKIPPED_TESTING
        else f"in the {row.get('cluster_kind')} {row.get('cluster_name')}"
    )
    traced = {}
    if has(traced_rows, "bug_key", "story_key", "days_done_to_bug"):
        traced = {
            str(item.bug_key): (str(item.story_key), item.days_done_to_bug)
            for item in traced_rows.itertuples()
        }

    def reason(bug_key: str) -> str:
        # The bug, the story it traces to and how long after its Done, then the cause.
        if bug_key not in traced:
            return f"found in production; {cause}"
        story, days = traced[bug_key]
        after = "" if missing(days) else f", {float(days):.1f} days after it was done"
        return f"found in production, linked to {story}{after}; {cause}"

    evidence = [Evidence(key, reason(key)) for key in leading_bugs]
    return facts, evidence


def _one(
    tables: MetricTables, thresholds: DefectLeakageThresholds, board_id: int, row: Any
) -> InsightFacts:
    sprint_id, sprint = sprint_of(row)
    severity = severity_of([LEAKAGE], row)
    limit = thresholds.escape_rate_alert
    source_counts: dict[str, int] = {}
    cause_facts, cause_evidence = causes(tables, board_id, sprint_id)
    # The bugs of the leading cause lead the evidence: the message names their cause.
    evidence: list[Evidence] = cause_evidence[:MAX_EVIDENCE]
    named = {item.issue_key for item in evidence}
    for bug in _production_bugs(tables, board_id, sprint_id).itertuples():
        stories = keys(getattr(bug, "linked_story_keys", None))
        for story in stories:
            source_counts[story] = source_counts.get(story, 0) + 1
        if len(evidence) < MAX_EVIDENCE and str(bug.issue_key) not in named:
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
    facts += cause_facts
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
        key_facts=(
            "escape_rate",
            "production_bugs",
            "largest_cause",
            "untested_bugs",
            "cluster_name",
            "source_stories",
            "bugs_found",
        ),
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
