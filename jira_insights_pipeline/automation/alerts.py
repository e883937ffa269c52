"""Which thresholds are crossed, which crossings deserve an alert, and what an alert says.

Pure logic, no Dagster and no I/O: the sensor reads the metric tables and the insight files and
hands them here. A *crossing* is one (alert type, board, sprint) over its threshold in the
current tables, judged on the same rows the asset checks judge (each board's running and latest
closed sprint; its latest closed one for velocity, cycle time and missed targets). The *state*
maps each open crossing to the highest severity already alerted, so the same board, sprint and
type alert once, again only when the severity rises, or after recovering and crossing again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from jira_insights_pipeline.metrics.issue_history import latest_closed_sprints, recent_sprints
from jira_insights_pipeline.metrics.thresholds import SEVERITY_RANK, Severity, Thresholds

ALERT_SCHEMA_VERSION = "1.0"
FEED_RECORD_ALERT = "alert"
FEED_RECORD_DELIVERY_FAILED = "delivery_failed"

AlertType = Literal[
    "scope_creep",
    "missed_target",
    "defect_leakage",
    "hygiene",
    "velocity_drop",
    "cycle_time",
    "run_failure",
]
# Asset check severities (dg.AssetCheckSeverity values) in alert terms.
CHECK_SEVERITY: dict[str, Severity] = {"WARN": "warning", "ERROR": "error"}


@dataclass(frozen=True)
class WatchedTable:
    """A metric table the threshold sensor reacts to, its asset check, and the alert types it
    decides. `check_alert_type` is the type whose severity the check's own severity sets."""

    asset: str
    check: str
    alert_types: tuple[AlertType, ...]
    check_alert_type: AlertType


WATCHED_TABLES: tuple[WatchedTable, ...] = (
    WatchedTable(
        "sprint_commitments",
        "sprint_scope_creep_within_threshold",
        ("scope_creep", "missed_target"),
        "scope_creep",
    ),
    WatchedTable("sprint_velocity", "sprint_velocity_holds", ("velocity_drop",), "velocity_drop"),
    WatchedTable(
        "defect_escape_rates",
        "defect_escape_rate_within_threshold",
        ("defect_leakage",),
        "defect_leakage",
    ),
    WatchedTable("hygiene_scores", "hygiene_score_above_minimum", ("hygiene",), "hygiene"),
    WatchedTable("cycle_time_trends", "cycle_time_median_steady", ("cycle_time",), "cycle_time"),
)
WATCHED_BY_ASSET: dict[str, WatchedTable] = {table.asset: table for table in WATCHED_TABLES}

# The insight use case whose title and message an alert of each type carries (docs/insights.md).
INSIGHT_TYPE: dict[str, str] = {
    "scope_creep": "scope_creep",
    "missed_target": "missed_target",
    "defect_leakage": "defect_leakage",
    "hygiene": "team_health",
    "velocity_drop": "velocity",
}
# Types judged per board, not per sprint: their insight may name any sprint.
BOARD_LEVEL_TYPES: frozenset[str] = frozenset({"hygiene"})
DEFAULT_SEVERITY: dict[str, Severity] = {
    "scope_creep": "warning",
    "missed_target": "warning",
    "defect_leakage": "error",
    "hygiene": "warning",
    "velocity_drop": "warning",
    "cycle_time": "warning",
    "run_failure": "error",
}


@dataclass(frozen=True)
class Crossing:
    """One threshold crossed by one board (and sprint) in the current tables."""

    alert_type: AlertType
    severity: Severity
    board_id: int
    board_name: str
    sprint_id: int | None
    sprint_name: str | None
    as_of: str
    title: str
    message: str
    figures: dict[str, float | int | str | None] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return crossing_key(self.alert_type, self.board_id, self.sprint_id)


def crossing_key(alert_type: str, board_id: int, sprint_id: int | None) -> str:
    """The dedup key: alert type, board and sprint ("-" for a board-wide crossing)."""
    return f"{alert_type}|{board_id}|{'-' if sprint_id is None else sprint_id}"


# --------------------------------------------------------------------------------------------
# Crossings, per table
# --------------------------------------------------------------------------------------------


def _iso(value: Any) -> str:
    return pd.Timestamp(value).isoformat()


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _board_name(row: Any, board_names: Mapping[int, str]) -> str:
    named = getattr(row, "board_name", None)
    if isinstance(named, str) and named:
        return named
    return board_names.get(int(row.board_id), f"board {int(row.board_id)}")


def _flagged(rows: pd.DataFrame, flag_column: str) -> pd.DataFrame:
    """The rows whose metric table already flagged them over the threshold."""
    return rows.loc[rows[flag_column].astype(bool)]


def _sprint_crossings(
    rows: pd.DataFrame,
    alert_type: AlertType,
    severity: Severity,
    board_names: Mapping[int, str],
    describe: Callable[[Any], tuple[str, str, dict[str, Any]]],
) -> list[Crossing]:
    found = []
    for row in rows.itertuples(index=False):
        if pd.isna(row.board_id):
            continue  # a sprint of no board has nobody to alert
        title, message, figures = describe(row)
        found.append(
            Crossing(
                alert_type=alert_type,
                severity=severity,
                board_id=int(row.board_id),
                board_name=_board_name(row, board_names),
                sprint_id=int(row.sprint_id),
                sprint_name=str(row.sprint_name),
                as_of=_iso(row.as_of),
                title=title,
                message=message,
                figures=figures,
            )
        )
    return found


def scope_creep_crossings(
    commitments: pd.DataFrame,
    thresholds: Thresholds,
    board_names: Mapping[int, str],
    severity: Severity = "warning",
) -> list[Crossing]:
    """Running and latest closed sprints with `scope_creep_alert` set."""
    rows = _flagged(recent_sprints(commitments), "scope_creep_alert")

    def describe(row: Any) -> tuple[str, str, dict[str, Any]]:
        share = _num(row.grown_story_share)
        return (
            f"Scope grew during {row.sprint_name}",
            f"{row.grown_stories} of {row.estimated_committed_stories} committed stories "
            f"({_pct(share)}) grew by more than {thresholds.growth_pct:.0f}% after the sprint "
            f"started, above the {thresholds.grown_story_share_alert:.0%} limit.",
            {
                "grown_stories": int(row.grown_stories),
                "estimated_committed_stories": int(row.estimated_committed_stories),
                "grown_story_share": share,
                "threshold": thresholds.grown_story_share_alert,
            },
        )

    return _sprint_crossings(rows, "scope_creep", severity, board_names, describe)


def missed_target_crossings(
    commitments: pd.DataFrame,
    board_names: Mapping[int, str],
    target: float,
    severity: Severity = "warning",
) -> list[Crossing]:
    """Latest closed sprints whose completed points fell under `target` times their committed
    points (the same target the missed-target insight judges by)."""
    latest = latest_closed_sprints(commitments)
    rows = latest.loc[latest["completion_rate"].lt(target)]

    def describe(row: Any) -> tuple[str, str, dict[str, Any]]:
        rate = _num(row.completion_rate)
        return (
            f"{row.sprint_name} fell short of its completion target",
            # Completed points include finished added work, so they are not "of" the commitment.
            f"The team completed {row.completed_points:g} points against a commitment of "
            f"{row.committed_points:g} ({_pct(rate)}), below the {target:.0%} target; "
            f"{row.spillover_issues} issues spilled over.",
            {
                "completed_points": _num(row.completed_points),
                "committed_points": _num(row.committed_points),
                "completion_rate": rate,
                "threshold": target,
            },
        )

    return _sprint_crossings(rows, "missed_target", severity, board_names, describe)


def velocity_drop_crossings(
    velocity: pd.DataFrame,
    thresholds: Thresholds,
    board_names: Mapping[int, str],
    severity: Severity = "warning",
) -> list[Crossing]:
    """Each board's latest closed sprint with `velocity_drop` set."""
    rows = velocity.loc[velocity["latest_closed"].astype(bool) & velocity["velocity_drop"]]

    def describe(row: Any) -> tuple[str, str, dict[str, Any]]:
        ratio = _num(row.velocity_ratio)
        return (
            f"Velocity dropped in {row.sprint_name}",
            f"{row.sprint_name} completed {row.completed_points:g} points against a mean of "
            f"{row.previous_mean_points:.1f} over the previous sprints ({_pct(ratio)}), below "
            f"{thresholds.velocity_drop_ratio:.0%}.",
            {
                "completed_points": _num(row.completed_points),
                "previous_mean_points": _num(row.previous_mean_points),
                "velocity_ratio": ratio,
                "threshold": thresholds.velocity_drop_ratio,
            },
        )

    return _sprint_crossings(rows, "velocity_drop", severity, board_names, describe)


def defect_leakage_crossings(
    escape_rates: pd.DataFrame,
    thresholds: Thresholds,
    board_names: Mapping[int, str],
    severity: Severity = "error",
) -> list[Crossing]:
    """Running and latest closed sprints with `leakage_alert` set."""
    rows = _flagged(recent_sprints(escape_rates), "leakage_alert")

    def describe(row: Any) -> tuple[str, str, dict[str, Any]]:
        rate = _num(row.escape_rate)
        return (
            f"Bugs escaped to production in {row.sprint_name}",
            f"{row.production_bugs} of {row.production_bugs + row.qa_bugs} classified bugs were "
            f"found in production, an escape rate of {_pct(rate)} against a "
            f"{thresholds.escape_rate_alert:.0%} limit.",
            {
                "production_bugs": int(row.production_bugs),
                "qa_bugs": int(row.qa_bugs),
                "escape_rate": rate,
                "threshold": thresholds.escape_rate_alert,
            },
        )

    return _sprint_crossings(rows, "defect_leakage", severity, board_names, describe)


def cycle_time_crossings(
    trends: pd.DataFrame,
    thresholds: Thresholds,
    board_names: Mapping[int, str],
    severity: Severity = "warning",
) -> list[Crossing]:
    """Each board's latest closed sprint with `median_rose` set."""
    rows = _flagged(latest_closed_sprints(trends), "median_rose")

    def describe(row: Any) -> tuple[str, str, dict[str, Any]]:
        return (
            f"Cycle time rose in {row.sprint_name}",
            f"The median cycle time was {row.median_cycle_time_days:.1f} days against "
            f"{row.previous_median_cycle_time_days:.1f} in the previous sprints "
            f"({row.median_change_pct:+.0f}%), more than the allowed "
            f"{thresholds.cycle_time_rise:.0%} rise.",
            {
                "median_cycle_time_days": _num(row.median_cycle_time_days),
                "previous_median_cycle_time_days": _num(row.previous_median_cycle_time_days),
                "median_change_pct": _num(row.median_change_pct),
                "threshold_pct": 100 * thresholds.cycle_time_rise,
            },
        )

    return _sprint_crossings(rows, "cycle_time", severity, board_names, describe)


def hygiene_crossings(
    scores: pd.DataFrame,
    thresholds: Thresholds,
    board_names: Mapping[int, str],
    severity: Severity = "warning",
) -> list[Crossing]:
    """Boards whose hygiene score is under the minimum (board-wide: no sprint)."""
    rows = scores.loc[scores["hygiene_score"].lt(thresholds.hygiene_score_min)]
    found = []
    for row in rows.itertuples(index=False):
        score = _num(row.hygiene_score)
        board = _board_name(row, board_names)
        found.append(
            Crossing(
                alert_type="hygiene",
                severity=severity,
                board_id=int(row.board_id),
                board_name=board,
                sprint_id=None,
                sprint_name=None,
                as_of=_iso(row.as_of),
                title=f"Ticket hygiene on {board} needs attention",
                message=f"The hygiene score is {score:.0f}, below the healthy "
                f"{thresholds.hygiene_score_min:.0f}; {row.issues_with_problems} of "
                f"{row.open_issues} open issues have a problem.",
                figures={
                    "hygiene_score": score,
                    "open_issues": int(row.open_issues),
                    "issues_with_problems": int(row.issues_with_problems),
                    "threshold": thresholds.hygiene_score_min,
                },
            )
        )
    return found


def crossings_for(
    asset: str,
    table: pd.DataFrame,
    thresholds: Thresholds,
    board_names: Mapping[int, str],
    check_severity: str | None = None,
) -> list[Crossing]:
    """Every crossing in one watched metric table. `check_severity` (the asset check's own
    severity, "WARN" or "ERROR") sets the severity of the type that check judges."""
    watched = WATCHED_BY_ASSET[asset]
    if table.empty:
        return []

    def severity(alert_type: AlertType) -> Severity:
        if alert_type == watched.check_alert_type and check_severity in CHECK_SEVERITY:
            return CHECK_SEVERITY[check_severity]
        return DEFAULT_SEVERITY[alert_type]

    if asset == "sprint_commitments":
        return scope_creep_crossings(
            table, thresholds, board_names, severity("scope_creep")
        ) + missed_target_crossings(
            table, board_names, thresholds.completion_rate_min, severity=severity("missed_target")
        )
    if asset == "sprint_velocity":
        return velocity_drop_crossings(table, thresholds, board_names, severity("velocity_drop"))
    if asset == "defect_escape_rates":
        return defect_leakage_crossings(table, thresholds, board_names, severity("defect_leakage"))
    if asset == "hygiene_scores":
        return hygiene_crossings(table, thresholds, board_names, severity("hygiene"))
    return cycle_time_crossings(table, thresholds, board_names, severity("cycle_time"))


# --------------------------------------------------------------------------------------------
# Dedup
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Alert records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertSource:
    """Where a crossing was seen: the table, its check's result, and the Dagster run."""

    asset: str
    materialization_storage_id: int
    run_id: str
    check_name: str | None = None
    check_passed: bool | None = None
    check_severity: str | None = None


@dataclass(frozen=True)
class AlertLinks:
    """Where an alert points: the HTML report and the Dagster UI."""

    report_url: str
    dagster_url: str

    def run_url(self, run_id: str) -> str:
        return f"{self.dagster_url.rstrip('/')}/runs/{run_id}"

    def board_report_url(self, board_id: int | None) -> str:
        return self.report_url if board_id is None else f"{self.report_url}#board-{board_id}"


def alert_id(*parts: object) -> str:
    """A stable id: the same parts always give the same id, so re-evaluating the same
    materialization (after a crash before the cursor was saved) never appends twice."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()
    return f"alert-{digest[:20]}"


def matching_insight(crossing: Crossing, insights: Sequence[Mapping[str, Any]]) -> dict | None:
    """The insight of the same use case, board (and sprint) and snapshot instant that also calls
    it a problem, or None (an insight of another snapshot, or one that says "healthy", would
    contradict the alert)."""
    insight_type = INSIGHT_TYPE.get(crossing.alert_type)
    if insight_type is None:
        return None
    as_of = pd.Timestamp(crossing.as_of)
    for insight in insights:
        if insight.get("type") != insight_type or insight.get("severity") == "info":
            continue
        if int(insight["board"]["id"]) != crossing.board_id:
            continue
        sprint = insight.get("sprint")
        if crossing.alert_type not in BOARD_LEVEL_TYPES and (
            sprint is None or int(sprint["id"]) != crossing.sprint_id
        ):
            continue
        if pd.Timestamp(insight["as_of"]) != as_of:
            continue
        return dict(insight)
    return None


def alert_record(
    decision: Decision,
    insight: Mapping[str, Any] | None,
    source: AlertSource,
    links: AlertLinks,
    raised_at: str,
) -> dict[str, Any]:
    """The feed line for one threshold alert (docs/alerts.md, alert.schema.json)."""
    crossing = decision.crossing
    return {
        "record": FEED_RECORD_ALERT,
        "schema_version": ALERT_SCHEMA_VERSION,
        "alert_id": alert_id(
            crossing.key, crossing.severity, source.asset, source.materialization_storage_id
        ),
        "type": crossing.alert_type,
        "severity": crossing.severity,
        "reason": decision.reason,
        "previous_severity": decision.previous_severity,
        "board": {"id": crossing.board_id, "name": crossing.board_name},
        "sprint": None
        if crossing.sprint_id is None
        else {"id": crossing.sprint_id, "name": crossing.sprint_name},
        "title": insight["title"] if insight else crossing.title,
        "message": insight["message"] if insight else crossing.message,
        "recommendations": list(insight["recommendations"]) if insight else [],
        "insight_id": insight["id"] if insight else None,
        "figures": dict(crossing.figures),
        "as_of": crossing.as_of,
        "raised_at": raised_at,
        "report_url": links.board_report_url(crossing.board_id),
        "dagster_run": {"run_id": source.run_id, "url": links.run_url(source.run_id)},
        "source": {
            "asset": source.asset,
            "check": source.check_name,
            "check_passed": source.check_passed,
            "check_severity": source.check_severity,
        },
        "failure": None,
    }


@dataclass(frozen=True)
class FailedStep:
    step_key: str
    error: str


def run_failure_record(
    *,
    run_id: str,
    job_name: str,
    schedule_name: str | None,
    run_error: str,
    failed_steps: Sequence[FailedStep],
    links: AlertLinks,
    raised_at: str,
) -> dict[str, Any]:
    """The feed line for a scheduled run that failed: which steps failed, and why."""
    steps = ", ".join(step.step_key for step in failed_steps) or "the run itself"
    first_error = failed_steps[0].error if failed_steps else run_error
    return {
        "record": FEED_RECORD_ALERT,
        "schema_version": ALERT_SCHEMA_VERSION,
        "alert_id": alert_id("run_failure", run_id),
        "type": "run_failure",
        "severity": DEFAULT_SEVERITY["run_failure"],
        "reason": "new",
        "previous_severity": None,
        "board": None,
        "sprint": None,
        "title": f"Scheduled run of {job_name} failed in {steps}",
        "message": first_error_line(first_error),
        "recommendations": [],
        "insight_id": None,
        "figures": {},
        "as_of": raised_at,
        "raised_at": raised_at,
        "report_url": links.report_url,
        "dagster_run": {"run_id": run_id, "url": links.run_url(run_id)},
        "source": {"asset": None, "check": None, "check_passed": None, "check_severity": None},
        "failure": {
            "job": job_name,
            "schedule": schedule_name,
            "run_error": first_error_line(run_error),
            "failed_steps": [
                {"step_key": step.step_key, "error": first_error_line(step.error, 1000)}
                for step in failed_steps
            ],
        },
    }


def first_error_line(text: str, limit: int = 500) -> str:
    """The first non-empty line of an error message, shortened: what a chat message can hold."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "unknown error")
    return line if len(line) <= limit else line[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# The threshold sensor's cursor
# --------------------------------------------------------------------------------------------


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
