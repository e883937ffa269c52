"""Template sentences: the insight written without the model, from the same facts.

Used when the model is off (`JIRA_INSIGHTS_LLM=off`) or when its answer was rejected twice.
Templates hold the same `{placeholders}` as model drafts and pass the same checks, so a template
insight is as grounded as a model-written one.
"""

from __future__ import annotations

from collections.abc import Callable

from jira_insights_pipeline.insights.facts import InsightFacts
from jira_insights_pipeline.insights.grounding import Draft
from jira_insights_pipeline.insights.plans import (
    PROBLEM_ADVICE,
    commitment_advice,
    cycle_time_sentence,
    expansions,
    forecast_sentence,
    points,
)
from jira_insights_pipeline.insights.plans import compare as _compare
from jira_insights_pipeline.insights.plans import one as _one


def _has(facts: InsightFacts, name: str) -> bool:
    return facts.fact(name) is not None


def _positive(facts: InsightFacts, name: str) -> bool:
    fact = facts.fact(name)
    return fact is not None and isinstance(fact.value, int | float) and fact.value > 0


def _zero(facts: InsightFacts, name: str) -> bool:
    fact = facts.fact(name)
    return fact is not None and isinstance(fact.value, int | float) and fact.value == 0


def _draft(
    alarm: bool,
    message: str,
    *,
    alarm_title: str,
    calm_title: str,
    alarm_advice: tuple[str, ...],
    calm_advice: tuple[str, ...],
) -> Draft:
    """The draft with the title and advice that fit: a problem to act on, or a finding to keep."""
    if alarm:
        return Draft(alarm_title, message, alarm_advice)
    return Draft(calm_title, message, calm_advice)


def scope_creep(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    message = (
        "Estimated committed stories that grew during {sprint}: {grown_stories} of "
        "{estimated_stories} ({grown_story_share}), "
        + ("above" if alarm else "within")
        + " the {grown_share_limit} limit."
    )
    if _has(facts, "top_story"):
        most = " grew from " if _one(facts, "grown_stories") else " grew most, from "
        message += (
            " {top_story}"
            + most
            + "{top_story_start_points} to "
            + points(facts, "top_story_end_points")
            + "."
        )
    if _positive(facts, "added_stories"):
        message += " Stories added after the start: {added_stories}, " + (
            "worth " + points(facts, "added_points") + "."
            if _positive(facts, "added_points")
            else "with no points."
        )
    elif _zero(facts, "added_stories"):
        message += " No story was added after the start."
    return _draft(
        alarm,
        message,
        alarm_title="Scope grew during {sprint}",
        calm_title="Scope held steady in {sprint}",
        alarm_advice=(
            "Refine and split stories before sprint planning so their size is known up front.",
            "Log newly found work as new stories instead of growing committed ones.",
        ),
        calm_advice=("Keep refining stories before planning; it is working.",),
    )


def missed_target(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    # Completed points include finished added work (see plans.py), so the committed points
    # finished are stated on their own.
    message = (
        "{sprint} completed "
        + points(facts, "completed_points")
        + " against a commitment of "
        + points(facts, "committed_points")
        + " ({completion_rate}), "
        + ("below" if alarm else "meeting")
        + " the {completion_target} target. Committed points finished: "
        "{completed_committed_points}."
    )
    if _positive(facts, "spillover_stories"):
        message += " Unfinished stories spilled over: {spillover_stories}."
    elif _zero(facts, "spillover_stories"):
        message += " No unfinished story spilled over."
    recent = facts.fact("recent_sprints")
    if _positive(facts, "spillover_sprints") and recent is not None and recent.value != 1:
        message += " Work spilled over in {spillover_sprints} of the last {recent_sprints} sprints."
    return _draft(
        alarm,
        message,
        alarm_title="{sprint} fell short of its completion target",
        calm_title="{sprint} reached its completion target",
        alarm_advice=(
            "Plan the next sprint from the points the team actually finishes, not its hopes.",
            "Use the retrospective to find what held the unfinished stories back.",
        ),
        calm_advice=("Keep planning from the points the team actually finishes.",),
    )


def defect_leakage(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    if _has(facts, "escape_rate"):
        # The rate divides by production and testing bugs only, so it follows both counts.
        message = (
            "Bugs found in production: {production_bugs}; caught in testing: {qa_bugs}; "
            "escape rate {escape_rate} against a {escape_rate_limit} limit."
        )
    else:
        message = (
            "{bugs_found} bugs were found during {sprint}, so there is no escape rate."
            if _zero(facts, "bugs_found")
            else "Bugs found during {sprint}: {bugs_found}; none was classed as found in "
            "production or in testing, so there is no escape rate."
        )
    if _has(facts, "source_stories"):
        message += " Production bugs trace back to {source_stories}."
    if _positive(facts, "bugs_from_done_stories"):
        message += " Bugs linked to stories already marked done: {bugs_from_done_stories}."
    return _draft(
        alarm,
        message,
        alarm_title="Bugs escaped to production from {sprint}",
        calm_title="Few bugs escaped to production in {sprint}",
        alarm_advice=(
            "Add acceptance tests for the stories these bugs came from.",
            "Review the definition of done with testers before closing similar stories.",
        ),
        calm_advice=("Keep testing stories before they are marked done.",),
    )


def team_health(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    message = (
        "The hygiene score is {hygiene_score}, "
        + {1: "above", 0: "at", -1: "below"}[_compare(facts, "hygiene_score", "hygiene_score_min")]
        + " the healthy {hygiene_score_min}. Open issues with a problem: "
        "{issues_with_problems} of {open_issues}."
    )
    worst = facts.fact("worst_problem")
    if worst is not None:
        message += " The most common problem is {worst_problem} ({worst_problem_issues})."
    advice = PROBLEM_ADVICE.get(str(worst.value)) if worst is not None else None
    return _draft(
        alarm,
        message,
        alarm_title="Ticket hygiene on {board} needs attention",
        calm_title="Ticket hygiene on {board} is healthy",
        alarm_advice=(
            advice or "Review open issues at the next refinement.",
            "Spend part of each refinement on ticket hygiene.",
        ),
        calm_advice=(advice or "Keep issues updated as work moves.",),
    )


def velocity(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    message = "{board} completed " + points(facts, "completed_points") + " in {sprint}"
    if _has(facts, "previous_mean_points"):
        message += " against a recent mean of " + points(facts, "previous_mean_points") + "."
    else:
        message += ". There are too few earlier sprints to show a trend yet."
    for sentence in (forecast_sentence(facts), cycle_time_sentence(facts)):
        if sentence is not None:
            # A plan sentence's first wording: "also" where the model may choose "also|now".
            message += " " + expansions(sentence)[0]
    commit = commitment_advice(facts)
    return _draft(
        alarm,
        message,
        alarm_title="Velocity dropped in {sprint}",
        calm_title="Velocity on {board} is {trend}",
        alarm_advice=(
            "Find what took capacity away, such as absences, support work or blocked stories.",
            commit,
        ),
        calm_advice=(commit,),
    )


TEMPLATES: dict[str, Callable[[InsightFacts], Draft]] = {
    "scope_creep": scope_creep,
    "missed_target": missed_target,
    "defect_leakage": defect_leakage,
    "team_health": team_health,
    "velocity": velocity,
}


def template_draft(facts: InsightFacts) -> Draft:
    """The template draft (still with placeholders) for one insight."""
    return TEMPLATES[facts.use_case](facts)
