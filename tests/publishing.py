"""Test runs that publish. A pipeline run writes into its draft and only its `publication` step
makes that current (jira_insights_pipeline/publication.py), so a test that materializes its own
list of assets and then reads the warehouse or the insight files adds the publication, as every
job of the real Definitions does."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from jira_insights_pipeline.assets.publication import build_publication_asset
from jira_insights_pipeline.data_folder import DataFolder


def with_publication(assets: Sequence[Any]) -> list[Any]:
    """`assets` and a publication downstream of every asset among them."""
    keys: list[dg.AssetKey] = []
    for asset in assets:
        if isinstance(asset, dg.AssetSpec):
            keys.append(asset.key)
        elif isinstance(asset, dg.AssetsDefinition):
            keys.extend(asset.keys)
    return [*assets, build_publication_asset(keys)]


def published_state(data_dir: Path) -> dict[str, str]:
    """A digest of everything current in a data folder: the raw pointer, every warehouse table's
    rows (in a fixed order), every insight file (with the feed's history) and the report. Two
    equal digests mean a reader sees exactly the same data."""
    folder = DataFolder(data_dir)
    state = {"raw/latest.json": folder.raw_pointer.read_text(encoding="utf-8")}
    for path in [*sorted(folder.insights.rglob("*.json")), folder.report]:
        state[str(path.relative_to(data_dir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    with duckdb.connect(str(folder.warehouse), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            frame = connection.execute(f'select * from "{schema}"."{table}"').fetchdf()
            rows = frame.astype(str).sort_values(list(frame.columns)).to_csv(index=False)
            state[f"{schema}.{table}"] = hashlib.sha256(rows.encode()).hexdigest()
    return state


def copy_data_folder(data_dir: Path, tmp_path: Path) -> Path:
    """A copy of `data_dir` for one test to change."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    return copy
