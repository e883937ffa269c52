"""The HTML insights report (group `insights`): `<data folder>/report/insights.html`.

The asset only orchestrates: it reads the insight files the insight assets wrote (validated
against insight.schema.json) and the tables each use case's report figure reads, and hands them
to `jira_insights_pipeline.report.render`.
"""

from collections.abc import Sequence
from typing import Any

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.raw import run_lineage
from jira_insights_pipeline.data_folder import FEED_FILE, DataFolder, write_text_atomically
from jira_insights_pipeline.insights.documents import FEED_ASSET, InsightDocumentError
from jira_insights_pipeline.insights.io_manager import current_insight_file, read_insight_file
from jira_insights_pipeline.insights.tables import MetricTables
from jira_insights_pipeline.markdown import markdown_escape
from jira_insights_pipeline.registry import Thresholds, use_cases
from jira_insights_pipeline.report.charts import Chart, metadata_markdown
from jira_insights_pipeline.report.exports import export_files
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.render import render_report, report_context
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.use_case import UseCase


def _report_inputs(use_cases: Sequence[UseCase]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for use_case in use_cases for t in use_case.report_inputs))


def read_insight_documents(
    folder: DataFolder, run_ids: Sequence[str] = ()
) -> tuple[list[dict[str, Any]], list[str]]:
    """The insight documents a run sees in the data `folder` (the feed file, else every use
    case's file; each from the draft of the first of `run_ids` that has it, else the published
    one) and the files read. A file that is cut short or breaks the schema fails the asset: the
    report must not show a broken insight."""
    names = [FEED_FILE] + [f"{u.insight_asset}.json" for u in use_cases()]
    paths = [current_insight_file(folder, run_ids, name) for name in names]
    files = paths[:1] if paths[0].is_file() else paths[1:]
    documents: list[dict[str, Any]] = []
    read: list[str] = []
    for path in files:
        if not path.is_file():
            continue
        try:
            documents.append(read_insight_file(path))
        except InsightDocumentError as error:
            raise dg.Failure(description=f"The report was not written: {error}") from None
        read.append(path.name)
    return documents, read


def read_insights(
    folder: DataFolder, run_ids: Sequence[str] = ()
) -> tuple[list[dict[str, Any]], list[str]]:
    """The insights of `read_insight_documents`, and the files read."""
    documents, read = read_insight_documents(folder, run_ids)
    return [insight for document in documents for insight in document["insights"]], read


def build_report_asset(use_cases: Sequence[UseCase]) -> dg.AssetsDefinition:
    """The report asset, reading each use case's report tables."""
    inputs = _report_inputs(use_cases)

    # single_run: a backfill of the daily history (`make history`) redraws the page once.
    @dg.asset(
        group_name="insights",
        kinds={"html", "jinja"},
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[dg.AssetKey("insights_feed")],
        ins={
            table: dg.AssetIn(key=table)
            for table in ("jira_snapshot", "jira_boards", "jira_data_quality", *inputs)
        },
    )
    def insights_report(
        context: dg.AssetExecutionContext,
        pipeline_settings: PipelineSettings,
        thresholds: Thresholds,
        **tables: pd.DataFrame,
    ) -> dg.MaterializeResult:
        """One self-contained HTML page, `<data folder>/report/insights.html`: one section per
        board (anchor `#board-<id>`, the link alerts carry) with its key figures, each marked
        when it crossed its rule, and its current insights by severity with their evidence; then
        the values the snapshot held that no figure could use (`jira_data_quality`)."""
        folder = pipeline_settings.folder
        documents, files = read_insight_documents(folder, run_lineage(context))
        insights = [insight for document in documents for insight in document["insights"]]
        # Only the feed compares with the previous day; the use-case files alone do not say.
        feed = next((d for d in documents if d["asset"] == FEED_ASSET), None)
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

        def charts(board_id: int) -> list[Chart]:
            return [
                chart
                for use_case in use_cases
                for chart in use_case.report_charts(
                    board_id, current, use_case.thresholds_of(thresholds)
                )
            ]

        page_context = report_context(
            insights,
            current.board_names,
            figures,
            {use_case.name: use_case.label for use_case in use_cases},
            as_of=None if as_of is None else as_of.isoformat(),
            site=site,
            data_quality=tables["jira_data_quality"].to_dict("records"),
            charts=charts,
            compared_with=None if feed is None else feed["compared_with"],
            resolved=[] if feed is None else feed["resolved"],
        )
        html = render_report(page_context)
        # Into the run's draft: the publication step puts it where readers look.
        draft = folder.draft(context.run.run_id).report
        write_text_atomically(draft, html)
        exports = export_files(page_context)
        for name, text in exports.items():
            write_text_atomically(draft.parent / name, text)
        path = folder.report
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
                "exports": ", ".join(sorted(exports)),
                "charts": sum(len(board.charts) for board in boards),
                "insights": len(insights),
                "error": page_context["totals"]["error"],
                "warning": page_context["totals"]["warning"],
                "compared_with": page_context["compared_with"] or "none",
                "resolved": sum(len(board.resolved) for board in boards),
                "insight_files": ", ".join(files) or "none",
                "values_left_out": len(page_context["data_quality"]),
                "boards_summary": dg.MetadataValue.md(
                    "| board | errors | warnings | figures over threshold |\n"
                    "| --- | --- | --- | --- |\n" + summary
                ),
                # The page's charts, as images the Dagster UI shows: one entry per board.
                **{
                    f"charts_{board.anchor}": dg.MetadataValue.md(
                        metadata_markdown(board.charts, markdown_escape)
                    )
                    for board in boards
                    if board.charts
                },
            }
        )

    return insights_report
