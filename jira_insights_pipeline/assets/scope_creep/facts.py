"""The facts of a scope-creep insight: one per board and judged sprint (its running and latest
closed sprint), from `sprint_scope_creep` and the stories of `sprint_scope_changes`.

Where the diagnosis tables are there (`scope_growth_causes`, `sprint_scope_causes`), the facts
add the causes: how many grown stories had their acceptance criteria grow before the re-estimate
(a refinement gap) with their keys and the points they grew by, the work added after the start
against the sprint's final scope, and the largest cause as `sprint_scope_causes` decided it. Each
grown story's evidence then says when its criteria grew and when it was re-estimated. Without
the diagnosis the insight keeps the ledger's figures and states no cause.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from jira_insights_pipeline.assets.scope_creep import NAME
from jira_insights_pipeline.assets.scope_creep.diagnosis import CAUSE_LABELS, REFINEMENT_GAP
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
    render_value,
    rounded,
)
from jira_insights_pipeline.metrics.issue_history import utc_instant


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


def _instant(value: Any) -> str:
    """An instant as evidence states it: to the minute, in UTC (the zone every table keeps)."""
    return utc_instant(value).strftime("%Y-%m-%d %H:%M UTC")


def _cause_reason(cause: Any) -> str:
    """What the diagnosis says of one grown story: when its criteria grew, when it was
    re-estimated and how long after the start."""
    if missing(cause.reestimated_at):
        return ""
    days = render_value(num(cause.reestimate_days_after_start), "days")
    unit = "day" if days == "1" else "days"
    reestimated = f"re-estimated {_instant(cause.reestimated_at)}, {days} {unit} after the start"
    if flag(getattr(cause, REFINEMENT_GAP)):
        return f"; acceptance criteria grew {_instant(cause.criteria_grown_at)}, {reestimated}"
    return f"; {reestimated}, with no acceptance criteria growth before it"


def _cause_facts(causes: Any, growth: pd.DataFrame) -> list[Fact]:
    """The sprint's causes from its `sprint_scope_causes` row and `scope_growth_causes` rows."""
    gaps = growth.loc[growth[REFINEMENT_GAP].map(flag)] if has(growth, REFINEMENT_GAP) else growth
    facts = [
        Fact(
            "gap_stories",
            count(causes, "refinement_gap_stories"),
            "count",
            "grown stories whose acceptance criteria grew before their re-estimate",
        ),
        Fact(
            "gap_points",
            points(causes, "refinement_gap_points"),
            "points",
            "points those stories grew by",
        ),
        Fact(
            "final_scope_issues",
            count(causes, "final_scope_issues"),
            "count",
            "issues in the sprint at its end (its final scope)",
        ),
        Fact(
            "final_scope_points",
            points(causes, "final_scope_points"),
            "points",
            "points of the final scope at the end",
        ),
        Fact(
            "added_scope_issues",
            count(causes, "added_issues_in_scope"),
            "count",
            "issues of the final scope added after the start",
        ),
        Fact(
            "added_scope_points",
            points(causes, "added_points_in_scope"),
            "points",
            "points at the end of the work added after the start",
        ),
    ]
    if not gaps.empty:
        keys = tuple(sorted(str(key) for key in gaps["issue_key"]))
        facts.append(Fact("gap_keys", keys, "keys", "the stories with a refinement gap"))
    if not missing(causes.get("added_point_share")):
        facts.append(
            Fact(
                "added_point_share",
                rounded(num(causes["added_point_share"])),
                "ratio",
                "share of the final scope's points added after the start",
            )
        )
    cause = causes.get("dominant_cause")
    if not missing(cause) and str(cause) in CAUSE_LABELS:
        facts.append(Fact("largest_cause", CAUSE_LABELS[str(cause)], "label", "the largest cause"))
    return facts


def _sprint_causes(tables: MetricTables, board_id: int, sprint_id: int) -> Any | None:
    causes = rows(tables["sprint_scope_causes"], board_id, sprint_id)
    return None if causes.empty else causes.iloc[-1]


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
    causes = _sprint_causes(tables, board_id, sprint_id)
    growth = rows(tables["scope_growth_causes"], board_id, sprint_id)
    if causes is not None:
        facts += _cause_facts(causes, growth)
    by_key = (
        {str(cause.issue_key): cause for cause in growth.itertuples()}
        if has(growth, "issue_key", "reestimated_at", REFINEMENT_GAP)
        else {}
    )
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
            if str(story.issue_key) in by_key:
                reason += _cause_reason(by_key[str(story.issue_key)])
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
