"""The HTML insights report (group `insights`): `<data folder>/report/insights.html`.

The asset only orchestrates: it reads the insight files the insight assets wrote (validated
against insight.schema.json) and the metric tables, and hands them to
`jira_insights_pipeline.report.render`.
"""

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from jira_insights_pipeline.insights.documents import InsightDocumentError, validate_document
from jira_insights_pipeline.report.render import ReportTables, render_report, report_context
from jira_insights_pipeline.resources.settings import PipelineSettings

REPORT_FOLDER = "report"
REPORT_FILE = "insights.html"
FEED_FILE = "insights_feed.json"
USE_CASE_FILES = (
    "scope_creep_insights.json",
    "missed_target_insights.json",
    "defect_leakage_insights.json",
    "team_health_insights.json",
    "velocity_insights.json",
)


def report_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / REPORT_FOLDER / REPORT_FILE


def read_insights(insights_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The current insights (the feed file, else every use case's file) and the files read.
    A file that breaks the schema fails the asset: the report must not show a broken insight."""
    feed = insights_dir / FEED_FILE
    files = [feed] if feed.exists() else [insights_dir / name for name in USE_CASE_FILES]
    insights: list[dict[str, Any]] = []
    read: list[str] = []
    for path in files:
        if not path.exists():
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        try:
            validate_document(document)
        except InsightDocumentError as error:
            raise dg.Failure(
                description=f"{path} is not a valid insights file, so the report was not "
                f"written. Re-materialize the insight assets. {error}"
            ) from None
        insights += document["insights"]
        read.append(path.name)
    return insights, read


@dg.asset(
    group_name="insights",
    kinds={"html", "jinja"},
    deps=[dg.AssetKey("insights_feed")],
)
def insights_report(
    context: dg.AssetExecutionContext,
    pipeline_settings: PipelineSettings,
    jira_snapshot: pd.DataFrame,
    jira_boards: pd.DataFrame,
    sprint_commitments: pd.DataFrame,
    sprint_velocity: pd.DataFrame,
    defect_escape_rates: pd.DataFrame,
    hygiene_scores: pd.DataFrame,
    cycle_time_trends: pd.DataFrame,
) -> dg.MaterializeResult:
    """One self-contained HTML page, `<data folder>/report/insights.html`: one section per
    board (anchor `#board-<id>`, the link alerts carry) with its key figures, each marked when
    it crossed its threshold, and its current insights by severity with their evidence."""
    insights, files = read_insights(pipeline_settings.insights_dir)
    if not files:
        context.log.warning(
            f"No insight files in {pipeline_settings.insights_dir}: the report shows the key "
            "figures only. Materialize the insight assets to add the insights."
        )
    as_of = pipeline_settings.as_of_for(jira_snapshot) if not jira_snapshot.empty else None
    site = str(jira_snapshot["site"].iloc[0]) if not jira_snapshot.empty else None
    tables = ReportTables(
        jira_boards=jira_boards,
        sprint_commitments=sprint_commitments,
        sprint_velocity=sprint_velocity,
        defect_escape_rates=defect_escape_rates,
        hygiene_scores=hygiene_scores,
        cycle_time_trends=cycle_time_trends,
    )
    page_context = report_context(
        insights,
        tables,
        pipeline_settings.thresholds(),
        as_of=None if as_of is None else as_of.isoformat(),
        site=site,
    )
    html = render_report(page_context)
    path = report_path(pipeline_settings.data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed, so a reader never opens half a page.
    partial = path.with_suffix(".html.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)
    boards = page_context["boards"]
    summary = "\n".join(
        f"| {board.name} | {board.count('error')} | {board.count('warning')} | "
        f"{', '.join(f.label for f in board.figures if f.alert) or '–'} |"
        for board in boards
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path.resolve())),
            "url": dg.MetadataValue.url(path.resolve().as_uri()),
            "bytes": len(html.encode("utf-8")),
            "boards": len(boards),
            "insights": len(insights),
            "error": page_context["totals"]["error"],
            "warning": page_context["totals"]["warning"],
            "insight_files": ", ".join(files) or "none",
            "boards_summary": dg.MetadataValue.md(
                "| board | errors | warnings | figures over threshold |\n"
                "| --- | --- | --- | --- |\n" + summary
            ),
        }
    )
