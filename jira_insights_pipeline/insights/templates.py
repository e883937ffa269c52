"""Template insights: the insight written without the model, from the same facts.

Used when the model is off (`JIRA_INSIGHTS_LLM=off`) or when its answer was rejected twice.
Each use case's home writes its template (`wording.py`) from the same sentences as its plans;
templates hold the same `{placeholders}` as model drafts and pass the same checks, so a template
insight is as grounded as a model-written one.
"""

from __future__ import annotations

from dataclasses import dataclass

from jira_insights_pipeline.insights.grounding import Draft
from jira_insights_pipeline.insights.plans import expansions


@dataclass(frozen=True)
class Titles:
    """An insight's headline: `alarm` when a rule was crossed, `calm` when not. The alert of a
    crossing uses the same `alarm` headline."""

    alarm: str
    calm: str

    def pick(self, alarm: bool) -> str:
        return self.alarm if alarm else self.calm


@dataclass(frozen=True)
class Advice:
    """What to recommend: `alarm` for a crossed rule, `calm` for a healthy finding."""

    alarm: tuple[str, ...]
    calm: tuple[str, ...]

    def pick(self, alarm: bool) -> tuple[str, ...]:
        return self.alarm if alarm else self.calm


def first_wording(sentence: str) -> str:
    """A plan sentence as a template says it: the first of each `[a|b]` word choice."""
    return expansions(sentence)[0]


def joined(*sentences: str | None) -> str:
    """The sentences that apply (not None), each in its first wording, as one message."""
    return " ".join(first_wording(sentence) for sentence in sentences if sentence is not None)


def template(alarm: bool, message: str, titles: Titles, advice: tuple[str, ...]) -> Draft:
    """The draft with the headline that fits: a problem to act on, or a finding to keep."""
    return Draft(titles.pick(alarm), message, tuple(first_wording(item) for item in advice))
