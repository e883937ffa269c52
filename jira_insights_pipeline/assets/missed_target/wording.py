"""How a missed-target insight is worded: its headlines, sentence plans, template and prompt.

The completion rate is completed points over committed points (as Jira's Velocity Chart
compares its bars), so finished added work counts: it is never called "the commitment
finished", which is what the committed points finished say.
"""

from __future__ import annotations

from jira_insights_pipeline.insights.grounding import Draft
from jira_insights_pipeline.insights.plans import (
    Plans,
    has,
    one,
    points,
    positive,
    same,
    value,
    zero,
)
from jira_insights_pipeline.insights.templates import Advice, Titles, joined, template
from jira_insights_pipeline.insights.values import InsightFacts
from jira_insights_pipeline.use_case import Wording

TITLES = Titles(
    alarm="{sprint} fell short of its completion target",
    calm="{sprint} reached its completion target",
)
ADVICE = Advice(
    alarm=(
        "Plan the next sprint from the points the team actually finishes, not its hopes.",
        "Use the retrospective to find what held the unfinished stories back.",
    ),
    calm=("Keep planning from the points the team actually finishes.",),
)


def _verdict(alarm: bool) -> str:
    if alarm:
        return "[below|short of] the {completion_target} target"
    return "[meeting|reaching] the {completion_target} target"


def completion_sentence(facts: InsightFacts, alarm: bool) -> str:
    return (
        "{sprint} completed "
        + points(facts, "completed_points")
        + " against a commitment of "
        + points(facts, "committed_points")
        + " ({completion_rate}), "
        + _verdict(alarm)
        + "."
    )


def committed_finished_sentence(facts: InsightFacts) -> str | None:
    if same(facts, "completed_committed_points", "committed_points"):
        return "Every committed point was finished."
    if has(facts, "completed_committed_points", "committed_points"):
        return (
            "Of the "
            + points(facts, "committed_points")
            + " committed, {completed_committed_points} were finished."
        )
    return None


def spillover_sentence(facts: InsightFacts) -> str | None:
    if positive(facts, "spillover_stories"):
        if one(facts, "spillover_stories"):
            return "{spillover_stories} unfinished story spilled over."
        return "{spillover_stories} unfinished stories spilled over."
    if zero(facts, "spillover_stories"):
        return "No unfinished story spilled over."
    return None


def pattern_sentence(facts: InsightFacts, alarm: bool) -> str | None:
    """How often the recent sprints left work unfinished ("still" only where this sprint spilled
    over too and missing the target makes it a problem)."""
    recent = value(facts, "recent_sprints") or 0
    spilled = value(facts, "spillover_sprints")
    if recent <= 1 or spilled is None:
        return None
    again = " [also|still]" if alarm and positive(facts, "spillover_stories") else ""
    if spilled == recent:
        return "Work" + again + " spilled over in each of the last {recent_sprints} sprints."
    if spilled > 0:
        return (
            "Work" + again + " spilled over in {spillover_sprints} of the last "
            "{recent_sprints} sprints."
        )
    return "Nothing spilled over in the last {recent_sprints} sprints."


def plans(facts: InsightFacts, alarm: bool) -> Plans:
    openers = (
        completion_sentence(facts, alarm),
        "In {sprint} the team completed {completion_rate} as many points as it committed, "
        + _verdict(alarm)
        + ".",
    )
    extras = [
        sentence
        for sentence in (
            committed_finished_sentence(facts),
            spillover_sentence(facts),
            pattern_sentence(facts, alarm),
        )
        if sentence is not None
    ]
    if alarm:
        extras.append("The plan was [probably|likely] bigger than the team could finish.")
    return Plans(openers, tuple(extras), ADVICE.pick(alarm))


def template_draft(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    message = joined(
        completion_sentence(facts, alarm),
        committed_finished_sentence(facts),
        spillover_sentence(facts),
        pattern_sentence(facts, alarm),
    )
    return template(alarm, message, TITLES, ADVICE.pick(alarm))


WORDING = Wording(
    plans=plans,
    template=template_draft,
    titles=TITLES,
    topic="missed sprint target",
    task=(
        "Say how much of the commitment was finished and whether work keeps spilling over, "
        "and give one or two recommendations."
    ),
)
