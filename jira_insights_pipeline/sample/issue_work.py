"""How one issue is worked through its board's workflow during a sprint.

The simulation decides, per sprint, which issues get finished and which are left unfinished (a
`SprintWork` each); `IssueWorker.work_on` carries that out: it assigns a developer, moves the
issue from status to status (sometimes back from review, sometimes through Blocked or reopened
after Done), raises and clears a flag now and then, finishes its sub-tasks along the way, and
leaves unfinished work either untouched or somewhere in the middle of the workflow. How long
finished work takes comes from the sprint's `SprintKnobs`.

It draws from the board's shared `random.Random`, in a fixed order, like the rest of the
simulation.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from jira_insights_pipeline.sample.board_plan import BoardPlan
from jira_insights_pipeline.sample.clock import (
    DAY,
    HOUR,
    MINUTE,
    at_work,
    previous_work_time,
    work_time,
)
from jira_insights_pipeline.sample.issues import SimIssue
from jira_insights_pipeline.sample.jira_shapes import (
    BLOCKED,
    DONE,
    IN_PROGRESS,
    IN_REVIEW,
    QA,
    SELECTED,
    SUBTASK,
    Person,
    Status,
)
from jira_insights_pipeline.sample.profiles import Profile, SprintKnobs

TESTING_STATUSES = frozenset({IN_REVIEW, QA})


@dataclass
class SprintWork:
    """One sprint's plan for one issue: finish it, or leave it unfinished (`started_at` set:
    started then and left in progress)."""

    issue: SimIssue
    finish: bool
    started_at: int | None = None


class IssueWorker:
    """Works one board's issues; the board's profile makes its team more or less careful."""

    def __init__(self, plan: BoardPlan, rng: random.Random) -> None:
        self.plan = plan
        self.rng = rng

    def work_on(
        self,
        work: SprintWork,
        knobs: SprintKnobs,
        start: int,
        end: int,
        not_before: int | None = None,
    ) -> None:
        """Carries out `work` in the sprint from `start` to `end`; work on a re-estimated story
        begins only after `not_before`, the instant of the re-estimate."""
        issue = work.issue
        earliest = max(start + 30 * MINUTE, issue.field_times.get("sprint", start), not_before or 0)
        earliest = max(earliest, issue.field_times.get("status", 0) + MINUTE)
        latest = end - 2 * HOUR
        if earliest >= latest:
            return
        already_started = issue.status.category == "indeterminate"
        if work.finish:
            room = latest - earliest
            duration = self._cycle_duration(knobs, room)
            if already_started:
                done_at = work_time(self.rng, earliest + (room // 5), latest)
                first = earliest + self.rng.randint(0, max(0, (done_at - earliest) // 3))
            else:
                first = work_time(self.rng, earliest, latest - duration)
                done_at = at_work(self.rng, first + duration, first + HOUR, latest)
            steps = self._path_to_done(issue)
            if not already_started:
                self._assign_on_start(issue, first)
            worker = self._worker_of(issue)
            self._walk(issue, steps, first, done_at, worker, knobs.work_share, self._skipped(issue))
            self._flag_episode(issue, first, done_at, worker)
            self._work_on_subtasks(issue, first, done_at)
            if self.rng.random() < 0.08 and done_at - first > 2 * HOUR:
                # Handed over to a colleague half-way (the history keeps the old assignee).
                colleague = self.rng.choice([d for d in self.plan.developers if d != worker])
                issue.assign(self.rng.randint(first + HOUR, done_at - HOUR), colleague, worker)
            return
        # Unfinished: some of it was started and is somewhere in the middle of the workflow.
        started = work.started_at is not None or (
            self.rng.random() < knobs.unfinished_started_share
        )
        if not started or (issue.frozen and work.started_at is None):
            return
        first = work.started_at or work_time(
            self.rng, earliest, earliest + (latest - earliest) // 2
        )
        first = max(first, earliest)
        if already_started:
            if self.rng.random() < 0.5 and issue.status is IN_PROGRESS:
                issue.move_to(
                    work_time(self.rng, first, latest - DAY), IN_REVIEW, self._worker_of(issue)
                )
            return
        self._assign_on_start(issue, first)
        worker = self._worker_of(issue)
        issue.move_to(first, IN_PROGRESS, worker)
        if not issue.frozen and self.rng.random() < 0.4:
            issue.move_to(work_time(self.rng, first + HOUR, latest - DAY), IN_REVIEW, worker)

    def _skipped(self, issue: SimIssue) -> frozenset[Status]:
        """The statuses finished work goes past on its way to Done: review and QA for work its
        team marks done untested. Their instants are still drawn, so the random stream, and
        with it every other figure of the site, stays the same. (Work left unfinished in review
        stays there: it was handed to a reviewer and counts as tested once done.)"""
        return TESTING_STATUSES if self.plan.skips_testing(issue) else frozenset()

    def _work_on_subtasks(self, parent: SimIssue, first: int, done_at: int) -> None:
        for subtask in parent.children:
            if subtask.kind != SUBTASK or subtask.is_done:
                continue
            begin = work_time(self.rng, first, first + (done_at - first) // 2)
            finish = work_time(self.rng, begin + (done_at - begin) // 3, done_at - MINUTE)
            developer = self.rng.choice(self.plan.developers)
            subtask.assign(begin - MINUTE, developer, developer)
            subtask.move_to(begin, IN_PROGRESS, developer)
            subtask.move_to(finish, DONE, developer)

    def _flag_episode(self, issue: SimIssue, first: int, done_at: int, worker: Person) -> None:
        chance = 0.03 if self.plan.profile is Profile.HEALTHY else 0.08
        if self.rng.random() >= chance or done_at - first < 4 * HOUR:
            return
        raised = work_time(self.rng, first + HOUR, done_at - 2 * HOUR)
        cleared = work_time(self.rng, raised + 30 * MINUTE, done_at - HOUR)
        issue.flag(raised, True, worker)
        issue.flag(cleared, False, worker)

    def _cycle_duration(self, knobs: SprintKnobs, room: int) -> int:
        days = knobs.cycle_days * math.exp(self.rng.gauss(0.0, knobs.cycle_spread))
        return max(3 * HOUR, min(int(days * DAY), room))

    def _walk(
        self,
        issue: SimIssue,
        steps: list[Status],
        first: int,
        last: int,
        worker: Person,
        share: float = 1.0,
        skipped: frozenset[Status] = frozenset(),
    ) -> None:
        """Moves the issue through `steps`, the first at `first`, the last at `last`, the rest
        in between in order; with `share` below 1 the moves in between fall within that share
        of the time, so the rest is spent in the step before the last. Steps in `skipped` are
        left out (a move into the status the issue already holds is no move)."""
        if not steps:
            return
        if len(steps) == 1:
            issue.move_to(first, steps[0], worker)
            return
        inner = sorted(work_time(self.rng, first + 1, max(first + 2, last - 1)) for _ in steps[2:])
        if share < 1.0:
            # The instants are drawn as always and then pulled towards the start, so the random
            # stream, and with it every other figure of the site, stays the same.
            inner = sorted(
                previous_work_time(first + int((at - first) * share), first + 1) for at in inner
            )
        times = [first, *inner, last]
        for at, status in zip(times, steps, strict=True):
            if status not in skipped:
                issue.move_to(at, status, worker)

    def _path_to_done(self, issue: SimIssue) -> list[Status]:
        path = list(self.plan.workflow.path)
        position = path.index(issue.status) if issue.status in path else path.index(IN_PROGRESS)
        steps = [s for s in path[position + 1 :] if s is not SELECTED]
        if issue.status is BLOCKED:
            steps = [IN_PROGRESS, *[s for s in path if path.index(s) > path.index(IN_PROGRESS)]]
        healthy = self.plan.profile is Profile.HEALTHY
        if IN_REVIEW in steps and self.rng.random() < (0.08 if healthy else 0.15):
            at = steps.index(IN_REVIEW)
            steps[at + 1 : at + 1] = [IN_PROGRESS, IN_REVIEW]
        if steps and steps[0] is IN_PROGRESS and self.rng.random() < (0.03 if healthy else 0.07):
            steps[1:1] = [BLOCKED, IN_PROGRESS]
        if self.rng.random() < (0.02 if healthy else 0.05):
            steps += [IN_PROGRESS, IN_REVIEW, DONE]
        return steps

    def _worker_of(self, issue: SimIssue) -> Person:
        """The assignee; unassigned work is moved by any developer."""
        return issue.assignee or self.rng.choice(self.plan.developers)

    def _assign_on_start(self, issue: SimIssue, at: int) -> None:
        """Whoever starts unassigned work assigns it to themselves shortly before."""
        if issue.assignee is None:
            developer = self.rng.choice(self.plan.developers)
            assigned = max(issue.created, at - self.rng.randint(1, 30) * MINUTE)
            issue.assign(assigned, developer, developer)
