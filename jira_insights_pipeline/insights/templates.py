"""Template sentences: the insight written without the model, from the same facts.

Used when the model is off (`JIRA_INSIGHTS_LLM=off`) or when its answer was rejected twice.
Templates hold the same `{placeholders}` as model drafts and pass the same checks, so a template
insight is as grounded as a model-written one.
"""

from __future__ import annotations

from collections.abc import Callable

from jira_insights_pipeline.insights.facts import InsightFacts
from jira_insights_pipeline.insights.grounding import Draft


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
        message += (
            " {top_story} grew most, from {top_story_start_points} to "
            "{top_story_end_points} points."
        )
    if _positive(facts, "added_stories"):
        message += " Stories added after the start: {added_stories}, " + (
            "worth {added_points} points."
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
    message = (
        "The team finished {completed_committed_points} of {committed_points} committed points "
        "({completion_rate}), "
        + ("below" if alarm else "meeting")
        + " the {completion_target} target."
    )
    if _positive(facts, "spillover_stories"):
        message += " Unfinished stories spilled over: {spillover_stories}."
    elif _zero(facts, "spillover_stories"):
        message += " No unfinished story spilled over."
    if _positive(facts, "spillover_sprints"):
        message += " Work spilled over in {spillover_sprints} of the last {recent_sprints} sprints."
    return _draft(
        alarm,
        message,
        alarm_title="{sprint} finished {completion_rate} of its commitment",
        calm_title="{sprint} met its commitment",
        alarm_advice=(
            "Plan the next sprint from the points the team actually finishes, not its hopes.",
            "Use the retrospective to find what held the unfinished stories back.",
        ),
        calm_advice=("Keep planning from the points the team actually finishes.",),
    )


def defect_leakage(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    if _has(facts, "escape_rate"):
        message = (
            "Bugs found in production: {production_bugs} of {bugs_found}, an escape rate of "
            "{escape_rate} against a {escape_rate_limit} limit."
        )
    else:
        message = (
            "Bugs found during {sprint}: {bugs_found}; none was classed as found in production "
            "or in testing, so there is no escape rate."
        )
    if _positive(facts, "qa_bugs") and _has(facts, "escape_rate"):
        message += " Bugs caught in testing: {qa_bugs}."
    if _has(facts, "source_stories"):
        message += " They trace back to {source_stories}."
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


PROBLEM_ADVICE = {
    "stale issues": "Update or close stale issues at the next refinement.",
    "blocked issues": "Raise blocked issues at the daily scrum and name who unblocks each.",
    "issues without an estimate": "Estimate open stories before they enter a sprint.",
    "issues in progress too long": "Limit work in progress and swarm on the oldest items.",
}


def team_health(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    message = (
        "The hygiene score is {hygiene_score}, "
        + ("below" if alarm else "above")
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
    message = "{board} completed {completed_points} points in {sprint}"
    if _has(facts, "previous_mean_points"):
        message += " against a recent mean of {previous_mean_points}."
    else:
        message += ". There are too few earlier sprints to show a trend yet."
    if _has(facts, "forecast_p50") and _has(facts, "forecast_p85"):
        message += (
            " For the next sprint, {forecast_p85} points is a safe commitment and "
            "{forecast_p50} points a coin flip."
        )
    flow = facts.fact("cycle_time_trend")
    if flow is not None and _has(facts, "median_cycle_days"):
        message += (
            " Work also takes longer: the median cycle time rose to {median_cycle_days} days."
            if flow.value == "rising"
            else " The median cycle time, {median_cycle_days} days, did not rise."
        )
    commit = (
        "Commit to about {forecast_p85} points next sprint."
        if _has(facts, "forecast_p85")
        else "Commit to what the team finished recently."
    )
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
