"""The insights report as plain data, and its HTML (jinja2, autoescaped).

`report_context` turns the insights (dicts of insight.schema.json) and the metric tables into
what the template shows: per board, the key figures with whether each crossed its threshold,
and the current insights from most to least severe with their evidence. `render_report` fills
the template. Every text that came from Jira or the model is escaped by jinja2's autoescape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import jinja2
import pandas as pd

from jira_insights_pipeline.metrics.thresholds import Thresholds

TEMPLATE = "insights.html.j2"
SEVERITY_ORDER = ("error", "warning", "info")
SEVERITY_LABEL = {"error": "Errors", "warning": "Warnings", "info": "Healthy"}
USE_CASE_LABEL = {
    "scope_creep": "Scope creep",
    "missed_target": "Sprint target",
    "defect_leakage": "Defect leakage",
    "team_health": "Ticket hygiene",
    "velocity": "Velocity",
}


@dataclass(frozen=True)
class ReportTables:
    """The metric tables the key figures come from (any may be empty)."""

    jira_boards: pd.DataFrame
    sprint_commitments: pd.DataFrame
    sprint_velocity: pd.DataFrame
    defect_escape_rates: pd.DataFrame
    hygiene_scores: pd.DataFrame
    cycle_time_trends: pd.DataFrame


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    detail: str
    alert: bool | None  # None: no figure to judge


@dataclass
class BoardSection:
    board_id: int
    name: str
    figures: list[Figure] = field(default_factory=list)
    insights: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def anchor(self) -> str:
        return f"board-{self.board_id}"

    def count(self, severity: str) -> int:
        return len(self.insights.get(severity, []))


def _rows(table: pd.DataFrame, board_id: int) -> pd.DataFrame:
    if table.empty or "board_id" not in table.columns:
        return table.iloc[0:0]
    return table.loc[table["board_id"].eq(board_id)]


def _latest(table: pd.DataFrame, state: str) -> Any | None:
    if table.empty or "sprint_state" not in table.columns:
        return None
    rows = table.loc[table["sprint_state"].eq(state)]
    if rows.empty:
        return None
    return rows.sort_values(["sprint_end", "sprint_id"]).iloc[-1]


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _pct(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value):.0%}"


def _points(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value):g}"


def board_figures(board_id: int, tables: ReportTables, thresholds: Thresholds) -> list[Figure]:
    """The key figures of one board, each with whether it crossed its threshold."""
    figures: list[Figure] = []
    commitments = _rows(tables.sprint_commitments, board_id)
    active = _latest(commitments, "active")
    if active is not None:
        figures.append(
            Figure(
                "Scope growth",
                _pct(active["grown_story_share"]),
                f"{active['sprint_name']}: {active['grown_stories']} of "
                f"{active['estimated_committed_stories']} stories grew "
                f"(limit {thresholds.grown_story_share_alert:.0%})",
                bool(active["scope_creep_alert"]),
            )
        )
    closed = _latest(commitments, "closed")
    if closed is not None:
        rate = closed["completion_rate"]
        target = thresholds.completion_rate_min
        figures.append(
            Figure(
                "Completion rate",
                _pct(rate),
                f"{closed['sprint_name']}: {_points(closed['completed_points'])} points completed "
                f"against {_points(closed['committed_points'])} committed, "
                f"{closed['spillover_issues']} spilled over (target {target:.0%})",
                None if _missing(rate) else float(rate) < target,
            )
        )
    velocity = _rows(tables.sprint_velocity, board_id)
    if not velocity.empty and "latest_closed" in velocity.columns:
        latest = velocity.loc[velocity["latest_closed"].astype(bool)]
        if not latest.empty:
            row = latest.iloc[-1]
            previous = row["previous_mean_points"]
            previous_text = "–" if _missing(previous) else f"{float(previous):.1f}"
            figures.append(
                Figure(
                    "Velocity",
                    f"{_points(row['completed_points'])} pts",
                    f"{row['sprint_name']}: {_pct(row['velocity_ratio'])} of the previous mean "
                    f"{previous_text}; next sprint P85 {_points(row['forecast_p85_points'])}, "
                    f"P50 {_points(row['forecast_p50_points'])} points",
                    bool(row["velocity_drop"]),
                )
            )
    rates = _rows(tables.defect_escape_rates, board_id)
    closed_rates = _latest(rates, "closed")
    if closed_rates is not None:
        figures.append(
            Figure(
                "Escape rate",
                _pct(closed_rates["escape_rate"]),
                f"{closed_rates['sprint_name']}: {closed_rates['production_bugs']} production, "
                f"{closed_rates['qa_bugs']} QA bugs (limit {thresholds.escape_rate_alert:.0%})",
                bool(closed_rates["leakage_alert"]),
            )
        )
    scores = _rows(tables.hygiene_scores, board_id)
    if not scores.empty:
        row = scores.iloc[-1]
        score = row["hygiene_score"]
        figures.append(
            Figure(
                "Hygiene score",
                "–" if _missing(score) else f"{float(score):.0f}",
                f"{row['issues_with_problems']} of {row['open_issues']} open issues with a "
                f"problem (minimum {thresholds.hygiene_score_min:.0f})",
                None if _missing(score) else float(score) < thresholds.hygiene_score_min,
            )
        )
    trend = _latest(_rows(tables.cycle_time_trends, board_id), "closed")
    if trend is not None:
        median = trend["median_cycle_time_days"]
        change = trend["median_change_pct"]
        figures.append(
            Figure(
                "Median cycle time",
                "–" if _missing(median) else f"{float(median):.1f} d",
                f"{trend['sprint_name']}: "
                + ("no earlier median" if _missing(change) else f"{float(change):+.0f}%")
                + f" against the previous sprints (allowed +{thresholds.cycle_time_rise:.0%})",
                bool(trend["median_rose"]),
            )
        )
    return figures


def _board_names(tables: ReportTables, insights: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    names: dict[int, str] = {}
    boards = tables.jira_boards
    if not boards.empty and {"board_id", "name"} <= set(boards.columns):
        names.update({int(row.board_id): str(row.name) for row in boards.itertuples()})
    for insight in insights:
        names.setdefault(int(insight["board"]["id"]), str(insight["board"]["name"]))
    return names


def issue_url(site: str | None, issue_key: str) -> str | None:
    """The Jira link of an issue on a web site; None for a site that is not http(s)."""
    if not site or not site.startswith(("http://", "https://")):
        return None
    return f"{site.rstrip('/')}/browse/{quote(issue_key)}"


def report_context(
    insights: Sequence[Mapping[str, Any]],
    tables: ReportTables,
    thresholds: Thresholds,
    *,
    as_of: str | None,
    site: str | None,
) -> dict[str, Any]:
    """Everything the template shows, boards ordered by their most severe insight."""
    sections = {
        board_id: BoardSection(board_id, name)
        for board_id, name in sorted(_board_names(tables, insights).items())
    }
    for insight in insights:
        section = sections[int(insight["board"]["id"])]
        section.insights.setdefault(insight["severity"], []).append(dict(insight))
    for section in sections.values():
        section.figures = board_figures(section.board_id, tables, thresholds)
        for severity in section.insights:
            section.insights[severity].sort(
                key=lambda item: (item["type"], (item.get("sprint") or {}).get("id") or 0)
            )
    boards = sorted(
        sections.values(),
        key=lambda section: (-section.count("error"), -section.count("warning"), section.name),
    )
    totals = {severity: sum(b.count(severity) for b in boards) for severity in SEVERITY_ORDER}
    return {
        "as_of": as_of,
        "as_of_label": None
        if as_of is None
        else pd.Timestamp(as_of).tz_convert("UTC").strftime("%d %b %Y, %H:%M UTC"),
        "totals_label": {"error": "errors", "warning": "warnings", "info": "healthy findings"},
        "totals_label_one": {"error": "error", "warning": "warning", "info": "healthy finding"},
        "site": site,
        "site_url": site if site and site.startswith(("http://", "https://")) else None,
        "boards": boards,
        "totals": totals,
        "severity_order": SEVERITY_ORDER,
        "severity_label": SEVERITY_LABEL,
        "use_case_label": USE_CASE_LABEL,
        "issue_url": lambda key: issue_url(site, key),
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("jira_insights_pipeline.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(context: Mapping[str, Any]) -> str:
    """The report page: one self-contained HTML file (inline CSS, no scripts)."""
    return _environment().get_template(TEMPLATE).render(**context)
