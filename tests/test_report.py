"""The HTML insights report: the `insights_report` asset materialized by the real Definitions on
the bundled sample site (boards ordered by severity, each with its key figures marked where they
crossed a threshold and its insights with evidence linked to Jira), the escaping of text that
came from Jira or the model, the page with nothing to show yet, refusal of a broken insight file,
the exports beside the page (CSV rows are the feed's insights), the charts each board section
carries (one SVG mark per plotted sprint, so a chart that drops or invents a sprint fails), and
a real render by headless Chromium."""

from __future__ import annotations

import base64
import csv
import json
import re
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import pytest
from automation_runs import materialize

from jira_insights_pipeline.assets.report import read_insights
from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.insights.documents import insight_document
from jira_insights_pipeline.report.render import render_report, report_context

CHROMIUM = Path("/usr/bin/chromium")


class Sections(HTMLParser):
    """The page's board sections in order, each with its text and the parts that matter."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []
        self.text: dict[str, str] = {}
        self.alert_figures: dict[str, list[str]] = {}
        self.links: list[str] = []
        self._section: str | None = None
        self._figure_alert = False
        self._capture: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "section" and (attributes.get("id") or "").startswith("board-"):
            self._section = attributes["id"]
            self.order.append(self._section)
            self.text[self._section] = ""
            self.alert_figures[self._section] = []
        classes = (attributes.get("class") or "").split()
        if tag == "div" and "figure" in classes:
            self._figure_alert = "alert" in classes
            self._capture = []
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")

    def handle_data(self, data: str) -> None:
        if self._section:
            self.text[self._section] += data
            if self._figure_alert:
                self._capture.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._figure_alert and len([c for c in self._capture if c]) >= 3:
            label, value = [c for c in self._capture if c][:2]
            assert self._section is not None
            self.alert_figures[self._section].append(f"{label}={value}")
            self._figure_alert = False
        if tag == "section":
            self._section = None


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    data_dir = tmp_path_factory.mktemp("report") / "data"
    with dg.instance_for_test() as instance:
        result = materialize(instance, data_dir)
        assert result.success
        (event,) = [
            e
            for e in result.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey("insights_report")
        ]
        metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    return data_dir, metadata


def test_the_sample_site_report(sample_report: tuple[Path, dict]) -> None:
    data_dir, metadata = sample_report
    page = DataFolder(data_dir).report.read_text(encoding="utf-8")
    parsed = Sections()
    parsed.feed(page)
    # Most severe first: Payments (errors), then Checkout and Mobile App (two warnings each, by
    # name), and healthy Platform.
    assert parsed.order == ["board-3", "board-1", "board-2", "board-4"]
    pay = parsed.text["board-3"]
    assert pay.index("Bugs escaped to production from PAY Sprint 26") < pay.index("Warnings")
    assert "PAY-195" in pay and "found in production, linked to PAY-124" in pay
    assert "https://sample-shop.atlassian.net/browse/PAY-195" in parsed.links
    assert sorted(parsed.alert_figures["board-3"]) == [
        "Completion rate=78%",
        "Escape rate=40%",
        "Hygiene score=58",
    ]
    assert sorted(parsed.alert_figures["board-2"]) == ["Completion rate=38%", "Velocity=16 pts"]
    assert sorted(parsed.alert_figures["board-1"]) == [
        "Median cycle time=7.6 d",
        "Scope growth=42%",
    ]
    assert parsed.alert_figures["board-4"] == []
    assert "Scope grew during CHK Sprint 16" in parsed.text["board-1"]
    assert "Figures as of 20 Nov 2026, 09:00 UTC" in page
    assert "<script" not in page

    insights, files = read_insights(DataFolder(data_dir))
    assert files == ["insights_feed.json"]
    assert metadata["boards"] == 4
    assert metadata["insights"] == len(insights)
    # Both PAY sprints its leakage rule judges (the latest closed and the running one) leak.
    assert metadata["error"] == sum(i["severity"] == "error" for i in insights) == 2
    assert metadata["warning"] == sum(i["severity"] == "warning" for i in insights)
    assert metadata["path"] == str(DataFolder(data_dir).report.resolve())


def _no_figures(board_id: int) -> list:
    return []


LABELS = {"scope_creep": "Scope creep"}


def test_the_dagster_ui_shows_each_boards_charts_as_images(
    sample_report: tuple[Path, dict],
) -> None:
    """The same charts as the page, as base64 PNGs in the report asset's Markdown metadata."""
    data_dir, metadata = sample_report
    page = DataFolder(data_dir).report.read_text(encoding="utf-8")
    for board_id in (1, 2, 3, 4):
        markdown = metadata[f"charts_board-{board_id}"]
        images = re.findall(r"!\[([^\]]*)\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown)
        section = page[page.index(f'id="board-{board_id}"') :]
        section = section[: section.index("</section>")]
        titles = re.findall(r'<title id="[^"]+-title">([^<]*)</title>', section)
        assert len(images) == len(titles) >= 4
        for _, encoded in images:
            assert base64.b64decode(encoded).startswith(b"\x89PNG\r\n\x1a\n")


def test_every_board_section_has_its_charts(sample_report: tuple[Path, dict]) -> None:
    data_dir, metadata = sample_report
    page = DataFolder(data_dir).report.read_text(encoding="utf-8")
    sections = re.findall(r'<section class="board" id="(board-\d+)".*?</section>', page, re.S)
    assert sorted(sections) == ["board-1", "board-2", "board-3", "board-4"]
    total = 0
    for board_id in (1, 2, 3, 4):
        section = page[page.index(f'id="board-{board_id}"') :]
        section = section[: section.index("</section>")]
        charts = re.findall(
            r'<figure class="chart" id="([a-z_]+)-(\d+)">(.*?)</figure>', section, re.S
        )
        assert len(charts) >= 4
        for kind, chart_board, body in charts:
            assert int(chart_board) == board_id
            assert 'role="img"' in body and f'aria-labelledby="{kind}-{board_id}-title"' in body
            points = re.findall(rf'id="{kind}-{board_id}-mark-\d+"', body)
            caption = re.search(r"<figcaption[^>]*>(.*?)</figcaption>", body, re.S)
            assert caption is not None
            # One mark per issue ("<n> finished issues; ...", "<n> open started issues ...") or
            # per sprint or day the text alternative states ("<name>: ...; <name>: ...").
            issues = re.match(r"(\d+) (?:finished|open started) issues", caption.group(1))
            stated = int(issues.group(1)) if issues else caption.group(1).count(";") + 1
            assert len(points) == stated > 0
        total += len(charts)
    assert metadata["charts"] == total


def test_the_exports_beside_the_page(sample_report: tuple[Path, dict]) -> None:
    data_dir, metadata = sample_report
    folder = DataFolder(data_dir).report.parent
    insights, _ = read_insights(DataFolder(data_dir))
    with (folder / "insights.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(insights) == metadata["insights"]
    exported = json.loads((folder / "insights.json").read_text(encoding="utf-8"))["insights"]
    assert sorted(i["id"] for i in exported) == sorted(i["id"] for i in insights)
    # The CSV and the JSON list the same insights in the page's order.
    for row, insight in zip(rows, exported, strict=True):
        assert row["title"] == insight["title"] and row["severity"] == insight["severity"]
        assert row["board_id"] == str(insight["board"]["id"])
        assert row["evidence_keys"].split() == [e["issue_key"] for e in insight["evidence"]]
    page = DataFolder(data_dir).report.read_text(encoding="utf-8")
    for board_id in (1, 2, 3, 4):
        summary = (folder / f"board-{board_id}.md").read_text(encoding="utf-8")
        assert summary.startswith("# ")
        assert f'href="board-{board_id}.md"' in page
    pay = (folder / "board-3.md").read_text(encoding="utf-8")
    assert "## Errors" in pay and "PAY-195" in pay
    assert 'href="insights.csv"' in page and 'href="insights.json"' in page


def test_text_from_jira_or_the_model_is_escaped() -> None:
    hostile = {
        "id": "scope_creep-0123456789abcdef",
        "type": "scope_creep",
        "severity": "warning",
        "title": "<script>alert('title')</script>",
        "message": "Grew & <b>shrank</b>",
        "recommendations": ["<img src=x onerror=alert(1)>"],
        "evidence": [{"issue_key": "CHK-1", "reason": '"><script>x</script>'}],
        "board": {"id": 1, "name": "<i>CHK</i>"},
        "sprint": {"id": 2, "name": "S & 2"},
        "as_of": "2026-11-20T09:00:00+00:00",
    }
    page = render_report(
        report_context([hostile], {}, _no_figures, LABELS, as_of=None, site="javascript:alert(1)")
    )
    assert "<script" not in page and "<img" not in page and "<i>CHK" not in page
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page
    assert "Grew &amp; &lt;b&gt;shrank&lt;/b&gt;" in page
    assert 'href="javascript:' not in page, "a site that is not http(s) is not linked"
    assert "/browse/CHK-1" not in page, "issue links only to an http(s) site"


def test_a_report_with_nothing_yet(tmp_path: Path) -> None:
    page = render_report(report_context([], {}, _no_figures, LABELS, as_of=None, site=None))
    assert "No boards yet" in page and "No metric tables yet" in page
    assert read_insights(DataFolder(tmp_path)) == ([], [])


def test_a_broken_insight_file_fails_the_report(tmp_path: Path) -> None:
    folder = DataFolder(tmp_path)
    folder.insights.mkdir()
    folder.insights_file("scope_creep_insights").write_text('{"asset": "scope_creep_insights"}')
    with pytest.raises(dg.Failure, match="not a valid insights file"):
        read_insights(folder)


def test_a_feed_cut_short_fails_the_report_naming_the_file(tmp_path: Path) -> None:
    """A crash while a feed was written (before writes were atomic) left it at 0 bytes; the
    report then failed with a bare JSONDecodeError."""
    folder = DataFolder(tmp_path)
    folder.insights.mkdir()
    folder.insights_feed.write_text("")
    with pytest.raises(dg.Failure) as raised:
        read_insights(folder)
    message = str(raised.value.description)
    assert str(folder.insights_feed) in message
    assert "not readable JSON" in message and "Re-materialize the insight assets" in message


def test_a_run_reads_its_own_draft_before_the_published_files(tmp_path: Path) -> None:
    folder = DataFolder(tmp_path)
    document = insight_document("insights_feed", "2026-11-20T09:00:00+00:00", [])
    draft = folder.draft("run-1")
    draft.insights.mkdir(parents=True)
    (draft.insights / "insights_feed.json").write_text(json.dumps(document))
    folder.insights.mkdir()
    folder.insights_feed.write_text("not json")  # published, broken: must not be read
    assert read_insights(folder, ["run-1"]) == ([], ["insights_feed.json"])
    with pytest.raises(dg.Failure):
        read_insights(folder, ["another-run"])


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make system-deps)")
def test_chromium_renders_the_page(sample_report: tuple[Path, dict], tmp_path: Path) -> None:
    data_dir, _ = sample_report
    png = tmp_path / "report.png"
    completed = subprocess.run(
        [
            str(CHROMIUM),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={png}",
            "--window-size=1200,2000",
            DataFolder(data_dir).report.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert png.exists(), completed.stderr[-2000:]
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1200, 2000)


CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="Debian's chromium and driver"
)
def test_chromium_screenshots_print_and_loads_nothing_else(
    sample_report: tuple[Path, dict], tmp_path: Path
) -> None:
    """Screenshots at a laptop and a phone width (kept under tmp_path as artifacts), a
    print-to-PDF with a page per board, no console error and no request but the file."""
    import base64
    import io

    from pypdf import PdfReader
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    data_dir, _ = sample_report
    url = DataFolder(data_dir).report.resolve().as_uri()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.get(url)
        for width in (1280, 390):
            driver.set_window_size(width, 1000)
            shot = tmp_path / f"report-{width}.png"
            assert driver.save_screenshot(str(shot))
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            # Charts scale to the page: no horizontal scrolling at either width.
            assert driver.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth"
            )
        pdf = base64.b64decode(
            driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})["data"]
        )
        (tmp_path / "report.pdf").write_bytes(pdf)
        texts = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
        boards = ["CHK board", "MOB board", "PAY board", "PLAT board"]
        # Each board begins a page of its own (print styles break before every board), with
        # its name on it: the first page holding the name after the contents table.
        starts = [
            next(n for n, text in enumerate(texts) if n > 0 and name in text) for name in boards
        ]
        assert len(set(starts)) == len(boards) and len(texts) >= len(boards)
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        requested = {
            json.loads(entry["message"])["message"]["params"]["request"]["url"]
            for entry in driver.get_log("performance")
            if json.loads(entry["message"])["message"]["method"] == "Network.requestWillBeSent"
        }
        assert requested == {url}
    finally:
        driver.quit()


def test_values_left_out_are_listed_and_escaped() -> None:
    row = {
        "subject": "issue",
        "key": "PAY-7",
        "field": "story_points",
        "value": "Infinity<script>",
        "reason": "The story points value is infinite, so it is left out.",
    }
    page = render_report(
        report_context([], {}, _no_figures, LABELS, as_of=None, site=None, data_quality=[row])
    )
    assert 'id="data-quality"' in page and "Data left out" in page
    assert "issue PAY-7" in page and "<code>Infinity&lt;script&gt;</code>" in page
    assert "so it is left out." in page
    clean = render_report(report_context([], {}, _no_figures, LABELS, as_of=None, site=None))
    assert "Data left out" not in clean
