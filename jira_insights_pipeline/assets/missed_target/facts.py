"""The facts of a missed-target insight: one per board, its latest closed sprint in
`sprint_targets`, with its causes from the spillover diagnosis (`spillover_reasons` per
unfinished issue, `spillover_patterns` per board): the dominant reason of the board's recent
sprints with its count in this sprint and over the window, and the chronic carry-overs. The
issues behind each cause are the evidence, then the carried-over and added stories of
`sprint_scope_changes`. Without the diagnosis tables the insight keeps the ledger's figures
only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from jira_insights_pipeline.assets.missed_target import NAME
from jira_insights_pipeline.assets.missed_target.diagnosis import (
    ADDED_LATE,
    BLOCKED,
    CAUSE_LABELS,
    REASONS,
    WAITING,
)
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
    keys,
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

# Why an evidence issue is listed, per reason.
CAUSE_EVIDENCE = {
    "never_started": "unfinished, never started in the sprint",
    "blocked": "unfinished, blocked during the sprint",
    "added_late": "unfinished, added after the sprint started",
    "grew": "unfinished, grew in points during the sprint",
    "waiting": "unfinished, waiting after the first in-progress status at the close",
    "carried_over_again": "unfinished, also unfinished at the close of the sprint before",
}
# The per-issue figure a cause is stated with, where it has one (days blocked, days after the
# start, days waited), as the median over the cause's issues of the sprint.
CAUSE_DAYS = {
    BLOCKED: "blocked_days",
    ADDED_LATE: "added_days_after_start",
    WAITING: "waiting_days",
}


@dataclass(frozen=True)
class Causes:
    """What the diagnosis says about one sprint: its facts and the issues behind them."""

    facts: list[Fact]
    evidence: list[Evidence]
    reason: str | None


def _pattern_row(tables: MetricTables, board_id: int, sprint_id: int) -> Any | None:
    """The board's spillover pattern, when its window ends at the judged sprint (a pattern of
    another "as of" would state figures of other sprints)."""
    patterns = rows(tables["spillover_patterns"], board_id)
    if not has(patterns, "sprint_id", "dominant_reason"):
        return None
    matching = patterns.loc[patterns["sprint_id"].eq(sprint_id)]
    return None if matching.empty else matching.iloc[-1]


def _median_days(issues: pd.DataFrame, column: str) -> float | None:
    values = issues[column].astype(float).dropna()
    return None if values.empty else float(values.median())


def _chronic(pattern: Any) -> list[tuple[str, int]]:
    """The pattern's chronic carry-overs as (key, sprints in a row), longest first."""
    found = keys(pattern.get("chronic_issue_keys"))
    streaks = pattern.get("chronic_streaks")
    if not isinstance(streaks, Iterable) or isinstance(streaks, str):
        return []
    return list(zip(found, (int(n) for n in streaks), strict=False))


def causes(tables: MetricTables, board_id: int, sprint_id: int) -> Causes:
    """The causes of one sprint's unfinished work from the spillover diagnosis: the dominant
    reason of the board's recent sprints (its count in this sprint and over the window, with a
    figure in days where it has one) and the chronic carry-overs. Empty when the diagnosis
    tables are missing."""
    pattern = _pattern_row(tables, board_id, sprint_id)
    unfinished = rows(tables["spillover_reasons"], board_id, sprint_id)
    if pattern is None or not (unfinished.empty or has(unfinished, "issue_key", *REASONS)):
        return Causes([], [], None)
    facts = [
        Fact(
            "unfinished",
            len(unfinished),
            "count",
            "issues in the sprint at its close and not done",
        ),
        Fact(
            "diagnosed_sprints",
            count(pattern, "window_sprints"),
            "count",
            "recent sprints diagnosed",
        ),
        Fact(
            "window_unfinished",
            count(pattern, "unfinished_issues"),
            "count",
            "issues left unfinished over the recent sprints",
        ),
    ]
    evidence: list[Evidence] = []
    reason = None if missing(pattern["dominant_reason"]) else str(pattern["dominant_reason"])
    if reason is not None:
        facts += [
            Fact("largest_cause", CAUSE_LABELS[reason], "label", "the most common reason"),
            Fact(
                "window_caused",
                count(pattern, "dominant_issues"),
                "count",
                "unfinished issues of the recent sprints with the most common reason",
            ),
            Fact(
                "window_cause_share",
                num(pattern["dominant_share"]),
                "ratio",
                "share of the recent sprints' unfinished issues with the most common reason",
            ),
        ]
        with_reason = (
            unfinished.loc[unfinished[reason].map(flag)].sort_values("issue_key")
            if not unfinished.empty
            else unfinished
        )
        if len(with_reason):
            facts.append(
                Fact(
                    "caused",
                    len(with_reason),
                    "count",
                    "unfinished issues of this sprint with the most common reason",
                )
            )
            column = CAUSE_DAYS.get(reason)
            days = None if column is None else _median_days(with_reason, column)
            if days is not None:
                facts.append(Fact("cause_days", round(days, 1), "days", f"median {column}"))
            evidence += [
                Evidence(str(key), CAUSE_EVIDENCE[reason]) for key in with_reason["issue_key"]
            ]
        if reason == WAITING:
            statuses = (with_reason if len(with_reason) else unfinished)["waiting_status"]
            common = statuses.dropna().astype(str).value_counts().sort_index(kind="stable")
            if not common.empty:
                status = common.sort_values(ascending=False, kind="stable").index[0]
                facts.append(Fact("wait_status", status, "name", "the status most waited in"))
    # The chronic carry-overs still unfinished at this sprint's close, their streak ending here:
    # one that finished since is no longer the team's to act on.
    streak_here = (
        dict(
            zip(
                unfinished["issue_key"].astype(str),
                unfinished["unfinished_sprints_in_a_row"],
                strict=True,
            )
        )
        if has(unfinished, "unfinished_sprints_in_a_row")
        else {}
    )
    chronic = [(key, n) for key, n in _chronic(pattern) if streak_here.get(key) == n]
    if chronic:
        longest, streak = chronic[0]
        facts += [
            Fact("chronic_key", longest, "key", "the issue unfinished most sprints in a row"),
            Fact(
                "chronic_sprints",
                streak,
                "count",
                "closed sprints in a row that ended with it unfinished",
            ),
            Fact(
                "chronic_keys",
                tuple(key for key, _ in chronic),
                "keys",
                "issues unfinished at the close of several sprints in a row",
            ),
            Fact("chronic_count", len(chronic), "count", "chronic carry-overs"),
        ]
        # The chronic carry-overs lead the evidence: they are named in the message.
        evidence = [
            Evidence(key, f"unfinished at the close of {n} sprints in a row") for key, n in chronic
        ] + [item for item in evidence if item.issue_key not in dict(chronic)]
    return Causes(facts, evidence, reason)


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
    found = causes(tables, board_id, sprint_id)
    facts += found.facts
    evidence = found.evidence[:MAX_EVIDENCE]
    listed = {item.issue_key for item in evidence}
    stories = rows(tables["sprint_scope_changes"], board_id, sprint_id)
    if has(stories, "issue_key", "carried_over"):
        carried = stories.loc[stories["carried_over"].map(flag)].sort_values("issue_key")
        evidence += [
            Evidence(str(key), "not finished, carried over to a later sprint")
            for key in carried["issue_key"]
            if str(key) not in listed
        ][: MAX_EVIDENCE - len(evidence)]
    evidence += added_story_evidence(stories, MAX_EVIDENCE - len(evidence), evidence)
    status = (
        "the sprint completed fewer points than the expected share of its commitment"
        if severity != "info"
        else "the sprint met its commitment"
    )
    if count(row, "spillover_sprints") >= 2:
        status += "; work spilled over in several recent sprints"
    if found.reason is not None:
        status += f"; the most common reason unfinished work was left: {CAUSE_LABELS[found.reason]}"
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
            "caused",
            "window_caused",
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
