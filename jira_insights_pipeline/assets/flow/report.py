"""The flow figure on the report (the latest closed sprint's median cycle time) and its charts:
the cycle-time scatter of finished issues and the aging chart of open ones."""

from __future__ import annotations

import pandas as pd

from jira_insights_pipeline.assets.flow.rules import RISE
from jira_insights_pipeline.assets.flow.thresholds import FlowThresholds
from jira_insights_pipeline.insights.tables import MetricTables, flag, latest_judged_row
from jira_insights_pipeline.report.charts import (
    GREEN,
    ORANGE,
    Chart,
    board_series,
    scatter_chart,
    strip_chart,
)
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.formats import NONE, missing


def flow_figure(board_id: int, tables: MetricTables, thresholds: FlowThresholds) -> Figure | None:
    row = latest_judged_row(RISE, tables, board_id)
    if row is None:
        return None
    median, change = row["median_cycle_time_days"], row["median_change_pct"]
    return Figure(
        "Median cycle time",
        NONE if missing(median) else f"{float(median):.1f} d",
        f"{row['sprint_name']}: "
        + ("no earlier median" if missing(change) else f"{float(change):+.0f}%")
        + f" against the previous sprints (allowed +{thresholds.cycle_time_rise:.0%})",
        flag(row[RISE.flag]),
    )


def flow_charts(board_id: int, tables: MetricTables, thresholds: FlowThresholds) -> list[Chart]:
    """The cycle-time scatter and the aging chart of one board (each when it has data)."""
    found = (cycle_time_chart(board_id, tables), aging_chart(board_id, tables))
    return [chart for chart in found if chart is not None]


def aging_chart(board_id: int, tables: MetricTables) -> Chart | None:
    """Work item age: each open, started issue of `aged_work` by its status and its days since
    it started, against the age limit the diagnosis decided (the team's 85th percentile cycle
    time, or the fixed threshold where the team has too little history). Statuses go left to
    right by their median age, youngest first: later steps of a workflow hold older work."""
    open_work = board_series(tables["aged_work"], board_id, "age_days", "issue_key")
    if open_work.empty:
        return None
    by_status = open_work.groupby("status", sort=True)["age_days"]
    order = by_status.median().sort_values(kind="stable").index
    groups = [
        (str(status), sorted(float(age) for age in by_status.get_group(status))) for status in order
    ]
    limit = float(open_work["limit_days"].iloc[0])
    team = str(open_work["limit_source"].iloc[0]) == "team_p85"
    label = f"{'Team P85' if team else 'Fixed limit'} {limit:.1f} d"
    over = int(open_work["over_limit"].astype(bool).sum())
    basis = "the team's 85th percentile cycle time" if team else "the fixed limit"
    description = (
        f"{len(open_work)} open started issues in {len(groups)} statuses; {over} older than "
        f"{limit:.1f} days ({basis}); oldest {float(open_work['age_days'].max()):.1f} days."
    )
    return strip_chart(
        f"aging-{board_id}",
        f"Work item age on {tables.board_name(board_id)}",
        "Status",
        "Age since start (days)",
        groups,
        [(label, limit, ORANGE)],
        description,
    )


def cycle_time_chart(board_id: int, tables: MetricTables) -> Chart | None:
    """The cycle-time scatter: each finished, started issue by its done day and cycle days,
    with the board's 50th and 85th percentile lines."""
    done = board_series(
        tables["cycle_times"], board_id, "cycle_time_days", ["done_at", "issue_key"]
    )
    if done.empty:
        return None
    days = [float(d) for d in done["cycle_time_days"]]
    dates = [pd.Timestamp(t).tz_convert("UTC").tz_localize(None) for t in done["done_at"]]
    p50, p85 = (float(done["cycle_time_days"].quantile(q)) for q in (0.5, 0.85))
    description = (
        f"{len(days)} finished issues; 50th percentile {p50:.1f} days, 85th percentile "
        f"{p85:.1f} days; longest {max(days):.1f} days."
    )
    return scatter_chart(
        f"cycle-{board_id}",
        f"Cycle time of {tables.board_name(board_id)}",
        "Done date",
        "Cycle time (days)",
        dates,
        days,
        [(f"P50 {p50:.1f} d", p50, GREEN), (f"P85 {p85:.1f} d", p85, ORANGE)],
        description,
    )
