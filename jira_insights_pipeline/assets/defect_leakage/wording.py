"""How a defect-leakage insight is worded: its headlines, sentence plans, template and prompt.

The escape rate is production bugs over production and testing bugs (bugs of unknown
environment count in neither), so no sentence divides by all bugs found.

When the diagnosis found a leading cause (stories done without a testing status, or a
component, epic or label the escaped bugs share), every opener leads with it and states the
escape rate against its limit in the same sentence, so the cause and the crossed threshold are
in every message; the recommendation follows from the cause. The other cause, when there is
one, is an optional extra.
"""

from __future__ import annotations

from jira_insights_pipeline.insights.grounding import Draft
from jira_insights_pipeline.insights.plans import (
    Plans,
    counted,
    has,
    one,
    positive,
    same,
    value,
    zero,
)
from jira_insights_pipeline.insights.templates import Advice, Titles, joined, template
from jira_insights_pipeline.insights.values import InsightFacts
from jira_insights_pipeline.use_case import Wording

TITLES = Titles(
    alarm="Bugs escaped to production from {sprint}",
    calm="Few bugs escaped to production in {sprint}",
)
ADVICE = Advice(
    alarm=(
        "Add acceptance tests for the stories these bugs came from.",
        "Review the definition of done with testers before closing similar stories.",
    ),
    calm=("Keep testing stories before they are marked done.",),
)


# The recommendation each leading cause calls for, ahead of the general advice.
CAUSE_ADVICE = {
    "skipped testing": "Mark no story done before it has passed a testing status such as review "
    "or testing.",
    "a cluster": "Review the test coverage of the {cluster_name} {cluster_kind} before closing "
    "more of its work.",
}
UNTESTED = "marked done without a testing status"


def _subject(facts: InsightFacts, part: str) -> str:
    """ "3 of the 4 production bugs from {sprint}", "All 4 production bugs from {sprint}" or "The
    production bug from {sprint}"; "traced to a story" added when some bugs traced to none."""
    traced = "" if same(facts, "traced_bugs", "production_bugs") else " traced to a story"
    if one(facts, "traced_bugs"):
        return "The production bug from {sprint}" + traced
    if same(facts, part, "traced_bugs"):
        if value(facts, "traced_bugs") == 2:
            return "Both production bugs from {sprint}" + traced
        return "All {traced_bugs} production bugs from {sprint}" + traced
    return "{" + part + "} of the {traced_bugs} production bugs from {sprint}" + traced


def _cause_clause(facts: InsightFacts) -> str | None:
    """The leading cause as the start of a sentence, or None without one."""
    cause = facts.fact("largest_cause")
    if cause is None or not has(facts, "traced_bugs", "production_bugs"):
        return None
    if cause.value == "skipped testing" and positive(facts, "untested_bugs"):
        single = one(facts, "untested_bugs")
        verb = " came from a story " if single else " came from stories "
        return _subject(facts, "untested_bugs") + verb + UNTESTED
    if cause.value == "a cluster" and has(facts, "cluster_kind", "cluster_name", "cluster_bugs"):
        verb = " was" if one(facts, "cluster_bugs") else " were"
        return (
            _subject(facts, "cluster_bugs") + verb + " in the same {cluster_kind}, {cluster_name}"
        )
    return None


def cause_openers(facts: InsightFacts, alarm: bool) -> list[str] | None:
    """Openers that lead with the leading cause and keep the escape rate against its limit."""
    clause = _cause_clause(facts)
    if clause is None or not has(facts, "escape_rate", "escape_rate_limit"):
        return None
    limit = "above" if alarm else "within"
    return [
        clause
        + "; the escape rate was {escape_rate}, "
        + limit
        + " the {escape_rate_limit} limit.",
        clause + ", an escape rate of {escape_rate}, " + limit + " the {escape_rate_limit} limit.",
    ]


def second_cause_sentence(facts: InsightFacts) -> str | None:
    """The cause that does not lead, when the diagnosis found it too; or, when no story skipped
    testing, that fact, since it rules the first suspect out."""
    cause = facts.fact("largest_cause")
    if cause is None or not has(facts, "traced_bugs", "untested_bugs"):
        return None
    if cause.value == "skipped testing":
        if not has(facts, "cluster_kind", "cluster_name", "cluster_bugs"):
            return None
        if same(facts, "cluster_bugs", "traced_bugs"):
            subject = "Both were" if value(facts, "traced_bugs") == 2 else "All of them were"
            return subject + " in a single {cluster_kind}, {cluster_name}."
        verb = " was" if one(facts, "cluster_bugs") else " were"
        return "{cluster_bugs} of them" + verb + " in the same {cluster_kind}, {cluster_name}."
    if zero(facts, "untested_bugs"):
        return "None of the stories they trace to was " + UNTESTED + "."
    if one(facts, "untested_bugs"):
        return "{untested_bugs} of them came from a story " + UNTESTED + "."
    return "{untested_bugs} of them came from stories " + UNTESTED + "."


def done_to_bug_sentence(facts: InsightFacts) -> str | None:
    if not has(facts, "done_to_bug_days"):
        return None
    return "The bugs appeared a median of {done_to_bug_days} days after their story was done."


def advice(facts: InsightFacts, alarm: bool) -> tuple[str, ...]:
    """The leading cause's recommendation first, then the general advice it leaves standing."""
    items = ADVICE.pick(alarm)
    cause = facts.fact("largest_cause")
    if not alarm or cause is None or _cause_clause(facts) is None:
        return items
    return (CAUSE_ADVICE[str(cause.value)], *items[:1])


def no_rate_sentence(facts: InsightFacts) -> str:
    if zero(facts, "bugs_found"):
        return "{bugs_found} bugs were found during {sprint}, so there is no escape rate."
    return (
        "Bugs found during {sprint}: {bugs_found}; none was classed as found in production or "
        "in testing, so there is no escape rate."
    )


def _openers(facts: InsightFacts, alarm: bool) -> list[str]:
    if not has(facts, "escape_rate", "escape_rate_limit", "production_bugs"):
        return [no_rate_sentence(facts)]
    limit = "above" if alarm else "within"
    rate = (
        "The escape rate in {sprint} was {escape_rate}, "
        + limit
        + " the {escape_rate_limit} limit."
    )
    if zero(facts, "production_bugs"):
        return [
            "No bug from {sprint} was found in production, an escape rate of {escape_rate}.",
            rate,
        ]
    return [
        counted(facts, "production_bugs", "bug", "bugs")
        + " from {sprint} reached production, an escape rate of {escape_rate}, "
        + limit
        + " the {escape_rate_limit} limit.",
        rate,
    ]


def sources_sentence(facts: InsightFacts) -> str | None:
    if not has(facts, "source_stories"):
        return None
    if one(facts, "production_bugs"):
        return "The production bug traces back to {source_stories}."
    return "The production bugs trace back to {source_stories}."


def done_stories_sentence(facts: InsightFacts) -> str | None:
    if not (positive(facts, "bugs_from_done_stories") and has(facts, "bugs_found")):
        return None
    if same(facts, "bugs_from_done_stories", "bugs_found"):
        if one(facts, "bugs_found"):
            return "The bug is linked to a story already marked done."
        return "All {bugs_found} bugs are linked to stories already marked done."
    linked = (
        "is linked to a story" if one(facts, "bugs_from_done_stories") else "are linked to stories"
    )
    return "{bugs_from_done_stories} of the {bugs_found} bugs " + linked + " already marked done."


def plans(facts: InsightFacts, alarm: bool) -> Plans:
    extras = []
    if positive(facts, "qa_bugs") and has(facts, "escape_rate"):
        extras.append(
            "Testing caught " + counted(facts, "qa_bugs", "bug", "bugs") + " before release."
        )
    optional = (
        second_cause_sentence(facts),
        sources_sentence(facts),
        done_to_bug_sentence(facts),
        done_stories_sentence(facts),
    )
    extras += [s for s in optional if s is not None]
    openers = cause_openers(facts, alarm) or _openers(facts, alarm)
    return Plans(tuple(openers), tuple(extras), advice(facts, alarm))


def template_draft(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    leading = cause_openers(facts, alarm)
    if leading is not None:
        # The cause leads; the counts behind the rate follow, then the other cause.
        message = joined(
            leading[0],
            "Bugs found in production: {production_bugs}; caught in testing: {qa_bugs}.",
            second_cause_sentence(facts),
            sources_sentence(facts),
        )
        return template(alarm, message, TITLES, advice(facts, alarm))
    if has(facts, "escape_rate"):
        # The rate divides by production and testing bugs only, so it follows both counts.
        message = (
            "Bugs found in production: {production_bugs}; caught in testing: {qa_bugs}; "
            "escape rate {escape_rate} against a {escape_rate_limit} limit."
        )
    else:
        message = no_rate_sentence(facts)
    message = joined(message, sources_sentence(facts), done_stories_sentence(facts))
    return template(alarm, message, TITLES, ADVICE.pick(alarm))


WORDING = Wording(
    plans=plans,
    template=template_draft,
    titles=TITLES,
    topic="bugs escaping to production",
    task=(
        "Say how many bugs reached production, the escape rate, which stories they came "
        "from, and give one or two process improvements."
    ),
)
