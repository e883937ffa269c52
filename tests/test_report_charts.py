"""The report's charts as pure functions, without Dagster: each use case's chart on the sample
site's tables plots one mark per sprint (counted in the SVG by the `-mark-<n>` ids the shared
drawing sets), carries its title, axis labels and a text alternative stating the figures, is
the same bytes when drawn twice (the page must not change when the data does not), is a bare,
accessible `<svg>` element, and escapes hostile board and sprint names from Jira; and the
severity badges' colour contrast (WCAG 4.5:1), computed from the template's own CSS."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest
from demo_tables import four_board_tables

import jira_insights_pipeline.report
from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.insights.tables import MetricTables
from jira_insights_pipeline.registry import Thresholds, use_case
from jira_insights_pipeline.report.charts import Chart
from jira_insights_pipeline.report.render import CHANGE_LABEL

THRESHOLDS = Thresholds()
HOSTILE = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
# The table each chart plots one mark per row of (a board's rows that have the figure).
PLOTTED = {
    "velocity": ("sprint_velocity", "completed_points"),
    "missed_target": ("sprint_targets", "completion_rate"),
    "defect_leakage": ("defect_escape_rates", "escape_rate"),
    "team_health": ("hygiene_scores", "hygiene_score"),
    "flow": ("cycle_times", "cycle_time_days"),
}
# The charts whose x axis names sprints (the others: days, done dates).
BY_SPRINT = {"velocity", "missed_target", "defect_leakage"}


@pytest.fixture(scope="module")
def tables() -> MetricTables:
    return four_board_tables()


def charts_of(name: str, board_id: int, tables: MetricTables) -> list[Chart]:
    home = use_case(name)
    return home.report_charts(board_id, tables, home.thresholds_of(THRESHOLDS))


def marks(svg: str) -> list[str]:
    return re.findall(r'id="([^"]*-mark-\d+)"', svg)


@pytest.mark.parametrize("name", sorted(PLOTTED))
def test_one_mark_per_plotted_row(name: str, tables: MetricTables) -> None:
    table, column = PLOTTED[name]
    frame = tables[table]
    for board_id in tables.board_names:
        chart = charts_of(name, board_id, tables)[0]
        expected = int(frame[(frame["board_id"] == board_id)][column].notna().sum())
        assert expected > 0
        assert len(marks(chart.svg)) == expected == chart.marks
        assert len(set(marks(chart.svg))) == expected  # ids unique within the chart


@pytest.mark.parametrize("name", sorted(PLOTTED))
def test_labelled_accessible_bare_svg(name: str, tables: MetricTables) -> None:
    board_id = min(tables.board_names)
    chart = charts_of(name, board_id, tables)[0]
    assert chart.svg.startswith("<svg ")
    assert "<?xml" not in chart.svg and "DOCTYPE" not in chart.svg
    root = ET.fromstring(chart.svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{chart.chart_id}-title"
    assert root.get("viewBox") and root.get("width") is None
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == chart.title
    assert tables.board_name(board_id) in chart.title
    svg_text = " ".join(root.itertext())
    assert chart.x_label in svg_text and chart.y_label in svg_text  # text stays text
    table, column = PLOTTED[name]
    frame = tables[table]
    first = frame[frame["board_id"] == board_id].dropna(subset=[column]).iloc[0]
    if name in BY_SPRINT:
        assert f"{first['sprint_name']}: " in chart.description
    elif name == "team_health":
        assert f"{first['hygiene_score']:.0f}" in chart.description
    else:
        assert f"{int(frame[frame['board_id'] == board_id][column].notna().sum())} finished" in (
            chart.description
        )


@pytest.fixture(scope="module")
def sample_aging(published_sample: Path) -> MetricTables:
    """The sample site's `aged_work` and boards, from one published run (the hand-made site has
    no open started work with a history, so its `aged_work` is empty)."""
    with duckdb.connect(str(DataFolder(published_sample).warehouse), read_only=True) as db:
        frames = {
            "aged_work": db.sql("select * from metrics.aged_work").df(),
            "jira_boards": db.sql("select * from jira.jira_boards").df(),
        }
    return MetricTables("", frames)


def aging_of(board_id: int, tables: MetricTables) -> list[Chart]:
    return [c for c in charts_of("flow", board_id, tables) if c.chart_id.startswith("aging")]


def test_aging_chart_plots_each_open_issue_by_status(sample_aging: MetricTables) -> None:
    frame = sample_aging["aged_work"]
    assert set(frame["board_id"]) == set(sample_aging.board_names)
    for board_id in sample_aging.board_names:
        rows = frame[frame["board_id"] == board_id]
        (chart,) = aging_of(board_id, sample_aging)
        assert chart.marks == len(rows) > 0
        # One column per status, youngest median age first; the limit the diagnosis decided.
        medians = rows.groupby("status")["age_days"].median().sort_values(kind="stable")
        svg_text = " ".join(ET.fromstring(chart.svg).itertext())
        positions = [svg_text.index(str(status)) for status in medians.index]
        assert positions == sorted(positions)
        limit = float(rows["limit_days"].iloc[0])
        assert f"{limit:.1f} d" in svg_text
        over = int(rows["over_limit"].sum())
        assert chart.description.startswith(f"{len(rows)} open started issues")
        assert f"{over} older than {limit:.1f} days" in chart.description
    # PLANTED.md: CHK-176, in review since 29 October, is the one CHK issue over its 10.9 days.
    (chk,) = aging_of(1, sample_aging)
    assert "1 older than 10.9 days (the team's 85th percentile cycle time)" in chk.description


def test_aging_chart_escapes_a_hostile_status(sample_aging: MetricTables) -> None:
    frames = {name: frame.copy() for name, frame in sample_aging.frames.items()}
    frames["aged_work"]["status"] = HOSTILE[1]
    (chart,) = aging_of(1, MetricTables("", frames))
    assert "<img" not in chart.svg
    assert HOSTILE[1] in " ".join(ET.fromstring(chart.svg).itertext())


def test_velocity_description_states_points_and_forecast(tables: MetricTables) -> None:
    frame = tables["sprint_velocity"]
    board_id = min(tables.board_names)
    chart = charts_of("velocity", board_id, tables)[0]
    latest = frame[(frame["board_id"] == board_id) & frame["latest_closed"]].iloc[0]
    assert f"{latest['sprint_name']}: committed" in chart.description
    assert "P85" in chart.description and "P50" in chart.description


@pytest.mark.parametrize("name", sorted(PLOTTED))
def test_deterministic(name: str, tables: MetricTables) -> None:
    board_id = max(tables.board_names)
    assert charts_of(name, board_id, tables) == charts_of(name, board_id, tables)


def hostile_tables(tables: MetricTables) -> MetricTables:
    frames = {name: frame.copy() for name, frame in tables.frames.items()}
    frames["jira_boards"]["name"] = HOSTILE[0]
    for name in ("sprint_velocity", "sprint_targets", "defect_escape_rates"):
        frames[name]["sprint_name"] = [f"{HOSTILE[n % 2]} {n}" for n in range(len(frames[name]))]
    return MetricTables(tables.as_of, frames)


@pytest.mark.parametrize("name", sorted(PLOTTED))
def test_hostile_names_escaped(name: str, tables: MetricTables) -> None:
    board_id = min(tables.board_names)
    chart = charts_of(name, board_id, hostile_tables(tables))[0]
    assert "<script" not in chart.svg and "<img" not in chart.svg
    root = ET.fromstring(chart.svg)  # still well-formed XML
    assert HOSTILE[0] in (root.find("{http://www.w3.org/2000/svg}title").text or "")
    if name in BY_SPRINT:
        assert "&lt;img src=x onerror=alert(1)&gt;" in chart.svg


def relative_luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula_on_known_pairs() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_severity_badges_have_at_least_4_5_to_1_contrast() -> None:
    """The badge colours are the template's CSS variables (`--error` on `--error-bg`, ...)."""
    template = (
        Path(jira_insights_pipeline.report.__file__).parent / "templates" / "insights.html.j2"
    ).read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", template))
    for severity in ("error", "warning", "info"):
        ratio = contrast(colours[severity], colours[f"{severity}-bg"])
        assert ratio >= 4.5, (severity, round(ratio, 2))
        assert contrast(colours[severity], "#ffffff") >= 4.5  # text on the white card too


def test_change_labels_have_at_least_4_5_to_1_contrast() -> None:
    """Each change label's colour on its background, read from the template's own rules
    (`.change.new { color: var(--new); background: var(--new-bg); }`)."""
    template = (
        Path(jira_insights_pipeline.report.__file__).parent / "templates" / "insights.html.j2"
    ).read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", template))
    rule = r"\.change\.([a-z]+) \{ color: var\(--([a-z-]+)\); background: var\(--([a-z-]+)\); \}"
    rules = {
        change: (colour, background) for change, colour, background in re.findall(rule, template)
    }
    assert sorted(rules) == sorted(CHANGE_LABEL)
    for change, (colour, background) in rules.items():
        ratio = contrast(colours[colour], colours[background])
        assert ratio >= 4.5, (change, round(ratio, 2))
