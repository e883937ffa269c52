"""How a flow insight is worded: its headlines, sentence plans, template and prompt."""

from __future__ import annotations

from jira_insights_pipeline.insights.grounding import Draft
from jira_insights_pipeline.insights.plans import Plans, compare, counted, has, one, zero
from jira_insights_pipeline.insights.templates import Advice, Titles, joined, template
from jira_insights_pipeline.insights.values import InsightFacts
from jira_insights_pipeline.use_case import Wording

TITLES = Titles(
    alarm="Cycle time rose in {sprint}", calm="Cycle time on {board} did not rise in {sprint}"
)
ADVICE = Advice(
    alarm=(
        "Limit work in progress so started work finishes before new work starts.",
        "Find the step where finished work waited longest and swarm on it.",
    ),
    calm=("Keep work in progress small so work keeps flowing.",),
)


def _days(facts: InsightFacts, name: str) -> str:
    return counted(facts, name, "day", "days")


def median_sentence(facts: InsightFacts, alarm: bool) -> str:
    """The opener: the sprint's median against the sprints before, and the rule's verdict."""
    if zero(facts, "finished_issues"):
        return "{board} finished {finished_issues} issues in {sprint}, so it has no cycle time."
    median = "the median cycle time on {board} was " + _days(facts, "median_cycle_days")
    if not has(facts, "previous_median_cycle_days"):
        return "In {sprint} " + median + "; there are too few earlier sprints to compare it with."
    before = " against " + _days(facts, "previous_median_cycle_days") + " in the sprints before"
    if alarm:
        return (
            "In {sprint} "
            + median
            + before
            + ", [up|a rise of] {median_change}, above the {rise_limit} limit."
        )
    relation = compare(facts, "median_cycle_days", "previous_median_cycle_days")
    if relation == 1:
        verdict = ", up {median_change}, within the {rise_limit} limit."
    elif relation == -1:
        verdict = ", down {median_change}."
    else:
        verdict = ", unchanged."
    return "In {sprint} " + median + before + verdict


def spread_sentence(facts: InsightFacts) -> str | None:
    if not has(facts, "p85_cycle_days", "p85_share") or zero(facts, "finished_issues"):
        return None
    if one(facts, "finished_issues"):
        return None  # one issue has no spread to speak of
    return (
        "{p85_share} of its {finished_issues} finished issues took "
        + _days(facts, "p85_cycle_days")
        + " or less."
    )


def plans(facts: InsightFacts, alarm: bool) -> Plans:
    extras = tuple(s for s in (spread_sentence(facts),) if s is not None)
    return Plans((median_sentence(facts, alarm),), extras, ADVICE.pick(alarm))


def template_draft(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    message = joined(median_sentence(facts, alarm), spread_sentence(facts))
    return template(alarm, message, TITLES, ADVICE.pick(alarm))


WORDING = Wording(
    plans=plans,
    template=template_draft,
    titles=TITLES,
    topic="cycle time (flow)",
    task=(
        "Say how long work took from start to done against the sprints before, "
        "and give one or two recommendations."
    ),
)
