"""How a scope-creep insight is worded: its headlines, sentence plans, template and prompt.

Where the diagnosis is there (`facts.py`), a crossed limit's message leads with the largest
cause, as `sprint_scope_causes` decided it: its first sentence states the cause with its figure
(and keys), then the share of grown stories against the limit it crossed; the other cause may
follow. The advice is the largest cause's (`CAUSE_ADVICE`), decided here once: a refinement gap
asks to refine acceptance criteria before planning, work added late to protect the sprint or
plan a buffer. With no cause in Jira's history the message says so and the advice is to ask the
team. Without the diagnosis the insight says what the ledger shows and guesses no cause.
"""

from __future__ import annotations

from jira_insights_pipeline.assets.scope_creep.diagnosis import (
    ADDED_LATE,
    CAUSE_LABELS,
    REFINEMENT_GAP,
)
from jira_insights_pipeline.insights.grounding import Draft
from jira_insights_pipeline.insights.plans import (
    Plans,
    counted,
    has,
    one,
    points,
    positive,
    same,
    zero,
)
from jira_insights_pipeline.insights.templates import Advice, Titles, joined, template
from jira_insights_pipeline.insights.values import InsightFacts
from jira_insights_pipeline.use_case import Wording

TITLES = Titles(alarm="Scope grew during {sprint}", calm="Scope held steady in {sprint}")
ADVICE = Advice(
    alarm=(
        "Refine and split stories before sprint planning so their size is known up front.",
        "Log newly found work as new stories instead of growing committed ones.",
    ),
    calm=("Keep refining stories before planning; it is working.",),
)
# What each largest cause recommends: its own remedy first, then how to plan around it.
CAUSE_ADVICE = {
    REFINEMENT_GAP: (
        "Refine acceptance criteria before sprint planning, so each estimate covers the whole "
        "story.",
        ADVICE.alarm[1],
    ),
    ADDED_LATE: (
        "Protect the sprint: take new work into a later sprint unless it replaces committed work.",
        "Plan a buffer for the work that arrives during the sprint.",
    ),
}
NO_CAUSE_ADVICE = "Ask the team in the retrospective what made the stories grow."


def _openers(facts: InsightFacts, limit: str) -> list[str]:
    if zero(facts, "estimated_stories"):
        return [
            "{sprint} started with {estimated_stories} estimated committed stories, so no "
            "estimate could grow."
        ]
    if zero(facts, "grown_stories"):
        if one(facts, "estimated_stories"):
            return [
                "{sprint} had {estimated_stories} estimated committed story, and it did not grow."
            ]
        return [
            "None of the {estimated_stories} estimated committed stories grew during {sprint}.",
            "No committed story grew during {sprint}, out of {estimated_stories} with an estimate.",
        ]
    if same(facts, "grown_stories", "estimated_stories"):
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
    return [
        counted + limit + ".",
        "During {sprint}, {grown_story_share} of the estimated committed stories grew, "
        + limit
        + ".",
    ]


def top_story_sentence(facts: InsightFacts) -> str | None:
    if not has(facts, "top_story", "top_story_start_points", "top_story_end_points"):
        return None
    most = " " if one(facts, "grown_stories") else " [most|the most], "
    return (
        "{top_story} grew"
        + most
        + "from "
        + points(facts, "top_story_start_points")
        + " to "
        + points(facts, "top_story_end_points")
        + "."
    )


def added_sentence(facts: InsightFacts) -> str | None:
    if positive(facts, "added_stories"):
        story = "story" if one(facts, "added_stories") else "stories"
        verb = "was" if story == "story" else "were"
        worth = (
            "worth " + points(facts, "added_points")
            if positive(facts, "added_points")
            else "with no points"
        )
        return (
            "{added_stories} new " + story + " " + verb + " added after the start, " + worth + "."
        )
    if zero(facts, "added_stories"):
        return "No story was added after the start."
    return None


def diagnosed(facts: InsightFacts) -> bool:
    """Whether the facts hold the diagnosis (`facts.py` adds it with the sprint's causes)."""
    return has(facts, "gap_stories", "added_scope_issues", "final_scope_issues")


def largest_cause(facts: InsightFacts) -> str | None:
    """The largest cause the facts state (`largest_cause`, by its label), or None."""
    fact = facts.fact("largest_cause")
    if fact is None:
        return None
    by_label = {label: cause for cause, label in CAUSE_LABELS.items()}
    return by_label.get(str(fact.value))


# The crossed limit, as the second half of a cause opener.
LIMIT_CLAUSE = (
    "{grown_story_share} of estimated committed stories grew, [above|over] the "
    "{grown_share_limit} limit"
)


def _gap_clause(facts: InsightFacts) -> str | None:
    """ "{n} of the {m} stories that grew had their acceptance criteria grow before the
    re-estimate ({keys})", worded by the counts (no first capital, to continue a sentence)."""
    if not positive(facts, "gap_stories") or not has(facts, "gap_keys"):
        return None
    if same(facts, "gap_stories", "grown_stories"):
        who = (
            "the only grown story had its"
            if one(facts, "grown_stories")
            else "all {grown_stories} grown stories had their"
        )
    else:
        verb = "had its" if one(facts, "gap_stories") else "had their"
        who = "{gap_stories} of the {grown_stories} grown stories " + verb
    return who + " acceptance criteria grow before the re-estimate ({gap_keys})"


def _added_clause(facts: InsightFacts) -> str | None:
    """Work added after the start against the final scope (no first capital)."""
    if not positive(facts, "added_scope_points") or not has(facts, "added_point_share"):
        return None
    return (
        "work added after the start made up {added_point_share} of the final scope: "
        "{added_scope_points} of "
        + points(facts, "final_scope_points")
        + ", {added_scope_issues} of "
        + counted(facts, "final_scope_issues", "issue", "issues")
    )


def _capital(clause: str) -> str:
    return clause[0].upper() + clause[1:]


def gap_sentence(facts: InsightFacts) -> str | None:
    clause = _gap_clause(facts)
    return None if clause is None else _capital(clause) + "."


def added_share_sentence(facts: InsightFacts) -> str | None:
    """The work added after the start, as a share of the final scope where it has points."""
    clause = _added_clause(facts)
    if clause is not None:
        return _capital(clause) + "."
    if positive(facts, "added_scope_issues"):
        return (
            "{added_scope_issues} of the {final_scope_issues} issues in the final scope "
            + ("was" if one(facts, "added_scope_issues") else "were")
            + " added after the start, with no points."
        )
    if zero(facts, "added_scope_issues"):
        return "No work was added after the start."
    return None


def no_cause_sentence(facts: InsightFacts) -> str:
    """The lack of a cause, said as Jira's history shows it (never a guess)."""
    added = (
        "the work added after the start carried no points"
        if positive(facts, "added_scope_issues")
        else "no work was added after the start"
    )
    return (
        "No grown story had its acceptance criteria grow before the re-estimate, and " + added + "."
    )


def cause_opener(facts: InsightFacts) -> str | None:
    """A crossed limit's first sentence when the diagnosis names a largest cause: the cause
    with its figure first, then the share of grown stories against the limit."""
    cause = largest_cause(facts)
    clause = {REFINEMENT_GAP: _gap_clause, ADDED_LATE: _added_clause}.get(cause or "")
    stated = None if clause is None else clause(facts)
    if stated is None:
        return None
    return "In {sprint}, " + stated + ", and " + LIMIT_CLAUSE + "."


def cause_advice(facts: InsightFacts) -> tuple[str, ...]:
    cause = largest_cause(facts)
    if cause is None:
        return (NO_CAUSE_ADVICE, ADVICE.alarm[1])
    return CAUSE_ADVICE[cause]


def _diagnosed_plans(facts: InsightFacts) -> Plans:
    opener = cause_opener(facts)
    cause = largest_cause(facts)
    required: list[str] = []
    if opener is None:
        # No cause to lead with: the crossed limit opens, and that Jira's history shows no
        # cause is the sentence every message carries.
        openers = tuple(_openers(facts, "[above|over] the {grown_share_limit} limit"))
        required.append(no_cause_sentence(facts))
        second = None
    else:
        openers = (opener,)
        second = added_share_sentence(facts) if cause == REFINEMENT_GAP else gap_sentence(facts)
    # One further sentence at most: the other cause where there is one, else the story that
    # grew most; two would run past the message's length limit with a list of keys.
    further = second if second is not None else top_story_sentence(facts)
    extras = [] if further is None else [further]
    return Plans(openers, tuple(extras), cause_advice(facts), tuple(required))


def plans(facts: InsightFacts, alarm: bool) -> Plans:
    if alarm and diagnosed(facts):
        return _diagnosed_plans(facts)
    limit = "[above|over] the {grown_share_limit} limit" if alarm else "within the limit"
    extras = [s for s in (top_story_sentence(facts), added_sentence(facts)) if s is not None]
    return Plans(tuple(_openers(facts, limit)), tuple(extras), ADVICE.pick(alarm))


def template_draft(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    if alarm and diagnosed(facts):
        chosen = _diagnosed_plans(facts)
        sentences = (chosen.openers[0], *chosen.required, *chosen.extras[:1])
        return template(alarm, joined(*sentences), TITLES, chosen.advice)
    message = (
        "Estimated committed stories that grew during {sprint}: {grown_stories} of "
        "{estimated_stories} ({grown_story_share}), "
        + ("above" if alarm else "within")
        + " the {grown_share_limit} limit."
    )
    message = joined(message, top_story_sentence(facts), added_sentence(facts))
    return template(alarm, message, TITLES, ADVICE.pick(alarm))


WORDING = Wording(
    plans=plans,
    template=template_draft,
    titles=TITLES,
    topic="scope creep",
    task=(
        "Say which stories grew and how, the largest cause the facts state, "
        "and give one or two recommendations."
    ),
)
