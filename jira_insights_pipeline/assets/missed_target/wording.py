"""How a missed-target insight is worded: its headlines, sentence plans, template and prompt.

The completion rate is completed points over committed points (as Jira's Velocity Chart
compares its bars), so finished added work counts: it is never called "the commitment
finished", which is what the committed points finished say.

Where the spillover diagnosis is there (`facts.py`), a crossed target's message leads with the
dominant reason: the first sentence says how many of the sprint's unfinished stories it explains
and then the crossed target, the chronic carry-overs follow as a required sentence, and the
advice is the dominant reason's (`CAUSE_ADVICE`), decided here once. Without the diagnosis the
insight says what the ledger shows, as before.
"""

from __future__ import annotations

from jira_insights_pipeline.assets.missed_target.diagnosis import CAUSE_LABELS
from jira_insights_pipeline.insights.grounding import MAX_MESSAGE_CHARS, Draft
from jira_insights_pipeline.insights.plans import (
    MAX_EXTRA_SENTENCES,
    Plans,
    expansions,
    has,
    one,
    points,
    positive,
    same,
    value,
    zero,
)
from jira_insights_pipeline.insights.templates import Advice, Titles, joined, template
from jira_insights_pipeline.insights.values import InsightFacts
from jira_insights_pipeline.use_case import Wording

TITLES = Titles(
    alarm="{sprint} fell short of its completion target",
    calm="{sprint} reached its completion target",
)
ADVICE = Advice(
    alarm=(
        "Plan the next sprint from the points the team actually finishes, not its hopes.",
        "Use the retrospective to find what held the unfinished stories back.",
    ),
    calm=("Keep planning from the points the team actually finishes.",),
)


# What each dominant reason recommends: the first piece is the reason's own remedy, the second
# how to plan or follow up on it.
CAUSE_ADVICE = {
    "never_started": (
        "Commit to less at planning and limit work in progress, so started stories finish "
        "before new ones begin.",
        "Start a new story only when another is done.",
    ),
    "blocked": (
        "Raise blocked stories at every daily scrum and name who unblocks each.",
        "Escalate a blocker the team cannot clear by the next daily scrum.",
    ),
    "added_late": (
        "Protect the sprint from added work, or plan a buffer for what cannot wait.",
        "Agree with the product owner what leaves the sprint when something is added.",
    ),
    "grew": (
        "Refine stories before planning, so they do not grow during the sprint.",
        "Split a story that grows instead of carrying it whole.",
    ),
    "waiting": (
        "Swarm on reviews before starting new work, and limit the review queue.",
        "Agree how soon a story waiting for review or testing is picked up.",
    ),
    "carried_over_again": (
        "Split or drop stories that keep carrying over instead of planning them again.",
        "Plan the next sprint from the points the team actually finishes, not its hopes.",
    ),
}
NO_CAUSE_ADVICE = "Ask the team in the retrospective what held the unfinished stories back."
# "{n} of the {m} unfinished stories ..." for each reason, with the verb for a plural count
# and a singular one.
CAUSE_PHRASES = {
    "never_started": ("were never started", "was never started"),
    "blocked": ("were blocked during the sprint", "was blocked during the sprint"),
    "added_late": ("were added after the sprint started", "was added after the sprint started"),
    "grew": ("grew in points during the sprint", "grew in points during the sprint"),
    "waiting": ("were waiting at the close", "was waiting at the close"),
    "carried_over_again": (
        "were also unfinished the sprint before",
        "was also unfinished the sprint before",
    ),
}
# The figure in days a reason is stated with, where it has one (facts.py: `cause_days`).
DAYS_PHRASES = {
    "blocked": " (median {cause_days} days)",
    "added_late": " (median {cause_days} days in)",
    "waiting": " (median {cause_days} days)",
}


def _reason(facts: InsightFacts) -> str | None:
    """The dominant reason the facts state, by its label (facts.py sets `largest_cause`)."""
    fact = facts.fact("largest_cause")
    if fact is None:
        return None
    by_label = {label: reason for reason, label in CAUSE_LABELS.items()}
    return by_label.get(str(fact.value))


def _phrase(facts: InsightFacts, reason: str, singular: bool) -> str:
    """What the unfinished stories of `reason` were: "were never started", "were waiting, most
    in {wait_status} (median {cause_days} days)"."""
    plural_verb, singular_verb = CAUSE_PHRASES[reason]
    phrase = singular_verb if singular else plural_verb
    if reason == "waiting" and has(facts, "wait_status"):
        # The status says where they waited; "at the close" is then implied by "most in".
        where = " in {wait_status}" if singular else ", most in {wait_status}"
        phrase = phrase.removesuffix(" at the close") + where
    if reason in DAYS_PHRASES and has(facts, "cause_days"):
        phrase += DAYS_PHRASES[reason]
    return phrase


def cause_clause(facts: InsightFacts) -> str | None:
    """The largest cause in this sprint: "{n} of the {m} unfinished stories were never
    started" (without a first capital, to open or continue a sentence)."""
    reason = _reason(facts)
    if reason is None or not positive(facts, "unfinished"):
        return None
    if not has(facts, "caused"):
        return None
    if same(facts, "caused", "unfinished"):
        subject = (
            "the {unfinished} unfinished story"
            if one(facts, "unfinished")
            else "all {unfinished} unfinished stories"
        )
        return subject + " " + _phrase(facts, reason, one(facts, "unfinished"))
    return "{caused} of the {unfinished} unfinished stories " + _phrase(
        facts, reason, one(facts, "caused")
    )


def pattern_cause_sentence(facts: InsightFacts) -> str | None:
    """The dominant reason over the recent sprints."""
    reason = _reason(facts)
    if reason is None or not has(facts, "window_caused", "window_unfinished"):
        return None
    if value(facts, "diagnosed_sprints") in (None, 0, 1):
        return None
    verb = CAUSE_PHRASES[reason][1 if one(facts, "window_caused") else 0]
    return (
        "Over the last {diagnosed_sprints} sprints, {window_caused} of "
        "{window_unfinished} unfinished stories " + verb + "."
    )


def chronic_sentence(facts: InsightFacts) -> str | None:
    """The chronic carry-overs, the longest by name."""
    if not has(facts, "chronic_key", "chronic_sprints"):
        return None
    sentence = "{chronic_key} was unfinished at the close of {chronic_sprints} sprints in a row"
    if positive(facts, "chronic_count") and not one(facts, "chronic_count"):
        sentence += ", the longest of {chronic_count} chronic carry-overs"
    return sentence + "."


def no_cause_sentence(facts: InsightFacts) -> str | None:
    """Unfinished work that none of the diagnosed reasons explains: said, not guessed at."""
    if _reason(facts) is not None or not positive(facts, "unfinished"):
        return None
    return (
        "Jira's history shows none of the diagnosed reasons for the {unfinished} "
        "unfinished stories."
    )


def diagnosed(facts: InsightFacts) -> bool:
    return has(facts, "unfinished")


def cause_advice(facts: InsightFacts) -> tuple[str, ...]:
    reason = _reason(facts)
    if reason is None:
        return (NO_CAUSE_ADVICE, ADVICE.alarm[0])
    return CAUSE_ADVICE[reason]


def _verdict(alarm: bool) -> str:
    if alarm:
        return "[below|short of] the {completion_target} target"
    return "[meeting|reaching] the {completion_target} target"


def completion_sentence(facts: InsightFacts, alarm: bool) -> str:
    return (
        "{sprint} completed "
        + points(facts, "completed_points")
        + " against a commitment of "
        + points(facts, "committed_points")
        + " ({completion_rate}), "
        + _verdict(alarm)
        + "."
    )


def committed_finished_sentence(facts: InsightFacts) -> str | None:
    if same(facts, "completed_committed_points", "committed_points"):
        return "Every committed point was finished."
    if has(facts, "completed_committed_points", "committed_points"):
        return (
            "Of the "
            + points(facts, "committed_points")
            + " committed, {completed_committed_points} were finished."
        )
    return None


def spillover_sentence(facts: InsightFacts) -> str | None:
    if positive(facts, "spillover_stories"):
        if one(facts, "spillover_stories"):
            return "{spillover_stories} unfinished story spilled over."
        return "{spillover_stories} unfinished stories spilled over."
    if zero(facts, "spillover_stories"):
        return "No unfinished story spilled over."
    return None


def pattern_sentence(facts: InsightFacts, alarm: bool) -> str | None:
    """How often the recent sprints left work unfinished ("still" only where this sprint spilled
    over too and missing the target makes it a problem)."""
    recent = value(facts, "recent_sprints") or 0
    spilled = value(facts, "spillover_sprints")
    if recent <= 1 or spilled is None:
        return None
    again = " [also|still]" if alarm and positive(facts, "spillover_stories") else ""
    if spilled == recent:
        return "Work" + again + " spilled over in each of the last {recent_sprints} sprints."
    if spilled > 0:
        return (
            "Work" + again + " spilled over in {spillover_sprints} of the last "
            "{recent_sprints} sprints."
        )
    return "Nothing spilled over in the last {recent_sprints} sprints."


def cause_opener(facts: InsightFacts) -> str | None:
    """A crossed target's first sentence when the diagnosis names a cause in this sprint: the
    cause first, then the completion against the target it crossed."""
    clause = cause_clause(facts)
    if clause is None:
        return None
    return (
        "In {sprint}, "
        + clause
        + ", and the team completed "
        + points(facts, "completed_points")
        + " against {committed_points} committed ({completion_rate}), "
        + _verdict(True)
        + "."
    )


def _diagnosed_plans(facts: InsightFacts) -> Plans:
    opener = cause_opener(facts)
    required: list[str] = []
    if opener is None:
        # No cause of this sprint to lead with: the completion opens, and the window's cause
        # (or the lack of one) is the sentence every message must carry.
        openers: tuple[str, ...] = (completion_sentence(facts, True),)
        lead = pattern_cause_sentence(facts) or no_cause_sentence(facts)
        if lead is not None:
            required.append(lead)
    else:
        openers = (opener,)
    chronic = chronic_sentence(facts)
    if chronic is not None:
        required.append(chronic)
    # Only the extras that fit beside the longest opener and the required sentences, however
    # many of them an answer takes: an answer over the message limit would be rejected, so it
    # is never offered.
    room = MAX_MESSAGE_CHARS - max(map(_longest, openers)) - sum(1 + _longest(s) for s in required)
    taken = max(0, MAX_EXTRA_SENTENCES - len(required))
    extras: list[str] = []
    for sentence in (
        pattern_cause_sentence(facts) if opener is not None else None,
        committed_finished_sentence(facts),
        pattern_sentence(facts, True),
    ):
        if sentence is None:
            continue
        lengths = sorted((1 + _longest(s) for s in (*extras, sentence)), reverse=True)
        if sum(lengths[:taken]) <= room:
            extras.append(sentence)
    return Plans(openers, tuple(extras), cause_advice(facts), tuple(required))


def _longest(skeleton: str) -> int:
    """The length of the longest sentence a skeleton can become, placeholders unfilled (what
    the message limit is checked on)."""
    return max(len(sentence) for sentence in expansions(skeleton))


def plans(facts: InsightFacts, alarm: bool) -> Plans:
    if alarm and diagnosed(facts):
        return _diagnosed_plans(facts)
    openers = (
        completion_sentence(facts, alarm),
        "In {sprint} the team completed {completion_rate} as many points as it committed, "
        + _verdict(alarm)
        + ".",
    )
    extras = [
        sentence
        for sentence in (
            committed_finished_sentence(facts),
            spillover_sentence(facts),
            pattern_sentence(facts, alarm),
        )
        if sentence is not None
    ]
    if alarm:
        extras.append("The plan was [probably|likely] bigger than the team could finish.")
    return Plans(openers, tuple(extras), ADVICE.pick(alarm))


def template_draft(facts: InsightFacts) -> Draft:
    alarm = facts.severity != "info"
    if alarm and diagnosed(facts):
        chosen = _diagnosed_plans(facts)
        sentences = (chosen.openers[0], *chosen.required, *chosen.extras[:1])
        return template(alarm, joined(*sentences), TITLES, chosen.advice)
    message = joined(
        completion_sentence(facts, alarm),
        committed_finished_sentence(facts),
        spillover_sentence(facts),
        pattern_sentence(facts, alarm),
    )
    return template(alarm, message, TITLES, ADVICE.pick(alarm))


WORDING = Wording(
    plans=plans,
    template=template_draft,
    titles=TITLES,
    topic="missed sprint target",
    task=(
        "Say how much of the commitment was finished, the largest reason work was left "
        "unfinished, and whether work keeps spilling over, and give one or two recommendations."
    ),
)
