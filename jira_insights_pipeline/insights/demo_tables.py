"""Hand-made metric tables shaped like a small Jira site with four boards, for the insight
engine's tests and benchmark (they validate against the metric tables' Pandera models).

Each board shows a situation: Mobile App has scope creep, a missed target and a velocity drop;
Payments leaks bugs to production; Platform has poor ticket hygiene and missed its target;
Web Store is healthy. Every value is made up, consistent with the metric definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from jira_insights_pipeline.insights.facts import MetricTables

AS_OF = "2025-03-14T17:00:00+00:00"
_AS_OF = pd.Timestamp(AS_OF)
SPRINT_COUNT = 5  # four closed sprints and the active one
BOARDS = [
    (1, "Mobile App", "MOB"),
    (2, "Payments", "PAY"),
    (3, "Platform", "PLAT"),
    (4, "Web Store", "WEB"),
]


@dataclass(frozen=True)
class Story:
    start: float | None  # points when the sprint took it on (None: not estimated)
    end: float
    added: bool = False
    completed: bool = True


# The stories of each board's latest closed sprint (index 3) and active sprint (index 4).
STORIES: dict[int, dict[int, list[Story]]] = {
    1: {
        3: [Story(3, 8), Story(5, 8, completed=False), Story(2, 5), Story(3, 3),
            Story(5, 5, completed=False), Story(8, 8, completed=False), Story(None, 3, added=True)],
        4: [Story(3, 5, completed=False), Story(5, 5), Story(2, 2, completed=False)],
    },
    2: {
        3: [Story(3, 3), Story(5, 5), Story(2, 2), Story(3, 5), Story(8, 8)],
        4: [Story(3, 3), Story(5, 5, completed=False)],
    },
    3: {
        3: [Story(5, 5, completed=False), Story(3, 3), Story(8, 13, completed=False), Story(5, 5),
            Story(None, 5, added=True, completed=False), Story(3, 3, completed=False)],
        4: [Story(5, 5, completed=False), Story(3, 3, completed=False)],
    },
    4: {
        3: [Story(3, 3), Story(2, 2), Story(5, 5), Story(3, 3)],
        4: [Story(3, 3), Story(2, 2, completed=False)],
    },
}  # fmt: skip
# Completed points of the three closed sprints before the latest one.
EARLIER_VELOCITY = {
    1: [30.0, 32.0, 31.0],
    2: [21.0, 23.0, 22.0],
    3: [24.0, 22.0, 25.0],
    4: [12.0, 14.0, 13.0],
}
EARLIER_SPILLOVER = {1: [1, 0, 2], 2: [0, 1, 0], 3: [3, 4, 2], 4: [0, 0, 1]}
# (production, QA, unknown) bugs found during each board's latest closed sprint.
BUGS = {1: (1, 4, 0), 2: (4, 3, 1), 3: (1, 5, 0), 4: (0, 3, 0)}
# (open issues, stale, missing estimate, blocked, in progress too long) per board.
HEALTH = {1: (20, 2, 1, 1, 1), 2: (15, 1, 0, 1, 0), 3: (30, 9, 4, 3, 2), 4: (12, 0, 1, 0, 0)}

SUMMARIES = [
    "Checkout shows the wrong currency for returning customers",
    "Add biometric login to the account screen",
    "Refund webhook retries forever when the bank times out",
    "Migrate the build agents to the new cluster",
    "Product page images load slowly on mobile networks",
    "Export transaction history as a spreadsheet",
]


def _size(points: float | None) -> str:
    if points is None:
        return "unestimated"
    return "small" if points <= 3 else "large" if points >= 8 else "medium"


def _sprint(board_id: int, prefix: str, n: int) -> dict[str, Any]:
    start = pd.Timestamp("2025-01-06T09:00:00Z") + pd.Timedelta(weeks=2 * n)
    return {
        "board_id": board_id,
        "sprint_id": board_id * 100 + n + 1,
        "sprint_name": f"{prefix} Sprint {20 + n}",
        "sprint_state": "closed" if n < SPRINT_COUNT - 1 else "active",
        "sprint_start": start,
        "sprint_end": start + pd.Timedelta(days=14),
    }


def _key(prefix: str, n: int) -> str:
    return f"{prefix}-{100 + n}"


def sprint_scope_changes() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for board_id, _, prefix in BOARDS:
        for n, stories in STORIES[board_id].items():
            sprint = _sprint(board_id, prefix, n)
            closed = sprint["sprint_state"] == "closed"
            for i, story in enumerate(stories):
                start_points = story.start or 0.0
                growth = (
                    None if story.start is None else (story.end - story.start) / story.start * 100
                )
                grew = growth is not None and growth > 30.0
                entered = sprint["sprint_start"] + pd.Timedelta(days=3 if story.added else 0)
                rows.append(
                    {
                        **sprint,
                        "issue_key": _key(prefix, n * 10 + i),
                        "issue_id": str(10_000 + board_id * 1000 + n * 10 + i),
                        "issue_type": "Story",
                        "entered_at": entered,
                        "left_at": pd.NaT,
                        "points_at_start": float(start_points),
                        "points_at_end": float(story.end),
                        "estimated_at_start": story.start is not None,
                        "estimated_at_end": True,
                        "growth_pct": growth,
                        "grew": grew,
                        "added_after_start": story.added,
                        "removed": False,
                        "committed": not story.added,
                        "completed": story.completed,
                        "completed_outside": False,
                        "carried_over": closed and not story.completed,
                        "acceptance_criteria_length_at_start": 200,
                        "acceptance_criteria_length_at_end": 500 if grew else 200,
                        "acceptance_criteria_growth_pct": 150.0 if grew else 0.0,
                        "size_at_start": _size(story.start),
                        "size_at_end": _size(story.end),
                        "became_large": _size(story.start) == "small"
                        and _size(story.end) == "large",
                        "as_of": _AS_OF,
                    }
                )  # fmt: skip
    return pd.DataFrame(rows)


def _commitment_from_stories(stories: list[Story]) -> dict[str, Any]:
    committed = [s for s in stories if not s.added]
    added = [s for s in stories if s.added]
    estimated = [s for s in committed if s.start is not None]
    grown = [s for s in estimated if (s.end - s.start) / s.start > 0.3]  # type: ignore[operator]
    done = [s for s in stories if s.completed]
    committed_points = sum(s.start or 0 for s in committed)
    done_committed = sum(s.start or 0 for s in committed if s.completed)
    return {
        "committed_points": float(committed_points),
        "committed_issues": len(committed),
        "added_points": float(sum(s.end for s in added)),
        "added_issues": len(added),
        "completed_points": float(sum(s.end for s in done)),
        "completed_issues": len(done),
        "not_completed_points": float(sum(s.end for s in stories if not s.completed)),
        "not_completed_issues": len(stories) - len(done),
        "completed_committed_points": float(done_committed),
        "estimated_committed_stories": len(estimated),
        "grown_stories": len(grown),
    }


def _commitment_from_history(velocity: float, spillover: int) -> dict[str, Any]:
    return {
        "committed_points": velocity + 3 * spillover,
        "committed_issues": 6,
        "added_points": 0.0,
        "added_issues": 0,
        "completed_points": velocity,
        "completed_issues": 6 - spillover,
        "not_completed_points": 3.0 * spillover,
        "not_completed_issues": spillover,
        "completed_committed_points": velocity,
        "estimated_committed_stories": 6,
        "grown_stories": 0,
    }


def sprint_commitments() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for board_id, _, prefix in BOARDS:
        for n in range(SPRINT_COUNT):
            sprint = _sprint(board_id, prefix, n)
            if n in STORIES[board_id]:
                counts = _commitment_from_stories(STORIES[board_id][n])
            else:
                counts = _commitment_from_history(
                    EARLIER_VELOCITY[board_id][n], EARLIER_SPILLOVER[board_id][n]
                )
            closed = sprint["sprint_state"] == "closed"
            committed = counts["committed_points"]
            say_do = counts["completed_committed_points"] / committed if committed else None
            completion = counts["completed_points"] / committed if committed else None
            share = (
                counts["grown_stories"] / counts["estimated_committed_stories"]
                if counts["estimated_committed_stories"]
                else None
            )
            rows.append(
                {
                    **sprint,
                    **counts,
                    "removed_points": 0.0,
                    "removed_issues": 0,
                    "completed_outside_issues": 0,
                    "say_do_ratio": say_do,
                    "completion_rate": completion,
                    "spillover_issues": counts["not_completed_issues"] if closed else 0,
                    "grown_story_share": share,
                    "scope_creep_alert": share is not None and share > 0.2,
                    "as_of": _AS_OF,
                }
            )
    return pd.DataFrame(rows)


def sprint_velocity(commitments: pd.DataFrame) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for board_id, _, _ in BOARDS:
        closed = commitments.loc[
            commitments["board_id"].eq(board_id) & commitments["sprint_state"].eq("closed")
        ].sort_values("sprint_end")
        active = commitments.loc[
            commitments["board_id"].eq(board_id) & commitments["sprint_state"].eq("active")
        ].iloc[0]
        completed = closed["completed_points"].tolist()
        for i, row in enumerate(closed.itertuples()):
            previous = completed[max(0, i - 3) : i]
            mean = sum(previous) / len(previous) if previous else None
            latest = i == len(completed) - 1
            recent = sorted(completed[-6:])
            rows.append(
                {
                    "board_id": board_id,
                    "sprint_id": row.sprint_id,
                    "sprint_name": row.sprint_name,
                    "sprint_start": row.sprint_start,
                    "sprint_end": row.sprint_end,
                    "committed_points": row.committed_points,
                    "completed_points": row.completed_points,
                    "previous_mean_points": mean,
                    "velocity_ratio": row.completed_points / mean if mean else None,
                    "velocity_drop": mean is not None and row.completed_points < 0.7 * mean,
                    "latest_closed": latest,
                    "forecast_sprint_id": active["sprint_id"] if latest else None,
                    "forecast_sprint_name": active["sprint_name"] if latest else None,
                    "forecast_sprints_used": len(recent) if latest else None,
                    "forecast_p50_points": recent[len(recent) // 2] if latest else None,
                    "forecast_p85_points": recent[0] + 1.0 if latest else None,
                    "as_of": _AS_OF,
                }
            )
    frame = pd.DataFrame(rows)
    for column in ("forecast_sprint_id", "forecast_sprints_used"):
        frame[column] = frame[column].astype("Int64")
    return frame


def defect_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    bugs: list[dict[str, Any]] = []
    rates: list[dict[str, Any]] = []
    for board_id, _, prefix in BOARDS:
        for n in range(SPRINT_COUNT):
            sprint = _sprint(board_id, prefix, n)
            production, qa, unknown = BUGS[board_id] if n == 3 else (0, 1, 0)
            classes = ["production"] * production + ["qa"] * qa + ["unknown"] * unknown
            done_links = 0
            for i, environment in enumerate(classes):
                story = _key(prefix, 30 + (i % 2))
                done = environment == "production"
                done_links += done
                bugs.append(
                    {
                        "as_of": _AS_OF,
                        "board_id": board_id,
                        "sprint_id": sprint["sprint_id"],
                        "sprint_name": sprint["sprint_name"],
                        "issue_key": f"{prefix}-{900 + n * 10 + i}",
                        "issue_type": "Bug",
                        "summary": SUMMARIES[(board_id + i) % len(SUMMARIES)],
                        "created": sprint["sprint_start"] + pd.Timedelta(days=2 + i),
                        "environment_class": environment,
                        "environment_evidence": f"environment field: {environment}",
                        "linked_story_keys": [story],
                        "done_story_keys": [story] if done else [],
                        "linked_stories": 1,
                        "linked_to_done_story": done,
                    }
                )
            judged = production + qa
            rates.append(
                {
                    **sprint,
                    "as_of": _AS_OF,
                    "bugs_found": len(classes),
                    "production_bugs": production,
                    "qa_bugs": qa,
                    "unknown_bugs": unknown,
                    "escape_rate": production / judged if judged else None,
                    "bugs_linked_to_done_stories": done_links,
                    "leakage_alert": judged > 0 and production / judged > 0.2,
                }
            )
    leakage = pd.DataFrame(bugs)
    leakage["sprint_id"] = leakage["sprint_id"].astype("Int64")
    return leakage, pd.DataFrame(rates)


def health_tables(commitments: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    items: list[dict[str, Any]] = []
    scores: list[dict[str, Any]] = []
    for board_id, name, prefix in BOARDS:
        active = commitments.loc[
            commitments["board_id"].eq(board_id) & commitments["sprint_state"].eq("active")
        ].iloc[0]
        opened, stale, missing, blocked, too_long = HEALTH[board_id]
        with_problems = 0
        for i in range(opened):
            flags = {
                "stale": i < stale,
                "missing_estimate": stale <= i < stale + missing,
                "blocked": i < blocked,
                "in_progress_too_long": i < too_long,
            }
            problems = [problem for problem, on in flags.items() if on]
            with_problems += bool(problems)
            in_progress = i < too_long or i % 3 == 0
            idle_days = 30.0 - i if flags["stale"] else 2.0
            items.append(
                {
                    "as_of": _AS_OF,
                    "board_id": board_id,
                    "sprint_id": active["sprint_id"] if i % 2 == 0 else None,
                    "sprint_name": active["sprint_name"] if i % 2 == 0 else None,
                    "issue_key": _key(prefix, 200 + i),
                    "issue_type": "Story",
                    "summary": SUMMARIES[i % len(SUMMARIES)],
                    "status": "In Progress" if in_progress else "To Do",
                    "status_category": "indeterminate" if in_progress else "new",
                    "last_updated": _AS_OF - pd.Timedelta(days=idle_days),
                    "days_since_update": idle_days,
                    "stale": flags["stale"],
                    "story_points": None if flags["missing_estimate"] else 3.0,
                    "missing_estimate": flags["missing_estimate"],
                    "blocked_now": flags["blocked"],
                    "blocked_days": 6.0 if flags["blocked"] else 0.0,
                    "in_progress_since": _AS_OF - pd.Timedelta(days=15 if i < too_long else 3)
                    if in_progress
                    else pd.NaT,
                    "days_in_progress": (15.0 if i < too_long else 3.0) if in_progress else None,
                    "in_progress_too_long": flags["in_progress_too_long"],
                    "problems": problems,
                    "problem_count": len(problems),
                }
            )
        scores.append(
            {
                "as_of": _AS_OF,
                "date": "2025-03-14",
                "board_id": board_id,
                "board_name": name,
                "open_issues": opened,
                "issues_with_problems": with_problems,
                "stale_issues": stale,
                "missing_estimate_issues": missing,
                "blocked_issues": blocked,
                "in_progress_too_long_issues": too_long,
                "hygiene_score": round(100 * (opened - with_problems) / opened, 1),
                "hygiene_alert": 100 * (opened - with_problems) / opened < 70,
            }
        )
    health = pd.DataFrame(items)
    health["sprint_id"] = health["sprint_id"].astype("Int64")
    return health, pd.DataFrame(scores)


def cycle_time_trends(commitments: pd.DataFrame) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for row in commitments.itertuples():
        latest = row.sprint_id % 100 == 4
        median = 6.5 if latest and row.board_id == 1 else 4.0
        rows.append(
            {
                "as_of": _AS_OF,
                "board_id": row.board_id,
                "sprint_id": row.sprint_id,
                "sprint_name": row.sprint_name,
                "sprint_state": row.sprint_state,
                "sprint_start": row.sprint_start,
                "sprint_end": row.sprint_end,
                "finished_issues": row.completed_issues,
                "median_cycle_time_days": median,
                "p85_cycle_time_days": median + 3.0,
                "previous_median_cycle_time_days": 4.0,
                "median_change_pct": (median - 4.0) / 4.0 * 100,
                "median_rose": median > 4.0 * 1.2,
            }
        )
    return pd.DataFrame(rows)


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


def jira_issues(*frames: pd.DataFrame) -> pd.DataFrame:
    """issue_key and summary of every issue the other tables name (the columns insights read)."""
    keys: set[str] = set()
    for frame in frames:
        keys.update(frame["issue_key"])
        if "linked_story_keys" in frame.columns:
            keys.update(key for linked in frame["linked_story_keys"] for key in linked)
    ordered = sorted(keys)
    return pd.DataFrame(
        {
            "issue_key": ordered,
            "summary": [SUMMARIES[i % len(SUMMARIES)] for i in range(len(ordered))],
        }
    )


def four_board_tables() -> MetricTables:
    """The four-board site's tables."""
    scope = sprint_scope_changes()
    commitments = sprint_commitments()
    leakage, escape_rates = defect_tables()
    health, hygiene = health_tables(commitments)
    return MetricTables(
        as_of=AS_OF,
        jira_boards=jira_boards(),
        jira_issues=jira_issues(scope, leakage, health),
        sprint_scope_changes=scope,
        sprint_commitments=commitments,
        sprint_velocity=sprint_velocity(commitments),
        defect_leakage=leakage,
        defect_escape_rates=escape_rates,
        work_item_health=health,
        hygiene_scores=hygiene,
        cycle_time_trends=cycle_time_trends(commitments),
    )


def only_boards(tables: MetricTables, board_ids: set[int]) -> MetricTables:
    """`tables` restricted to the boards `board_ids` (a smaller site for quick runs)."""
    restricted: dict[str, Any] = {}
    for name, frame in vars(tables).items():
        if isinstance(frame, pd.DataFrame) and "board_id" in frame.columns:
            restricted[name] = frame.loc[frame["board_id"].isin(board_ids)].reset_index(drop=True)
        else:
            restricted[name] = frame
    return MetricTables(**restricted)
