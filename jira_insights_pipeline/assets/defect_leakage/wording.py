"""How a defect-leakage insight is worded: its headlines, sentence plans, template and prompt.

The escape rate is production bugs over production and testing bugs (bugs of unknown
environment count in neither), so no sentence divides by all bugs found.
"""

from __future__ import annotations

from jira_insights_pipeline.insights.grounding import Draft
from jira_insights_pipeline.insights.plans import Plans, counted, has, one, positive, same, zero
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
    extras += [s for s in (sources_sentence(facts), done_stories_sentence(facts)) if s is not None]
    return Plans(tuple(_openers(facts, alarm)), tuple(extras), ADVICE.pick(alarm))


def template_draft(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
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
