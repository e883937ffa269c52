"""Insight files: `<data folder>/insights/<asset name>.json`, and the feed's dated copy
`<data folder>/insights/history/<YYYY-MM-DD>.json` (insights/history.py).

A run writes its insight files into its draft (`runs/<run id>/insights/`), each to a temporary
name renamed into place, and its `publication` step renames them over the published ones, so no
reader ever sees half a file or a mix of two runs. The IO manager validates every document
against insight.schema.json on the way out and on the way in, so no consumer ever reads a file
that breaks the schema.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from jira_insights_pipeline.data_folder import DataFolder, write_text_atomically
from jira_insights_pipeline.insights.documents import (
    FEED_ASSET,
    InsightDocumentError,
    dumps,
    validate_document,
)
from jira_insights_pipeline.insights.history import history_file_name
from jira_insights_pipeline.resources.io_managers import source_run_id


def read_insight_file(path: Path) -> dict[str, Any]:
    """A validated insight document, or an error naming the file and what to do."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InsightDocumentError(
            f"{path} is not readable JSON ({error}); it was probably cut short. Re-materialize "
            "the insight assets (the `insights` step) to write it again."
        ) from None
    try:
        validate_document(document)
    except InsightDocumentError as error:
        raise InsightDocumentError(
            f"{path} is not a valid insights file: {error} Re-materialize the insight assets."
        ) from None
    return document


def current_insight_file(folder: DataFolder, run_ids: Sequence[str], name: str) -> Path:
    """The insight file `name` as a run sees it: from the first of `run_ids` (the run, then
    the runs it re-executes) whose draft has it, else the published one."""
    for run_id in run_ids:
        drafted = folder.draft(run_id).insights / name
        if drafted.is_file():
            return drafted
    return folder.insights / name


class InsightsIOManager(dg.ConfigurableIOManager):
    """The insight assets' IO manager: JSON files under `<data_dir>/insights/`, written through
    the run's draft."""

    data_dir: str = Field(
        default="data",
        description="The pipeline's data folder (JIRA_INSIGHTS_DATA_DIR); insight files go to "
        "its insights/ folder.",
    )

    @property
    def folder(self) -> DataFolder:
        return DataFolder.at(self.data_dir)

    def handle_output(self, context: dg.OutputContext, obj: dict[str, Any]) -> None:
        validate_document(obj)
        # Named after the asset alone: consumers look for insights/<name>.json whatever key
        # prefix the code location gives the asset.
        asset = context.asset_key.path[-1]
        name = f"{asset}.json"
        draft = self.folder.draft(context.run_id)
        text = dumps(obj)
        write_text_atomically(draft.insights / name, text)
        metadata: dict[str, Any] = {
            "dagster/row_count": obj["count"],
            "schema_version": obj["schema_version"],
            # Where readers find it once the run's publication has made it current.
            "path": dg.MetadataValue.path(str(self.folder.insights / name)),
        }
        if asset == FEED_ASSET:
            # The day's copy, published with the feed: what tomorrow's feed compares with.
            day_file = history_file_name(obj["as_of"])
            write_text_atomically(draft.insights_history / day_file, text)
            metadata["history_path"] = dg.MetadataValue.path(
                str(self.folder.insights_history / day_file)
            )
        context.add_output_metadata(metadata)

    def load_input(self, context: dg.InputContext) -> dict[str, Any]:
        name = f"{context.asset_key.path[-1]}.json"
        run_id = source_run_id(context)
        runs = [] if run_id is None else [run_id]
        return read_insight_file(current_insight_file(self.folder, runs, name))
