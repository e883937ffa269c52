"""Metadata shown in the Dagster UI for a table: its size and a readable preview."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd

from jira_insights_pipeline.markdown import markdown_escape
from jira_insights_pipeline.validation import TableValidationError

PREVIEW_ROWS = 10


def markdown_preview(frame: pd.DataFrame, rows: int = PREVIEW_ROWS) -> dg.MetadataValue:
    """The first `rows` rows as a markdown table, text escaped (lists shown comma-separated)."""
    if frame.empty:
        return dg.MetadataValue.md("_no rows_")
    shown = frame.head(rows).copy()
    for column in shown.columns:
        if shown[column].dtype == object:
            shown[column] = shown[column].map(_cell)
    return dg.MetadataValue.md(shown.to_markdown(index=False))


def _cell(value: Any) -> Any:
    """A text cell as literal Markdown (Jira text must not become a link, image or HTML in the
    Dagster UI); lists as comma-separated text."""
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        return markdown_escape(", ".join(str(item) for item in items))
    if isinstance(value, str):
        return markdown_escape(value)
    return value


def table_metadata(
    frame: pd.DataFrame,
    *,
    preview: pd.DataFrame | None = None,
    preview_label: str = "preview",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Row count, column schema and a markdown preview (pass `preview` to show, say, the
    worst rows instead of the first ones)."""
    metadata: dict[str, Any] = {
        "dagster/row_count": len(frame),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()]
        ),
        preview_label: markdown_preview(frame if preview is None else preview),
    }
    if extra:
        metadata.update(extra)
    return metadata


def validation_failure(error: TableValidationError) -> dg.Failure:
    """A Dagster failure naming the table, rows, columns and rules that broke."""
    return dg.Failure(
        description=str(error),
        metadata={
            "table": error.table,
            "failing_values": len(error.failure_cases),
            "failure_cases": markdown_preview(
                error.failure_cases[["index", "column", "check", "failure_case"]], rows=20
            ),
        },
    )
