"""How a velocity insight is worded: its headlines, sentence plans, template and prompt.

On a drop the crossed-limit opener stays first. Where the diagnosis covers the sprint
(`facts.py`), the largest cause follows as a required sentence with its two figures ("26
committed points were left unfinished, against 11.3 on average"), the second cause may follow,
and the advice is the largest cause's (`CAUSE_ADVICE`), decided here once per factor. When no
factor moved, the required sentence says Jira's data shows no cause and the advice is to ask the
team: a cause is never guessed.

What another use case's diagnosis adds to a cause (facts.py cites it; the sentence comes from
that home's `citations` module, which holds its words) follows that cause's sentence: for
added work, how many of the added issues were bugs; for unfinished committed work, the most
common reason the unfinished issues were left, phrased as the missed-target insight phrases
it. Beside the largest cause it is part of the required text (so the model
keeps its one free sentence for the second cause or the forecast); beside the second it is
optional. When most of the added work was bugs, the advice is the bug-fixing one.
"""

from __future__ import annotations

from jira_insights_pipeline.assets.missed_target.citations import unfinished_work_sentence
from jira_insights_pipeline.assets.scope_creep.citations import added_work_sentence
from jira_insights_pipeline.assets.velocity.diagnosis import (
    ADDED_ISSUES,
    ADDED_POINTS,
    BLOCKED_DAYS,
    BUG_SHARE,
    COMMITTED_POINTS,
    FINISHERS,
    UNFINISHED_COMMITTED,
    WORKING_DAYS,
)
from jira_insights_pipeline.insights.grounding import Draft
from jira_insights_pipeline.insights.plans import (
    Plans,
    compare,
    counted,
    has,
    points,
    value,
    zero,
)
from jira_insights_pipeline.insights.templates import Titles, joined, template
from jira_insights_pipeline.insights.values import InsightFacts
from jira_insights_pipeline.use_case import Wording

TITLES = Titles(alarm="Velocity dropped in {sprint}", calm="Velocity on {board} is {trend}")
NO_CAUSE = "Jira's data shows no cause for the drop."
NO_CAUSE_ADVICE = "Ask the team in the retrospective what took capacity away this sprint."
# Without a diagnosis of the sprint nothing is known either way: the team is asked, not told.
UNDIAGNOSED_ADVICE = "Ask the team in the retrospective what lowered velocity this sprint."

# What each cause recommends, decided once: the first piece is the cause's own remedy.
CAUSE_ADVICE = {
    ADDED_POINTS: "Protect the sprint from added work, or plan a buffer for what cannot wait.",
    ADDED_ISSUES: "Protect the sprint from added work, or plan a buffer for what cannot wait.",
    BUG_SHARE: "Plan capacity for bug fixing from the recent sprints, and find where the bugs "
    "come from.",
    BLOCKED_DAYS: "Raise blocked stories at every daily scrum and name who unblocks each.",
    FINISHERS: "Plan the commitment to the people available in the sprint.",
    WORKING_DAYS: "Scale the commitment to the working days in the sprint.",
    UNFINISHED_COMMITTED: "Commit to less at planning, so committed stories finish.",
    COMMITTED_POINTS: "The team committed to less, so fewer points were expected: keep the "
    "smaller plan if it was intended.",
}


def _cause_sentence(facts: InsightFacts, prefix: str) -> str | None:
    """One cause with its figures: "{value} ... against {mean} on average"."""
    factor = facts.fact(prefix + "_factor")
    value, mean = prefix + "_value", "{" + prefix + "_mean}"
    if factor is None or not has(facts, value, prefix + "_mean"):
        return None
    against = ", against " + mean + " on average."
    return {
        ADDED_POINTS: counted(facts, value, "point was", "points were")
        + " added after the start"
        + against,
        ADDED_ISSUES: counted(facts, value, "issue was", "issues were")
        + " added after the start"
        + against,
        BUG_SHARE: "Bugs were {" + value + "} of the finished points" + against,
        BLOCKED_DAYS: "Issues were blocked for "
        + counted(facts, value, "day", "days")
        + " in all"
        + against,
        FINISHERS: counted(facts, value, "person", "people") + " finished work" + against,
        WORKING_DAYS: "The sprint had {" + value + "} working days" + against,
        UNFINISHED_COMMITTED: counted(facts, value, "committed point was", "committed points were")
        + " left unfinished"
        + against,
        COMMITTED_POINTS: "The team committed to " + points(facts, value) + against,
    }[str(factor.value)]


# The cited sentence that explains each factor further, where another diagnosis has one.
CITED = {
    ADDED_ISSUES: added_work_sentence,
    ADDED_POINTS: added_work_sentence,
    UNFINISHED_COMMITTED: unfinished_work_sentence,
}


def cited_sentence(facts: InsightFacts, prefix: str) -> str | None:
    """What another use case's diagnosis says about the cause in slot `prefix`."""
    factor = facts.fact(prefix + "_factor")
    explain = None if factor is None else CITED.get(str(factor.value))
    return None if explain is None else explain(facts)


def mostly_bugs(facts: InsightFacts) -> bool:
    bugs, added = value(facts, "added_bugs"), value(facts, "added_in_scope")
    return bugs is not None and added is not None and 2 * bugs > added


def diagnosed(facts: InsightFacts) -> bool:
    return has(facts, "factors_checked")


def cause_sentence(facts: InsightFacts) -> str | None:
    """The required text of a diagnosed drop: the largest cause with what another diagnosis
    cites about it, or that none moved."""
    if not diagnosed(facts):
        return None
    largest = _cause_sentence(facts, "cause")
    if largest is None:
        return NO_CAUSE
    cited = cited_sentence(facts, "cause")
    return largest if cited is None else largest + " " + cited


def drop_advice(facts: InsightFacts) -> str:
    """The advice that follows from the largest cause (or from finding none)."""
    factor = facts.fact("cause_factor")
    if factor is not None:
        if str(factor.value) in (ADDED_ISSUES, ADDED_POINTS) and mostly_bugs(facts):
            # The added work was bug fixing: the remedy is planning for bugs, not refusing work.
            return CAUSE_ADVICE[BUG_SHARE]
        return CAUSE_ADVICE[str(factor.value)]
    return NO_CAUSE_ADVICE if diagnosed(facts) else UNDIAGNOSED_ADVICE


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
    required = cause_sentence(facts) if alarm else None
    second = _cause_sentence(facts, "second") if alarm else None
    if second is not None:
        extras.append(second)
        second_cited = cited_sentence(facts, "second")
        if second_cited is not None and second_cited != cited_sentence(facts, "cause"):
            extras.append(second_cited)
    forecast = forecast_sentence(facts)
    if forecast is not None:
        extras.append(forecast)
    commit = commitment_advice(facts)
    advice = (drop_advice(facts), commit) if alarm else (commit,)
    return Plans(openers, tuple(extras), advice, () if required is None else (required,))


def template_draft(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    message = "{board} completed " + points(facts, "completed_points") + " in {sprint}"
    if has(facts, "previous_mean_points"):
        message += " against a recent mean of " + points(facts, "previous_mean_points")
        message += _under(alarm) + "."
    else:
        message += ". " + NO_TREND
    if alarm:
        # The largest cause (or that none moved), then the second cause when there is one.
        # The second cause only when the largest needs no citation: the message stays short.
        second = None if cited_sentence(facts, "cause") else _cause_sentence(facts, "second")
        message = joined(message, cause_sentence(facts), second)
    forecast = forecast_sentence(facts)
    if forecast is not None and not (alarm and has(facts, "second_factor")):
        message = joined(message, forecast)
    commit = commitment_advice(facts)
    return template(alarm, message, TITLES, (drop_advice(facts), commit) if alarm else (commit,))


WORDING = Wording(
    plans=plans,
    template=template_draft,
    titles=TITLES,
    topic="velocity",
    task=(
        "Say how velocity moved, on a drop its largest cause in Jira's data (or that the data "
        "shows none), what to expect next sprint from the forecast, and give one or two "
        "recommendations."
    ),
)
