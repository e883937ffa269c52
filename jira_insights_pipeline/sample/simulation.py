"""What happens on each board of the sample site, sprint by sprint: which tickets are created,
planned, re-estimated, worked, flagged, finished or carried over.

The simulation records every change as a changelog item on the issue it touches, so an issue's
current fields are always exactly what its changelog replays to. Each board is simulated alone
from its own seeded `random.Random`, which makes a board's history independent of how many boards
the site has and lets the generator simulate a board twice (once to learn when things happen,
once to write them) and get the same board both times.

The board's profile decides what a Scrum Master should find there; see PLANTED.md.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

from jira_insights_pipeline.sample import vocabulary
from jira_insights_pipeline.sample.clock import (
    DAY,
    HOUR,
    MINUTE,
    at_work,
    berlin_wall_clock,
    work_time,
)
from jira_insights_pipeline.sample.jira_shapes import (
    BLOCKED,
    BUG,
    DONE,
    EPIC,
    IN_PROGRESS,
    IN_REVIEW,
    QA_WORKFLOW,
    SELECTED,
    SELECTED_WORKFLOW,
    SIMPLE_WORKFLOW,
    STORY,
    SUBTASK,
    TASK,
    TO_DO,
    Person,
    SprintInfo,
    Status,
    Workflow,
)

# The first day of the first board's active sprint; every board's active sprint starts within
# the nine days before the export, so the active sprints are running when the site is exported.
ACTIVE_SPRINT_WEEK = date(2026, 11, 9)
_ACTIVE_START_OFFSETS = (0, 1, 2, 3, 4, 7, 8, 9)
SPRINT_DAYS = 14

STORY_POINT_WEIGHTS = ((1, 10), (2, 20), (3, 30), (5, 25), (8, 12), (13, 3))
TASK_POINT_WEIGHTS = ((1, 30), (2, 40), (3, 30))
_GROWTH_STEP = {1.0: 2.0, 2.0: 3.0, 3.0: 5.0, 5.0: 8.0, 8.0: 13.0, 13.0: 21.0}
_SHRINK_STEP = {13.0: 8.0, 8.0: 5.0, 5.0: 3.0, 3.0: 2.0, 2.0: 1.0}


class Profile(Enum):
    """What a board's team struggles with; the healthy profile struggles with nothing."""

    SCOPE_CREEP = "scope creep in the active sprint, rising cycle time"
    MISSED_TARGETS = "missed sprint targets, heavy spillover, a velocity drop"
    DEFECT_LEAKAGE = "defects escaping to production, poor ticket hygiene"
    HEALTHY = "healthy"


PROFILE_CYCLE = (
    Profile.SCOPE_CREEP,
    Profile.MISSED_TARGETS,
    Profile.DEFECT_LEAKAGE,
    Profile.HEALTHY,
)
_WORKFLOWS = {
    Profile.SCOPE_CREEP: SIMPLE_WORKFLOW,
    Profile.MISSED_TARGETS: SELECTED_WORKFLOW,
    Profile.DEFECT_LEAKAGE: QA_WORKFLOW,
    Profile.HEALTHY: SIMPLE_WORKFLOW,
}


@dataclass(frozen=True)
class SprintKnobs:
    """What one sprint of a board looks like; `r` counts sprints back from the active one."""

    completion: float  # share of the committed work finished by the sprint's end
    cycle_days: float  # median days from In Progress to Done of what is finished
    cycle_spread: float  # sigma of the log of that duration
    committed_stories: int | None  # stories in the sprint at its start; None: the usual number
    grown_stories: int  # committed stories re-estimated upwards by more than 30% after start
    small_to_large: int  # of those, stories of at most 3 points that end with at least 8
    shrunk_stories: int  # committed stories re-estimated downwards after start
    extra_ac_growth: int  # committed stories whose acceptance criteria grow without re-estimate
    added_after_start: int  # issues put into the sprint after it started
    production_bugs: int  # bugs found in production while the sprint ran
    qa_bugs: int  # bugs found on QA or staging while the sprint ran
    unclassified_bugs: int  # bugs with no environment at all
    unfinished_started_share: float  # share of unfinished work that was started
    leftover_bugs: int  # bugs of this sprint left in the backlog for good
    frozen_in_progress: int = 0  # unfinished started work that then stops moving
    flagged_now: int = 0  # work flagged as an impediment in the active sprint, never cleared
    blocked_now: int = 0  # work moved to Blocked in the active sprint and left there
    unestimated_stories: int = 0  # planned stories nobody estimates


def sprint_knobs(profile: Profile, r: int, story_count: int, bug_count: int) -> SprintKnobs:
    """The sprint `r` sprints before the active one (r = 0: the active sprint)."""
    if profile is Profile.SCOPE_CREEP:
        planted = r == 0
        return SprintKnobs(
            completion=0.88 if r == 1 else 0.9,
            cycle_days=8.0 if r == 1 else 3.5,
            cycle_spread=0.3,
            committed_stories=story_count + 2 if planted else None,
            grown_stories=math.ceil(0.4 * (story_count + 2)) if planted else int(r % 3 == 2),
            small_to_large=2 if planted else 0,
            shrunk_stories=int(r % 4 == 3),
            extra_ac_growth=1 if planted else 0,
            added_after_start=3 if planted else 1,
            production_bugs=int(r == 5),
            qa_bugs=bug_count,
            unclassified_bugs=1,
            unfinished_started_share=0.5,
            leftover_bugs=int(r % 3 == 0),
        )
    if profile is Profile.MISSED_TARGETS:
        return SprintKnobs(
            completion={0: 0.55, 1: 0.4, 2: 0.58, 3: 0.68}.get(r, 0.92),
            cycle_days=4.0,
            cycle_spread=0.3,
            committed_stories=None,
            grown_stories=int(r % 3 == 1),
            small_to_large=0,
            shrunk_stories=0,
            extra_ac_growth=0,
            added_after_start=2 if r <= 3 else 1,
            production_bugs=int(r == 6),
            qa_bugs=bug_count,
            unclassified_bugs=1,
            unfinished_started_share=0.25,
            leftover_bugs=int(r % 2 == 0),
        )
    if profile is Profile.DEFECT_LEAKAGE:
        production = round(0.4 * bug_count)
        return SprintKnobs(
            completion=0.8 if r == 1 else 0.86,
            cycle_days=4.5,
            cycle_spread=0.3,
            committed_stories=None,
            grown_stories=int(r % 3 == 0),
            small_to_large=0,
            shrunk_stories=0,
            extra_ac_growth=0,
            added_after_start=production,
            production_bugs=production,
            qa_bugs=bug_count - production,
            unclassified_bugs=1,
            unfinished_started_share=0.6,
            leftover_bugs=1,
            frozen_in_progress=3 if r == 1 else 0,
            flagged_now=2 if r == 0 else 0,
            blocked_now=1 if r == 0 else 0,
            unestimated_stories=1 if r == 0 else 0,
        )
    return SprintKnobs(
        completion=0.94 if r % 2 == 1 else 1.0,
        cycle_days=2.8 if r == 1 else 3.0,
        cycle_spread=0.2,
        committed_stories=None,
        grown_stories=int(r % 4 == 2),
        small_to_large=0,
        shrunk_stories=int(r % 4 == 0 and r > 0),
        extra_ac_growth=0,
        added_after_start=int(r % 3 == 1),
        production_bugs=0,
        qa_bugs=bug_count,
        unclassified_bugs=1,
        unfinished_started_share=0.0,
        leftover_bugs=0,
    )


# ---------------------------------------------------------------------------------------------
# Issues and their changelogs
# ---------------------------------------------------------------------------------------------

# Item kinds that must replay in time order; links, epic children and rank moves carry no
# value to replay.
_CHAINED = frozenset({"status", "points", "sprint", "flag", "description", "assignee", "priority"})


class GeneratorBug(RuntimeError):
    """The simulation tried to change a field at an instant before its previous change."""


@dataclass(eq=False)
class SimIssue:
    """One issue as the simulation knows it: its current fields and every change so far.

    `events` holds (instant, author, items) in the order they were recorded; an item is
    (kind, old, new) with raw values (Status, float, tuple of sprint ids, ...) that the
    generator writes out in Jira's changelog form."""

    local: int
    kind: str
    created: int
    reporter: Person
    summary: str
    thing: str
    export: int
    status: Status = TO_DO
    resolved_at: int | None = None
    category_changed_at: int | None = None
    points: float | None = None
    sprints: tuple[int, ...] = ()
    flagged: bool = False
    paragraphs: list[str] = field(default_factory=list)
    criteria: list[str] = field(default_factory=list)
    description_version: int = 1
    has_description: bool = True
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    environment: str | None = None
    priority: str = "3"
    assignee: Person | None = None
    parent: SimIssue | None = None
    children: list[SimIssue] = field(default_factory=list)
    links: list[tuple[str, str, SimIssue]] = field(default_factory=list)
    events: list[tuple[int, Person, list[tuple]]] = field(default_factory=list)
    field_times: dict[str, int] = field(default_factory=dict)
    frozen: bool = False
    epic_color: str | None = None

    @property
    def is_done(self) -> bool:
        return self.status.category == "done"

    @property
    def last_change(self) -> int:
        return max((at for at, _, _ in self.events), default=self.created)

    def record(self, at: int, author: Person, items: list[tuple]) -> bool:
        """Adds one history; False (and nothing changes) when it falls at or after the export,
        which is how the active sprint's plans are cut off at the instant the site is read."""
        if at < self.created:
            raise GeneratorBug(f"{self.summary!r}: a change at {at} before creation {self.created}")
        for kind, _, _ in items:
            if kind in _CHAINED:
                if at < self.field_times.get(kind, self.created):
                    raise GeneratorBug(f"{self.summary!r}: {kind} changed out of time order")
                self.field_times[kind] = at
        if at >= self.export:
            return False
        self.events.append((at, author, items))
        return True

    def move_to(self, at: int, status: Status, author: Person) -> bool:
        if status is self.status:
            return False
        items: list[tuple] = []
        if status.category == "done" and not self.is_done:
            items.append(("resolution", None, "Done"))
        elif self.is_done and status.category != "done":
            items.append(("resolution", "Done", None))
        items.append(("status", self.status, status))
        if not self.record(at, author, items):
            return False
        if status.category != self.status.category:
            self.category_changed_at = at
        if status.category == "done":
            self.resolved_at = at
        elif self.is_done:
            self.resolved_at = None
        self.status = status
        return True

    def estimate(self, at: int, points: float | None, author: Person) -> None:
        if self.record(at, author, [("points", self.points, points)]):
            self.points = points

    def change_sprints(self, at: int, sprints: tuple[int, ...], author: Person) -> None:
        """Jira keeps sub-tasks in their parent's sprints, so they move along."""
        new = tuple(sorted(sprints))
        if self.record(at, author, [("sprint", self.sprints, new)]):
            self.sprints = new
        for child in self.children:
            if child.kind == SUBTASK and child.created <= at:
                child.change_sprints(at, sprints, author)

    def flag(self, at: int, on: bool, author: Person) -> None:
        if self.record(at, author, [("flag", self.flagged, on)]):
            self.flagged = on

    def add_criteria(self, at: int, lines: list[str], author: Person) -> None:
        before = (self.description_version, list(self.paragraphs), list(self.criteria))
        after = (self.description_version + 1, list(self.paragraphs), [*self.criteria, *lines])
        if self.record(at, author, [("description", before, after)]):
            self.description_version += 1
            self.criteria = after[2]

    def assign(self, at: int, person: Person, author: Person) -> None:
        if self.record(at, author, [("assignee", self.assignee, person)]):
            self.assignee = person

    def reprioritise(self, at: int, priority: str, author: Person) -> None:
        if self.record(at, author, [("priority", self.priority, priority)]):
            self.priority = priority

    def note_link(self, at: int, relation: str, other: SimIssue, author: Person) -> None:
        self.record(at, author, [("link", relation, other)])

    def note_rank(self, at: int, author: Person, higher: bool) -> None:
        self.record(at, author, [("rank", None, "Ranked higher" if higher else "Ranked lower")])


# ---------------------------------------------------------------------------------------------
# Boards and their sprints
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardPlan:
    """A board before anything happens on it: its team, profile and sprint calendar.
    `sprints` holds the closed sprints oldest first, then the active one, then the future one."""

    index: int
    board_id: int
    project_id: int
    key: str
    name: str
    team: vocabulary.Team
    profile: Profile
    workflow: Workflow
    people: tuple[Person, ...]
    sprints: tuple[SprintInfo, ...]

    @property
    def scrum_master(self) -> Person:
        return self.people[0]

    @property
    def product_owner(self) -> Person:
        return self.people[1]

    @property
    def developers(self) -> tuple[Person, ...]:
        return self.people[2:5]

    @property
    def tester(self) -> Person:
        return self.people[5]


def _team_for(index: int) -> tuple[vocabulary.Team, str, str]:
    team = vocabulary.TEAMS[index % len(vocabulary.TEAMS)]
    round_ = index // len(vocabulary.TEAMS)
    if round_ == 0:
        return team, team.key, team.name
    return team, f"{team.key}{round_ + 1}", f"{team.name} {round_ + 1}"


def plan_boards(board_count: int, sprint_count: int, seed: int) -> list[BoardPlan]:
    """Every board's team and sprint calendar. Sprint ids are site-wide and follow the order in
    which the sprints were created, as Jira numbers them."""
    drafts = []
    used_names: set[str] = set()
    for index in range(board_count):
        team_names: set[tuple[str, str]] = set()
        rng = random.Random(f"{seed}:plan:{index}")
        team, key, name = _team_for(index)
        profile = PROFILE_CYCLE[index % len(PROFILE_CYCLE)]
        people = []
        while len(people) < 6:
            first, last = rng.choice(vocabulary.FIRST_NAMES), rng.choice(vocabulary.LAST_NAMES)
            if (first, last) in team_names:
                continue
            team_names.add((first, last))
            display = f"{first} {last}"
            if display in used_names:
                # Large sites run out of name pairs; a middle initial keeps people apart.
                display = f"{first} {chr(65 + rng.randrange(26))}. {last}"
                if display in used_names:
                    continue
            used_names.add(display)
            people.append(Person(f"{rng.getrandbits(96):024x}", display))
        closed = sprint_count - 1
        active_day = ACTIVE_SPRINT_WEEK + timedelta(
            days=_ACTIVE_START_OFFSETS[index % len(_ACTIVE_START_OFFSETS)]
        )
        starts = []
        for k in range(closed + 1):
            day = active_day - timedelta(days=SPRINT_DAYS * (closed - k))
            starts.append(
                berlin_wall_clock(day.year, day.month, day.day, 9, 30)
                + rng.randint(0, 40) * MINUTE
                + rng.randint(0, 59_999)
            )
        first_number = rng.randint(3, 40)
        calendar = []
        for k in range(closed + 2):
            start = starts[k] if k <= closed else None
            end = start + SPRINT_DAYS * DAY - (start % MINUTE) if start is not None else None
            complete = starts[k + 1] - rng.randint(10, 90) * MINUTE if k < closed else None
            if k == 0:
                created = starts[0] - rng.randint(7, 10) * DAY
            else:
                created = starts[k - 1] + rng.randint(1 * HOUR, 3 * DAY)
            thing = rng.choice(team.things)
            goal = vocabulary.sprint_goal(rng, thing) if rng.random() < 0.7 else ""
            calendar.append((created, k, start, end, complete, goal))
        drafts.append((index, team, key, name, profile, tuple(people), first_number, calendar))

    order = sorted(
        (created, index, k) for index, *_, calendar in drafts for created, k, *_ in calendar
    )
    sprint_ids = {(index, k): number for number, (_, index, k) in enumerate(order, start=1)}

    plans = []
    for index, team, key, name, profile, people, first_number, calendar in drafts:
        board_id = index + 1
        sprints = tuple(
            SprintInfo(
                id=sprint_ids[(index, k)],
                board_id=board_id,
                name=f"{key} Sprint {first_number + k}",
                goal=goal,
                created=created,
                start=start,
                end=end,
                complete=complete,
            )
            for created, k, start, end, complete, goal in calendar
        )
        plans.append(
            BoardPlan(
                index=index,
                board_id=board_id,
                project_id=10000 + index,
                key=key,
                name=name,
                team=team,
                profile=profile,
                workflow=_WORKFLOWS[profile],
                people=people,
                sprints=sprints,
            )
        )
    return plans


# ---------------------------------------------------------------------------------------------
# The simulation of one board
# ---------------------------------------------------------------------------------------------


@dataclass
class _SprintWork:
    """One sprint's plan for one issue: finish it, or leave it unfinished (`started_at` set:
    started then and left in progress)."""

    issue: SimIssue
    finish: bool
    started_at: int | None = None


class BoardSimulation:
    """Runs one board's sprints in order. After `run()`, `issues` holds every issue of the board
    in the order they were created by the simulation (not by time)."""

    def __init__(self, plan: BoardPlan, seed: int, issues_per_sprint: int, export: int) -> None:
        self.plan = plan
        self.rng = random.Random(f"{seed}:board:{plan.index}")
        self.export = export
        self.issues: list[SimIssue] = []
        self.story_count = max(4, round(0.40 * issues_per_sprint))
        self.task_count = max(1, round(0.12 * issues_per_sprint))
        self.bug_count = max(3, round(0.20 * issues_per_sprint))
        self.subtask_count = max(1, round(0.24 * issues_per_sprint))
        self.target_points = round(
            (self.story_count * 3.6 + self.task_count * 1.2 + self.bug_count * 0.7)
            * self.rng.uniform(0.9, 1.1)
        )
        self.epics: list[SimIssue] = []
        self.sprint_by_id = {s.id: s for s in plan.sprints}

    # -- creation ---------------------------------------------------------------------------

    def _new(self, kind: str, created: int, reporter: Person, summary: str, thing: str) -> SimIssue:
        issue = SimIssue(
            local=len(self.issues),
            kind=kind,
            created=created,
            reporter=reporter,
            summary=summary,
            thing=thing,
            export=self.export,
        )
        self.issues.append(issue)
        return issue

    def _epic_for(self, k: int) -> SimIssue:
        block = k // 3
        while len(self.epics) <= block:
            first_sprint = self.plan.sprints[min(3 * len(self.epics), len(self.plan.sprints) - 1)]
            anchor = first_sprint.start if first_sprint.start is not None else self.export
            thing = self.rng.choice(self.plan.team.things)
            created = work_time(self.rng, anchor - 40 * DAY, anchor - 30 * DAY)
            epic = self._new(
                EPIC,
                created,
                self.plan.product_owner,
                vocabulary.epic_summary(self.rng, thing),
                thing,
            )
            epic.paragraphs = [
                f"Everything the {self.plan.name} team needs to deliver for the {thing}."
            ]
            epic.epic_color = self.rng.choice(("purple", "blue", "green", "teal", "orange"))
            epic.priority = "3"
            self.epics.append(epic)
        return self.epics[block]

    def _story(self, created: int, epic: SimIssue | None) -> SimIssue:
        thing = self.rng.choice(self.plan.team.things)
        summary = vocabulary.story_summary(self.rng, thing)
        story = self._new(STORY, created, self.plan.product_owner, summary, thing)
        story.paragraphs = [vocabulary.user_story(self.rng, self.plan.team.persona, summary)]
        if self.rng.random() < 0.85:
            story.criteria = vocabulary.acceptance_criteria(self.rng, thing, self.rng.randint(2, 4))
        story.priority = self.rng.choice(("2", "3", "3", "3", "4"))
        story.components = [self.plan.team.name]
        self._attach(story, epic)
        return story

    def _task(self, created: int, epic: SimIssue | None) -> SimIssue:
        thing = self.rng.choice(self.plan.team.things)
        task = self._new(
            TASK,
            created,
            self.rng.choice(self.plan.developers),
            vocabulary.task_summary(self.rng, thing),
            thing,
        )
        task.paragraphs = [f"Housekeeping for the {thing}; no user-facing change."]
        task.priority = self.rng.choice(("3", "3", "4"))
        self._attach(task, epic if self.rng.random() < 0.5 else None)
        return task

    def _bug(self, created: int, environment_class: str) -> SimIssue:
        thing = self.rng.choice(self.plan.team.things)
        reporter = (
            self.plan.product_owner if environment_class == "production" else self.plan.tester
        )
        bug = self._new(BUG, created, reporter, vocabulary.bug_summary(self.rng, thing), thing)
        style = self.rng.random()
        if environment_class == "production":
            label = self.rng.choice(("production", "prod-incident"))
            environment = "Production"
            bug.priority = self.rng.choice(("1", "2", "2"))
        elif environment_class == "qa":
            label = self.rng.choice(("qa", "staging"))
            environment = self.rng.choice(("Staging", "QA"))
            bug.priority = self.rng.choice(("2", "3", "3"))
        else:
            label, environment = None, None
            bug.priority = self.rng.choice(("3", "4"))
            if self.rng.random() < 0.5:
                bug.labels = ["regression"]
        if label is not None:
            # Teams mark the environment inconsistently: a label, the Environment field, or both.
            if style < 0.7:
                bug.labels = [label]
            if style >= 0.4:
                bug.environment = environment
        bug.paragraphs = vocabulary.bug_text(self.rng, thing, environment)
        bug.components = [self.plan.team.name]
        return bug

    def _attach(self, child: SimIssue, parent: SimIssue | None) -> None:
        if parent is None:
            return
        child.parent = parent
        parent.children.append(child)
        if parent.kind == EPIC and self.rng.random() < 0.5:
            # Put under the epic after it was written; the epic's history says so.
            at = work_time(self.rng, child.created + 5 * MINUTE, child.created + 2 * DAY)
            parent.record(at, self.plan.product_owner, [("epic child", None, child)])

    def _draw_points(self, weights: tuple[tuple[int, int], ...]) -> float:
        values, chances = zip(*weights, strict=True)
        return float(self.rng.choices(values, chances)[0])

    # -- helpers ------------------------------------------------------------------------------

    def _cycle_duration(self, knobs: SprintKnobs, room: int) -> int:
        days = knobs.cycle_days * math.exp(self.rng.gauss(0.0, knobs.cycle_spread))
        return max(3 * HOUR, min(int(days * DAY), room))

    def _add_to_sprint(self, issue: SimIssue, at: int, sprint_id: int) -> None:
        issue.change_sprints(at, (*issue.sprints, sprint_id), self.plan.scrum_master)

    def _walk(
        self, issue: SimIssue, steps: list[Status], first: int, last: int, worker: Person
    ) -> None:
        """Moves the issue through `steps`, the first at `first`, the last at `last`, the rest
        in between in order."""
        if not steps:
            return
        if len(steps) == 1:
            issue.move_to(first, steps[0], worker)
            return
        inner = sorted(work_time(self.rng, first + 1, max(first + 2, last - 1)) for _ in steps[2:])
        times = [first, *inner, last]
        for at, status in zip(times, steps, strict=True):
            issue.move_to(at, status, worker)

    def _path_to_done(self, issue: SimIssue, knobs: SprintKnobs) -> list[Status]:
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

    def _worker(self, issue: SimIssue) -> Person:
        return issue.assignee or self.rng.choice(self.plan.developers)

    def _start(self, issue: SimIssue, at: int) -> None:
        if issue.assignee is None:
            developer = self.rng.choice(self.plan.developers)
            assigned = max(issue.created, at - self.rng.randint(1, 30) * MINUTE)
            issue.assign(assigned, developer, developer)

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
        epic = self._epic_for(k)
        po, sm = self.plan.product_owner, self.plan.scrum_master

        # Refinement: stories and tasks written and estimated in the weeks before the sprint.
        carried_stories = [i for i in carried if i.kind == STORY]
        wanted_stories = knobs.committed_stories or self.story_count + self.rng.randint(-1, 1)
        new_stories = [
            self._story(work_time(self.rng, start - 28 * DAY, start - 3 * DAY), epic)
            for _ in range(max(1, wanted_stories - len(carried_stories)))
        ]
        new_tasks = [
            self._task(work_time(self.rng, start - 21 * DAY, start - 2 * DAY), epic)
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
            self._work_on(work, knobs, start, end, growth_times.get(work.issue))

        created_bugs = self._create_sprint_bugs(knobs, start, end)
        added = self._add_after_start(created_bugs, knobs, sprint, epic)
        for issue in added:
            self._work_on(_SprintWork(issue, finish=self.rng.random() < 0.7), knobs, start, end)

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
        the team's usual capacity, so velocity moves only when the plan says it should."""
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
    ) -> list[_SprintWork]:
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
            work = _SprintWork(issue, finish=issue not in unfinished)
            if not work.finish and frozen_left > 0 and issue.status.category == "new":
                # Started early, then nobody moves it again: in progress for weeks by the export.
                issue.frozen = True
                frozen_left -= 1
                work.started_at = work_time(self.rng, start + HOUR, start + 2 * DAY)
            works.append(work)
        return works

    def _create_subtasks(self, works: list[_SprintWork], start: int) -> None:
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
                subtask = self._new(
                    SUBTASK,
                    created,
                    self.rng.choice(self.plan.developers),
                    vocabulary.subtask_summary(self.rng),
                    story.thing,
                )
                subtask.has_description = False
                subtask.priority = story.priority
                subtask.sprints = story.sprints
                self._attach(subtask, story)

    def _reestimate_after_start(
        self,
        committed: list[SimIssue],
        works: list[_SprintWork],
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

    def _work_on(
        self,
        work: _SprintWork,
        knobs: SprintKnobs,
        start: int,
        end: int,
        not_before: int | None = None,
    ) -> None:
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
            steps = self._path_to_done(issue, knobs)
            if not already_started:
                self._start(issue, first)
            worker = self._worker(issue)
            self._walk(issue, steps, first, done_at, worker)
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
                    work_time(self.rng, first, latest - DAY), IN_REVIEW, self._worker(issue)
                )
            return
        self._start(issue, first)
        worker = self._worker(issue)
        issue.move_to(first, IN_PROGRESS, worker)
        if not issue.frozen and self.rng.random() < 0.4:
            issue.move_to(work_time(self.rng, first + HOUR, latest - DAY), IN_REVIEW, worker)

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

    def _plant_blocked_work(self, works: list[_SprintWork], knobs: SprintKnobs, start: int) -> None:
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

    def _create_sprint_bugs(self, knobs: SprintKnobs, start: int, end: int) -> list[SimIssue]:
        classes = (
            ["production"] * knobs.production_bugs
            + ["qa"] * knobs.qa_bugs
            + ["none"] * knobs.unclassified_bugs
        )
        latest = min(end, self.export) - 2 * HOUR
        times = sorted(work_time(self.rng, start + 2 * HOUR, latest) for _ in classes)
        self.rng.shuffle(classes)
        bugs = []
        for created, environment_class in zip(times, classes, strict=True):
            bug = self._bug(created, environment_class)
            bugs.append(bug)
            self._link_bug(bug, environment_class)
            if self.rng.random() < 0.1:
                bug.reprioritise(
                    bug.created + self.rng.randint(1, 30) * HOUR,
                    "2" if bug.priority != "2" else "1",
                    self.plan.product_owner,
                )
        return bugs

    def _link_bug(self, bug: SimIssue, environment_class: str) -> None:
        """A production bug is caused by a story finished in an earlier sprint; a bug found on
        QA or staging is caused by, or relates to, a story being built now."""
        if environment_class == "production":
            causes = [
                i
                for i in self.issues
                if i.kind == STORY and i.resolved_at is not None and i.resolved_at < bug.created
            ]
            causes = causes[-15:]
            link_type = "Problem/Incident"
        else:
            causes = [
                i
                for i in self.issues
                if i.kind == STORY
                and i.status.category == "indeterminate"
                and i.field_times.get("status", bug.created) < bug.created
            ]
            link_type = "Problem/Incident" if self.rng.random() < 0.7 else "Relates"
            if environment_class == "none" and self.rng.random() < 0.5:
                return
        if not causes:
            return
        story = self.rng.choice(causes)
        at = bug.created + self.rng.randint(1, 20) * MINUTE
        link_id = f"L{self.plan.index}-{bug.local}"
        if link_type == "Relates":
            bug.links.append((link_id, "Relates:outward", story))
            story.links.append((link_id, "Relates:inward", bug))
            bug.note_link(at, "relates to", story, bug.reporter)
            story.note_link(at, "relates to", bug, bug.reporter)
        else:
            bug.links.append((link_id, "Problem/Incident:inward", story))
            story.links.append((link_id, "Problem/Incident:outward", bug))
            bug.note_link(at, "is caused by", story, bug.reporter)
            story.note_link(at, "causes", bug, bug.reporter)

    def _add_after_start(
        self, created_bugs: list[SimIssue], knobs: SprintKnobs, sprint: SprintInfo, epic: SimIssue
    ) -> list[SimIssue]:
        """Issues put into the running sprint: urgent production bugs first, then QA bugs; the
        planted scope-creep sprint also takes in a new story and a task."""
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
        if self.plan.profile is Profile.SCOPE_CREEP and is_active and wanted >= 3:
            story = self._story(work_time(self.rng, start + 2 * DAY, start + 3 * DAY), epic)
            story.points = 5.0
            task = self._task(work_time(self.rng, start + 5 * DAY, start + 6 * DAY), epic)
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
        epic = self._epic_for(len(self.plan.sprints) - 1)
        refinement_start = self.export - 5 * DAY
        stories = [
            self._story(work_time(self.rng, self.export - 20 * DAY, self.export - 3 * DAY), epic)
            for _ in range(self.story_count // 2 + 1)
        ]
        tasks = [
            self._task(work_time(self.rng, self.export - 15 * DAY, self.export - 3 * DAY), epic)
        ]
        # The troubled-hygiene board leaves two of next sprint's stories unestimated.
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
            self._story(work_time(self.rng, self.export - 12 * DAY, self.export - DAY), epic)

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
        for epic in self.epics:
            if not epic.children or any(not c.is_done for c in epic.children):
                continue
            last = max(c.resolved_at or 0 for c in epic.children)
            closed_at = work_time(self.rng, last + HOUR, last + 3 * DAY)
            if closed_at < self.export - 8 * DAY and closed_at > epic.last_change:
                epic.move_to(closed_at, DONE, self.plan.product_owner)


def _is_production(bug: SimIssue) -> bool:
    return bool({"production", "prod-incident"} & set(bug.labels))
