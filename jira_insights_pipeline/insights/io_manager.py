"""Insight files: `<data folder>/insights/<asset name>.json`, through universal-pathlib so the
data folder may also be an fsspec URL (s3://, gs://, memory://).

The IO manager validates every document against insight.schema.json on the way out and on the
way in, so no consumer ever reads a file that breaks the schema.
"""

from __future__ import annotations

import json
from typing import Any

import dagster as dg
from pydantic import Field
from upath import UPath

from jira_insights_pipeline.data_folder import INSIGHTS_FOLDER
from jira_insights_pipeline.insights.documents import dumps, validate_document


class InsightJsonIOManager(dg.UPathIOManager):
    """Writes an insight document as `<base_path>/<asset name>.json` and reads it back."""

    extension: str = ".json"

    def get_asset_relative_path(self, context: dg.InputContext | dg.OutputContext) -> UPath:
        # The file is named after the asset alone: consumers look for insights/<name>.json
        # whatever key prefix the code location gives the asset.
        return UPath(context.asset_key.path[-1])

    def dump_to_path(self, context: dg.OutputContext, obj: dict[str, Any], path: UPath) -> None:
        validate_document(obj)
        path.write_text(dumps(obj), encoding="utf-8")

    def load_from_path(self, context: dg.InputContext, path: UPath) -> dict[str, Any]:
        document = json.loads(path.read_text(encoding="utf-8"))
        validate_document(document)
        return document

    def get_metadata(self, context: dg.OutputContext, obj: dict[str, Any]) -> dict[str, Any]:
        return {"dagster/row_count": obj["count"], "schema_version": obj["schema_version"]}


class InsightsIOManager(dg.ConfigurableIOManagerFactory):
    """The insight assets' IO manager: JSON files under `<data_dir>/insights/`."""

    data_dir: str = Field(
        default="data",
        description="The pipeline's data folder (JIRA_INSIGHTS_DATA_DIR); insight files go to "
        "its insights/ folder. A local path or an fsspec URL.",
    )

    def create_io_manager(self, context: dg.InitResourceContext) -> InsightJsonIOManager:
        # DataFolder.insights, as a UPath: the data folder may also be an fsspec URL.
        return InsightJsonIOManager(base_path=UPath(self.data_dir) / INSIGHTS_FOLDER)
