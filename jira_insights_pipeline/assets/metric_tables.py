"""What every metric table asset does the same way: its asset options, the Pandera validation
that fails a broken table, and the stored output with the metadata a person looks at."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from jira_insights_pipeline.assets.metadata import table_metadata, validation_failure
from jira_insights_pipeline.validation import TableValidationError, validate_table

METRIC_KINDS = {"pandas", "duckdb"}


def metric_asset_options(group: str) -> dict[str, Any]:
    """The options of a metric table asset of `group` (its package): stored in DuckDB schema
    `metrics` by the warehouse IO manager."""
    return {"group_name": group, "kinds": METRIC_KINDS, "metadata": {"schema": "metrics"}}


def validated(model: type[pa.DataFrameModel], frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """`frame` checked against its Pandera `model`; a broken table fails the asset, naming the
    rows and rules that broke."""
    try:
        return validate_table(model, frame, table)
    except TableValidationError as error:
        raise validation_failure(error) from None


def figure(value: float | None) -> float | None:
    """A metadata figure rounded to 4 places; null for a missing value (a max over no rows)."""
    return None if value is None or pd.isna(value) else round(float(value), 4)


def metric_output(
    table: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    preview: pd.DataFrame,
    preview_label: str = "preview",
    figures: Mapping[str, Any],
) -> dg.Output[pd.DataFrame]:
    """The table to store, with its size, schema, `preview` and the "as of" day followed by
    `figures` as metadata."""
    return dg.Output(
        table,
        metadata=table_metadata(
            table,
            preview=preview,
            preview_label=preview_label,
            extra={"as_of": as_of.isoformat(), **figures},
        ),
    )
