"""The weekly digest (group `digest`): `<data folder>/report/weekly-<ISO week>.md`, `.html`
and `.json`.

The weekly schedule materializes it (with the publication) from the last published data; the
alert sensor then posts one message per board of that digest to the webhooks, once
(automation/sensors.py). A digest any other run writes is a file only, never posted. The asset
only orchestrates: the digest is built and written by `jira_insights_pipeline.report.digest`.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.raw import run_lineage
from jira_insights_pipeline.assets.report import read_insight_documents
from jira_insights_pipeline.data_folder import write_text_atomically
from jira_insights_pipeline.insights.documents import FEED_ASSET, dumps
from jira_insights_pipeline.insights.history import previous_feed
from jira_insights_pipeline.insights.tables import MetricTables
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.report.digest import (
    DigestWeek,
    build_digest,
    compared_day,
    digest_file_stem,
    digest_html,
    digest_markdown,
)
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.service.feedback import NO_FEEDBACK, read_feedback
from jira_insights_pipeline.use_case import UseCase

DIGEST_ASSET = "weekly_digest"
DIGEST_GROUP = "digest"
# Dagster's tag on a run a schedule launched: the tick's time. Only the weekly job carries the
# digest among the scheduled jobs, so a run with it is the weekly schedule's.
SCHEDULED_TIME_TAG = "dagster/scheduled_execution_time"


def build_digest_asset(use_cases: Sequence[UseCase]) -> dg.AssetsDefinition:
    """The weekly digest asset, reading the feed and each use case's report tables."""
    inputs = tuple(dict.fromkeys(t for use_case in use_cases for t in use_case.report_inputs))

    @dg.asset(
        name=DIGEST_ASSET,
        group_name=DIGEST_GROUP,
        kinds={"markdown", "html", "json"},
        deps=[dg.AssetKey(FEED_ASSET)],
        ins={table: dg.AssetIn(key=table) for table in ("jira_snapshot", "jira_boards", *inputs)},
    )
    def weekly_digest(
        context: dg.AssetExecutionContext,
        pipeline_settings: PipelineSettings,
        thresholds: Thresholds,
        **tables: pd.DataFrame,
    ) -> dg.MaterializeResult:
        """One file set per ISO week, `report/weekly-<week>.md`, `.html` and `.json`; one
        section (and one chat message) per board: its key figures, completion over the last
        sprints and the forecast, what needs attention and why, and what is new or resolved
        since the feed of a week before."""
        folder = pipeline_settings.folder
        documents, _ = read_insight_documents(folder, run_lineage(context))
        feed = next((d for d in documents if d["asset"] == FEED_ASSET), None)
        if feed is None:
            raise dg.Failure(
                description=f"No insights feed in {folder.insights}: the digest says what "
                "needs attention from it. Materialize the insight assets first (make demo)."
            )
        as_of = pipeline_settings.as_of_for(tables["jira_snapshot"])
        as_of_day: date = as_of.tz_convert("UTC").date()
        week_before = previous_feed(
            folder.insights_history, compared_day(as_of_day), context.log.warning
        )
        current = MetricTables(as_of=as_of.isoformat(), frames=tables)

        def figures(board_id: int) -> list[Figure]:
            found = (
                u.report_figure(board_id, current, u.thresholds_of(thresholds)) for u in use_cases
            )
            return [figure for figure in found if figure is not None]

        def trends(board_id: int) -> list[str]:
            return [
                line
                for u in use_cases
                for line in u.digest_trends(board_id, current, u.thresholds_of(thresholds))
            ]

        week = DigestWeek.of_run(
            context.run.tags.get(SCHEDULED_TIME_TAG), as_of_day, datetime.now(tz=UTC)
        )
        # The team's verdicts, read-only: they order what needs attention. A store that
        # cannot be read is warned about and the digest keeps the feed's order.
        feedback = read_feedback(folder.feedback, warn=context.log.warning)
        digest = build_digest(
            week,
            as_of.isoformat(),
            feed["insights"],
            week_before,
            current.board_names,
            figures,
            trends,
            feedback or NO_FEEDBACK,
        )
        markdown = digest_markdown(digest)
        stem = digest_file_stem(digest["week"])
        # Into the run's draft: the publication step puts them beside the report page.
        draft = folder.draft(context.run.run_id).report.parent
        write_text_atomically(draft / f"{stem}.md", markdown)
        write_text_atomically(draft / f"{stem}.html", digest_html(digest))
        write_text_atomically(draft / f"{stem}.json", dumps(digest))
        published = folder.report.parent / f"{stem}.html"
        attention = sum(len(board["attention"]) for board in digest["boards"])
        return dg.MaterializeResult(
            metadata={
                "week": digest["week"],
                "posted": "by the alert sensor" if week.scheduled else "no: not scheduled",
                "path": dg.MetadataValue.path(str(published.resolve())),
                "boards": len(digest["boards"]),
                "needs_attention": attention,
                "new": sum(len(board["new"]) for board in digest["boards"]),
                "resolved": sum(len(board["resolved"]) for board in digest["boards"]),
                "compared_with": digest["compared_with"] or "none",
                "digest": dg.MetadataValue.md(markdown),
            }
        )

    return weekly_digest
