"""The run's last step (group `publish`): everything the run wrote becomes current at once.

Until this step, a run writes only into its draft (`<data folder>/runs/<run id>/`); this asset
depends on every other asset, so Dagster runs it last and skips it when any step before it
failed. See jira_insights_pipeline/publication.py for what publishing does and why it is safe to
repeat.
"""

import shutil
from collections.abc import Sequence

import dagster as dg

from jira_insights_pipeline.assets.raw import run_lineage, run_started_at
from jira_insights_pipeline.automation.run_status import ACTIVE_STATUSES
from jira_insights_pipeline.publication import (
    StalePublicationError,
    abandoned_drafts,
    finish_interrupted_publications,
    publish_run,
)
from jira_insights_pipeline.resources.settings import PipelineSettings

PUBLICATION_ASSET = "publication"
PUBLISH_GROUP = "publish"


def build_publication_asset(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publication asset, downstream of every asset in `upstream`."""

    @dg.asset(name=PUBLICATION_ASSET, group_name=PUBLISH_GROUP, kinds={"duckdb"}, deps=upstream)
    def publication(
        context: dg.AssetExecutionContext, pipeline_settings: PipelineSettings
    ) -> dg.MaterializeResult:
        """What this run made current: its warehouse tables, swapped in one DuckDB transaction
        (one row of `pipeline.publications` per published run), then its insight files, its
        report and its raw snapshot pointer. Select it with whatever you materialize; a run
        without it leaves its outputs in its draft, unpublished."""
        folder = pipeline_settings.folder
        for finished in finish_interrupted_publications(folder):
            context.log.warning(
                f"Finished the publication of run {finished.run_id}, which stopped half way."
            )
        try:
            own, *re_executes = run_lineage(context)
            published = publish_run(folder, own, run_started_at(context), re_executes)
        except StalePublicationError as error:
            raise dg.Failure(description=str(error)) from None
        active = {
            record.dagster_run.run_id
            for record in context.instance.get_run_records(
                filters=dg.RunsFilter(statuses=ACTIVE_STATUSES)
            )
        }
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
