"""Sentence plans: the few sentences an insight may say, and every answer built from them.

A small model wording free text around true numbers says false or garbled things ("40% of 40%",
"32 points have been lost to the next sprint"). So the model does not write sentences: for each
insight, the facts decide which sentence skeletons are true (a "down from" only when the number
fell, an "added stories" sentence only when stories were added, "story" or "stories" by the
count), and the model chooses among the answers they make, plus a connecting word from a tiny
list (`[above|over]`). Every skeleton holds numbers, keys and names only as `{placeholders}`.

An answer is an opening sentence that names a key fact, then the required sentences (those that
state a crossed rule or its largest cause: no answer may leave them out), then optional further
sentences in the order listed up to two extra sentences in all (so a message has two or three
sentences whenever the facts allow more than one), and one or two distinct pieces of advice.
`plan_answers` spells out every such answer as the JSON the engine parses. Each use case's home
writes its own plans (`wording.py`) with the helpers here.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from jira_insights_pipeline.insights.values import InsightFacts

CHOICE = re.compile(r"\[([A-Za-z ,']+(?:\|[A-Za-z ,']+)+)\]")
MAX_EXTRA_SENTENCES = 2
MAX_ADVICE = 2


@dataclass(frozen=True)
class Plans:
    """The sentences one insight may use. Skeletons may hold `[a|b]` word choices."""

    openers: tuple[str, ...]
    extras: tuple[str, ...]
    advice: tuple[str, ...]
    # Sentences every message carries after its opener, before any optional extra.
    required: tuple[str, ...] = ()


def value(facts: InsightFacts, name: str) -> float | None:
    """The fact's value as the text shows it (so "20 points" equals a mean of 20.04)."""
    fact = facts.fact(name)
    if fact is None:
        return None
    shown = fact.json_value()
    if isinstance(shown, bool) or not isinstance(shown, int | float):
        return None
    return float(shown)


def has(facts: InsightFacts, *names: str) -> bool:
    return all(facts.fact(name) is not None for name in names)


def positive(facts: InsightFacts, name: str) -> bool:
    shown = value(facts, name)
    return shown is not None and shown > 0


def zero(facts: InsightFacts, name: str) -> bool:
    return value(facts, name) == 0


def one(facts: InsightFacts, name: str) -> bool:
    return value(facts, name) == 1


def same(facts: InsightFacts, left: str, right: str) -> bool:
    return compare(facts, left, right) == 0


def compare(facts: InsightFacts, left: str, right: str) -> int | None:
    a, b = value(facts, left), value(facts, right)
    if a is None or b is None:
        return None
    return (a > b) - (a < b)


def counted(facts: InsightFacts, name: str, singular: str, plural: str) -> str:
    """`{name} point` or `{name} points`, as the fact's value asks."""
    return "{" + name + "} " + (singular if one(facts, name) else plural)


def points(facts: InsightFacts, name: str) -> str:
    return counted(facts, name, "point", "points")


def _usable(skeleton: str, known: set[str]) -> bool:
    return set(re.findall(r"\{([a-z][a-z0-9_]*)\}", skeleton)) <= known


def plans_for(facts: InsightFacts, planner: Callable[[InsightFacts, bool], Plans]) -> Plans:
    """The sentences `planner` (a use case's plans) makes true for this insight, keeping only
    those that name its facts. A required sentence that names a missing fact is a bug in the
    planner, not a sentence to drop quietly."""
    plans = planner(facts, facts.severity != "info")
    known = {fact.name for fact in facts.facts}
    openers = tuple(s for s in plans.openers if _usable(s, known))
    if not openers:
        raise ValueError(f"no opening sentence fits the {facts.use_case} facts")
    unusable = [s for s in plans.required if not _usable(s, known)]
    if unusable:
        raise ValueError(f"a required sentence names a missing fact: {unusable[0]!r}")
    return Plans(
        openers,
        tuple(s for s in plans.extras if _usable(s, known)),
        tuple(s for s in plans.advice if _usable(s, known)),
        plans.required,
    )


def expansions(skeleton: str) -> list[str]:
    """Every sentence a skeleton can become, one per combination of its word choices."""
    match = CHOICE.search(skeleton)
    if match is None:
        return [skeleton]
    head, tail = skeleton[: match.start()], skeleton[match.end() :]
    return [
        head + option + rest for option in match.group(1).split("|") for rest in expansions(tail)
    ]


def _messages(plans: Plans) -> Iterator[str]:
    """An opener, every required sentence, then optional extras in their listed order up to two
    further sentences in all (at least one while there is one to add)."""
    room = max(0, MAX_EXTRA_SENTENCES - len(plans.required))
    least = 1 if plans.extras and room and not plans.required else 0
    counts = range(least, min(room, len(plans.extras)) + 1)
    for opener in plans.openers:
        for count in counts:
            for chosen in itertools.combinations(plans.extras, count):
                parts = (opener, *plans.required, *chosen)
                for sentences in itertools.product(*map(expansions, parts)):
                    yield " ".join(sentences)


def _advice(plans: Plans) -> Iterator[tuple[str, ...]]:
    """One or two distinct pieces of advice, in either order."""
    for count in range(1, MAX_ADVICE + 1):
        for chosen in itertools.permutations(plans.advice, count):
            yield from itertools.product(*map(expansions, chosen))


def plan_answers(plans: Plans) -> tuple[str, ...]:
    """Every answer the plans allow, as the JSON the engine parses
    (`{"message": ..., "recommendations": [...]}`), in a fixed order."""
    advice = list(_advice(plans))
    answers = (
        json.dumps({"message": message, "recommendations": list(items)})
        for message in _messages(plans)
        for items in advice
    )
    return tuple(dict.fromkeys(answers))
