"""How the report's key figures read: a dash for a figure that is not there yet."""

from __future__ import annotations

from typing import Any

import pandas as pd

NONE = "–"


def missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def percent(value: Any) -> str:
    return NONE if missing(value) else f"{float(value):.0%}"


def points(value: Any) -> str:
    return NONE if missing(value) else f"{float(value):g}"


def one_decimal(value: Any) -> str:
    return NONE if missing(value) else f"{float(value):.1f}"
