"""Each board's key figures, as the published report page shows them.

The figures are computed when the report is rendered (each use case's `report_figure`, from the
warehouse); the service reads them back from the page rather than from the warehouse, because
the page is published together with the feed and is read without opening DuckDB, which a
running pipeline may hold for writing. The page is the pipeline's own rendering of
`report/templates/insights.html.j2`: per `<section class="board" id="board-<id>">`, one
`<div class="figure [alert|unjudged]">` per figure, with `label`, `value` and `detail`.
Parsed once per version of the page (service/feed.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

BOARD_ID = re.compile(r"^board-(\d+)$")
FIGURE_PARTS = ("label", "value", "detail")


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: str
    detail: str
    # True: crossed its rule; False: within it; None: nothing to judge yet (the report's).
    alert: bool | None


class _FigureReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: dict[int, list[KeyFigure]] = {}
        self._board: int | None = None
        self._figure: dict[str, str] | None = None
        self._figure_alert: bool | None = None
        self._part: str | None = None
        self._div_depth = 0  # inside the current figure

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "section" and "board" in classes:
            match = BOARD_ID.match(attributes.get("id") or "")
            self._board = int(match.group(1)) if match else None
            return
        if tag != "div" or self._board is None:
            return
        if self._figure is None and "figure" in classes:
            self._figure = dict.fromkeys(FIGURE_PARTS, "")
            self._figure_alert = (
                True if "alert" in classes else (None if "unjudged" in classes else False)
            )
            self._div_depth = 1
            return
        if self._figure is not None:
            self._div_depth += 1
            self._part = next((part for part in FIGURE_PARTS if part in classes), None)

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._board = None
        if tag != "div" or self._figure is None:
            return
        self._div_depth -= 1
        self._part = None
        if self._div_depth == 0 and self._board is not None:
            self.figures.setdefault(self._board, []).append(
                KeyFigure(
                    **{k: v.strip() for k, v in self._figure.items()}, alert=self._figure_alert
                )
            )
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._figure is not None and self._part is not None:
            self._figure[self._part] += data


def board_figures(page: str) -> dict[int, list[KeyFigure]]:
    """Per board id, its key figures in the page's order."""
    reader = _FigureReader()
    reader.feed(page)
    reader.close()
    return reader.figures
