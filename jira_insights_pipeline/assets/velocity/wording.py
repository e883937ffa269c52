"""How a velocity insight is worded: its headlines, sentence plans, template and prompt."""

from __future__ import annotations

from jira_insights_pipeline.insights.grounding import Draft
from jira_insights_pipeline.insights.plans import Plans, compare, has, points, zero
from jira_insights_pipeline.insights.templates import Titles, joined, template
from jira_insights_pipeline.insights.values import InsightFacts
from jira_insights_pipeline.use_case import Wording

TITLES = Titles(alarm="Velocity dropped in {sprint}", calm="Velocity on {board} is {trend}")
CAPACITY_ADVICE = "Find what took capacity away, such as absences, support work or blocked stories."
NO_TREND = "There are too few earlier sprints to show a trend yet."


def without_points(facts: InsightFacts) -> bool:
    """A team that finishes work without points (or does not estimate) has nothing to forecast:
    no points this sprint and at least even odds of none in the next."""
    return zero(facts, "completed_points") and (
        zero(facts, "forecast_p50") or not has(facts, "forecast_p50")
    )


def commitment_advice(facts: InsightFacts) -> str:
    """What to commit to next sprint, from the forecast when there is one."""
    if without_points(facts):
        return "Estimate stories in points before the sprint, so velocity can guide planning."
    if has(facts, "forecast_p85"):
        return "Commit to about " + points(facts, "forecast_p85") + " next sprint."
    return "Commit to what the team finished recently."


def forecast_sentence(facts: InsightFacts) -> str | None:
    """What the forecast says about the next sprint, if anything."""
    if without_points(facts):
        return "The finished work carried no story points, so points cannot forecast yet."
    if has(facts, "forecast_p50", "forecast_p85"):
        return (
            "For the next sprint, "
            + points(facts, "forecast_p85")
            + " is a safe commitment and "
            + points(facts, "forecast_p50")
            + " a coin flip."
        )
    return None


def _versus(facts: InsightFacts) -> str | None:
    relation = compare(facts, "completed_points", "previous_mean_points")
    if relation is None:
        return None
    return {
        -1: "[down from|below] its recent mean of ",
        0: "[matching|equal to] its recent mean of ",
        1: "[up from|above] its recent mean of ",
    }[relation] + points(facts, "previous_mean_points")


def _under(alarm: bool) -> str:
    """The crossed rule, on a drop: the share of the mean completed against the limit."""
    return " ({velocity_ratio} of it, under the {drop_limit} limit)" if alarm else ""


def plans(facts: InsightFacts, alarm: bool) -> Plans:
    completed = points(facts, "completed_points")
    versus = _versus(facts)
    extras = []
    if versus is None:
        openers: tuple[str, ...] = ("{board} completed " + completed + " in {sprint}.",)
        extras.append(NO_TREND)
    else:
        openers = (
            "{board} completed " + completed + " in {sprint}, " + versus + _under(alarm) + ".",
            "In {sprint}, {board} completed " + completed + ", " + versus + _under(alarm) + ".",
        )
    forecast = forecast_sentence(facts)
    if forecast is not None:
        extras.append(forecast)
    commit = commitment_advice(facts)
    advice = (CAPACITY_ADVICE, commit) if alarm else (commit,)
    return Plans(openers, tuple(extras), advice)


def template_draft(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    message = "{board} completed " + points(facts, "completed_points") + " in {sprint}"
    if has(facts, "previous_mean_points"):
        message += " against a recent mean of " + points(facts, "previous_mean_points")
        message += _under(alarm) + "."
    else:
        message += ". " + NO_TREND
    forecast = forecast_sentence(facts)
    if forecast is not None:
        message = joined(message, forecast)
    commit = commitment_advice(facts)
    return template(alarm, message, TITLES, (CAPACITY_ADVICE, commit) if alarm else (commit,))


WORDING = Wording(
    plans=plans,
    template=template_draft,
    titles=TITLES,
    topic="velocity",
    task=(
        "Say how velocity moved, what to expect next sprint from the forecast, "
        "and give one or two recommendations."
    ),
)
