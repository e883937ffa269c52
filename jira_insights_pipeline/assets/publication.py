"""The run's last step (group `publish`): everything the run wrote becomes current at once.

Until this step, a run writes only into its draft (`<data folder>/runs/<run id>/`); this asset
depends on every other asset, so Dagster runs it last and skips it when any step before it
failed. See jira_insights_pipeline/publication.py for what publishing does and why it is safe to
repeat.
"""

import shutil
from collections.abc import Sequence
from datetime import datetime

import dagster as dg

from jira_insights_pipeline.assets.raw import run_lineage, run_started_at
from jira_insights_pipeline.automation.run_status import active_run_ids
from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.publication import (
    StalePublicationError,
    abandoned_drafts,
    finish_interrupted_publications,
    publish_run,
    published_data_time,
)
from jira_insights_pipeline.resources.settings import PipelineSettings

PUBLICATION_ASSET = "publication"
PUBLISH_GROUP = "publish"


def data_time(
    context: dg.AssetExecutionContext, folder: DataFolder, lineage: Sequence[str]
) -> datetime:
    """How new the data being published is: the start of the run that fetched its snapshot
    (for a re-execution that skipped the raw step, the run it re-executes). A run that fetched
    none (the weekly digest, a history backfill) built its outputs from the published data,
    which dates from the newest publication; with nothing published yet, from this run's start.
    An older snapshot never goes over a newer one, whichever run publishes it, and a run that
    read the published data never blocks a daily run that started before it."""
    for run_id in lineage:
        if folder.draft(run_id).raw_pointer.is_file():
            return run_started_at(context, run_id)
    return published_data_time(folder) or run_started_at(context)


def build_publication_asset(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publication asset, downstream of every asset in `upstream`."""

    # single_run: a backfill of the daily history (any range of days) is one run, and this is
    # its last step, so `dagster asset materialize --partition-range` can select it.
    @dg.asset(
        name=PUBLICATION_ASSET,
        group_name=PUBLISH_GROUP,
        kinds={"duckdb"},
        deps=upstream,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def publication(
        context: dg.AssetExecutionContext, pipeline_settings: PipelineSettings
    ) -> dg.MaterializeResult:
        """What this run made current: its warehouse tables, swapped in one DuckDB transaction
        (one row of `pipeline.publications` per published run), then its insight files, its
        report and its raw snapshot pointer. Select it with whatever you materialize; a run
        without it leaves its outputs in its draft, unpublished."""
        folder = pipeline_settings.folder
        active = active_run_ids(context.instance)
        for finished in finish_interrupted_publications(folder, active):
            context.log.warning(
                f"Finished the publication of run {finished.run_id}, which stopped half way."
            )
        lineage = run_lineage(context)
        try:
            published = publish_run(
                folder, lineage[0], data_time(context, folder, lineage), lineage[1:]
            )
        except StalePublicationError as error:
            raise dg.Failure(description=str(error)) from None
        for draft in abandoned_drafts(folder, active):
            shutil.rmtree(draft, ignore_errors=True)
            context.log.info(f"Removed the draft of run {draft.name}, which never published.")
        listed = [f"- table `{t}`" for t in published.tables]
        listed += [f"- file `{f}`" for f in published.files]
        return dg.MaterializeResult(
            metadata={
                "tables": len(published.tables),
                "files": len(published.files),
                "raw_snapshot": published.raw_snapshot or "unchanged",
                "published": dg.MetadataValue.md("\n".join(listed) or "_Nothing to publish._"),
            }
        )

    return publication
