"""Which crossings deserve an alert: each open crossing is remembered with the highest severity
already alerted, so the same board, sprint and type alert once, again only when the severity
rises, or after recovering and crossing again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from jira_insights_pipeline.automation.crossings import Crossing
from jira_insights_pipeline.rules import SEVERITY_RANK, Severity


@dataclass(frozen=True)
class Decision:
    """A crossing that deserves an alert: `reason` is "new" or "escalated"."""

    crossing: Crossing
    reason: Literal["new", "escalated"]
    previous_severity: Severity | None


@dataclass(frozen=True)
class DedupOutcome:
    alerts: list[Decision]
    open_crossings: dict[str, str]
    recovered: list[str]


def decide_alerts(
    open_crossings: Mapping[str, str],
    evaluated_types: Iterable[str],
    crossings: Sequence[Crossing],
) -> DedupOutcome:
    """Which crossings alert, given the open ones (key -> highest severity alerted).

    A crossing not open alerts ("new"); an open one alerts again only when its severity is
    higher than any already alerted ("escalated"). An open key of an evaluated type that no
    longer crosses has recovered and is closed, so crossing again later is new. Keys of types
    not evaluated now are kept as they are."""
    evaluated = set(evaluated_types)
    now_open = {
        key: sev for key, sev in open_crossings.items() if key.split("|")[0] not in evaluated
    }
    alerts: list[Decision] = []
    for crossing in sorted(crossings, key=lambda item: item.key):
        previous = open_crossings.get(crossing.key)
        if previous is None:
            alerts.append(Decision(crossing, "new", None))
            now_open[crossing.key] = crossing.severity
        elif SEVERITY_RANK[crossing.severity] > SEVERITY_RANK[previous]:
            alerts.append(Decision(crossing, "escalated", previous))  # type: ignore[arg-type]
            now_open[crossing.key] = crossing.severity
        else:
            now_open[crossing.key] = previous
    current = {crossing.key for crossing in crossings}
    recovered = sorted(
        key for key in open_crossings if key.split("|")[0] in evaluated and key not in current
    )
    return DedupOutcome(alerts=alerts, open_crossings=now_open, recovered=recovered)
