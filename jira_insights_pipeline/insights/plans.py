"""Sentence plans: the few sentences an insight may say, and every answer built from them.

A small model wording free text around true numbers says false or garbled things ("40% of 40%",
"32 points have been lost to the next sprint"). So the model does not write sentences: for each
insight, the facts decide which sentence skeletons are true (a "down from" only when the number
fell, an "added stories" sentence only when stories were added, "story" or "stories" by the
count), and the model chooses among the answers they make, plus a connecting word from a tiny
list (`[above|over]`). Every skeleton holds numbers, keys and names only as `{placeholders}`.

An answer is an opening sentence that names a key fact, one or two further sentences in the
order listed (so a message has two or three sentences whenever the facts allow more than one),
and one or two distinct pieces of advice. `plan_answers` spells out every such answer as the JSON
the engine parses.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from jira_insights_pipeline.insights.facts import InsightFacts

CHOICE = re.compile(r"\[([A-Za-z ,']+(?:\|[A-Za-z ,']+)+)\]")
MAX_EXTRA_SENTENCES = 2
MAX_ADVICE = 2


@dataclass(frozen=True)
class Plans:
    """The sentences one insight may use. Skeletons may hold `[a|b]` word choices."""

    openers: tuple[str, ...]
    extras: tuple[str, ...]
    advice: tuple[str, ...]


def _value(facts: InsightFacts, name: str) -> float | None:
    """The fact's value as the text shows it (so "20 points" equals a mean of 20.04)."""
    fact = facts.fact(name)
    if fact is None:
        return None
    shown = fact.json_value()
    if isinstance(shown, bool) or not isinstance(shown, int | float):
        return None
    return float(shown)


def _has(facts: InsightFacts, *names: str) -> bool:
    return all(facts.fact(name) is not None for name in names)


def _positive(facts: InsightFacts, name: str) -> bool:
    value = _value(facts, name)
    return value is not None and value > 0


def _zero(facts: InsightFacts, name: str) -> bool:
    return _value(facts, name) == 0


def one(facts: InsightFacts, name: str) -> bool:
    return _value(facts, name) == 1


def _same(facts: InsightFacts, left: str, right: str) -> bool:
    return compare(facts, left, right) == 0


def compare(facts: InsightFacts, left: str, right: str) -> int | None:
    a, b = _value(facts, left), _value(facts, right)
    if a is None or b is None:
        return None
    return (a > b) - (a < b)


def counted(facts: InsightFacts, name: str, singular: str, plural: str) -> str:
    """`{name} point` or `{name} points`, as the fact's value asks."""
    return "{" + name + "} " + (singular if one(facts, name) else plural)


def points(facts: InsightFacts, name: str) -> str:
    return counted(facts, name, "point", "points")


def _scope_creep(facts: InsightFacts, alarm: bool) -> Plans:
    limit = "[above|over] the {grown_share_limit} limit" if alarm else "within the limit"
    if _zero(facts, "estimated_stories"):
        openers = [
            "{sprint} started with {estimated_stories} estimated committed stories, so no "
            "estimate could grow."
        ]
    elif _zero(facts, "grown_stories"):
        if one(facts, "estimated_stories"):
            openers = [
                "{sprint} had {estimated_stories} estimated committed story, and it did not grow."
            ]
        else:
            openers = [
                "None of the {estimated_stories} estimated committed stories grew during {sprint}.",
                "No committed story grew during {sprint}, out of {estimated_stories} with an "
                "estimate.",
            ]
    else:
        if _same(facts, "grown_stories", "estimated_stories"):
            counted = (
                "{top_story}, the only estimated committed story, grew during {sprint}, "
                if one(facts, "estimated_stories")
                else "All {estimated_stories} estimated committed stories grew during {sprint}, "
            )
        else:
            counted = (
                "{grown_stories} of {estimated_stories} estimated committed stories grew during "
                "{sprint}, "
            )
        openers = [
            counted + limit + ".",
            "During {sprint}, {grown_story_share} of the estimated committed stories grew, "
            + limit
            + ".",
        ]
    extras = []
    if _has(facts, "top_story", "top_story_start_points", "top_story_end_points"):
        most = " " if one(facts, "grown_stories") else " [most|the most], "
        extras.append(
            "{top_story} grew"
            + most
            + "from "
            + points(facts, "top_story_start_points")
            + " to "
            + points(facts, "top_story_end_points")
            + "."
        )
    if _positive(facts, "added_stories"):
        story = "story" if one(facts, "added_stories") else "stories"
        verb = "was" if story == "story" else "were"
        worth = (
            "worth " + points(facts, "added_points")
            if _positive(facts, "added_points")
            else "with no points"
        )
        extras.append(
            "{added_stories} new " + story + " " + verb + " added after the start, " + worth + "."
        )
    elif _zero(facts, "added_stories"):
        extras.append("No story was added after the start.")
    if alarm:
        extras.append("The stories were [probably|likely] not refined before planning.")
        advice = [
            "Refine and split stories before sprint planning so their size is known up front.",
            "Log newly found work as new stories instead of growing committed ones.",
        ]
    else:
        advice = ["Keep refining stories before planning; it is working."]
    return Plans(tuple(openers), tuple(extras), tuple(advice))


def _missed_target(facts: InsightFacts, alarm: bool) -> Plans:
    # The completion rate is completed points over committed points (as Jira's velocity chart
    # compares its bars), so finished added work counts: it is never called "the commitment
    # finished", which is what the committed points finished say.
    verdict = (
        "[below|short of] the {completion_target} target"
        if alarm
        else "[meeting|reaching] the {completion_target} target"
    )
    openers = [
        "{sprint} completed "
        + points(facts, "completed_points")
        + " against a commitment of "
        + points(facts, "committed_points")
        + " ({completion_rate}), "
        + verdict
        + ".",
        "In {sprint} the team completed {completion_rate} as many points as it committed, "
        + verdict
        + ".",
    ]
    extras = []
    if _same(facts, "completed_committed_points", "committed_points"):
        extras.append("Every committed point was finished.")
    elif _has(facts, "completed_committed_points", "committed_points"):
        extras.append(
            "Of the "
            + points(facts, "committed_points")
            + " committed, {completed_committed_points} were finished."
        )
    spilled_now = _positive(facts, "spillover_stories")
    if spilled_now:
        extras.append(
            "{spillover_stories} unfinished story spilled over."
            if one(facts, "spillover_stories")
            else "{spillover_stories} unfinished stories spilled over."
        )
    elif _zero(facts, "spillover_stories"):
        extras.append("No unfinished story spilled over.")
    recent = _value(facts, "recent_sprints") or 0
    spilled = _value(facts, "spillover_sprints")
    # "Still" only where this sprint spilled over too and missing the target makes it a problem.
    again = " [also|still]" if alarm and spilled_now else ""
    if recent > 1 and spilled is not None:
        if spilled == recent:
            extras.append(
                "Work" + again + " spilled over in each of the last {recent_sprints} sprints."
            )
        elif spilled > 0:
            extras.append(
                "Work" + again + " spilled over in {spillover_sprints} of the last "
                "{recent_sprints} sprints."
            )
        else:
            extras.append("Nothing spilled over in the last {recent_sprints} sprints.")
    if alarm:
        extras.append("The plan was [probably|likely] bigger than the team could finish.")
        advice = [
            "Plan the next sprint from the points the team actually finishes, not its hopes.",
            "Use the retrospective to find what held the unfinished stories back.",
        ]
    else:
        advice = ["Keep planning from the points the team actually finishes."]
    return Plans(tuple(openers), tuple(extras), tuple(advice))


def _defect_leakage(facts: InsightFacts, alarm: bool) -> Plans:
    # The escape rate is production bugs over production and testing bugs (bugs of unknown
    # environment count in neither), so no opener divides by all bugs found.
    if _has(facts, "escape_rate", "escape_rate_limit", "production_bugs"):
        limit = "above" if alarm else "within"
        rate = (
            "The escape rate in {sprint} was {escape_rate}, "
            + limit
            + " the {escape_rate_limit} limit."
        )
        if _zero(facts, "production_bugs"):
            openers = [
                "No bug from {sprint} was found in production, an escape rate of {escape_rate}.",
                rate,
            ]
        else:
            openers = [
                counted(facts, "production_bugs", "bug", "bugs")
                + " from {sprint} reached production, an escape rate of {escape_rate}, "
                + limit
                + " the {escape_rate_limit} limit.",
                rate,
            ]
    else:
        openers = [
            "{bugs_found} bugs were found during {sprint}, so there is no escape rate."
            if _zero(facts, "bugs_found")
            else "Bugs found during {sprint}: {bugs_found}; none was classed as found in "
            "production or in testing, so there is no escape rate."
        ]
    extras = []
    if _positive(facts, "qa_bugs") and _has(facts, "escape_rate"):
        extras.append(
            "Testing caught " + counted(facts, "qa_bugs", "bug", "bugs") + " before release."
        )
    if _has(facts, "source_stories"):
        extras.append(
            "The production bug traces back to {source_stories}."
            if one(facts, "production_bugs")
            else "The production bugs trace back to {source_stories}."
        )
    if _positive(facts, "bugs_from_done_stories") and _has(facts, "bugs_found"):
        if _same(facts, "bugs_from_done_stories", "bugs_found"):
            extras.append(
                "The bug is linked to a story already marked done."
                if one(facts, "bugs_found")
                else "All {bugs_found} bugs are linked to stories already marked done."
            )
        else:
            linked = (
                "is linked to a story"
                if one(facts, "bugs_from_done_stories")
                else "are linked to stories"
            )
            extras.append(
                "{bugs_from_done_stories} of the {bugs_found} bugs "
                + linked
                + " already marked done."
            )
    if alarm:
        advice = [
            "Add acceptance tests for the stories these bugs came from.",
            "Review the definition of done with testers before closing similar stories.",
        ]
    else:
        advice = ["Keep testing stories before they are marked done."]
    return Plans(tuple(openers), tuple(extras), tuple(advice))


PROBLEM_ADVICE = {
    "stale issues": "Update or close stale issues at the next refinement.",
    "blocked issues": "Raise blocked issues at the daily scrum and name who unblocks each.",
    "issues without an estimate": "Estimate open stories before they enter a sprint.",
    "issues in progress too long": "Limit work in progress and swarm on the oldest items.",
}


def _team_health(facts: InsightFacts, alarm: bool) -> Plans:
    relation = {1: "above", 0: "at", -1: "below"}.get(
        compare(facts, "hygiene_score", "hygiene_score_min") or 0, "at"
    )
    openers = [
        "The hygiene score on {board} is {hygiene_score}, " + relation + " the healthy "
        "{hygiene_score_min}.",
        "Ticket hygiene on {board} scores {hygiene_score}, " + relation + " the healthy "
        "{hygiene_score_min}.",
    ]
    extras = []
    if _zero(facts, "issues_with_problems") and _positive(facts, "open_issues"):
        extras.append(
            "Its {open_issues} open issue has no problem."
            if one(facts, "open_issues")
            else "None of its {open_issues} open issues has a problem."
        )
    elif _has(facts, "issues_with_problems", "open_issues"):
        if _same(facts, "issues_with_problems", "open_issues"):
            extras.append(
                "Its {open_issues} open issue has a problem."
                if one(facts, "open_issues")
                else "All {open_issues} open issues have a problem."
            )
        else:
            verb = "has" if one(facts, "issues_with_problems") else "have"
            extras.append(
                "{issues_with_problems} of {open_issues} open issues " + verb + " a problem."
            )
    worst = facts.fact("worst_problem")
    if worst is not None and _has(facts, "worst_problem_issues"):
        extras.append("The most common problem is {worst_problem} ({worst_problem_issues}).")
    advice_for_worst = PROBLEM_ADVICE.get(str(worst.value)) if worst is not None else None
    if alarm:
        advice = [
            advice_for_worst or "Review open issues at the next refinement.",
            "Spend part of each refinement on ticket hygiene.",
        ]
    else:
        advice = [advice_for_worst or "Keep issues updated as work moves."]
        if advice_for_worst:
            advice.append("Keep issues updated as work moves.")
    return Plans(tuple(openers), tuple(extras), tuple(advice))


def without_points(facts: InsightFacts) -> bool:
    """A team that finishes work without points (or does not estimate) has nothing to forecast:
    no points this sprint and at least even odds of none in the next."""
    return _zero(facts, "completed_points") and (
        _zero(facts, "forecast_p50") or not _has(facts, "forecast_p50")
    )


def commitment_advice(facts: InsightFacts) -> str:
    """What to commit to next sprint, from the forecast when there is one."""
    if without_points(facts):
        return "Estimate stories in points before the sprint, so velocity can guide planning."
    if _has(facts, "forecast_p85"):
        return "Commit to about " + points(facts, "forecast_p85") + " next sprint."
    return "Commit to what the team finished recently."


def forecast_sentence(facts: InsightFacts) -> str | None:
    """What the forecast says about the next sprint, if anything."""
    if without_points(facts):
        return "The finished work carried no story points, so points cannot forecast yet."
    if _has(facts, "forecast_p50", "forecast_p85"):
        return (
            "For the next sprint, "
            + points(facts, "forecast_p85")
            + " is a safe commitment and "
            + points(facts, "forecast_p50")
            + " a coin flip."
        )
    return None


def cycle_time_sentence(facts: InsightFacts) -> str | None:
    """Whether work takes longer from start to done, if the cycle time is known."""
    flow = facts.fact("cycle_time_trend")
    if flow is None or not _has(facts, "median_cycle_days"):
        return None
    days = counted(facts, "median_cycle_days", "day", "days")
    if flow.value == "rising":
        return "Work [also|now] takes longer: the median cycle time rose to " + days + "."
    return "The median cycle time, " + days + ", did not rise."


def _velocity(facts: InsightFacts, alarm: bool) -> Plans:
    relation = compare(facts, "completed_points", "previous_mean_points")
    completed = points(facts, "completed_points")
    extras = []
    if relation is None:
        openers = ["{board} completed " + completed + " in {sprint}."]
        extras.append("There are too few earlier sprints to show a trend yet.")
    else:
        versus = {
            -1: "[down from|below] its recent mean of ",
            0: "[matching|equal to] its recent mean of ",
            1: "[up from|above] its recent mean of ",
        }[relation] + points(facts, "previous_mean_points")
        openers = [
            "{board} completed " + completed + " in {sprint}, " + versus + ".",
            "In {sprint}, {board} completed " + completed + ", " + versus + ".",
        ]
    extras += [
        sentence
        for sentence in (forecast_sentence(facts), cycle_time_sentence(facts))
        if sentence is not None
    ]
    commit = commitment_advice(facts)
    if alarm:
        advice = [
            "Find what took capacity away, such as absences, support work or blocked stories.",
            commit,
        ]
    else:
        advice = [commit]
    return Plans(tuple(openers), tuple(extras), tuple(advice))


PLANNERS: dict[str, Callable[[InsightFacts, bool], Plans]] = {
    "scope_creep": _scope_creep,
    "missed_target": _missed_target,
    "defect_leakage": _defect_leakage,
    "team_health": _team_health,
    "velocity": _velocity,
}


def _usable(skeleton: str, known: set[str]) -> bool:
    return set(re.findall(r"\{([a-z][a-z0-9_]*)\}", skeleton)) <= known


def plans_for(facts: InsightFacts) -> Plans:
    """The sentences that are true for this insight and name only its facts."""
    plans = PLANNERS[facts.use_case](facts, facts.severity != "info")
    known = {fact.name for fact in facts.facts}
    openers = tuple(s for s in plans.openers if _usable(s, known))
    if not openers:
        raise ValueError(f"no opening sentence fits the {facts.use_case} facts")
    return Plans(
        openers,
        tuple(s for s in plans.extras if _usable(s, known)),
        tuple(s for s in plans.advice if _usable(s, known)),
    )


def expansions(skeleton: str) -> list[str]:
    """Every sentence a skeleton can become, one per combination of its word choices."""
    match = CHOICE.search(skeleton)
    if match is None:
        return [skeleton]
    head, tail = skeleton[: match.start()], skeleton[match.end() :]
    return [
        head + option + rest for option in match.group(1).split("|") for rest in expansions(tail)
    ]


def _messages(plans: Plans) -> Iterator[str]:
    """An opener, then one or two extras in their listed order (none only if there is none)."""
    counts = range(1, MAX_EXTRA_SENTENCES + 1) if plans.extras else range(0, 1)
    for opener in plans.openers:
        for count in counts:
            for chosen in itertools.combinations(plans.extras, count):
                for sentences in itertools.product(*map(expansions, (opener, *chosen))):
                    yield " ".join(sentences)


def _advice(plans: Plans) -> Iterator[tuple[str, ...]]:
    """One or two distinct pieces of advice, in either order."""
    for count in range(1, MAX_ADVICE + 1):
        for chosen in itertools.permutations(plans.advice, count):
            yield from itertools.product(*map(expansions, chosen))


def plan_answers(plans: Plans) -> tuple[str, ...]:
    """Every answer the plans allow, as the JSON the engine parses
    (`{"message": ..., "recommendations": [...]}`), in a fixed order."""
    advice = list(_advice(plans))
    answers = (
        json.dumps({"message": message, "recommendations": list(items)})
        for message in _messages(plans)
        for items in advice
    )
    return tuple(dict.fromkeys(answers))
