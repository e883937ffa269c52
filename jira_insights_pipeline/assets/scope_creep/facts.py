"""The facts of a scope-creep insight: one per board and judged sprint (its running and latest
closed sprint), from `sprint_scope_creep` and the stories of `sprint_scope_changes`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from jira_insights_pipeline.assets.scope_creep import NAME
from jira_insights_pipeline.assets.scope_creep.rules import SCOPE_CREEP
from jira_insights_pipeline.assets.scope_creep.thresholds import ScopeCreepThresholds
from jira_insights_pipeline.assets.sprints.commitments import estimated_committed_stories
from jira_insights_pipeline.insights.tables import (
    MetricTables,
    added_story_evidence,
    context_facts,
    count,
    flag,
    has,
    insight,
    judged_rows,
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
    render_value,
    rounded,
)


def _grown_stories(stories: pd.DataFrame) -> pd.DataFrame:
    """The sprint's estimated committed stories that grew (the ones `grown_stories` counts),
    the largest growth first."""
    if not has(stories, "issue_key", "grew", "points_at_start", "committed", "issue_type"):
        return pd.DataFrame()
    counted = estimated_committed_stories(stories) & stories["grew"].map(flag)
    grown = stories.loc[counted]
    return grown.assign(
        _growth=grown["points_at_end"].map(num) - grown["points_at_start"].map(num)
    ).sort_values(["_growth", "issue_key"], ascending=[False, True], kind="stable")


def _one(tables: MetricTables, thresholds: ScopeCreepThresholds, board_id: int, row: Any):
    sprint_id, sprint = sprint_of(row)
    severity = severity_of([SCOPE_CREEP], row)
    share = num(row.get("grown_story_share"))
    limit = thresholds.grown_story_share_alert
    stories = rows(tables["sprint_scope_changes"], board_id, sprint_id)
    grown = _grown_stories(stories)
    facts = [
        *context_facts(tables.board_name(board_id), sprint),
        Fact(
            "estimated_stories",
            count(row, "estimated_committed_stories"),
            "count",
            "committed stories that had an estimate",
        ),
        Fact("grown_stories", count(row, "grown_stories"), "count", "of those, how many grew"),
        judged("grown_story_share", share, limit, "ratio", "share of them that grew"),
        Fact("grown_share_limit", limit, "ratio", "the team's limit for that share"),
        Fact(
            "added_stories",
            count(row, "added_issues"),
            "count",
            "stories added after the sprint started",
        ),
        Fact("added_points", points(row, "added_points"), "points", "points added after the start"),
    ]
    evidence: list[Evidence] = []
    if not grown.empty:
        top = grown.iloc[0]
        facts += [
            Fact("top_story", str(top["issue_key"]), "key", "the story that grew most"),
            Fact(
                "top_story_start_points",
                rounded(num(top["points_at_start"])),
                "points",
                "its points at sprint start",
            ),
            Fact(
                "top_story_end_points",
                rounded(num(top["points_at_end"])),
                "points",
                "its points at sprint end",
            ),
        ]
        for story in grown.head(MAX_EVIDENCE).itertuples():
            start = render_value(num(story.points_at_start), "points")
            end = render_value(num(story.points_at_end), "points")
            reason = f"grew from {start} to {end} points"
            if flag(getattr(story, "became_large", False)):
                reason += " and became a large story"
            evidence.append(Evidence(str(story.issue_key), reason))
    evidence += added_story_evidence(stories, MAX_EVIDENCE - len(evidence), evidence)
    status = (
        "more stories grew than the team's limit allows"
        if severity != "info"
        else "scope stayed within the team's limit"
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
            "grown_stories",
            "grown_story_share",
            "estimated_stories",
            "top_story",
            "added_stories",
        ),
    )


def scope_creep_facts(tables: MetricTables, thresholds: ScopeCreepThresholds) -> list[InsightFacts]:
    """Per board and judged sprint: how its committed stories grew, and what was added."""
    table = tables[SCOPE_CREEP.table]
    if not has(table, "board_id", "sprint_id", "grown_story_share"):
        return []
    return [
        _one(tables, thresholds, board_id, row) for board_id, row in judged_rows(SCOPE_CREEP, table)
    ]
