"""Pandera validation that fails with a message a user can act on: which table, which rows,
which columns, which rule."""

from __future__ import annotations

import pandas as pd
import pandera.errors
import pandera.pandas as pa

MAX_LISTED_FAILURES = 20


class TableValidationError(ValueError):
    """A table broke its Pandera model; `failure_cases` holds every failing (row, column)."""

    def __init__(self, table: str, failure_cases: pd.DataFrame) -> None:
        self.table = table
        self.failure_cases = failure_cases
        super().__init__(describe_failures(table, failure_cases))


def validate_table(model: type[pa.DataFrameModel], frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Validates `frame` against `model` (coercing types), collecting every failure at once."""
    try:
        return model.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        raise TableValidationError(table, errors.failure_cases) from None


def describe_failures(table: str, failure_cases: pd.DataFrame) -> str:
    cases = failure_cases.head(MAX_LISTED_FAILURES)
    lines = [
        f"Table {table} failed validation: {len(failure_cases)} failing value(s)."
        " Each line: row index, column, rule, value."
    ]
    for case in cases.itertuples(index=False):
        row = getattr(case, "index", None)
        column = getattr(case, "column", None)
        lines.append(
            f"  row {row if pd.notna(row) else '-'}, column {column or '-'}: "
            f"{case.check} (value {case.failure_case!r})"
        )
    if len(failure_cases) > MAX_LISTED_FAILURES:
        lines.append(f"  ... and {len(failure_cases) - MAX_LISTED_FAILURES} more.")
    return "\n".join(lines)
