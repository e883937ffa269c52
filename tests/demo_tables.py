"""A small Jira site with four boards, for the insight tests and the insights benchmark
(`benchmarks/bench_insights.py --tables demo`).

Only the inputs are made by hand: the staging tables the metrics and insights read
(`jira_boards`, `jira_sprints` as staging has them, `jira_issues` with the summaries) and the
per-issue metric tables (`sprint_scope_changes` per sprint and issue, `defect_leakage` per bug,
`work_item_health` per open issue, `cycle_times` per finished issue), each validated by its
Pandera model. Every per-sprint and per-board table, and so every column that decides a rule,
is then computed from them by the pipeline's own pure metric functions with the given threshold
sections (the defaults unless told), and validated as the assets validate it. So the insight
tests exercise the real metric definitions and thresholds, never a second copy of them.

Each board shows a situation: Mobile App has scope creep, a missed target, a velocity drop and a
rising cycle time; Payments leaks bugs to production; Platform has poor ticket hygiene and missed
its target (completing so little that its velocity dropped too); Web Store is healthy. Each board
ran four closed sprints (`<KEY> Sprint 20` to `23`) and is running `<KEY> Sprint 24`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pandera.pandas as pa

from jira_insights_pipeline import schemas
from jira_insights_pipeline.assets.defect_leakage.metrics import defect_escape_rates
from jira_insights_pipeline.assets.defect_leakage.schemas import (
    DefectEscapeRatesSchema,
    DefectLeakageSchema,
    EscapeCausesSchema,
    EscapeClustersSchema,
)
from jira_insights_pipeline.assets.flow.metrics import cycle_time_trends
from jira_insights_pipeline.assets.flow.schemas import (
    AgedWorkSchema,
    CycleTimesSchema,
    CycleTimeTrendsSchema,
    StatusTimeChangesSchema,
)
from jira_insights_pipeline.assets.missed_target.metrics import sprint_targets
from jira_insights_pipeline.assets.missed_target.schemas import (
    SpilloverPatternsSchema,
    SpilloverReasonsSchema,
    SprintTargetsSchema,
)
from jira_insights_pipeline.assets.scope_creep.metrics import sprint_scope_creep
from jira_insights_pipeline.assets.scope_creep.schemas import (
    ScopeGrowthCausesSchema,
    SprintScopeCausesSchema,
    SprintScopeCreepSchema,
)
from jira_insights_pipeline.assets.sprints.commitments import sprint_commitments
from jira_insights_pipeline.assets.sprints.schemas import (
    SprintCommitmentsSchema,
    SprintScopeChangesSchema,
)
from jira_insights_pipeline.assets.sprints.sprint_frame import SIZE_LARGE, SIZE_SMALL, size_class
from jira_insights_pipeline.assets.team_health.metrics import PROBLEMS, hygiene_scores
from jira_insights_pipeline.assets.team_health.schemas import (
    HygieneScoresSchema,
    WorkItemHealthSchema,
)
from jira_insights_pipeline.assets.velocity.metrics import sprint_velocity
from jira_insights_pipeline.assets.velocity.schemas import (
    SprintVelocitySchema,
    VelocityCausesSchema,
)
from jira_insights_pipeline.insights.tables import MetricTables
from jira_insights_pipeline.metrics.issue_history import sprint_windows, utc_instant
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.validation import validate_table

AS_OF = "2025-03-14T17:00:00+00:00"
_AS_OF = utc_instant(AS_OF)
FIRST_SPRINT_START = pd.Timestamp("2025-01-06T09:00:00Z")
SPRINT_DAYS = 14
SPRINT_COUNT = 5  # four closed sprints and the active one
LATEST_CLOSED, ACTIVE = SPRINT_COUNT - 2, SPRINT_COUNT - 1
BOARDS = [
    (1, "Mobile App", "MOB"),
    (2, "Payments", "PAY"),
    (3, "Platform", "PLAT"),
    (4, "Web Store", "WEB"),
]
PREFIX = {board_id: prefix for board_id, _, prefix in BOARDS}

# The hand-made inputs and the tables computed from them, each with its Pandera model.
INPUT_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "jira_boards": schemas.JiraBoardsSchema,
    "jira_sprints": schemas.JiraSprintsSchema,
    "sprint_scope_changes": SprintScopeChangesSchema,
    "defect_leakage": DefectLeakageSchema,
    "work_item_health": WorkItemHealthSchema,
    "cycle_times": CycleTimesSchema,
}
COMPUTED_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "sprint_commitments": SprintCommitmentsSchema,
    "sprint_scope_creep": SprintScopeCreepSchema,
    "sprint_targets": SprintTargetsSchema,
    "sprint_velocity": SprintVelocitySchema,
    "defect_escape_rates": DefectEscapeRatesSchema,
    "hygiene_scores": HygieneScoresSchema,
    "cycle_time_trends": CycleTimeTrendsSchema,
}
# The diagnosis tables replay Jira's history (status intervals, estimates, the changelog),
# which this hand-made site does not have: they are present and empty, so its insights state
# no cause, as on a site whose history shows none.
DIAGNOSIS_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "spillover_reasons": SpilloverReasonsSchema,
    "spillover_patterns": SpilloverPatternsSchema,
    "scope_growth_causes": ScopeGrowthCausesSchema,
    "sprint_scope_causes": SprintScopeCausesSchema,
    "status_time_changes": StatusTimeChangesSchema,
    "aged_work": AgedWorkSchema,
    "velocity_causes": VelocityCausesSchema,
    "escape_causes": EscapeCausesSchema,
    "escape_clusters": EscapeClustersSchema,
}
INPUTS = (*INPUT_SCHEMAS, "jira_issues")


def empty_table(model: type[pa.DataFrameModel]) -> pd.DataFrame:
    """A table without rows, with the columns and dtypes `model` asks for."""
    columns = model.to_schema().columns
    return pd.DataFrame(
        {
            name: pd.Series(dtype=column.dtype.type if column.dtype is not None else object)
            for name, column in columns.items()
        }
    )


SUMMARIES = [
    "Checkout shows the wrong currency for returning customers",
    "Add biometric login to the account screen",
    "Refund webhook retries forever when the bank times out",
    "Migrate the build agents to the new cluster",
    "Product page images load slowly on mobile networks",
    "Export transaction history as a spreadsheet",
]


@dataclass(frozen=True)
class Story:
    """One story of a sprint: its points when the sprint took it on (None: not estimated) and
    at the end, whether it was added after the start, whether it was finished, and if so how
    many days it took from start to done."""

    start: float | None
    end: float
    added: bool = False
    completed: bool = True
    days: float = 4.0


# The stories of each board's latest closed sprint and of its active sprint.
STORIES: dict[int, dict[int, list[Story]]] = {
    1: {  # three of six committed stories grew; 19 of 26 points; slow to finish
        LATEST_CLOSED: [
            Story(3, 8, days=8.0), Story(5, 8, completed=False), Story(2, 5, days=6.5),
            Story(3, 3, days=5.5), Story(5, 5, completed=False), Story(8, 8, completed=False),
            Story(3, 3, added=True, days=6.5),
        ],
        ACTIVE: [Story(3, 5, completed=False), Story(5, 5), Story(2, 2, completed=False)],
    },
    2: {  # one of five grew (20%, at the limit); 23 points against 21 committed
        LATEST_CLOSED: [
            Story(3, 3, days=3.5), Story(5, 5), Story(2, 2, days=4.5), Story(3, 5),
            Story(8, 8, days=5.0),
        ],
        ACTIVE: [Story(3, 3), Story(5, 5, completed=False)],
    },
    3: {  # 8 of 24 committed points finished, four stories spilled over
        LATEST_CLOSED: [
            Story(5, 5, completed=False), Story(3, 3), Story(8, 13, completed=False),
            Story(5, 5, days=4.5), Story(None, 5, added=True, completed=False),
            Story(3, 3, completed=False),
        ],
        ACTIVE: [Story(5, 5, completed=False), Story(3, 3, completed=False)],
    },
    4: {  # everything committed finished
        LATEST_CLOSED: [Story(3, 3, days=3.0), Story(2, 2), Story(5, 5), Story(3, 3, days=5.0)],
        ACTIVE: [Story(3, 3), Story(2, 2, completed=False)],
    },
}  # fmt: skip
# Completed points and spilled-over stories of the closed sprints before the latest one; their
# stories are generated (`_earlier_stories`), six committed stories a sprint, none growing.
EARLIER_VELOCITY = {1: [30, 32, 31], 2: [21, 23, 22], 3: [24, 22, 25], 4: [12, 14, 13]}
EARLIER_SPILLOVER = {1: [1, 0, 2], 2: [0, 1, 0], 3: [3, 4, 2], 4: [0, 0, 1]}
EARLIER_STORIES = 6
SPILLED_STORY_POINTS = 3.0
EARLIER_CYCLE_DAYS = (3.0, 4.0, 5.0, 4.0, 3.5, 4.5)  # median 4 days
# (production, QA, unknown) bugs found in each board's latest closed sprint; every other sprint
# had one bug, caught in QA.
BUGS = {1: (1, 4, 0), 2: (4, 3, 1), 3: (1, 5, 0), 4: (0, 3, 0)}
OTHER_SPRINT_BUGS = (0, 1, 0)
# (open issues, stale, missing an estimate, blocked, in progress too long) per board.
HEALTH = {1: (20, 2, 1, 1, 1), 2: (15, 1, 0, 1, 0), 3: (30, 9, 4, 3, 2), 4: (12, 0, 1, 0, 0)}


def _key(prefix: str, number: int) -> str:
    return f"{prefix}-{100 + number}"


def _summary(key: str) -> str:
    """Every table (and jira_issues) gives an issue the same summary."""
    return SUMMARIES[int(key.rsplit("-", 1)[1]) % len(SUMMARIES)]


def _sprint_id(board_id: int, n: int) -> int:
    return board_id * 100 + n + 1


# ---------------------------------------------------------------------------------------------
# Hand-made inputs
# ---------------------------------------------------------------------------------------------


def jira_boards() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "board_id": board_id,
                "name": name,
                "board_type": "scrum",
                "project_key": prefix,
                "estimation_field": "customfield_10016",
            }
            for board_id, name, prefix in BOARDS
        ]
    )


def jira_sprints() -> pd.DataFrame:
    """Two-week sprints back to back; the last one of each board is still running at AS_OF."""
    rows = []
    for board_id, _, prefix in BOARDS:
        for n in range(SPRINT_COUNT):
            start = FIRST_SPRINT_START + pd.Timedelta(days=SPRINT_DAYS * n)
            end = start + pd.Timedelta(days=SPRINT_DAYS)
            closed = n < ACTIVE
            rows.append(
                {
                    "sprint_id": _sprint_id(board_id, n),
                    "board_id": board_id,
                    "name": f"{prefix} Sprint {20 + n}",
                    "state": "closed" if closed else "active",
                    "start_date": start,
                    "end_date": end,
                    "complete_date": end if closed else pd.NaT,
                    "goal": None,
                }
            )
    return pd.DataFrame(rows)


def _earlier_stories(board_id: int, n: int) -> list[Story]:
    """A closed sprint before the latest: its completed points split over the stories that
    finished, and the spilled-over stories of 3 points each."""
    velocity = EARLIER_VELOCITY[board_id][n]
    spilled = EARLIER_SPILLOVER[board_id][n]
    finished = EARLIER_STORIES - spilled
    base, extra = divmod(velocity, finished)
    stories = [
        Story(base + (i < extra), base + (i < extra), days=EARLIER_CYCLE_DAYS[i])
        for i in range(finished)
    ]
    return stories + [Story(SPILLED_STORY_POINTS, SPILLED_STORY_POINTS, completed=False)] * spilled


def stories_of(board_id: int, n: int) -> list[Story]:
    return STORIES[board_id].get(n) or _earlier_stories(board_id, n)


def _done_at(window: Any, i: int) -> pd.Timestamp:
    """When the i-th story of a sprint was finished: a day after the one before."""
    return window.sprint_start + pd.Timedelta(days=1 + i)


def _windows(sprints: pd.DataFrame) -> dict[int, Any]:
    return {row.sprint_id: row for row in sprint_windows(sprints, _AS_OF).itertuples()}


def scope_and_cycle_times(
    sprints: pd.DataFrame, thresholds: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`sprint_scope_changes` (one row per sprint and story) and `cycle_times` (one row per
    finished story). Growth and size follow the sprint ledger's thresholds."""
    windows = _windows(sprints)
    scope: list[dict[str, Any]] = []
    finished: list[dict[str, Any]] = []
    for board_id, _, prefix in BOARDS:
        for n in range(SPRINT_COUNT):
            window = windows[_sprint_id(board_id, n)]
            closed = window.sprint_state == "closed"
            for i, story in enumerate(stories_of(board_id, n)):
                key = _key(prefix, n * 10 + i)
                added_at = window.sprint_start + pd.Timedelta(days=3 if story.added else 0)
                scope.append(
                    {
                        **_sprint_columns(window),
                        "issue_key": key,
                        "issue_id": str(10_000 + board_id * 1000 + n * 10 + i),
                        "issue_type": "Story",
                        "entered_at": added_at,
                        "left_at": pd.NaT,
                        "points_at_start": float(story.start or 0.0),
                        "points_at_end": float(story.end),
                        "estimated_at_start": story.start is not None,
                        "estimated_at_end": True,
                        "added_after_start": story.added,
                        "removed": False,
                        "committed": not story.added,
                        "completed": story.completed,
                        "completed_outside": False,
                        "carried_over": closed and not story.completed,
                        "as_of": _AS_OF,
                    }
                )
                if story.completed:
                    done_at = _done_at(window, i)
                    finished.append(
                        {
                            "as_of": _AS_OF,
                            "board_id": board_id,
                            "sprint_id": window.sprint_id,
                            "sprint_name": window.sprint_name,
                            "issue_key": key,
                            "issue_type": "Story",
                            "is_subtask": False,
                            "summary": _summary(key),
                            "in_progress_at": done_at - pd.Timedelta(days=story.days),
                            "done_at": done_at,
                            "cycle_time_days": story.days,
                            "done_entries": 1,
                            "reopened": False,
                        }
                    )
    frame = pd.DataFrame(scope)
    start = frame["points_at_start"].where(frame["points_at_start"] > 0)
    frame["growth_pct"] = (frame["points_at_end"] - start) / start * 100.0
    frame["grew"] = frame["growth_pct"].gt(thresholds.growth_pct)
    # Acceptance criteria were written out as the stories grew.
    frame["acceptance_criteria_length_at_start"] = 200
    frame["acceptance_criteria_length_at_end"] = frame["grew"].map({True: 500, False: 200})
    frame["acceptance_criteria_growth_pct"] = frame["grew"].map({True: 150.0, False: 0.0})
    frame["size_at_start"] = size_class(
        frame["points_at_start"], frame["estimated_at_start"], thresholds
    )
    frame["size_at_end"] = size_class(frame["points_at_end"], frame["estimated_at_end"], thresholds)
    frame["became_large"] = frame["size_at_start"].eq(SIZE_SMALL) & frame["size_at_end"].eq(
        SIZE_LARGE
    )
    return frame, pd.DataFrame(finished)


def _sprint_columns(window: Any) -> dict[str, Any]:
    return {
        "board_id": window.board_id,
        "sprint_id": window.sprint_id,
        "sprint_name": window.sprint_name,
        "sprint_state": window.sprint_state,
        "sprint_start": window.sprint_start,
        "sprint_end": window.sprint_end,
    }


def defect_leakage(sprints: pd.DataFrame, cycle_times: pd.DataFrame) -> pd.DataFrame:
    """One row per bug. QA caught its bugs within the first day, before any story was done,
    and linked them to the sprint's third story; production bugs came later and are linked to
    the sprint's first or second story, done or not by then (`cycle_times` says when)."""
    windows = _windows(sprints)
    done_at = dict(zip(cycle_times["issue_key"], cycle_times["done_at"], strict=True))
    bugs: list[dict[str, Any]] = []
    for board_id, _, prefix in BOARDS:
        for n in range(SPRINT_COUNT):
            window = windows[_sprint_id(board_id, n)]
            production, qa, unknown = BUGS[board_id] if n == LATEST_CLOSED else OTHER_SPRINT_BUGS
            classes = ["production"] * production + ["qa"] * qa + ["unknown"] * unknown
            for i, environment in enumerate(classes):
                if environment == "production":
                    story = _key(prefix, n * 10 + i % 2)
                    created = window.sprint_start + pd.Timedelta(days=2 + i, hours=12)
                else:
                    story = _key(prefix, n * 10 + 2)
                    created = window.sprint_start + pd.Timedelta(hours=12 + i)
                done = story in done_at and done_at[story] <= created
                key = f"{prefix}-{900 + n * 10 + i}"
                bugs.append(
                    {
                        "as_of": _AS_OF,
                        "board_id": board_id,
                        "sprint_id": window.sprint_id,
                        "sprint_name": window.sprint_name,
                        "issue_key": key,
                        "issue_type": "Bug",
                        "summary": _summary(key),
                        "created": created,
                        "environment_class": environment,
                        "environment_evidence": None
                        if environment == "unknown"
                        else f"label: {'prod-incident' if environment == 'production' else 'qa'}",
                        "linked_story_keys": [story],
                        "done_story_keys": [story] if done else [],
                        "linked_stories": 1,
                        "linked_to_done_story": done,
                    }
                )
    return pd.DataFrame(bugs)


def work_items(
    board_id: int,
    opened: int,
    stale: int = 0,
    missing: int = 0,
    blocked: int = 0,
    too_long: int = 0,
    thresholds: Any = None,
) -> list[dict[str, Any]]:
    """`work_item_health` rows of one board: `opened` open issues, the first `stale` idle for
    weeks, the next `missing` in the active sprint without an estimate, the first `blocked`
    blocked and the first `too_long` in progress for over two weeks. The flags follow the
    team-health thresholds (the defaults unless given)."""
    thresholds = thresholds or Thresholds().team_health
    prefix = PREFIX[board_id]
    sprint_id = _sprint_id(board_id, ACTIVE)
    sprint_name = f"{prefix} Sprint {20 + ACTIVE}"
    items = []
    for i in range(opened):
        idle_days = 30.0 - i if i < stale else 2.0
        no_estimate = stale <= i < stale + missing
        in_sprint = i % 2 == 0 or no_estimate
        in_progress = i < too_long or i % 3 == 0
        progress_days = (15.0 if i < too_long else 3.0) if in_progress else None
        flags = {
            "stale": idle_days > thresholds.stale_days,
            "missing_estimate": no_estimate,
            "blocked_now": i < blocked,
            "in_progress_too_long": progress_days is not None
            and progress_days > thresholds.in_progress_days,
        }
        problems = [name for name, flag in zip(PROBLEMS, flags.values(), strict=True) if flag]
        key = _key(prefix, 200 + i)
        items.append(
            {
                "as_of": _AS_OF,
                "board_id": board_id,
                "sprint_id": sprint_id if in_sprint else None,
                "sprint_name": sprint_name if in_sprint else None,
                "issue_key": key,
                "issue_type": "Story",
                "summary": _summary(key),
                "status": "In Progress" if in_progress else "To Do",
                "status_category": "indeterminate" if in_progress else "new",
                "last_updated": _AS_OF - pd.Timedelta(days=idle_days),
                "days_since_update": idle_days,
                **flags,
                "story_points": None if no_estimate else 3.0,
                "blocked_days": 6.0 if flags["blocked_now"] else 0.0,
                "in_progress_since": pd.NaT
                if progress_days is None
                else _AS_OF - pd.Timedelta(days=progress_days),
                "days_in_progress": progress_days,
                "problems": problems,
                "problem_count": len(problems),
            }
        )
    return items


def jira_issues(*frames: pd.DataFrame) -> pd.DataFrame:
    """The issue key and summary (the columns insights read) of every issue `frames` name."""
    keys: set[str] = set()
    for frame in frames:
        keys.update(frame["issue_key"])
        if "linked_story_keys" in frame.columns:
            keys.update(key for linked in frame["linked_story_keys"] for key in linked)
    ordered = sorted(keys)
    return pd.DataFrame({"issue_key": ordered, "summary": [_summary(key) for key in ordered]})


def four_board_inputs(thresholds: Any = None) -> dict[str, pd.DataFrame]:
    """The hand-made tables of the site, validated by their Pandera models. The per-issue
    flags that follow a threshold (a story grew, an issue is stale) follow `thresholds`."""
    thresholds = thresholds or Thresholds()
    sprints = jira_sprints()
    scope, finished = scope_and_cycle_times(sprints, thresholds.sprints)
    health = [
        item
        for board_id, counts in HEALTH.items()
        for item in work_items(board_id, *counts, thresholds=thresholds.team_health)
    ]
    inputs = {
        "jira_boards": jira_boards(),
        "jira_sprints": sprints,
        "sprint_scope_changes": scope,
        "defect_leakage": defect_leakage(sprints, finished),
        "work_item_health": pd.DataFrame(health),
        "cycle_times": finished,
    }
    validated = {
        name: validate_table(INPUT_SCHEMAS[name], frame, name) for name, frame in inputs.items()
    }
    validated["jira_issues"] = jira_issues(
        validated["sprint_scope_changes"],
        validated["defect_leakage"],
        validated["work_item_health"],
    )
    return validated


# ---------------------------------------------------------------------------------------------
# The computed tables
# ---------------------------------------------------------------------------------------------


def computed(inputs: Mapping[str, pd.DataFrame], thresholds: Any = None) -> MetricTables:
    """Every metric table the insights read: the inputs as given and the per-sprint and
    per-board tables computed from them by the metric functions, as the assets call them,
    with `thresholds` (a `registry.Thresholds`; the defaults unless given)."""
    th = thresholds or Thresholds()
    as_of = _AS_OF
    sprints = inputs["jira_sprints"]
    frames = dict(inputs)
    commitments = sprint_commitments(inputs["sprint_scope_changes"], sprints, as_of)
    tables = {
        "sprint_commitments": commitments,
        "sprint_scope_creep": sprint_scope_creep(commitments, th.scope_creep),
        "sprint_targets": sprint_targets(commitments, th.missed_target),
        "sprint_velocity": sprint_velocity(commitments, sprints, as_of, th.velocity),
        "defect_escape_rates": defect_escape_rates(
            inputs["defect_leakage"], sprints, as_of, th.defect_leakage
        ),
        "hygiene_scores": hygiene_scores(
            inputs["work_item_health"], inputs["jira_boards"], as_of, th.team_health
        ),
        "cycle_time_trends": cycle_time_trends(inputs["cycle_times"], sprints, as_of, th.flow),
    }
    for name, frame in tables.items():
        frames[name] = validate_table(COMPUTED_SCHEMAS[name], frame, name)
    for name, model in DIAGNOSIS_SCHEMAS.items():
        frames[name] = validate_table(model, empty_table(model), name)
    return MetricTables(as_of=AS_OF, frames=frames)


def four_board_tables(thresholds: Any = None) -> MetricTables:
    """The four-board site's tables, computed with `thresholds` (the defaults unless given)."""
    return computed(four_board_inputs(thresholds), thresholds)


def recomputed(
    tables: MetricTables, thresholds: Any = None, **inputs: pd.DataFrame
) -> MetricTables:
    """`tables` computed again from their inputs, with the inputs named in `inputs` replaced
    (and validated) and `thresholds` (the defaults unless given)."""
    for name, frame in inputs.items():
        if name not in INPUTS:
            raise KeyError(f"{name} is computed, not an input; change one of {INPUTS}")
        if name in INPUT_SCHEMAS:
            inputs[name] = validate_table(INPUT_SCHEMAS[name], frame, name)
    return computed({**{name: tables[name] for name in INPUTS}, **inputs}, thresholds)


def only_boards(tables: MetricTables, board_ids: set[int]) -> MetricTables:
    """`tables` restricted to the boards `board_ids` (a smaller site for quick runs)."""
    return MetricTables(
        as_of=tables.as_of,
        frames={
            name: frame.loc[frame["board_id"].isin(board_ids)].reset_index(drop=True)
            if "board_id" in frame.columns
            else frame
            for name, frame in tables.frames.items()
        },
    )
