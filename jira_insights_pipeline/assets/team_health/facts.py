"""The facts of a team-health insight: one per board, from its row of `hygiene_scores`, with
the open issues of `work_item_health` that have the most problems as evidence. The insight
names the board's running sprint when it has one."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.team_health import NAME
from jira_insights_pipeline.assets.team_health.rules import HYGIENE
from jira_insights_pipeline.assets.team_health.thresholds import TeamHealthThresholds
from jira_insights_pipeline.insights.tables import (
    MetricTables,
    active_sprint,
    context_facts,
    count,
    has,
    insight,
    judged_rows,
    keys,
    missing,
    num,
    rows,
    severity_of,
)
from jira_insights_pipeline.insights.values import (
    MAX_EVIDENCE,
    Evidence,
    Fact,
    InsightFacts,
    judged,
)

# (count column of hygiene_scores, problem name in work_item_health.problems, plain words)
HEALTH_PROBLEMS: tuple[tuple[str, str, str], ...] = (
    ("stale_issues", "stale", "stale issues"),
    ("blocked_issues", "blocked", "blocked issues"),
    ("missing_estimate_issues", "missing_estimate", "issues without an estimate"),
    ("in_progress_too_long_issues", "in_progress_too_long", "issues in progress too long"),
)
PROBLEM_WORDS = {
    "stale": "stale",
    "blocked": "blocked",
    "missing_estimate": "no estimate",
    "in_progress_too_long": "in progress too long",
}


def _evidence(tables: MetricTables, board_id: int) -> list[Evidence]:
    """The open issues with the most problems, the longest idle first."""
    health = rows(tables["work_item_health"], board_id)
    if not has(health, "issue_key", "problems"):
        return []
    flagged = health.assign(
        problem_list=health["problems"].map(keys),
        idle_days=health["days_since_update"].map(num)
        if "days_since_update" in health.columns
        else 0.0,
    )
    flagged = flagged.assign(listed_problems=flagged["problem_list"].map(len))
    flagged = flagged.loc[flagged["listed_problems"] > 0].sort_values(
        ["listed_problems", "idle_days", "issue_key"],
        ascending=[False, False, True],
        kind="stable",
    )
    return [
        Evidence(
            str(issue.issue_key),
            ", ".join(PROBLEM_WORDS.get(p, p.replace("_", " ")) for p in issue.problem_list),
        )
        for issue in flagged.head(MAX_EVIDENCE).itertuples()
    ]


def _where_and_how_old(tables: MetricTables, board_id: int) -> list[Fact]:
    """Where the problems sit and how old the worst are: the status holding the most open
    issues with a problem, and the issue blocked the longest with its days."""
    health = rows(tables["work_item_health"], board_id)
    if not has(health, "issue_key", "status", "problem_count", "blocked_now", "blocked_days"):
        return []
    facts: list[Fact] = []
    with_problems = health.loc[health["problem_count"].gt(0)]
    if not with_problems.empty:
        by_status = with_problems.groupby("status", sort=True)["issue_key"].count()
        # Most issues first; a tie goes to the status named first, so the answer is stable.
        worst_status = by_status.sort_values(ascending=False, kind="stable").index[0]
        facts += [
            Fact("worst_status", str(worst_status), "name", "the status most problems sit in"),
            Fact(
                "worst_status_issues",
                int(by_status[worst_status]),
                "count",
                "open issues with a problem in that status",
            ),
        ]
    blocked = health.loc[health["blocked_now"].fillna(False).astype(bool)]
    blocked = blocked.loc[blocked["blocked_days"].notna()]
    if not blocked.empty:
        oldest = blocked.sort_values(
            ["blocked_days", "issue_key"], ascending=[False, True], kind="stable"
        ).iloc[0]
        facts += [
            Fact(
                "oldest_blocked_issue", str(oldest["issue_key"]), "key", "the issue blocked longest"
            ),
            Fact(
                "oldest_blocked_days",
                round(float(oldest["blocked_days"]), 1),
                "days",
                "days it has been blocked",
                1,
            ),
        ]
    return facts


def _one(
    tables: MetricTables, thresholds: TeamHealthThresholds, board_id: int, row: Any
) -> InsightFacts:
    severity = severity_of([HYGIENE], row)
    counts = {column: count(row, column) for column, _, _ in HEALTH_PROBLEMS}
    worst_column, _, worst_words = max(HEALTH_PROBLEMS, key=lambda item: counts[item[0]])
    sprint = active_sprint(tables, board_id)
    minimum = thresholds.hygiene_score_min
    facts = [
        *context_facts(tables.board_name(board_id), sprint[1]),
        judged(
            "hygiene_score",
            num(row["hygiene_score"]),
            minimum,
            "score",
            "hygiene score out of a hundred",
        ),
        Fact("hygiene_score_min", minimum, "score", "the lowest healthy score"),
        Fact("open_issues", count(row, "open_issues"), "count", "open issues"),
        Fact(
            "issues_with_problems",
            count(row, "issues_with_problems"),
            "count",
            "open issues with a problem",
        ),
        Fact("stale_issues", counts["stale_issues"], "count", "issues not updated lately"),
        Fact("blocked_issues", counts["blocked_issues"], "count", "blocked issues"),
        Fact(
            "missing_estimate_issues",
            counts["missing_estimate_issues"],
            "count",
            "issues without an estimate",
        ),
        Fact(
            "in_progress_too_long_issues",
            counts["in_progress_too_long_issues"],
            "count",
            "issues in progress too long",
        ),
    ]
    if counts[worst_column] > 0:
        facts += [
            Fact("worst_problem", worst_words, "label", "the most common problem"),
            Fact(
                "worst_problem_issues",
                counts[worst_column],
                "count",
                "issues with the most common problem",
            ),
        ]
    facts += _where_and_how_old(tables, board_id)
    status = (
        "ticket hygiene is below the healthy score"
        if severity != "info"
        else "ticket hygiene is healthy"
    )
    return insight(
        tables,
        NAME,
        severity,
        board_id,
        sprint,
        status=status,
        facts=facts,
        evidence=_evidence(tables, board_id),
        key_facts=("hygiene_score", "worst_problem", "issues_with_problems"),
        per_sprint=HYGIENE.per_sprint,
    )


def team_health_facts(tables: MetricTables, thresholds: TeamHealthThresholds) -> list[InsightFacts]:
    """Per board with open issues: today's hygiene score and its worst problems."""
    table = tables[HYGIENE.table]
    if not has(table, "board_id", "hygiene_score"):
        return []
    return [
        _one(tables, thresholds, board_id, row)
        for board_id, row in judged_rows(HYGIENE, table)
        if not missing(row["hygiene_score"])  # no open issues: nothing to judge
    ]
