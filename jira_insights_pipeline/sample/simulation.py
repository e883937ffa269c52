"""What happens on each board of the sample site, sprint by sprint: which tickets are created,
planned, re-estimated, worked, flagged, finished or carried over.

`BoardSimulation` runs one board's sprints in order, from the board's plan (`board_plan`) and
each sprint's knobs (`profiles`): it refines and plans the sprint, decides what will be finished,
re-estimates stories after the start, plants the stuck work, and takes in work added mid-sprint;
then it plans the future sprint and tidies the backlog. Its helpers each own one part: new
issues are written by `issue_factory`, bugs found while the sprint runs by `bugs`, and each
issue is moved through the workflow by `issue_work`.

Every change is recorded as a changelog item on the issue it touches (`issues.SimIssue`), so an
issue's current fields are always exactly what its changelog replays to. Each board is simulated
alone from its own seeded `random.Random`, shared by the simulation and its helpers, which makes
a board's history independent of how many boards the site has and lets the generator simulate a
board twice (once to learn when things happen, once to write them) and get the same board both
times.

The board's profile decides what a Scrum Master should find there; see PLANTED.md.
"""

from __future__ import annotations

import math
import random

from jira_insights_pipeline.sample import vocabulary
from jira_insights_pipeline.sample.board_plan import BoardPlan
from jira_insights_pipeline.sample.bugs import SprintBugs
from jira_insights_pipeline.sample.clock import DAY, HOUR, MINUTE, work_time
from jira_insights_pipeline.sample.issue_factory import IssueFactory
from jira_insights_pipeline.sample.issue_work import IssueWorker, SprintWork
from jira_insights_pipeline.sample.issues import SimIssue
from jira_insights_pipeline.sample.jira_shapes import (
    BLOCKED,
    BUG,
    DONE,
    EPIC,
    IN_PROGRESS,
    SELECTED,
    SELECTED_WORKFLOW,
    STORY,
    TASK,
    TO_DO,
    SprintInfo,
)
from jira_insights_pipeline.sample.profiles import Profile, SprintKnobs, sprint_knobs

STORY_POINT_WEIGHTS = ((1, 10), (2, 20), (3, 30), (5, 25), (8, 12), (13, 3))
TASK_POINT_WEIGHTS = ((1, 30), (2, 40), (3, 30))
_GROWTH_STEP = {1.0: 2.0, 2.0: 3.0, 3.0: 5.0, 5.0: 8.0, 8.0: 13.0, 13.0: 21.0}
_SHRINK_STEP = {13.0: 8.0, 8.0: 5.0, 5.0: 3.0, 3.0: 2.0, 2.0: 1.0}


class BoardSimulation:
    """Runs one board's sprints in order. After `run()`, `issues` holds every issue of the board
    in the order they were created by the simulation (not by time)."""

    def __init__(self, plan: BoardPlan, seed: int, issues_per_sprint: int, export: int) -> None:
        self.plan = plan
        self.rng = random.Random(f"{seed}:board:{plan.index}")
        self.export = export
        self.factory = IssueFactory(plan, self.rng, export)
        self.bugs = SprintBugs(plan, self.rng, export, self.factory)
        self.worker = IssueWorker(plan, self.rng)
        self.story_count = max(4, round(0.40 * issues_per_sprint))
        self.task_count = max(1, round(0.12 * issues_per_sprint))
        self.bug_count = max(3, round(0.20 * issues_per_sprint))
        self.subtask_count = max(1, round(0.24 * issues_per_sprint))
        self.target_points = round(
            (self.story_count * 3.6 + self.task_count * 1.2 + self.bug_count * 0.7)
            * self.rng.uniform(0.9, 1.1)
        )

    @property
    def issues(self) -> list[SimIssue]:
        return self.factory.issues

    def _draw_points(self, weights: tuple[tuple[int, int], ...]) -> float:
        values, chances = zip(*weights, strict=True)
        return float(self.rng.choices(values, chances)[0])

    def _add_to_sprint(self, issue: SimIssue, at: int, sprint_id: int) -> None:
        issue.change_sprints(at, (*issue.sprints, sprint_id), self.plan.scrum_master)

    # -- one sprint ---------------------------------------------------------------------------

    def run(self) -> list[SimIssue]:
        sprints = self.plan.sprints
        closed = len(sprints) - 2
        carried: list[SimIssue] = []
        waiting_bugs: list[SimIssue] = []
        for k in range(closed + 1):
            knobs = sprint_knobs(self.plan.profile, closed - k, self.story_count, self.bug_count)
            carried, waiting_bugs = self._run_sprint(k, knobs, carried, waiting_bugs)
        self._plan_future_sprint(waiting_bugs)
        self._close_epics()
        self._tidy_backlog()
        return self.issues

    def _run_sprint(
        self,
        k: int,
        knobs: SprintKnobs,
        carried: list[SimIssue],
        waiting_bugs: list[SimIssue],
    ) -> tuple[list[SimIssue], list[SimIssue]]:
        sprint = self.plan.sprints[k]
        assert sprint.start is not None and sprint.end is not None
        start = sprint.start
        end = sprint.complete if sprint.complete is not None else sprint.end
        is_active = sprint.complete is None
        epic = self.factory.epic_for(k)
        po, sm = self.plan.product_owner, self.plan.scrum_master

        # Refinement: stories and tasks written and estimated in the weeks before the sprint.
        carried_stories = [i for i in carried if i.kind == STORY]
        wanted_stories = knobs.committed_stories or self.story_count + self.rng.randint(-1, 1)
        new_stories = [
            self.factory.story(work_time(self.rng, start - 28 * DAY, start - 3 * DAY), epic)
            for _ in range(max(1, wanted_stories - len(carried_stories)))
        ]
        new_tasks = [
            self.factory.task(work_time(self.rng, start - 21 * DAY, start - 2 * DAY), epic)
            for _ in range(self.task_count)
        ]
        bug_points = {
            bug: (self._draw_points(((1, 1), (2, 1))) if self.rng.random() < 0.5 else None)
            for bug in waiting_bugs
        }
        fixed_points = sum(i.points or 0 for i in carried) + sum(
            p or 0 for p in bug_points.values()
        )
        story_points = self._points_for_commitment(
            len(new_stories), len(new_tasks), self.target_points - fixed_points, knobs
        )
        unestimated = set(new_stories[: knobs.unestimated_stories])
        for story in unestimated:
            # Nobody estimates it, and nobody picks it up either.
            story.frozen = True
        for issue, points in zip([*new_stories, *new_tasks], story_points, strict=True):
            if issue in unestimated or points is None:
                continue
            self._estimate_before(issue, points, start)
        for bug, points in bug_points.items():
            if points is not None and bug.created + HOUR < start - HOUR:
                bug.estimate(
                    work_time(self.rng, bug.created + HOUR, start - HOUR),
                    points,
                    self.rng.choice(self.plan.developers),
                )
        for story in new_stories:
            if story.criteria and self.rng.random() < 0.2:
                latest = start - 2 * HOUR
                earliest = max(story.field_times.get("points", story.created), story.created)
                if earliest + HOUR < latest:
                    story.add_criteria(
                        work_time(self.rng, earliest + HOUR, latest),
                        vocabulary.more_acceptance_criteria(
                            self.rng, story.thing, story.criteria, 1
                        ),
                        po,
                    )

        # Planning: half the work is put into the sprint at refinement, the rest at planning.
        planned = [*new_stories, *new_tasks, *waiting_bugs]
        session = start - self.rng.randint(60, 100) * MINUTE
        for position, issue in enumerate(planned):
            if self.rng.random() < 0.5 and sprint.created + HOUR < start - 2 * DAY:
                earliest = max(sprint.created, issue.created + HOUR)
                added = work_time(self.rng, earliest, max(earliest, start - 2 * DAY))
            else:
                added = session + position * self.rng.randint(20_000, 110_000)
            added = max(added, issue.created + MINUTE)
            self._add_to_sprint(issue, added, sprint.id)
            if self.rng.random() < 0.3:
                issue.note_rank(
                    added + self.rng.randint(20_000, 300_000), sm, self.rng.random() < 0.6
                )
        self._link_blockers(new_stories, start)

        committed = [*carried, *planned]
        works = self._decide_outcomes(committed, knobs, start)
        self._plant_blocked_work(works, knobs, start)
        self._create_subtasks(works, start)

        if self.plan.workflow is SELECTED_WORKFLOW:
            for issue in committed:
                if issue.status is TO_DO and not issue.frozen:
                    issue.move_to(start + self.rng.randint(1, 25) * MINUTE, SELECTED, sm)

        growth_times = self._reestimate_after_start(committed, works, knobs, start, end)
        for work in works:
            if work.issue.frozen and work.started_at is None:
                continue
            self.worker.work_on(work, knobs, start, end, growth_times.get(work.issue))

        created_bugs = self.bugs.report(knobs, start, end)
        added = self._add_after_start(created_bugs, knobs, sprint, epic)
        added_bugs = [i for i in added if i.kind == BUG]
        urgent = set(added_bugs[: knobs.urgent_bugs])
        for issue in added:
            finish = self.rng.random() < 0.7 or issue in urgent
            self.worker.work_on(SprintWork(issue, finish=finish), knobs, start, end)

        if is_active:
            return [], [b for b in created_bugs if b not in added]

        unfinished = [i for i in (*committed, *added) if not i.is_done]
        for issue in unfinished:
            self._add_to_sprint(issue, end, self.plan.sprints[k + 1].id)
        staying = [b for b in created_bugs if b not in added]
        leftovers = set(staying[: knobs.leftover_bugs])
        return unfinished, [b for b in staying if b not in leftovers]

    def _points_for_commitment(
        self, stories: int, tasks: int, target: float, knobs: SprintKnobs
    ) -> list[float | None]:
        """Points for the new stories and tasks, drawn until the sprint's commitment lands near
        the team's usual capacity, so the points completed move only when the plan says so."""
        best: list[float | None] = []
        best_gap = math.inf
        for _ in range(60):
            story_points: list[float | None] = [
                self._draw_points(STORY_POINT_WEIGHTS) for _ in range(stories)
            ]
            # Two small stories for the planted "small became large" re-estimates.
            for i in range(min(knobs.small_to_large, stories)):
                story_points[i] = (2.0, 3.0)[i % 2]
            task_points: list[float | None] = [
                self._draw_points(TASK_POINT_WEIGHTS) if self.rng.random() < 0.6 else None
                for _ in range(tasks)
            ]
            candidate = story_points + task_points
            gap = abs(sum(p or 0 for p in candidate) - target)
            if gap < best_gap:
                best, best_gap = candidate, gap
            if gap <= 0.06 * max(target, 1):
                break
        return best

    def _estimate_before(self, issue: SimIssue, points: float, start: int) -> None:
        """Some issues are estimated when written; most at a refinement meeting later, and a
        few are estimated twice before the sprint starts."""
        estimator = self.rng.choice(self.plan.developers)
        latest = start - DAY
        if self.rng.random() < 0.3 or issue.created + HOUR >= latest:
            issue.points = points
            return
        first = work_time(self.rng, issue.created + HOUR, latest)
        if self.rng.random() < 0.15 and first + HOUR < latest:
            earlier = _SHRINK_STEP.get(points, points)
            if earlier != points:
                issue.estimate(first, earlier, estimator)
                first = work_time(self.rng, first + HOUR, latest)
        issue.estimate(first, points, estimator)

    def _link_blockers(self, stories: list[SimIssue], start: int) -> None:
        if len(stories) < 2 or self.rng.random() < 0.5:
            return
        blocker, blocked = self.rng.sample(stories, 2)
        at = max(blocker.created, blocked.created) + self.rng.randint(1, 48) * HOUR
        at = min(at, start - MINUTE)
        if at <= max(blocker.created, blocked.created):
            return
        link_id = f"L{self.plan.index}-{len(self.issues)}-{blocker.local}"
        blocker.links.append((link_id, "Blocks:outward", blocked))
        blocked.links.append((link_id, "Blocks:inward", blocker))
        blocker.note_link(at, "blocks", blocked, self.plan.product_owner)
        blocked.note_link(at, "is blocked by", blocker, self.plan.product_owner)

    def _decide_outcomes(
        self, committed: list[SimIssue], knobs: SprintKnobs, start: int
    ) -> list[SprintWork]:
        movable = [i for i in committed if not i.frozen]
        # What is left unfinished is chosen by points, so the sprint's completion rate (points
        # done over points committed) lands near the plan; unestimated work counts as 1 point.
        size = {i: i.points or 1.0 for i in committed}
        budget = (1.0 - knobs.completion) * sum(size.values()) - sum(
            size[i] for i in committed if i.frozen
        )
        if self.plan.profile is Profile.HEALTHY:
            # A healthy team leaves out at most its smallest stretch item, never a started one.
            candidates = sorted(
                (i for i in movable if i.status is TO_DO), key=lambda i: (size[i], -i.local)
            )[:1]
        else:
            candidates = self.rng.sample(movable, len(movable))
        unfinished: set[SimIssue] = set()
        for issue in candidates:
            if budget <= 0:
                break
            if size[issue] <= budget + 1.0:
                unfinished.add(issue)
                budget -= size[issue]
        new_ones = [i for i in candidates if i.status.category == "new" and i not in unfinished]
        while sum(1 for i in unfinished if i.status.category == "new") < knobs.frozen_in_progress:
            unfinished.add(new_ones.pop())
        works = []
        frozen_left = knobs.frozen_in_progress
        for issue in committed:
            if issue.frozen:
                continue
            work = SprintWork(issue, finish=issue not in unfinished)
            if not work.finish and frozen_left > 0 and issue.status.category == "new":
                # Started early, then nobody moves it again: in progress for weeks by the export.
                issue.frozen = True
                frozen_left -= 1
                work.started_at = work_time(self.rng, start + HOUR, start + 2 * DAY)
            works.append(work)
        return works

    def _plant_blocked_work(self, works: list[SprintWork], knobs: SprintKnobs, start: int) -> None:
        """Work that is stuck when the site is exported: flagged as an impediment, or moved to
        Blocked, and never touched again."""
        wanted = knobs.flagged_now + knobs.blocked_now
        if wanted == 0:
            return
        # Planting replaces whatever the plan said for these issues; the work loop skips them.
        candidates = [
            w.issue
            for w in works
            if w.issue.kind in (STORY, TASK)
            and w.issue.status is TO_DO
            and w.issue.points is not None
            and not w.issue.frozen
        ]
        for position, issue in enumerate(candidates[:wanted]):
            issue.frozen = True
            worker = self.rng.choice(self.plan.developers)
            began = start + (4 + 6 * position) * HOUR + self.rng.randint(0, 59) * MINUTE
            issue.assign(began - 10 * MINUTE, worker, worker)
            issue.move_to(began, IN_PROGRESS, worker)
            stuck_at = began + (1 + 2 * position) * DAY + self.rng.randint(0, 120) * MINUTE
            if position < knobs.flagged_now:
                issue.flag(stuck_at, True, worker)
            else:
                issue.move_to(stuck_at, BLOCKED, worker)

    def _create_subtasks(self, works: list[SprintWork], start: int) -> None:
        parents = [w for w in works if w.finish and w.issue.kind == STORY and not w.issue.children]
        parents = [w for w in parents if w.issue.status is TO_DO and w.issue.sprints]
        self.rng.shuffle(parents)
        remaining = self.subtask_count
        for work in parents:
            if remaining <= 0:
                break
            count = min(remaining, self.rng.randint(2, 3))
            remaining -= count
            story = work.issue
            in_sprint_since = story.field_times.get("sprint", story.created)
            for _ in range(count):
                created = self.rng.randint(in_sprint_since + MINUTE, start - MINUTE)
                self.factory.subtask(created, story)

    def _reestimate_after_start(
        self,
        committed: list[SimIssue],
        works: list[SprintWork],
        knobs: SprintKnobs,
        start: int,
        end: int,
    ) -> dict[SimIssue, int]:
        """Re-estimates after the sprint started. Work on a re-estimated story starts only after
        the re-estimate (the team found it bigger, then built it). Returns those instants."""
        finishing = {w.issue for w in works}
        stories = [
            i
            for i in committed
            if i.kind == STORY and i.points is not None and i in finishing and not i.frozen
        ]
        self.rng.shuffle(stories)
        small = [s for s in stories if s.points is not None and s.points <= 3]
        to_large = small[: knobs.small_to_large]
        others = [s for s in stories if s not in to_large]
        grown = to_large + others[: max(0, knobs.grown_stories - len(to_large))]
        shrunk = [s for s in others[len(grown) - len(to_large) :] if s.points in _SHRINK_STEP][
            : knobs.shrunk_stories
        ]
        extra_ac = [s for s in others if s not in grown and s not in shrunk and s.criteria][
            : knobs.extra_ac_growth
        ]
        window_end = min(end, self.export) - DAY
        times: dict[SimIssue, int] = {}
        po = self.plan.product_owner
        for story in grown + shrunk + extra_ac:
            at = work_time(self.rng, start + 3 * HOUR, start + (window_end - start) // 2)
            if story in grown or story in extra_ac:
                story.add_criteria(
                    work_time(self.rng, max(start + HOUR, at - 10 * HOUR), at - 20 * MINUTE),
                    vocabulary.more_acceptance_criteria(
                        self.rng, story.thing, story.criteria, self.rng.randint(2, 3)
                    ),
                    po,
                )
            assert story.points is not None
            if story in to_large:
                new_points = 8.0 if story.points <= 2 else 13.0
            elif story in grown:
                new_points = _GROWTH_STEP[story.points]
            elif story in shrunk:
                new_points = _SHRINK_STEP[story.points]
            else:
                times[story] = at
                continue
            story.estimate(at, new_points, self.rng.choice(self.plan.developers))
            times[story] = at
        return times

    def _add_after_start(
        self, created_bugs: list[SimIssue], knobs: SprintKnobs, sprint: SprintInfo, epic: SimIssue
    ) -> list[SimIssue]:
        """Issues put into the running sprint: urgent production bugs first, then QA bugs; the
        active sprint of a board whose stories grow also takes in a new story and a task."""
        assert sprint.start is not None and sprint.end is not None
        start = sprint.start
        latest = min(sprint.complete or sprint.end, self.export) - DAY
        candidates = sorted(
            created_bugs,
            key=lambda b: (
                0 if b.environment == "Production" or _is_production(b) else 1,
                b.created,
            ),
        )
        added: list[SimIssue] = []
        wanted = knobs.added_after_start
        is_active = sprint.complete is None
        if self.plan.profile is Profile.GROWING_STORIES and is_active and wanted >= 3:
            story = self.factory.story(work_time(self.rng, start + 2 * DAY, start + 3 * DAY), epic)
            story.points = 5.0
            task = self.factory.task(work_time(self.rng, start + 5 * DAY, start + 6 * DAY), epic)
            added += [story, task]
            wanted -= 2
        added += [b for b in candidates if b.created < latest][:wanted]
        for issue in added:
            at = issue.created + self.rng.randint(5, 90) * MINUTE
            self._add_to_sprint(issue, at, sprint.id)
        return added

    # -- after the last sprint -------------------------------------------------------------------

    def _plan_future_sprint(self, active_sprint_bugs: list[SimIssue]) -> None:
        future = self.plan.sprints[-1]
        knobs = sprint_knobs(self.plan.profile, 0, self.story_count, self.bug_count)
        epic = self.factory.epic_for(len(self.plan.sprints) - 1)
        refinement_start = self.export - 5 * DAY
        stories = [
            self.factory.story(
                work_time(self.rng, self.export - 20 * DAY, self.export - 3 * DAY), epic
            )
            for _ in range(self.story_count // 2 + 1)
        ]
        tasks = [
            self.factory.task(
                work_time(self.rng, self.export - 15 * DAY, self.export - 3 * DAY), epic
            )
        ]
        # The board that leaves a story of its active sprint unestimated leaves two of the next
        # sprint's stories unestimated too.
        unestimated = set(stories[: 2 * knobs.unestimated_stories])
        for issue in [*stories, *tasks]:
            if issue in unestimated or (issue.kind == TASK and self.rng.random() < 0.4):
                continue
            weights = STORY_POINT_WEIGHTS if issue.kind == STORY else TASK_POINT_WEIGHTS
            self._estimate_before(issue, self._draw_points(weights), self.export + DAY)
        planned = [*stories, *tasks]
        if self.plan.profile is Profile.HEALTHY:
            planned += active_sprint_bugs
        for issue in planned:
            earliest = max(refinement_start, issue.field_times.get("points", 0) + MINUTE)
            earliest = max(earliest, issue.created + MINUTE)
            self._add_to_sprint(issue, work_time(self.rng, earliest, self.export - HOUR), future.id)
        for _ in range(max(1, self.story_count // 3)):
            self.factory.story(work_time(self.rng, self.export - 12 * DAY, self.export - DAY), epic)

    def _tidy_backlog(self) -> None:
        """At the last refinement the product owner re-ranks open epics; a healthy team also
        re-ranks every open item it has not touched for a week, so nothing goes stale."""
        po = self.plan.product_owner
        healthy = self.plan.profile is Profile.HEALTHY
        for issue in self.issues:
            if issue.is_done:
                continue
            if (issue.kind == EPIC or healthy) and issue.last_change < self.export - 7 * DAY:
                issue.note_rank(
                    work_time(self.rng, self.export - 6 * DAY, self.export - HOUR),
                    po,
                    self.rng.random() < 0.5,
                )

    def _close_epics(self) -> None:
        for epic in self.factory.epics:
            if not epic.children or any(not c.is_done for c in epic.children):
                continue
            last = max(c.resolved_at or 0 for c in epic.children)
            closed_at = work_time(self.rng, last + HOUR, last + 3 * DAY)
            if closed_at < self.export - 8 * DAY and closed_at > epic.last_change:
                epic.move_to(closed_at, DONE, self.plan.product_owner)


def _is_production(bug: SimIssue) -> bool:
    return bool({"production", "prod-incident"} & set(bug.labels))
