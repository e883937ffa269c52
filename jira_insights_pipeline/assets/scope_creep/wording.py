"""How a scope-creep insight is worded: its headlines, sentence plans, template and prompt."""

from __future__ import annotations

from jira_insights_pipeline.insights.grounding import Draft
from jira_insights_pipeline.insights.plans import Plans, has, one, points, positive, same, zero
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


def plans(facts: InsightFacts, alarm: bool) -> Plans:
    limit = "[above|over] the {grown_share_limit} limit" if alarm else "within the limit"
    extras = [s for s in (top_story_sentence(facts), added_sentence(facts)) if s is not None]
    if alarm:
        extras.append("The stories were [probably|likely] not refined before planning.")
    return Plans(tuple(_openers(facts, limit)), tuple(extras), ADVICE.pick(alarm))


def template_draft(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
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
        "Say which stories grew and how, the likely root cause, "
        "and give one or two recommendations."
    ),
)
