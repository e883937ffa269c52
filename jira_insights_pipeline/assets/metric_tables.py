"""What every metric table asset and threshold check does the same way: the asset options, the
Pandera validation that fails a broken table, the stored output with its metadata, and a check
result naming the rows that crossed a threshold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metadata import (
    markdown_preview,
    table_metadata,
    validation_failure,
)
from jira_insights_pipeline.schemas import ISSUE_METRIC_SCHEMAS, SPRINT_METRIC_SCHEMAS
from jira_insights_pipeline.validation import TableValidationError, validate_table

METRICS_GROUP = "metrics"
METRIC_ASSET_OPTIONS: dict[str, Any] = {
    "group_name": METRICS_GROUP,
    "kinds": {"pandas", "duckdb"},
    "metadata": {"schema": "metrics"},
}
METRIC_SCHEMAS = {**ISSUE_METRIC_SCHEMAS, **SPRINT_METRIC_SCHEMAS}


def validated(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` checked against the Pandera model of metric table `table`; a broken table fails
    the asset, naming the rows and rules that broke."""
    try:
        return validate_table(METRIC_SCHEMAS[table], frame, table)
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


def named_sprints(rows: pd.DataFrame, describe: str) -> str:
    """Each sprint of `rows` as "board 1, Sprint 4 (sprint 4): " followed by `describe`, a
    format string that reads the row as `row` ("{row.escape_rate:.0%}")."""
    return "; ".join(
        f"board {_board(row.board_id)}, {row.sprint_name} (sprint {int(row.sprint_id)}): "
        + describe.format(row=row)
        for row in rows.itertuples(index=False)
    )


def _board(board_id: object) -> str:
    # Read back from DuckDB, a nullable id column may arrive as floats (1.0) or with nulls.
    return "none" if pd.isna(board_id) else str(int(board_id))


def threshold_check(
    crossed: pd.DataFrame,
    *,
    severity: dg.AssetCheckSeverity,
    passed_description: str,
    failed_description: str,
    figures: Mapping[str, Any],
    crossed_columns: Sequence[str],
) -> dg.AssetCheckResult:
    """Passes when no row `crossed` the threshold; the metadata holds `figures` and a preview
    of the crossing rows' `crossed_columns`."""
    passed = crossed.empty
    return dg.AssetCheckResult(
        passed=passed,
        severity=severity,
        description=passed_description if passed else failed_description,
        metadata={**figures, "crossed": markdown_preview(crossed[list(crossed_columns)])},
    )
