"""The bugs found on one board while a sprint runs.

`SprintBugs.report` files a sprint's bugs: as many found in production, on QA or staging, and
with no environment at all as the sprint's `SprintKnobs` say. Each bug is marked with its
environment the way real teams do it, inconsistently (a label, the Environment field, or both),
and linked to the story that caused it: a production bug to a story finished in an earlier
sprint (on the leaky-testing board, one that skipped testing when there is one) and filed under
that story's component, a QA or staging bug to a story being built now. Which of these bugs
then go into the running sprint is the simulation's decision.

Like `IssueFactory`, this draws from the board's shared `random.Random`, in a fixed order.
"""

from __future__ import annotations

import random

from jira_insights_pipeline.sample import vocabulary
from jira_insights_pipeline.sample.board_plan import BoardPlan
from jira_insights_pipeline.sample.clock import HOUR, MINUTE, work_time
from jira_insights_pipeline.sample.issue_factory import IssueFactory
from jira_insights_pipeline.sample.issues import SimIssue
from jira_insights_pipeline.sample.jira_shapes import BUG, STORY
from jira_insights_pipeline.sample.profiles import SprintKnobs


class SprintBugs:
    """Writes and links the bugs of one board; new bugs join `factory.issues`."""

    def __init__(
        self, plan: BoardPlan, rng: random.Random, export: int, factory: IssueFactory
    ) -> None:
        self.plan = plan
        self.rng = rng
        self.export = export
        self.factory = factory

    def report(self, knobs: SprintKnobs, start: int, end: int) -> list[SimIssue]:
        """The bugs found between the sprint's `start` and `end` (or the export), oldest first."""
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
            bug = self._write(created, environment_class)
            bugs.append(bug)
            self._link_cause(bug, environment_class)
            if self.rng.random() < 0.1:
                bug.reprioritise(
                    bug.created + self.rng.randint(1, 30) * HOUR,
                    "2" if bug.priority != "2" else "1",
                    self.plan.product_owner,
                )
        return bugs

    def _write(self, created: int, environment_class: str) -> SimIssue:
        thing = self.rng.choice(self.plan.team.things)
        reporter = (
            self.plan.product_owner if environment_class == "production" else self.plan.tester
        )
        bug = self.factory.new(
            BUG, created, reporter, vocabulary.bug_summary(self.rng, thing), thing
        )
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
        bug.components = [self.plan.component_of(thing)]
        return bug

    def _link_cause(self, bug: SimIssue, environment_class: str) -> None:
        """A production bug is caused by a story finished in an earlier sprint; a bug found on
        QA or staging is caused by, or relates to, a story being built now."""
        if environment_class == "production":
            causes = [
                i
                for i in self.factory.issues
                if i.kind == STORY and i.resolved_at is not None and i.resolved_at < bug.created
            ]
            causes = causes[-15:]
            link_type = "Problem/Incident"
        else:
            causes = [
                i
                for i in self.factory.issues
                if i.kind == STORY
                and i.status.category == "indeterminate"
                and i.field_times.get("status", bug.created) < bug.created
            ]
            link_type = "Problem/Incident" if self.rng.random() < 0.7 else "Relates"
            if environment_class == "none" and self.rng.random() < 0.5:
                return
        if not causes:
            return
        # Drawn as `choice` draws, so the random stream stays the same whichever story is taken.
        story = causes[self.rng.randrange(len(causes))]
        if environment_class == "production":
            # What reaches production on the leaky-testing board is work nobody tested.
            untested = [i for i in causes if self.plan.skips_testing(i)]
            if untested and story not in untested:
                story = untested[causes.index(story) % len(untested)]
        if environment_class == "production":
            # Found in production in the part of the product that story changed.
            bug.components = list(story.components)
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
