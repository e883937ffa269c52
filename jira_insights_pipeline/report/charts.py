"""The report's charts: the `Chart` a use case's home returns, and the drawing shared by all.

Each chart is inline SVG drawn by matplotlib's object API (never pyplot, so no global figure
state and no GUI backend). matplotlib is imported only inside the drawing functions: importing
the pipeline stays light. The output is deterministic (fixed `svg.hashsalt`, no date metadata),
keeps text as text (`svg.fonttype: none`, so Jira names are escaped XML text, never paths), and
parses no mathtext, so a `$` in a sprint name is shown as typed.

Every plotted sprint or issue is one SVG element whose id is `<chart id>-mark-<n>` (matplotlib
writes an artist's gid as the id of its `<g>`), so a reader or test counts the plotted items by
counting ids that contain `-mark-`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

import pandas as pd

from jira_insights_pipeline.insights.tables import rows

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

# Okabe-Ito colours: distinguishable with every common colour-vision deficiency, dark enough to
# print on white. Bars are hatched too, so committed and completed differ without colour.
BLUE = "#0072B2"
ORANGE = "#D55E00"
GREEN = "#009E73"
GREY = "#555555"
MARK_ID = re.compile(r'id="[^"]*-mark-\d+"')


@dataclass(frozen=True)
class Chart:
    """One chart: what it shows in words (`description`, the text alternative) and as SVG."""

    chart_id: str
    title: str
    x_label: str
    y_label: str
    description: str
    svg: str
    # The same drawing as a small PNG, for the Dagster UI's Markdown metadata (which shows
    # base64 PNG images, not inline SVG). Not compared: the page is the SVG.
    png: bytes = field(default=b"", repr=False, compare=False)

    @property
    def marks(self) -> int:
        """How many sprints or issues the chart plots (its `-mark-<n>` elements)."""
        return len(MARK_ID.findall(self.svg))


def _rc() -> dict[str, object]:
    return {
        "svg.hashsalt": "jira-insights",
        "svg.fonttype": "none",
        "text.parse_math": False,
        "font.family": "DejaVu Sans",
        "font.size": 10,
    }


def _new_axes(x_label: str, y_label: str) -> tuple[MplFigure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.6))
    axes = figure.add_subplot()
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.grid(axis="y", color="#cccccc", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


# Reference lines differ by dash as well as colour, so they stay apart in print and in grey.
LINE_STYLES = ("--", ":", "-.")


def _reference_lines(axes: Axes, lines: Sequence[tuple[str, float, str]]) -> None:
    """Horizontal reference lines (label, value, colour): a limit, a target, a percentile."""
    for (label, value, colour), style in zip(lines, LINE_STYLES, strict=False):
        axes.axhline(value, color=colour, linestyle=style, linewidth=1.4, label=label)


def _finished(
    figure: MplFigure,
    axes: Axes,
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    description: str,
) -> Chart:
    """The drawn figure as a `Chart`: legend (when anything is labelled), layout, SVG and PNG."""
    if axes.get_legend_handles_labels()[0]:
        _legend(axes)
    figure.tight_layout()
    return _chart(figure, chart_id, title, x_label, y_label, description)


def _legend(axes: Axes) -> None:
    """The legend in a row above the plot, where it can never hide a mark or a line."""
    axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=8, frameon=False, ncols=4)


def _svg_of(figure: MplFigure, chart_id: str, title: str) -> str:
    """The figure as one `<svg>` element: no prolog, scalable (viewBox), labelled by its title."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buffer = io.StringIO()
    FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None})
    text = buffer.getvalue()
    svg = text[text.index("<svg") :]
    title_id = f"{chart_id}-title"
    opening_end = svg.index(">")
    opening = svg[:opening_end]
    opening = re.sub(r'\s(width|height)="[^"]*"', "", opening)
    opening += (
        f' role="img" aria-labelledby="{title_id}"'
        f' aria-describedby="{chart_id}-description" class="chart"'
    )
    return (
        f'{opening}><title id="{title_id}">{escape(title)}</title>' + svg[opening_end + 1 :].strip()
    )


# The PNG copy is for a glance in the Dagster UI: small, so asset metadata stays light.
PNG_DPI = 50


def _png_of(figure: MplFigure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _chart(
    figure: MplFigure, chart_id: str, title: str, x_label: str, y_label: str, description: str
) -> Chart:
    svg = _svg_of(figure, chart_id, title)
    return Chart(chart_id, title, x_label, y_label, description, svg, _png_of(figure))


def metadata_markdown(charts: Sequence[Chart], escape_text: Callable[[str], str]) -> str:
    """The charts as Markdown for Dagster's asset metadata: each title, its PNG and its text
    alternative, the texts passed through `escape_text` (they hold Jira's names)."""
    import base64

    parts = []
    for chart in charts:
        image = base64.b64encode(chart.png).decode("ascii")
        title = escape_text(chart.title)
        parts.append(
            f"**{title}**\n\n![{title}](data:image/png;base64,{image})\n\n"
            + escape_text(chart.description)
        )
    return "\n\n".join(parts)


def bar_chart(
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], str]],
    lines: Sequence[tuple[str, float, str]] = (),
    description: str = "",
) -> Chart:
    """Grouped bars, one group per category; the first series' bars are the marks (one per
    category). `lines` are horizontal reference lines (label, value, colour)."""
    from matplotlib import rc_context

    with rc_context(_rc()):
        figure, axes = _new_axes(x_label, y_label)
        width = 0.8 / max(len(series), 1)
        hatches = ("", "//", "..")
        for index, (label, values, colour) in enumerate(series):
            positions = [n + (index - (len(series) - 1) / 2) * width for n in range(len(values))]
            bars = axes.bar(
                positions,
                values,
                width,
                label=label,
                color=colour,
                hatch=hatches[index % 3],
                edgecolor="white" if index == 0 else "black",
                linewidth=0.4,
            )
            if index == 0:
                for n, bar in enumerate(bars):
                    bar.set_gid(f"{chart_id}-mark-{n}")
        _reference_lines(axes, lines)
        axes.set_xticks(range(len(categories)), list(categories), rotation=30, ha="right")
        return _finished(figure, axes, chart_id, title, x_label, y_label, description)


def line_chart(
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    categories: Sequence[str],
    values: Sequence[float],
    lines: Sequence[tuple[str, float, str]] = (),
    description: str = "",
    y_format: str = "{:.0f}",
) -> Chart:
    """A line of points, one mark per point, with horizontal reference lines."""
    from matplotlib import rc_context

    with rc_context(_rc()):
        figure, axes = _new_axes(x_label, y_label)
        positions = list(range(len(values)))
        axes.plot(positions, values, color=BLUE, linewidth=1.5, label=y_label)
        for n, value in enumerate(values):
            (point,) = axes.plot([n], [value], marker="o", color=BLUE, markersize=6)
            point.set_gid(f"{chart_id}-mark-{n}")
        _reference_lines(axes, lines)
        axes.set_xticks(positions, list(categories), rotation=30, ha="right")
        axes.yaxis.set_major_formatter(lambda v, _pos: y_format.format(v))
        return _finished(figure, axes, chart_id, title, x_label, y_label, description)


def scatter_chart(
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    dates: Sequence[object],
    values: Sequence[float],
    lines: Sequence[tuple[str, float, str]] = (),
    description: str = "",
) -> Chart:
    """One point per item over dates (an issue's done date and cycle time), one mark each."""
    from matplotlib import rc_context
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    with rc_context(_rc()):
        figure, axes = _new_axes(x_label, y_label)
        for n, (when, value) in enumerate(zip(dates, values, strict=True)):
            (point,) = axes.plot([when], [value], marker="o", color=BLUE, markersize=4, alpha=0.8)
            point.set_gid(f"{chart_id}-mark-{n}")
        _reference_lines(axes, lines)
        locator = AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        return _finished(figure, axes, chart_id, title, x_label, y_label, description)


def strip_chart(
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    groups: Sequence[tuple[str, Sequence[float]]],
    lines: Sequence[tuple[str, float, str]] = (),
    description: str = "",
) -> Chart:
    """One column per group (a workflow status) holding one point per item (an open issue), set
    side by side so equal values stay visible; one mark per item, numbered across groups."""
    from matplotlib import rc_context

    with rc_context(_rc()):
        figure, axes = _new_axes(x_label, y_label)
        mark = 0
        for column, (_, values) in enumerate(groups):
            # A fixed fan-out instead of random jitter, so the drawing is the same every time.
            spread = [(n - (len(values) - 1) / 2) * 0.08 for n in range(len(values))]
            for offset, value in zip(spread, values, strict=True):
                (point,) = axes.plot(
                    [column + offset], [value], marker="o", color=BLUE, markersize=5, alpha=0.85
                )
                point.set_gid(f"{chart_id}-mark-{mark}")
                mark += 1
        _reference_lines(axes, lines)
        axes.set_xticks(range(len(groups)), [name for name, _ in groups], rotation=30, ha="right")
        axes.set_xlim(-0.6, max(len(groups) - 0.4, 0.6))
        if lines:
            return _finished(figure, axes, chart_id, title, x_label, y_label, description)


def board_series(
    frame: pd.DataFrame, board_id: int, column: str, order: str | list[str]
) -> pd.DataFrame:
    """One board's rows of `frame` that have a `column` value, in `order`: what a chart plots
    (empty when the table is missing or lacks the column)."""
    found = rows(frame, board_id)
    if column not in found.columns:
        return pd.DataFrame()
    return found[found[column].notna()].sort_values(order, kind="stable")


def threshold_chart(
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    names: Sequence[str],
    values: Sequence[float],
    line: tuple[str, float],
    shown: Callable[[float], str],
    y_format: str = "{:.0f}",
) -> Chart:
    """A line of points, one per sprint or day, against one limit or target (`line`: its name
    and value). The text alternative states every point and the line, each as `shown` writes
    it: "PAY Sprint 19: 40%; PAY Sprint 20: 40%. Limit: 20%."."""
    name, level = line
    description = (
        "; ".join(f"{label}: {shown(value)}" for label, value in zip(names, values, strict=True))
        + f". {name}: {shown(level)}."
    )
    return line_chart(
        chart_id,
        title,
        x_label,
        y_label,
        names,
        values,
        [(f"{name} {shown(level)}", level, ORANGE)],
        description,
        y_format,
    )
