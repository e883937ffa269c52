"""How a flow insight is worded: its headlines, sentence plans, template and prompt.

A crossed rise leads with its cause, the status whose median time grew most, and the first
recommendation follows from what time in that status is (decided here, once, from the fact
`slow_status_kind`): waiting in review calls for swarming on reviews, waiting for testing for
testing alongside, blocked time for raising impediments daily, longer work for limiting work in
progress."""

from __future__ import annotations

from jira_insights_pipeline.insights.grounding import MAX_MESSAGE_CHARS, Draft
from jira_insights_pipeline.insights.plans import (
    Plans,
    compare,
    counted,
    expansions,
    has,
    one,
    positive,
    zero,
)
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
# The recommendation that follows from where the extra time went (`slow_status_kind`).
CAUSE_ADVICE: dict[str, str] = {
    "review": "Swarm on reviews and limit the review queue, so finished work does not wait in "
    "{slow_status}.",
    "testing": "Test alongside development and limit the queue for {slow_status}, so work does "
    "not wait to be tested.",
    "blocked": "Raise impediments at every daily stand-up, so work does not sit in {slow_status}.",
    "working": "Limit work in progress and split large items, so work in {slow_status} "
    "finishes sooner.",
    "not_started": "Agree what an item needs before it starts, so started work is not put back "
    "to {slow_status}.",
}
AGED_ADVICE = (
    "Talk about the oldest started work at the next stand-up, {oldest_key} at {oldest_days} days "
    "first."
)


def _days(facts: InsightFacts, name: str) -> str:
    return counted(facts, name, "day", "days")


def _kind(facts: InsightFacts) -> str | None:
    fact = facts.fact("slow_status_kind")
    return None if fact is None else str(fact.value)


def median_sentence(facts: InsightFacts, alarm: bool) -> str:
    """The opener: the sprint's median against the sprints before, and the rule's verdict; a
    crossed rise leads with its cause, the status whose time grew most."""
    if zero(facts, "finished_issues"):
        return "{board} finished {finished_issues} issues in {sprint}, so it has no cycle time."
    median = "the median cycle time on {board} was " + _days(facts, "median_cycle_days")
    if not has(facts, "previous_median_cycle_days"):
        return "In {sprint} " + median + "; there are too few earlier sprints to compare it with."
    before = " against " + _days(facts, "previous_median_cycle_days") + " in the sprints before"
    if alarm:
        verdict = ", [up|a rise of] {median_change}, above the {rise_limit} limit."
        # Only a rise that reads as one ("from 1.9 to 1.9 days" would not) leads.
        if compare(facts, "slow_days", "slow_before_days") == 1 and has(facts, "slow_status"):
            return (
                "In {sprint} the median time in {slow_status} rose most, from {slow_before_days}"
                " to "
                + _days(facts, "slow_days")
                + ", and the median cycle time on {board} from {previous_median_cycle_days} to "
                + _days(facts, "median_cycle_days")
                + verdict
            )
        return "In {sprint} " + median + before + verdict
    relation = compare(facts, "median_cycle_days", "previous_median_cycle_days")
    if relation == 1:
        verdict = ", up {median_change}, within the {rise_limit} limit."
    elif relation == -1:
        verdict = ", down {median_change}."
    else:
        verdict = ", unchanged."
    return "In {sprint} " + median + before + verdict


def status_sentence(facts: InsightFacts, alarm: bool) -> str | None:
    """Without a crossed rise, the status whose time grew most is a finding, not a cause."""
    if alarm or not has(facts, "slow_status", "slow_days", "slow_before_days"):
        return None
    if compare(facts, "slow_days", "slow_before_days") != 1:
        return None  # rounded to one decimal the two read the same: no growth to speak of
    return (
        "The median time in {slow_status} grew most, from {slow_before_days} to "
        + _days(facts, "slow_days")
        + "."
    )


def aged_sentence(facts: InsightFacts) -> str | None:
    """Started work older than the board's limit, saying which limit applied."""
    if not positive(facts, "aged_items") or not has(
        facts, "age_limit_days", "oldest_key", "oldest_days"
    ):
        return None
    if has(facts, "age_min_history"):
        limit = (
            "the fixed limit of "
            + _days(facts, "age_limit_days")
            + ", as it has fewer than {age_min_history} finished issues to learn from"
        )
    else:
        limit = (
            _days(facts, "age_limit_days")
            + ", what {p85_share} of its last {age_history} finished issues took at most"
        )
    if one(facts, "aged_items"):
        return "{oldest_key} started " + _days(facts, "oldest_days") + " ago, over " + limit + "."
    return "{aged_items} started issues are older than " + limit + "."


def advice(facts: InsightFacts, alarm: bool) -> tuple[str, ...]:
    """The advice of a crossed rise follows from its cause; aged work adds looking at it."""
    items = list(ADVICE.pick(alarm))
    kind = _kind(facts)
    if alarm and kind in CAUSE_ADVICE:
        # The cause's advice replaces the general advice it makes concrete: finding where
        # work waited (now known), and limiting work in progress when that is the cause.
        cause = CAUSE_ADVICE[kind]
        general = [item for item in items if "swarm" not in item]
        if kind == "working":
            general = [item for item in general if not item.startswith("Limit work in progress")]
        items = [cause, *general]
    if aged_sentence(facts) is not None:
        items.insert(1, AGED_ADVICE)
    return tuple(items)


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


def _extras(facts: InsightFacts, alarm: bool) -> tuple[str, ...]:
    """The further sentences, most telling first, as many as fit in one message with the
    opener (in their longest wording), so every answer the plans allow can ship: the status
    that grew (without a crossed rise), the aged work, the spread."""
    candidates = (status_sentence(facts, alarm), aged_sentence(facts), spread_sentence(facts))
    room = MAX_MESSAGE_CHARS - _longest(median_sentence(facts, alarm))
    kept: list[str] = []
    for sentence in candidates:
        if sentence is None:
            continue
        size = 1 + _longest(sentence)
        if size <= room:
            kept.append(sentence)
            room -= size
    return tuple(kept)


def _longest(sentence: str) -> int:
    return max(len(wording) for wording in expansions(sentence))


def plans(facts: InsightFacts, alarm: bool) -> Plans:
    return Plans((median_sentence(facts, alarm),), _extras(facts, alarm), advice(facts, alarm))


def template_draft(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    # At most two sentences after the opener, as the plans allow.
    message = joined(median_sentence(facts, alarm), *_extras(facts, alarm)[:2])
    return template(alarm, message, TITLES, advice(facts, alarm)[:2])


WORDING = Wording(
    plans=plans,
    template=template_draft,
    titles=TITLES,
    topic="cycle time (flow)",
    task=(
        "Say how long work took from start to done against the sprints before, and in which "
        "status the time grew, and give one or two recommendations."
    ),
)
