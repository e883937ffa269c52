"""The facts of a missed-target insight: one per board, its latest closed sprint in
`sprint_targets`, with the unfinished and added stories of `sprint_scope_changes` as evidence."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.missed_target import NAME
from jira_insights_pipeline.assets.missed_target.rules import MISSED_TARGET
from jira_insights_pipeline.assets.missed_target.thresholds import MissedTargetThresholds
from jira_insights_pipeline.insights.tables import (
    MetricTables,
    added_story_evidence,
    context_facts,
    count,
    flag,
    has,
    insight,
    judged_rows,
    missing,
    num,
    points,
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


def _one(
    tables: MetricTables, thresholds: MissedTargetThresholds, board_id: int, row: Any
) -> InsightFacts:
    sprint_id, sprint = sprint_of(row)
    severity = severity_of([MISSED_TARGET], row)
    target = thresholds.completion_rate_min
    facts = [
        *context_facts(tables.board_name(board_id), sprint),
        judged(
            "completion_rate",
            num(row["completion_rate"]),
            target,
            "ratio",
            "points completed, as a share of the points committed",
        ),
        Fact("completion_target", target, "ratio", "the expected share"),
        Fact(
            "committed_points",
            points(row, "committed_points"),
            "points",
            "points committed at start",
        ),
        Fact(
            "completed_points",
            points(row, "completed_points"),
            "points",
            "points completed in the sprint, added work included",
        ),
        Fact(
            "completed_committed_points",
            points(row, "completed_committed_points"),
            "points",
            "committed points finished",
        ),
        Fact(
            "spillover_stories",
            count(row, "spillover_issues"),
            "count",
            "unfinished stories moved on",
        ),
        Fact(
            "spillover_sprints",
            count(row, "spillover_sprints"),
            "count",
            "recent sprints that left work unfinished",
        ),
        Fact("recent_sprints", count(row, "window_sprints"), "count", "recent sprints looked at"),
        Fact("added_stories", count(row, "added_issues"), "count", "stories added after the start"),
    ]
    evidence: list[Evidence] = []
    stories = rows(tables["sprint_scope_changes"], board_id, sprint_id)
    if has(stories, "issue_key", "carried_over"):
        carried = stories.loc[stories["carried_over"].map(flag)].sort_values("issue_key")
        evidence += [
            Evidence(str(key), "not finished, carried over to a later sprint")
            for key in carried["issue_key"].head(MAX_EVIDENCE)
        ]
    evidence += added_story_evidence(stories, MAX_EVIDENCE - len(evidence), evidence)
    status = (
        "the sprint completed fewer points than the expected share of its commitment"
        if severity != "info"
        else "the sprint met its commitment"
    )
    if count(row, "spillover_sprints") >= 2:
        status += "; work spilled over in several recent sprints"
    return insight(
        tables,
        NAME,
        severity,
        board_id,
        (sprint_id, sprint),
        status=status,
        facts=facts,
        evidence=evidence[:MAX_EVIDENCE],
        key_facts=(
            "completion_rate",
            "completed_points",
            "completed_committed_points",
            "spillover_stories",
        ),
    )


def missed_target_facts(
    tables: MetricTables, thresholds: MissedTargetThresholds
) -> list[InsightFacts]:
    """Per board: what its latest closed sprint completed against its commitment, and how often
    work spilled over recently. A sprint that committed nothing had no target to miss."""
    table = tables[MISSED_TARGET.table]
    if not has(table, "board_id", "sprint_id", "completion_rate"):
        return []
    return [
        _one(tables, thresholds, board_id, row)
        for board_id, row in judged_rows(MISSED_TARGET, table)
        if not missing(row["completion_rate"])
    ]
