"""The facts of a flow insight: one per board, its latest closed sprint in
`cycle_time_trends`, with the slowest issues finished in it (`cycle_times`) as evidence."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.flow import NAME
from jira_insights_pipeline.assets.flow.metrics import PERCENTILE
from jira_insights_pipeline.assets.flow.rules import RISE
from jira_insights_pipeline.assets.flow.thresholds import FlowThresholds
from jira_insights_pipeline.insights.tables import (
    MetricTables,
    context_facts,
    count,
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
        evidence=_slowest(tables, board_id, sprint_id),
        key_facts=("median_cycle_days", "median_change", "finished_issues"),
    )


def flow_facts(tables: MetricTables, thresholds: FlowThresholds) -> list[InsightFacts]:
    """Per board: its latest closed sprint's median cycle time against the sprints before."""
    table = tables[RISE.table]
    if not has(table, "board_id", "sprint_id", "median_cycle_time_days"):
        return []
    return [_one(tables, thresholds, board_id, row) for board_id, row in judged_rows(RISE, table)]
