"""A key figure of a board on the report: one per use case, marked when it crossed its rule."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    detail: str
    alert: bool | None  # None: nothing to judge (no figure yet)
