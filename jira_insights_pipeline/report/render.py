"""The insights report as plain data, and its HTML (jinja2, autoescaped).

`report_context` turns the insights (dicts of insight.schema.json) and each board's key figures
(one per use case, from its home's `report.py`) into what the template shows: per board, the
key figures with whether each crossed its rule,
and the current insights from most to least severe with their evidence and what changed since the
previous day's feed (`change_label`), and the problems resolved since then; then the values the
snapshot held that no figure could use (the data-quality table). `render_report` fills
the template. Every text that came from Jira or the model is escaped by jinja2's autoescape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import jinja2
import pandas as pd

from jira_insights_pipeline.report.charts import Chart
from jira_insights_pipeline.report.figures import Figure

TEMPLATE = "insights.html.j2"
SEVERITY_ORDER = ("error", "warning", "info")
SEVERITY_LABEL = {"error": "Errors", "warning": "Warnings", "info": "Healthy"}
# The words each `change` of an insight (insights/history.py) is shown with.
CHANGE_LABEL = {"new": "new", "worse": "worse", "better": "better", "open": "still open"}


@dataclass
class BoardSection:
    board_id: int
    name: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    insights: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # The problems of the previous day's feed that are no longer raised (insights/history.py).
    resolved: list[dict[str, Any]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"board-{self.board_id}"

    def count(self, severity: str) -> int:
        return len(self.insights.get(severity, []))


def issue_url(site: str | None, issue_key: str) -> str | None:
    """The Jira link of an issue on a web site; None for a site that is not http(s)."""
    if not site or not site.startswith(("http://", "https://")):
        return None
    return f"{site.rstrip('/')}/browse/{quote(issue_key)}"


def change_label(insight: Mapping[str, Any]) -> str | None:
    """The words of an insight's change, or None when there is nothing worth saying: no
    previous day to compare with, or a healthy finding that was healthy yesterday too."""
    change = insight.get("change")
    if change is None or (change == "open" and insight["severity"] == "info"):
        return None
    return CHANGE_LABEL[change]


def _day_label(day: str | None) -> str | None:
    return None if day is None else pd.Timestamp(day).strftime("%d %b %Y")


def report_context(
    insights: Sequence[Mapping[str, Any]],
    board_names: Mapping[int, str],
    figures: Callable[[int], list[Figure]],
    use_case_labels: Mapping[str, str],
    *,
    as_of: str | None,
    site: str | None,
    data_quality: Sequence[Mapping[str, Any]] = (),
    charts: Callable[[int], list[Chart]] = lambda board_id: [],
    compared_with: str | None = None,
    resolved: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Everything the template shows, boards ordered by their most severe insight.
    `figures(board_id)` gives a board's key figures (one per use case that has one);
    `data_quality` the rows of `jira_data_quality`, the values left out of every figure;
    `charts(board_id)` a board's charts (inline SVG the template inserts unescaped: matplotlib
    wrote every text in it as escaped XML); `compared_with` the day of the feed the insights'
    changes were judged against and `resolved` its problems no longer raised (the feed's)."""
    names = dict(board_names)
    for insight in [*insights, *resolved]:
        names.setdefault(int(insight["board"]["id"]), str(insight["board"]["name"]))
    sections = {board_id: BoardSection(board_id, name) for board_id, name in sorted(names.items())}
    for insight in insights:
        section = sections[int(insight["board"]["id"])]
        section.insights.setdefault(insight["severity"], []).append(dict(insight))
    for insight in resolved:
        sections[int(insight["board"]["id"])].resolved.append(dict(insight))
    for section in sections.values():
        section.figures = figures(section.board_id)
        section.charts = charts(section.board_id)
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
        "use_case_label": dict(use_case_labels),
        "issue_url": lambda key: issue_url(site, key),
        "change_label": change_label,
        "compared_with": compared_with,
        "compared_with_label": _day_label(compared_with),
        "data_quality": [dict(row) for row in data_quality],
    }


def template_environment() -> jinja2.Environment:
    """The templates' environment: the package's templates, autoescaped, strict."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("jira_insights_pipeline.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(context: Mapping[str, Any]) -> str:
    """The report page: one self-contained HTML file (inline CSS, no scripts)."""
    return template_environment().get_template(TEMPLATE).render(**context)
