"""The facts of a flow insight: one per board, its latest closed sprint in
`cycle_time_trends`; its cause, the status whose median time grew most (`status_time_changes`),
with the issues that spent longest there as evidence; the started work older than the board's
limit (`aged_work`), saying which limit applied; and the slowest issues finished in the sprint
(`cycle_times`) as further evidence."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.flow import NAME
from jira_insights_pipeline.assets.flow.diagnosis import MIN_HISTORY
from jira_insights_pipeline.assets.flow.metrics import PERCENTILE
from jira_insights_pipeline.assets.flow.rules import RISE
from jira_insights_pipeline.assets.flow.thresholds import FlowThresholds
from jira_insights_pipeline.insights.tables import (
    MetricTables,
    context_facts,
    count,
    flag,
    has,
    insight,
    judged_rows,
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
    render_value,
    rounded,
)


def _slowest(tables: MetricTables, board_id: int, sprint_id: int) -> list[Evidence]:
    """The issues finished in the sprint that took longest from start to done."""
    finished = rows(tables["cycle_times"], board_id, sprint_id)
    if not has(finished, "issue_key", "cycle_time_days"):
        return []
    if "is_subtask" in finished.columns:
        finished = finished.loc[~finished["is_subtask"].astype(bool)]
    finished = finished.dropna(subset=["cycle_time_days"]).sort_values(
        ["cycle_time_days", "issue_key"], ascending=[False, True], kind="stable"
    )
    return [
        Evidence(str(issue.issue_key), f"took {render_value(issue.cycle_time_days, 'days')} days")
        for issue in finished.head(MAX_EVIDENCE).itertuples()
    ]


# Evidence slots the cause's issues take before the aged work and the slowest issues fill the
# rest, so an insight shows where the time went first.
CAUSE_EVIDENCE = 3
AGED_EVIDENCE = 2


def leading_status_facts(
    tables: MetricTables, board_id: int, sprint_id: int
) -> tuple[list[Fact], list[Evidence]]:
    """The status whose median time per finished issue grew most against the sprints before
    (the `leading` row of `status_time_changes`), with the issues longest in it."""
    table = rows(tables["status_time_changes"], board_id, sprint_id)
    if not has(table, "leading", "status", "status_kind", "median_days", "previous_median_days"):
        return [], []
    leading = table.loc[table["leading"].map(flag)]
    if leading.empty:
        return [], []
    row = leading.iloc[0]
    facts = [
        Fact("slow_status", str(row["status"]), "name", "the status whose median time grew most"),
        Fact(
            "slow_status_kind",
            str(row["status_kind"]),
            "label",
            "what time in that status is (review, testing, blocked, working, not_started)",
        ),
        Fact(
            "slow_days",
            rounded(num(row["median_days"])),
            "days",
            "median days a finished issue spent in that status in the sprint",
        ),
        Fact(
            "slow_before_days",
            rounded(num(row["previous_median_days"])),
            "days",
            "the same median over the issues finished in the sprints before",
        ),
    ]
    keys = list(row["longest_keys"]) if not _no_list(row["longest_keys"]) else []
    days = list(row["longest_days"]) if not _no_list(row["longest_days"]) else []
    evidence = [
        Evidence(str(key), f"{render_value(day, 'days')} days in {row['status']}")
        for key, day in zip(keys, days, strict=False)
    ]
    return facts, evidence[:CAUSE_EVIDENCE]


def _no_list(value: Any) -> bool:
    """A list cell that holds nothing (null, or a value that is not a list at all)."""
    return value is None or isinstance(value, float) or not hasattr(value, "__len__")


def aged_facts(tables: MetricTables, board_id: int) -> tuple[list[Fact], list[Evidence]]:
    """The board's started work older than its limit (`aged_work`), the oldest, and which
    limit applied: the team's 85th percentile or the fixed one."""
    table = rows(tables["aged_work"], board_id)
    if not has(table, "over_limit", "age_days", "limit_days", "limit_source", "issue_key"):
        return [], []
    first = table.iloc[0]
    fixed = str(first["limit_source"]) == "fixed"
    facts = [
        Fact(
            "age_limit_days",
            rounded(num(first["limit_days"])),
            "days",
            "the fixed age limit of started work"
            if fixed
            else "the board's 85th percentile cycle time, the age limit of started work",
        ),
        Fact(
            "age_limit",
            "fixed" if fixed else "team_p85",
            "label",
            "which age limit applied: the team's 85th percentile, or the fixed one",
        ),
        Fact(
            "age_history",
            count(first, "history_issues"),
            "count",
            "the board's finished issues the percentile is over",
        ),
    ]
    if fixed:
        facts.append(
            Fact(
                "age_min_history",
                MIN_HISTORY,
                "count",
                "finished issues a board needs for its own percentile",
            )
        )
    over = table.loc[table["over_limit"].map(flag)].sort_values(
        ["age_days", "issue_key"], ascending=[False, True], kind="stable"
    )
    facts.append(Fact("aged_items", int(over.shape[0]), "count", "started issues over the limit"))
    if over.empty:
        return facts, []
    oldest = over.iloc[0]
    facts += [
        Fact("oldest_key", str(oldest["issue_key"]), "key", "the oldest started issue"),
        Fact(
            "oldest_days",
            rounded(num(oldest["age_days"])),
            "days",
            "days since the oldest started issue started",
        ),
    ]
    evidence = [
        Evidence(
            str(item.issue_key),
            f"started {render_value(item.age_days, 'days')} days ago, over the "
            f"{render_value(item.limit_days, 'days')}-day limit",
        )
        for item in over.head(AGED_EVIDENCE).itertuples()
    ]
    return facts, evidence


def _merged(*groups: list[Evidence]) -> list[Evidence]:
    """The evidence of each group in turn, each issue once, at most MAX_EVIDENCE in all."""
    seen: set[str] = set()
    merged: list[Evidence] = []
    for group in groups:
        for item in group:
            if item.issue_key not in seen and len(merged) < MAX_EVIDENCE:
                seen.add(item.issue_key)
                merged.append(item)
    return merged


def _one(tables: MetricTables, thresholds: FlowThresholds, board_id: int, row: Any) -> InsightFacts:
    sprint_id, sprint = sprint_of(row)
    severity = severity_of([RISE], row)
    facts = [
        *context_facts(tables.board_name(board_id), sprint),
        Fact("finished_issues", count(row, "finished_issues"), "count", "issues finished"),
        Fact("rise_limit", thresholds.cycle_time_rise, "ratio", "the allowed rise of the median"),
    ]
    if not missing(row["median_cycle_time_days"]):
        facts += [
            Fact(
                "median_cycle_days",
                rounded(num(row["median_cycle_time_days"])),
                "days",
                "median days from start to done",
            ),
            Fact(
                "p85_cycle_days",
                rounded(num(row["p85_cycle_time_days"])),
                "days",
                "85th percentile days from start to done",
            ),
            Fact("p85_share", PERCENTILE, "ratio", "the share of issues the percentile covers"),
        ]
    if not missing(row["previous_median_cycle_time_days"]) and not missing(
        row["median_cycle_time_days"]
    ):
        facts.append(
            Fact(
                "previous_median_cycle_days",
                rounded(num(row["previous_median_cycle_time_days"])),
                "days",
                "median days of the sprints before",
            )
        )
    if not missing(row["median_change_pct"]):
        change = abs(num(row["median_change_pct"])) / 100
        facts.append(
            judged(
                "median_change",
                change,
                thresholds.cycle_time_rise,
                "ratio",
                "how far the median moved against the sprints before",
            )
        )
    cause, cause_evidence = leading_status_facts(tables, board_id, sprint_id)
    aged, aged_evidence = aged_facts(tables, board_id)
    facts += cause + aged
    status = (
        "work takes longer from start to done than in the sprints before"
        if severity != "info"
        else "cycle time did not rise"
    )
    return insight(
        tables,
        NAME,
        severity,
        board_id,
        (sprint_id, sprint),
        status=status,
        facts=facts,
        evidence=_merged(cause_evidence, aged_evidence, _slowest(tables, board_id, sprint_id)),
        key_facts=("median_cycle_days", "median_change", "finished_issues"),
    )


def flow_facts(tables: MetricTables, thresholds: FlowThresholds) -> list[InsightFacts]:
    """Per board: its latest closed sprint's median cycle time against the sprints before."""
    table = tables[RISE.table]
    if not has(table, "board_id", "sprint_id", "median_cycle_time_days"):
        return []
    return [_one(tables, thresholds, board_id, row) for board_id, row in judged_rows(RISE, table)]
