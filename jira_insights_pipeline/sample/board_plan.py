"""The boards of the sample site before anything happens on them.

`plan_boards` gives every board its project key, team, people, profile (from `profiles`) and
sprint calendar: the closed sprints, the active sprint running at the export, and a future
sprint with no dates yet. Sprint ids are numbered site-wide, so all boards are planned together;
what then happens on each board is `simulation.BoardSimulation`'s work.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from jira_insights_pipeline.sample import vocabulary
from jira_insights_pipeline.sample.clock import DAY, HOUR, MINUTE, berlin_wall_clock
from jira_insights_pipeline.sample.issues import SimIssue
from jira_insights_pipeline.sample.jira_shapes import STORY, Person, SprintInfo, Workflow
from jira_insights_pipeline.sample.profiles import PROFILE_CYCLE, WORKFLOWS, Profile

# The first day of the first board's active sprint; every board's active sprint starts within
# the nine days before the export, so the active sprints are running when the site is exported.
ACTIVE_SPRINT_WEEK = date(2026, 11, 9)
_ACTIVE_START_OFFSETS = (0, 1, 2, 3, 4, 7, 8, 9)
SPRINT_DAYS = 14


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

    def component_of(self, thing: str) -> str:
        """The component an issue about `thing` is filed under."""
        for component, things in self.team.areas:
            if thing in things:
                return component
        return self.name

    @property
    def untested_component(self) -> str | None:
        """The component whose stories this team marks done straight from In Progress, never
        reviewed or tested: the leaky-testing team does that with its first area."""
        if self.profile is Profile.LEAKY_TESTING and self.team.areas:
            return self.team.areas[0][0]
        return None

    def skips_testing(self, issue: SimIssue) -> bool:
        return issue.kind == STORY and self.untested_component in issue.components


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
                workflow=WORKFLOWS[profile],
                people=people,
                sprints=sprints,
            )
        )
    return plans
