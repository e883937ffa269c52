"""How a team-health (ticket hygiene) insight is worded: headlines, plans, template, prompt."""

from __future__ import annotations

from jira_insights_pipeline.insights.grounding import Draft
from jira_insights_pipeline.insights.plans import Plans, compare, has, one, positive, same, zero
from jira_insights_pipeline.insights.templates import Titles, joined, template
from jira_insights_pipeline.insights.values import InsightFacts
from jira_insights_pipeline.use_case import Wording

TITLES = Titles(
    alarm="Ticket hygiene on {board} needs attention",
    calm="Ticket hygiene on {board} is healthy",
)
# What to do about the most common problem (the `worst_problem` fact's words).
PROBLEM_ADVICE = {
    "stale issues": "Update or close stale issues at the next refinement.",
    "blocked issues": "Raise blocked issues at the daily scrum and name who unblocks each.",
    "issues without an estimate": "Estimate open stories before they enter a sprint.",
    "issues in progress too long": "Limit work in progress and swarm on the oldest items.",
}
REVIEW_ADVICE = "Review open issues at the next refinement."
HYGIENE_ADVICE = "Spend part of each refinement on ticket hygiene."
KEEP_ADVICE = "Keep issues updated as work moves."


def _relation(facts: InsightFacts) -> str:
    return {1: "above", 0: "at", -1: "below"}[
        compare(facts, "hygiene_score", "hygiene_score_min") or 0
    ]


def score_sentence(facts: InsightFacts) -> str:
    return (
        "The hygiene score on {board} is {hygiene_score}, "
        + _relation(facts)
        + " the healthy {hygiene_score_min}."
    )


def problems_sentence(facts: InsightFacts) -> str | None:
    if zero(facts, "issues_with_problems") and positive(facts, "open_issues"):
        if one(facts, "open_issues"):
            return "Its {open_issues} open issue has no problem."
        return "None of its {open_issues} open issues has a problem."
    if not has(facts, "issues_with_problems", "open_issues"):
        return None
    if same(facts, "issues_with_problems", "open_issues"):
        if one(facts, "open_issues"):
            return "Its {open_issues} open issue has a problem."
        return "All {open_issues} open issues have a problem."
    verb = "has" if one(facts, "issues_with_problems") else "have"
    return "{issues_with_problems} of {open_issues} open issues " + verb + " a problem."


def worst_sentence(facts: InsightFacts) -> str | None:
    if has(facts, "worst_problem", "worst_problem_issues"):
        return "The most common problem is {worst_problem} ({worst_problem_issues})."
    return None


def status_sentence(facts: InsightFacts) -> str | None:
    if has(facts, "worst_status", "worst_status_issues") and not one(facts, "worst_status_issues"):
        return "Most of them sit in {worst_status} ({worst_status_issues})."
    return None


def oldest_blocked_sentence(facts: InsightFacts) -> str | None:
    if not has(facts, "oldest_blocked_issue", "oldest_blocked_days"):
        return None
    unit = "day" if one(facts, "oldest_blocked_days") else "days"
    return "{oldest_blocked_issue} has been blocked for {oldest_blocked_days} " + unit + "."


def advice(facts: InsightFacts, alarm: bool) -> tuple[str, ...]:
    worst = facts.fact("worst_problem")
    for_worst = PROBLEM_ADVICE.get(str(worst.value)) if worst is not None else None
    if alarm:
        return (for_worst or REVIEW_ADVICE, HYGIENE_ADVICE)
    return (for_worst, KEEP_ADVICE) if for_worst else (KEEP_ADVICE,)


def plans(facts: InsightFacts, alarm: bool) -> Plans:
    openers = (
        score_sentence(facts),
        "Ticket hygiene on {board} scores {hygiene_score}, " + _relation(facts) + " the healthy "
        "{hygiene_score_min}.",
    )
    # When the score is low its largest cause, the most common problem, is always said.
    worst = worst_sentence(facts)
    required = (worst,) if alarm and worst is not None else ()
    optional = (
        problems_sentence(facts),
        None if required else worst,
        oldest_blocked_sentence(facts),
        status_sentence(facts),
    )
    extras = tuple(s for s in optional if s is not None)
    return Plans(openers, extras, advice(facts, alarm), required=required)


def template_draft(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    message = joined(
        score_sentence(facts),
        problems_sentence(facts),
        worst_sentence(facts),
        oldest_blocked_sentence(facts) if alarm else None,
    )
    chosen = advice(facts, alarm)
    # Without the model, a healthy board gets one piece of advice, not two.
    return template(alarm, message, TITLES, chosen if alarm else chosen[:1])


WORDING = Wording(
    plans=plans,
    template=template_draft,
    titles=TITLES,
    topic="ticket hygiene",
    task=(
        "Say what the hygiene score is and its worst problems, and give one or two recommendations."
    ),
)
