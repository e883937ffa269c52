"""The HTML insights report (group `insights`): `<data folder>/report/insights.html`.

The asset only orchestrates: it reads the insight files the insight assets wrote (validated
against insight.schema.json) and the tables each use case's report figure reads, and hands them
to `jira_insights_pipeline.report.render`.
"""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metadata import markdown_escape
from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.insights.documents import InsightDocumentError, validate_document
from jira_insights_pipeline.insights.tables import MetricTables
from jira_insights_pipeline.registry import Thresholds, use_cases
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.render import render_report, report_context
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.use_case import UseCase


def _report_inputs(use_cases: Sequence[UseCase]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for use_case in use_cases for t in use_case.report_inputs))


def report_path(data_dir: str | Path) -> Path:
    return DataFolder.at(data_dir).report


def read_insights(folder: DataFolder) -> tuple[list[dict[str, Any]], list[str]]:
    """The current insights of the data `folder` (the feed file, else every use case's file)
    and the files read. A file that breaks the schema fails the asset: the report must not
    show a broken insight."""
    feed = folder.insights_feed
    use_case_files = [folder.insights_file(u.insight_asset) for u in use_cases()]
    files = [feed] if feed.exists() else use_case_files
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


def build_report_asset(use_cases: Sequence[UseCase]) -> dg.AssetsDefinition:
    """The report asset, reading each use case's report tables."""
    inputs = _report_inputs(use_cases)

    @dg.asset(
        group_name="insights",
        kinds={"html", "jinja"},
        deps=[dg.AssetKey("insights_feed")],
        ins={table: dg.AssetIn(key=table) for table in ("jira_snapshot", "jira_boards", *inputs)},
    )
    def insights_report(
        context: dg.AssetExecutionContext,
        pipeline_settings: PipelineSettings,
        thresholds: Thresholds,
        **tables: pd.DataFrame,
    ) -> dg.MaterializeResult:
        """One self-contained HTML page, `<data folder>/report/insights.html`: one section per
        board (anchor `#board-<id>`, the link alerts carry) with its key figures, each marked
        when it crossed its rule, and its current insights by severity with their evidence."""
        insights, files = read_insights(pipeline_settings.folder)
        if not files:
            context.log.warning(
                f"No insight files in {pipeline_settings.insights_dir}: the report shows the "
                "key figures only. Materialize the insight assets to add the insights."
            )
        snapshot = tables["jira_snapshot"]
        as_of = pipeline_settings.as_of_for(snapshot) if not snapshot.empty else None
        site = str(snapshot["site"].iloc[0]) if not snapshot.empty else None
        current = MetricTables(as_of="" if as_of is None else as_of.isoformat(), frames=tables)

        def figures(board_id: int) -> list[Figure]:
            found = (
                use_case.report_figure(board_id, current, use_case.thresholds_of(thresholds))
                for use_case in use_cases
            )
            return [figure for figure in found if figure is not None]

        page_context = report_context(
            insights,
            current.board_names,
            figures,
            {use_case.name: use_case.label for use_case in use_cases},
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
            f"| {markdown_escape(board.name)} | {board.count('error')} | "
            f"{board.count('warning')} | "
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

    return insights_report
