"""The threshold sensor's cursor: what it has judged, the open crossings and the deliveries
still to retry, kept between ticks as the sensor's Dagster cursor."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AlertCursor:
    """Everything the threshold sensor remembers between ticks, as its Dagster cursor.

    `seen`: per watched asset, the storage id of the materialization and the id of the check
    evaluation last judged. `open`: open crossings (key -> highest severity alerted).
    `feed_offset`: how far the feed has been handed to the webhooks (None before the first tick:
    history is never re-sent). `pending`: webhook deliveries still to retry (see delivery.py)."""

    seen: dict[str, list[int]] = field(default_factory=dict)
    open: dict[str, str] = field(default_factory=dict)
    feed_offset: int | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)

    VERSION = 1

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": self.VERSION,
                "seen": self.seen,
                "open": self.open,
                "feed_offset": self.feed_offset,
                "pending": self.pending,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | None) -> AlertCursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"The threshold-alert sensor's cursor is not JSON ({error}). Reset the cursor "
                "in the Dagster UI (Sensors > metric_threshold_alerts > Set cursor value) to "
                "start over; open crossings will then alert once more."
            ) from None
        if data.get("v") != cls.VERSION:
            raise ValueError(
                f"The threshold-alert sensor's cursor has version {data.get('v')!r}, this code "
                f"reads version {cls.VERSION}. Reset the cursor in the Dagster UI to start over."
            )
        return cls(
            seen={key: list(value) for key, value in data.get("seen", {}).items()},
            open=dict(data.get("open", {})),
            feed_offset=data.get("feed_offset"),
            pending=list(data.get("pending", [])),
        )
