"""Metric tables -> the facts one insight may state, per board (and sprint).

Every number, issue key, sprint name and board name an insight shows comes from here, computed
exactly from the metric tables (their Pandera models in `jira_insights_pipeline.schemas` are the
contract); the model only words them. Severity is decided here too, from `Thresholds`, never by
the model. This is the only module of the insight engine that knows the tables' column names.

Which sprint an insight is about: per board, its latest closed sprint (by sprint end); scope
creep also looks at the active sprint, and ticket hygiene names the active sprint when there is
one.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from jira_insights_pipeline.metrics.thresholds import Severity, Thresholds

UseCase = Literal["scope_creep", "missed_target", "defect_leakage", "team_health", "velocity"]
USE_CASES: tuple[UseCase, ...] = (
    "scope_creep",
    "missed_target",
    "defect_leakage",
    "team_health",
    "velocity",
)

FactKind = Literal[
    "count", "points", "ratio", "percent", "days", "score", "key", "keys", "name", "label"
]

# `Thresholds` has no rule for when a sprint "missed its target": this is the share of the
# committed points a sprint is expected to finish. Move it into `Thresholds` once it has a field.

MAX_EVIDENCE = 5
MAX_UNTRUSTED_SUMMARIES = 3


@dataclass(frozen=True)
class Fact:
    """One named value an insight may state. `meaning` tells the model what it is."""

    name: str
    value: int | float | str | tuple[str, ...]
    kind: FactKind
    meaning: str
    # Extra decimals shown for a ratio (of its percent) or a score: only when the value would
    # otherwise read the same as the limit it is judged against ("20.4%, above the 20% limit").
    decimals: int = 0

    @property
    def rendered(self) -> str:
        return render_value(self.value, self.kind, self.decimals)

    def json_value(self) -> int | float | str | list[str]:
        """The value at the precision the text shows it, so a reader can match every number of
        the message to a fact: counts and scores whole, points and days to one decimal, ratios
        as fractions of the whole percent shown (0.42 for "42%")."""
        if isinstance(self.value, tuple):
            return list(self.value)
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            return self.value
        if self.kind == "ratio":
            return round(round(float(self.value) * 100, self.decimals) / 100, 2 + self.decimals)
        if self.kind == "score" and self.decimals:
            return round(float(self.value), self.decimals)
        if self.kind in ("percent", "count", "score"):
            return round(float(self.value))
        if self.kind in ("points", "days"):
            number = round(float(self.value), 1)
            return int(number) if number.is_integer() else number
        return self.value


@dataclass(frozen=True)
class Evidence:
    issue_key: str
    reason: str


@dataclass(frozen=True)
class InsightFacts:
    """Everything one insight is about: who, when, how bad, and the facts it may state."""

    use_case: UseCase
    severity: Severity
    board_id: int
    board_name: str
    sprint_id: int | None
    sprint_name: str | None
    as_of: str
    status: str  # a few plain words for the model, e.g. "more stories grew than the limit"
    facts: tuple[Fact, ...]
    evidence: tuple[Evidence, ...] = ()
    # Jira text (issue summaries): shown to the model as quoted data, never as instructions.
    untrusted_text: tuple[str, ...] = ()
    # A shipped message must name at least one of these facts, so it says something concrete.
    key_facts: tuple[str, ...] = ()

    @functools.cached_property
    def by_name(self) -> dict[str, Fact]:
        # Built once: plans, templates and the validator look facts up by name many times.
        return {fact.name: fact for fact in self.facts}

    @property
    def insight_id(self) -> str:
        return insight_id(self.board_id, self.sprint_id, self.use_case, self.as_of)

    def fact(self, name: str) -> Fact | None:
        return self.by_name.get(name)


def insight_id(board_id: int, sprint_id: int | None, use_case: str, as_of: str) -> str:
    """A stable id: the same board, sprint, use case and snapshot time give the same id."""
    sprint = "" if sprint_id is None else str(sprint_id)
    digest = hashlib.sha256(f"{board_id}|{sprint}|{use_case}|{as_of}".encode()).hexdigest()
    return f"{use_case}-{digest[:16]}"


def _decimal(number: float, decimals: int) -> str:
    return f"{number:.{decimals}f}" if decimals else str(round(number))


def render_value(value: Any, kind: FactKind, decimals: int = 0) -> str:
    """How a fact's value reads in a sentence. One function, so the validator can compare."""
    if kind == "ratio":
        return _decimal(float(value) * 100, decimals) + "%"
    if kind == "percent":
        return f"{round(float(value))}%"
    if kind == "score":
        return _decimal(float(value), decimals)
    if kind == "count":
        return str(round(float(value)))
    if kind in ("points", "days"):
        number = round(float(value), 1)
        return str(int(number)) if number.is_integer() else f"{number:.1f}"
    if kind == "keys":
        return ", ".join(value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


@dataclass(frozen=True)
class MetricTables:
    """The tables insights are computed from; a table that is missing is an empty frame.

    `jira_boards` and `jira_issues` are staging tables (board names, issue summaries); the rest
    are metric tables with the columns of their Pandera models.
    """

    as_of: str
    jira_boards: pd.DataFrame = field(default_factory=_empty)
    jira_issues: pd.DataFrame = field(default_factory=_empty)
    sprint_scope_changes: pd.DataFrame = field(default_factory=_empty)
    sprint_commitments: pd.DataFrame = field(default_factory=_empty)
    sprint_velocity: pd.DataFrame = field(default_factory=_empty)
    defect_leakage: pd.DataFrame = field(default_factory=_empty)
    defect_escape_rates: pd.DataFrame = field(default_factory=_empty)
    work_item_health: pd.DataFrame = field(default_factory=_empty)
    hygiene_scores: pd.DataFrame = field(default_factory=_empty)
    cycle_time_trends: pd.DataFrame = field(default_factory=_empty)


def latest_as_of(frames: Iterable[pd.DataFrame]) -> str:
    """The "as of" instant of the metric tables (ISO-8601, UTC): the only time an insight
    carries, so the same snapshot always gives the same insights."""
    instants = [
        pd.Timestamp(frame["as_of"].max())
        for frame in frames
        if "as_of" in frame.columns and frame["as_of"].notna().any()
    ]
    if not instants:
        raise ValueError(
            "None of the metric tables has an as_of value, so the insights cannot be dated. "
            "Materialize the metric assets (group `metrics`) before the insights."
        )
    latest = max(
        instant.tz_localize("UTC") if instant.tzinfo is None else instant.tz_convert("UTC")
        for instant in instants
    )
    return latest.isoformat()


# ---------------------------------------------------------------------------------------------
# Small helpers over the tables
# ---------------------------------------------------------------------------------------------


def _has(frame: pd.DataFrame, *columns: str) -> bool:
    return not frame.empty and all(column in frame.columns for column in columns)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _num(value: Any, default: float = 0.0) -> float:
    return default if _missing(value) else float(value)


def _rounded(value: float) -> int | float:
    """Whole numbers as int, others to 4 decimals, so the JSON never shows float noise."""
    rounded = round(float(value), 4)
    return int(rounded) if rounded.is_integer() else rounded


def _judged(name: str, value: float, limit: float, kind: FactKind, meaning: str) -> Fact:
    """The fact of `value`, judged against `limit`, shown with as many decimals (up to two) as
    it takes not to read the same as the limit: "20.4%, above the 20% limit", never
    "20%, above the 20% limit"."""
    decimals = 0
    while (
        decimals < 2
        and value != limit
        and render_value(value, kind, decimals) == render_value(limit, kind, decimals)
    ):
        decimals += 1
    return Fact(name, _rounded(value), kind, meaning, decimals)


def _flag(value: Any) -> bool:
    return False if _missing(value) else bool(value)


def _keys(value: Any) -> tuple[str, ...]:
    """Issue keys (or names) from a list-like cell or a comma/space separated string."""
    if _missing(value):
        return ()
    if isinstance(value, str):
        parts: Iterable[Any] = value.replace(",", " ").split()
    elif isinstance(value, Iterable):
        parts = value
    else:
        return ()
    cleaned = (str(part).strip() for part in parts if not _missing(part))
    return tuple(dict.fromkeys(part for part in cleaned if part))


def _rows(frame: pd.DataFrame, board_id: int, sprint_id: int | None = None) -> pd.DataFrame:
    if not _has(frame, "board_id"):
        return _empty()
    mask = frame["board_id"].eq(board_id).fillna(False)
    if sprint_id is not None:
        if "sprint_id" not in frame.columns:
            return _empty()
        mask &= frame["sprint_id"].eq(sprint_id).fillna(False)
    return frame.loc[mask.astype(bool)]


def _board_names(tables: MetricTables) -> dict[int, str]:
    names: dict[int, str] = {}
    if _has(tables.jira_boards, "board_id", "name"):
        names.update({int(r.board_id): str(r.name) for r in tables.jira_boards.itertuples()})
    if _has(tables.hygiene_scores, "board_id", "board_name"):
        for row in tables.hygiene_scores.itertuples():
            names.setdefault(int(row.board_id), str(row.board_name))
    return names


def _board_name(names: Mapping[int, str], board_id: int) -> str:
    return names.get(board_id, f"board {board_id}")


def _boards(*frames: pd.DataFrame) -> list[int]:
    ids: set[int] = set()
    for frame in frames:
        if _has(frame, "board_id"):
            ids.update(int(board_id) for board_id in frame["board_id"].dropna())
    return sorted(ids)


def _oldest_sprint_first(frame: pd.DataFrame) -> pd.DataFrame:
    """Sprint rows by sprint end, then start (where the table has them), then id."""
    order = [c for c in ("sprint_end", "sprint_start") if c in frame.columns] + ["sprint_id"]
    return frame.sort_values(order, kind="stable")


def _sprint_of(row: Any) -> tuple[int, str]:
    """A sprint row's (id, name); a table without names calls it by its id."""
    sprint_id = int(row["sprint_id"])
    return sprint_id, str(row.get("sprint_name", f"sprint {sprint_id}"))


def _sprints(tables: MetricTables, board_id: int, state: str) -> list[tuple[int, str]]:
    """The board's sprints in `state` ("closed" or "active") as (id, name), oldest first."""
    commitments = _rows(tables.sprint_commitments, board_id)
    if not _has(commitments, "sprint_id", "sprint_name", "sprint_state"):
        return []
    mine = _oldest_sprint_first(commitments.loc[commitments["sprint_state"].eq(state)])
    return [(int(row.sprint_id), str(row.sprint_name)) for row in mine.itertuples()]


def _summaries(tables: MetricTables, keys: Iterable[str]) -> tuple[str, ...]:
    """Summaries of the first few `keys`, from any table that carries them."""
    by_key: dict[str, str] = {}
    for frame in (tables.jira_issues, tables.defect_leakage, tables.work_item_health):
        if _has(frame, "issue_key", "summary"):
            for row in frame[["issue_key", "summary"]].itertuples(index=False):
                if not _missing(row.summary):
                    by_key.setdefault(str(row.issue_key), str(row.summary))
    wanted = list(dict.fromkeys(keys))
    found = [by_key[key] for key in wanted if key in by_key]
    return tuple(found[:MAX_UNTRUSTED_SUMMARIES])


def _context_facts(board: str, sprint: str | None) -> list[Fact]:
    facts = [Fact("board", board, "name", "the board (team)")]
    if sprint is not None:
        facts.append(Fact("sprint", sprint, "name", "the sprint"))
    return facts


def _count(row: Any, column: str) -> int:
    return int(_num(row.get(column)))


def _points(row: Any, column: str) -> int | float:
    return _rounded(_num(row.get(column)))


def _added_story_evidence(stories: pd.DataFrame, room: int) -> list[Evidence]:
    """Up to `room` of the stories added after the sprint started, by key."""
    if not _has(stories, "issue_key", "added_after_start"):
        return []
    added = stories.loc[stories["added_after_start"].map(_flag)].sort_values("issue_key")
    return [
        Evidence(str(key), "added after the sprint started")
        for key in added["issue_key"].head(room)
    ]


def _insight(
    tables: MetricTables,
    use_case: UseCase,
    severity: Severity,
    board_id: int,
    board: str,
    sprint_id: int | None,
    sprint: str | None,
    *,
    status: str,
    facts: Iterable[Fact],
    key_facts: tuple[str, ...],
    evidence: Iterable[Evidence] = (),
) -> InsightFacts:
    """One insight of the current snapshot, with the Jira summaries of its evidence issues."""
    evidence = tuple(evidence)
    return InsightFacts(
        use_case=use_case,
        severity=severity,
        board_id=board_id,
        board_name=board,
        sprint_id=sprint_id,
        sprint_name=sprint,
        as_of=tables.as_of,
        status=status,
        facts=tuple(facts),
        evidence=evidence,
        untrusted_text=_summaries(tables, [item.issue_key for item in evidence]),
        key_facts=key_facts,
    )


# ---------------------------------------------------------------------------------------------
# One function per use case
# ---------------------------------------------------------------------------------------------


def _scope_creep_one(
    tables: MetricTables,
    thresholds: Thresholds,
    board_id: int,
    board: str,
    sprint_id: int,
    sprint: str,
    row: Any,
) -> InsightFacts:
    share = _num(row.get("grown_story_share"))
    severity: Severity = "warning" if share > thresholds.grown_story_share_alert else "info"
    stories = _rows(tables.sprint_scope_changes, board_id, sprint_id)
    grown = pd.DataFrame()
    if _has(stories, "issue_key", "grew", "points_at_start", "points_at_end"):
        grown = stories.loc[stories["grew"].map(_flag)]
        grown = grown.assign(
            _growth=grown["points_at_end"].map(_num) - grown["points_at_start"].map(_num)
        ).sort_values(["_growth", "issue_key"], ascending=[False, True], kind="stable")
    facts = [
        *_context_facts(board, sprint),
        Fact(
            "estimated_stories",
            _count(row, "estimated_committed_stories"),
            "count",
            "committed stories that had an estimate",
        ),
        Fact("grown_stories", _count(row, "grown_stories"), "count", "of those, how many grew"),
        _judged(
            "grown_story_share",
            share,
            thresholds.grown_story_share_alert,
            "ratio",
            "share of them that grew",
        ),
        Fact(
            "grown_share_limit",
            thresholds.grown_story_share_alert,
            "ratio",
            "the team's limit for that share",
        ),
        Fact(
            "added_stories",
            _count(row, "added_issues"),
            "count",
            "stories added after the sprint started",
        ),
        Fact(
            "added_points", _points(row, "added_points"), "points", "points added after the start"
        ),
    ]
    evidence: list[Evidence] = []
    if not grown.empty:
        top = grown.iloc[0]
        facts += [
            Fact("top_story", str(top["issue_key"]), "key", "the story that grew most"),
            Fact(
                "top_story_start_points",
                _rounded(_num(top["points_at_start"])),
                "points",
                "its points at sprint start",
            ),
            Fact(
                "top_story_end_points",
                _rounded(_num(top["points_at_end"])),
                "points",
                "its points at sprint end",
            ),
        ]
        for story in grown.head(MAX_EVIDENCE).itertuples():
            start = render_value(_num(story.points_at_start), "points")
            end = render_value(_num(story.points_at_end), "points")
            reason = f"grew from {start} to {end} points"
            if _flag(getattr(story, "became_large", False)):
                reason += " and became a large story"
            evidence.append(Evidence(str(story.issue_key), reason))
    evidence += _added_story_evidence(stories, MAX_EVIDENCE - len(evidence))
    status = (
        "more stories grew than the team's limit allows"
        if severity == "warning"
        else "scope stayed within the team's limit"
    )
    return _insight(
        tables,
        "scope_creep",
        severity,
        board_id,
        board,
        sprint_id,
        sprint,
        status=status,
        facts=facts,
        evidence=evidence,
        key_facts=(
            "grown_stories",
            "grown_story_share",
            "estimated_stories",
            "top_story",
            "added_stories",
        ),
    )


def scope_creep_facts(tables: MetricTables, thresholds: Thresholds) -> list[InsightFacts]:
    """Per board: its latest closed sprint and its active sprint, and how their scope grew."""
    commitments = tables.sprint_commitments
    if not _has(commitments, "board_id", "sprint_id", "grown_story_share"):
        return []
    names = _board_names(tables)
    results: list[InsightFacts] = []
    for board_id in _boards(commitments):
        board = _board_name(names, board_id)
        chosen = _sprints(tables, board_id, "closed")[-1:] + _sprints(tables, board_id, "active")
        for sprint_id, sprint in chosen:
            row = _rows(commitments, board_id, sprint_id).iloc[0]
            results.append(
                _scope_creep_one(tables, thresholds, board_id, board, sprint_id, sprint, row)
            )
    return results


def missed_target_facts(tables: MetricTables, thresholds: Thresholds) -> list[InsightFacts]:
    """Per board: how much of its committed points the latest closed sprint finished, and
    whether work kept spilling over in the recent sprints."""
    commitments = tables.sprint_commitments
    if not _has(commitments, "board_id", "sprint_id", "completion_rate"):
        return []
    names = _board_names(tables)
    window = max(1, thresholds.velocity_window)
    results: list[InsightFacts] = []
    for board_id in _boards(commitments):
        closed = _sprints(tables, board_id, "closed")
        if not closed:
            continue
        sprint_id, sprint = closed[-1]
        row = _rows(commitments, board_id, sprint_id).iloc[0]
        if _missing(row["completion_rate"]):
            continue  # nothing was committed, so there was no target to miss
        recent_ids = [sid for sid, _ in closed[-window:]]
        recent = commitments.loc[commitments["sprint_id"].isin(recent_ids)]
        spilled_sprints = int(recent["spillover_issues"].fillna(0).gt(0).sum())
        completion = _num(row["completion_rate"])
        target = thresholds.completion_rate_min
        severity: Severity = "warning" if completion < target else "info"
        board = _board_name(names, board_id)
        facts = [
            *_context_facts(board, sprint),
            _judged(
                "completion_rate",
                completion,
                target,
                "ratio",
                "points completed, as a share of the points committed",
            ),
            Fact("completion_target", target, "ratio", "the expected share"),
            Fact(
                "committed_points",
                _points(row, "committed_points"),
                "points",
                "points committed at start",
            ),
            Fact(
                "completed_points",
                _points(row, "completed_points"),
                "points",
                "points completed in the sprint, added work included",
            ),
            Fact(
                "completed_committed_points",
                _points(row, "completed_committed_points"),
                "points",
                "committed points finished",
            ),
            Fact(
                "spillover_stories",
                _count(row, "spillover_issues"),
                "count",
                "unfinished stories moved on",
            ),
            Fact(
                "spillover_sprints",
                spilled_sprints,
                "count",
                "recent sprints that left work unfinished",
            ),
            Fact("recent_sprints", len(recent_ids), "count", "recent sprints looked at"),
            Fact(
                "added_stories",
                _count(row, "added_issues"),
                "count",
                "stories added after the start",
            ),
        ]
        evidence: list[Evidence] = []
        stories = _rows(tables.sprint_scope_changes, board_id, sprint_id)
        if _has(stories, "issue_key", "carried_over"):
            carried = stories.loc[stories["carried_over"].map(_flag)].sort_values("issue_key")
            evidence += [
                Evidence(str(key), "not finished, carried over to a later sprint")
                for key in carried["issue_key"].head(MAX_EVIDENCE)
            ]
        evidence += _added_story_evidence(stories, MAX_EVIDENCE - len(evidence))
        status = (
            "the sprint completed fewer points than the expected share of its commitment"
            if severity == "warning"
            else "the sprint met its commitment"
        )
        if spilled_sprints >= 2:
            status += "; work spilled over in several recent sprints"
        results.append(
            _insight(
                tables,
                "missed_target",
                severity,
                board_id,
                board,
                sprint_id,
                sprint,
                status=status,
                facts=facts,
                evidence=evidence[:MAX_EVIDENCE],
                key_facts=(
                    "completion_rate",
                    "completed_points",
                    "completed_committed_points",
                    "spillover_stories",
                ),
            )
        )
    return results


def defect_leakage_facts(tables: MetricTables, thresholds: Thresholds) -> list[InsightFacts]:
    """Per board: the bugs of its latest closed sprint, the share that escaped to production,
    and the stories the production bugs were linked to."""
    rates = tables.defect_escape_rates
    if not _has(rates, "board_id", "sprint_id", "escape_rate", "sprint_state"):
        return []
    names = _board_names(tables)
    results: list[InsightFacts] = []
    for board_id in _boards(rates):
        mine = _rows(rates, board_id)
        closed = mine.loc[mine["sprint_state"].eq("closed")]
        if closed.empty:
            continue
        row = _oldest_sprint_first(closed).iloc[-1]
        sprint_id, sprint = _sprint_of(row)
        escape_rate = None if _missing(row["escape_rate"]) else _num(row["escape_rate"])
        severity: Severity = (
            "error"
            if escape_rate is not None and escape_rate > thresholds.escape_rate_alert
            else "info"
        )
        bugs = _rows(tables.defect_leakage, board_id, sprint_id)
        production = (
            bugs.loc[bugs["environment_class"].eq("production")].sort_values("issue_key")
            if _has(bugs, "issue_key", "environment_class")
            else pd.DataFrame()
        )
        source_counts: dict[str, int] = {}
        evidence: list[Evidence] = []
        for bug in production.itertuples():
            stories = _keys(getattr(bug, "linked_story_keys", None))
            for story in stories:
                source_counts[story] = source_counts.get(story, 0) + 1
            if len(evidence) < MAX_EVIDENCE:
                reason = "found in production"
                if stories:
                    reason += f", linked to {', '.join(stories)}"
                if _flag(getattr(bug, "linked_to_done_story", False)):
                    reason += " after the story was done"
                evidence.append(Evidence(str(bug.issue_key), reason))
        sources = sorted(source_counts, key=lambda key: (-source_counts[key], key))
        board = _board_name(names, board_id)
        facts = [
            *_context_facts(board, sprint),
            Fact("bugs_found", _count(row, "bugs_found"), "count", "bugs found in the sprint"),
            Fact(
                "production_bugs",
                _count(row, "production_bugs"),
                "count",
                "bugs found in production",
            ),
            Fact("qa_bugs", _count(row, "qa_bugs"), "count", "bugs caught in testing"),
            Fact(
                "escape_rate_limit",
                thresholds.escape_rate_alert,
                "ratio",
                "the team's limit for the escape rate",
            ),
            Fact(
                "bugs_from_done_stories",
                _count(row, "bugs_linked_to_done_stories"),
                "count",
                "bugs linked to stories already done",
            ),
        ]
        if escape_rate is not None:
            facts.insert(
                5,
                _judged(
                    "escape_rate",
                    escape_rate,
                    thresholds.escape_rate_alert,
                    "ratio",
                    "share of bugs that escaped",
                ),
            )
        if sources:
            facts.append(
                Fact("source_stories", tuple(sources[:3]), "keys", "stories the bugs came from")
            )
        for story in sources:
            if len(evidence) >= MAX_EVIDENCE:
                break
            evidence.append(Evidence(story, "a production bug was linked to this story"))
        status = (
            "too many bugs escaped to production"
            if severity == "error"
            else "few bugs escaped to production"
        )
        results.append(
            _insight(
                tables,
                "defect_leakage",
                severity,
                board_id,
                board,
                sprint_id,
                sprint,
                status=status,
                facts=facts,
                evidence=evidence,
                key_facts=("escape_rate", "production_bugs", "source_stories", "bugs_found"),
            )
        )
    return results


# (count column of hygiene_scores, problem name in work_item_health.problems, plain words)
HEALTH_PROBLEMS: tuple[tuple[str, str, str], ...] = (
    ("stale_issues", "stale", "stale issues"),
    ("blocked_issues", "blocked", "blocked issues"),
    ("missing_estimate_issues", "missing_estimate", "issues without an estimate"),
    ("in_progress_too_long_issues", "in_progress_too_long", "issues in progress too long"),
)
PROBLEM_WORDS = {problem: words.removesuffix(" issues") for _, problem, words in HEALTH_PROBLEMS}
PROBLEM_WORDS["missing_estimate"] = "no estimate"
PROBLEM_WORDS["in_progress_too_long"] = "in progress too long"


def team_health_facts(tables: MetricTables, thresholds: Thresholds) -> list[InsightFacts]:
    """Per board: today's hygiene score and its worst problems, with the issues that have the
    most problems as evidence."""
    scores = tables.hygiene_scores
    if not _has(scores, "board_id", "hygiene_score"):
        return []
    names = _board_names(tables)
    results: list[InsightFacts] = []
    for board_id in _boards(scores):
        mine = _rows(scores, board_id)
        if "date" in mine.columns:
            mine = mine.sort_values("date", kind="stable")
        row = mine.iloc[-1]
        if _missing(row["hygiene_score"]):
            continue  # no open issues: nothing to judge
        score = _num(row["hygiene_score"])
        severity: Severity = "warning" if score < thresholds.hygiene_score_min else "info"
        counts = {column: _count(row, column) for column, _, _ in HEALTH_PROBLEMS}
        worst_column, _, worst_words = max(HEALTH_PROBLEMS, key=lambda item: counts[item[0]])
        active = _sprints(tables, board_id, "active")
        sprint_id, sprint = active[-1] if active else (None, None)
        board = _board_name(names, board_id)
        facts = [
            *_context_facts(board, sprint),
            _judged(
                "hygiene_score",
                score,
                thresholds.hygiene_score_min,
                "score",
                "hygiene score out of a hundred",
            ),
            Fact(
                "hygiene_score_min",
                thresholds.hygiene_score_min,
                "score",
                "the lowest healthy score",
            ),
            Fact("open_issues", _count(row, "open_issues"), "count", "open issues"),
            Fact(
                "issues_with_problems",
                _count(row, "issues_with_problems"),
                "count",
                "open issues with a problem",
            ),
            Fact("stale_issues", counts["stale_issues"], "count", "issues not updated lately"),
            Fact("blocked_issues", counts["blocked_issues"], "count", "blocked issues"),
            Fact(
                "missing_estimate_issues",
                counts["missing_estimate_issues"],
                "count",
                "issues without an estimate",
            ),
            Fact(
                "in_progress_too_long_issues",
                counts["in_progress_too_long_issues"],
                "count",
                "issues in progress too long",
            ),
        ]
        if counts[worst_column] > 0:
            facts += [
                Fact("worst_problem", worst_words, "label", "the most common problem"),
                Fact(
                    "worst_problem_issues",
                    counts[worst_column],
                    "count",
                    "issues with the most common problem",
                ),
            ]
        evidence: list[Evidence] = []
        health = _rows(tables.work_item_health, board_id)
        if _has(health, "issue_key", "problems"):
            flagged = health.assign(
                problem_list=health["problems"].map(_keys),
                idle_days=health["days_since_update"].map(_num)
                if "days_since_update" in health.columns
                else 0.0,
            )
            flagged = flagged.assign(listed_problems=flagged["problem_list"].map(len))
            flagged = flagged.loc[flagged["listed_problems"] > 0].sort_values(
                ["listed_problems", "idle_days", "issue_key"],
                ascending=[False, False, True],
                kind="stable",
            )
            evidence = [
                Evidence(
                    str(issue.issue_key),
                    ", ".join(
                        PROBLEM_WORDS.get(p, p.replace("_", " ")) for p in issue.problem_list
                    ),
                )
                for issue in flagged.head(MAX_EVIDENCE).itertuples()
            ]
        status = (
            "ticket hygiene is below the healthy score"
            if severity == "warning"
            else "ticket hygiene is healthy"
        )
        results.append(
            _insight(
                tables,
                "team_health",
                severity,
                board_id,
                board,
                sprint_id,
                sprint,
                status=status,
                facts=facts,
                evidence=evidence,
                key_facts=("hygiene_score", "worst_problem", "issues_with_problems"),
            )
        )
    return results


def velocity_facts(tables: MetricTables, thresholds: Thresholds) -> list[InsightFacts]:
    """Per board: its latest closed sprint's completed points against the previous sprints,
    the P50/P85 forecast for the next sprint, and whether cycle time rose."""
    velocity = tables.sprint_velocity
    if not _has(velocity, "board_id", "sprint_id", "completed_points"):
        return []
    names = _board_names(tables)
    results: list[InsightFacts] = []
    for board_id in _boards(velocity):
        mine = _rows(velocity, board_id)
        if "latest_closed" in mine.columns and mine["latest_closed"].map(_flag).any():
            row = mine.loc[mine["latest_closed"].map(_flag)].iloc[-1]
        else:
            row = _oldest_sprint_first(mine).iloc[-1]
        sprint_id, sprint = _sprint_of(row)
        completed = _num(row["completed_points"])
        previous_mean = (
            None
            if _missing(row.get("previous_mean_points"))
            else _num(row.get("previous_mean_points"))
        )
        if previous_mean is None or previous_mean <= 0:
            dropped = _flag(row.get("velocity_drop"))
            trend = "not yet established"
        else:
            dropped = completed < thresholds.velocity_drop_ratio * previous_mean
            ratio = completed / previous_mean
            trend = "falling" if ratio < 0.95 else "rising" if ratio > 1.05 else "steady"
        severity: Severity = "warning" if dropped else "info"
        board = _board_name(names, board_id)
        facts = [
            *_context_facts(board, sprint),
            Fact("completed_points", _rounded(completed), "points", "points completed"),
            Fact("trend", trend, "label", "direction against the previous sprints"),
        ]
        if previous_mean is not None:
            facts.append(
                Fact(
                    "previous_mean_points",
                    _rounded(previous_mean),
                    "points",
                    "mean points of the previous sprints",
                )
            )
        for column, name, meaning in (
            ("forecast_p50_points", "forecast_p50", "next sprint points, even odds"),
            ("forecast_p85_points", "forecast_p85", "next sprint points, safe commitment"),
        ):
            if not _missing(row.get(column)):
                facts.append(Fact(name, _rounded(_num(row.get(column))), "points", meaning))
        concerns: list[str] = []
        flow = _rows(tables.cycle_time_trends, board_id, sprint_id)
        if _has(flow, "median_cycle_time_days", "median_rose"):
            flow_row = flow.iloc[0]
            if not _missing(flow_row["median_cycle_time_days"]):
                facts.append(
                    Fact(
                        "median_cycle_days",
                        _rounded(_num(flow_row["median_cycle_time_days"])),
                        "days",
                        "median days from start to done",
                    )
                )
                rose = _flag(flow_row["median_rose"])
                facts.append(
                    Fact(
                        "cycle_time_trend",
                        "rising" if rose else "not rising",
                        "label",
                        "whether the median cycle time rose",
                    )
                )
                if rose:
                    concerns.append("work also takes longer from start to done")
        status = (
            "velocity dropped well below the previous sprints"
            if dropped
            else f"velocity is {trend}"
        )
        if concerns:
            status += "; " + "; ".join(concerns)
        results.append(
            _insight(
                tables,
                "velocity",
                severity,
                board_id,
                board,
                sprint_id,
                sprint,
                status=status,
                facts=facts,
                key_facts=("completed_points", "previous_mean_points", "forecast_p85"),
            )
        )
    return results


FACT_BUILDERS = {
    "scope_creep": scope_creep_facts,
    "missed_target": missed_target_facts,
    "defect_leakage": defect_leakage_facts,
    "team_health": team_health_facts,
    "velocity": velocity_facts,
}


def facts_for(
    use_case: UseCase, tables: MetricTables, thresholds: Thresholds | None = None
) -> list[InsightFacts]:
    """The facts of every insight of one use case, in a stable order (board, then sprint)."""
    return FACT_BUILDERS[use_case](tables, thresholds or Thresholds())


def all_facts(tables: MetricTables, thresholds: Thresholds | None = None) -> list[InsightFacts]:
    """The facts of every insight, use case by use case."""
    return [facts for use_case in USE_CASES for facts in facts_for(use_case, tables, thresholds)]
