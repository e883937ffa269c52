"""Ordering a metric table for its preview: the rows a reader should look at first."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def alerts_first(
    table: pd.DataFrame, alert: str, ratio: str, columns: Sequence[str], rows: int = 10
) -> pd.DataFrame:
    """The first `rows` rows with `alert` set first, then the lowest `ratio` (a missing ratio,
    with nothing to judge, last), showing `columns`."""
    ranked = table.assign(_ratio=table[ratio].fillna(np.inf)).sort_values(
        [alert, "_ratio"], ascending=[False, True], kind="stable"
    )
    return ranked.head(rows)[list(columns)]
