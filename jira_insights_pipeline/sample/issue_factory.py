"""New issues of one board, written as its team writes them.

`IssueFactory` gives each new epic, story, task and sub-task its summary, description, acceptance
criteria, priority and components (the words come from `vocabulary`), puts it under its epic or
parent story, and keeps the board's issues in the order the simulation created them. Bugs are
written by `bugs.SprintBugs`, through `IssueFactory.new`.

The factory draws from the board's own `random.Random`, which the rest of the simulation shares:
the order of the draws is part of the generated site, so reordering them changes its bytes.
"""

from __future__ import annotations

import random

from jira_insights_pipeline.sample import vocabulary
from jira_insights_pipeline.sample.board_plan import BoardPlan
from jira_insights_pipeline.sample.clock import DAY, MINUTE, work_time
from jira_insights_pipeline.sample.issues import SimIssue
from jira_insights_pipeline.sample.jira_shapes import EPIC, STORY, SUBTASK, TASK, Person


class IssueFactory:
    """Creates one board's issues; `issues` holds them in creation order, `epics` the epics."""

    def __init__(self, plan: BoardPlan, rng: random.Random, export: int) -> None:
        self.plan = plan
        self.rng = rng
        self.export = export
        self.issues: list[SimIssue] = []
        self.epics: list[SimIssue] = []

    def new(self, kind: str, created: int, reporter: Person, summary: str, thing: str) -> SimIssue:
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

    def epic_for(self, k: int) -> SimIssue:
        """The epic of the board's sprint `k`: each epic spans three sprints."""
        block = k // 3
        while len(self.epics) <= block:
            first_sprint = self.plan.sprints[min(3 * len(self.epics), len(self.plan.sprints) - 1)]
            anchor = first_sprint.start if first_sprint.start is not None else self.export
            thing = self.rng.choice(self.plan.team.things)
            created = work_time(self.rng, anchor - 40 * DAY, anchor - 30 * DAY)
            epic = self.new(
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

    def story(self, created: int, epic: SimIssue | None) -> SimIssue:
        thing = self.rng.choice(self.plan.team.things)
        summary = vocabulary.story_summary(self.rng, thing)
        story = self.new(STORY, created, self.plan.product_owner, summary, thing)
        story.paragraphs = [vocabulary.user_story(self.rng, self.plan.team.persona, summary)]
        if self.rng.random() < 0.85:
            story.criteria = vocabulary.acceptance_criteria(self.rng, thing, self.rng.randint(2, 4))
        story.priority = self.rng.choice(("2", "3", "3", "3", "4"))
        story.components = [self.plan.component_of(thing)]
        self._attach(story, epic)
        return story

    def task(self, created: int, epic: SimIssue | None) -> SimIssue:
        thing = self.rng.choice(self.plan.team.things)
        task = self.new(
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

    def subtask(self, created: int, story: SimIssue) -> SimIssue:
        """A sub-task of `story`, in the story's sprints; sub-tasks carry no description."""
        subtask = self.new(
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
        return subtask

    def _attach(self, child: SimIssue, parent: SimIssue | None) -> None:
        if parent is None:
            return
        child.parent = parent
        parent.children.append(child)
        if parent.kind == EPIC and self.rng.random() < 0.5:
            # Put under the epic after it was written; the epic's history says so.
            at = work_time(self.rng, child.created + 5 * MINUTE, child.created + 2 * DAY)
            parent.record(at, self.plan.product_owner, [("epic child", None, child)])
