"""Grounding: the model may word, never count.

The model chooses among answers built from sentence plans (`plans.py`), in which numbers, issue
keys and names appear only as placeholders naming one of the insight's facts
(`{completion_rate}`). Nothing here trusts that: a fake model, a bug in a plan or another model
setup may hand over anything, so every answer goes through the same checks as a template.

1. `parse_draft` reads the JSON answer; `check_draft` rejects an unknown or malformed placeholder,
   a digit or a name written out, meta words ("model", "AI"), spelled-out numbers, a number in
   the wrong unit or where a noun belongs, Jira text copied verbatim, loops, and a message that
   names no key fact.
2. `fill_draft` replaces placeholders with the facts' rendered values.
3. `validate_text` checks the final, filled text: every digit and every issue key must lie inside
   a fact's rendered value.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jira_insights_pipeline.insights.values import Fact, InsightFacts

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
ISSUE_KEY = re.compile(r"\b[A-Z][A-Z0-9]+-\d+\b")
DIGIT = re.compile(r"\d")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*%?")
WORD = re.compile(r"[A-Za-z][A-Za-z']*")
SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)([A-Za-z]\w*)")

MAX_TITLE_CHARS = 90
MAX_MESSAGE_CHARS = 420
MAX_RECOMMENDATION_CHARS = 220
MAX_RECOMMENDATIONS = 2
MAX_WORD_LETTERS = 18
COPY_WINDOW_WORDS = 4

# User-facing text never talks about how it was written.
BANNED_WORDS = frozenset(
    {
        "ai",
        "llm",
        "llms",
        "gpt",
        "model",
        "models",
        "prompt",
        "prompts",
        "chatbot",
        "assistant",
        "instruction",
        "instructions",
        "llama",
        "smollm",
        "placeholder",
        "placeholders",
    }
)
# A count may only come from the facts, spelled out or not.
NUMBER_WORDS = frozenset(
    {
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "hundred",
        "thousand",
        "million",
        "dozen",
        "dozens",
        "half",
        "twice",
        "double",
        "triple",
        "percent",
    }
)
REPETITION_STOPWORDS = frozenset(
    {"the", "a", "an", "of", "to", "and", "in", "is", "was", "for", "on", "with", "it", "that"}
)


class RejectedOutput(ValueError):
    """A model answer that must not ship; the message says why (for provenance, not users)."""


@dataclass(frozen=True)
class Draft:
    """Title, message and recommendations, still holding `{placeholders}`."""

    title: str
    message: str
    recommendations: tuple[str, ...]

    def fields(self) -> list[tuple[str, str]]:
        named = [("title", self.title), ("message", self.message)]
        named += [(f"recommendation {i + 1}", r) for i, r in enumerate(self.recommendations)]
        return named


# ---------------------------------------------------------------------------------------------
# 1. Parsing and checking the model's draft
# ---------------------------------------------------------------------------------------------


def parse_draft(text: str, title: str) -> Draft:
    """The draft in a JSON answer (message and recommendations) under `title`, or
    RejectedOutput if the answer is not exactly that shape."""
    if not text or not text.strip():
        raise RejectedOutput("empty answer")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise RejectedOutput(f"invalid JSON ({error.msg} at character {error.pos})") from error
    if not isinstance(data, dict):
        raise RejectedOutput("the answer is not a JSON object")
    expected = {"message", "recommendations"}
    if set(data) != expected:
        raise RejectedOutput(f"the answer's keys are {sorted(data)}, expected {sorted(expected)}")
    message, recommendations = data["message"], data["recommendations"]
    if not isinstance(message, str):
        raise RejectedOutput("the message must be a string")
    if (
        not isinstance(recommendations, list)
        or not 1 <= len(recommendations) <= MAX_RECOMMENDATIONS
        or not all(isinstance(item, str) for item in recommendations)
    ):
        raise RejectedOutput(f"recommendations must be 1 to {MAX_RECOMMENDATIONS} strings")
    return Draft(
        title=title.strip(),
        message=message.strip(),
        recommendations=tuple(item.strip() for item in recommendations),
    )


def _words(text: str) -> list[str]:
    return [word.lower() for word in WORD.findall(PLACEHOLDER.sub(" ", text))]


def _copied_phrase(text: str, untrusted: Iterable[str]) -> str | None:
    """A run of COPY_WINDOW_WORDS words of Jira text repeated in `text`, if any."""
    mine = _words(text)
    grams = {
        tuple(mine[i : i + COPY_WINDOW_WORDS]) for i in range(len(mine) - COPY_WINDOW_WORDS + 1)
    }
    for source in untrusted:
        theirs = _words(source)
        for i in range(len(theirs) - COPY_WINDOW_WORDS + 1):
            gram = tuple(theirs[i : i + COPY_WINDOW_WORDS])
            if gram in grams:
                return " ".join(gram)
    return None


# A placeholder followed by one of these words must be a fact of a matching kind, so
# "{board} points" or "{escape_rate} bugs" cannot ship.
UNIT_KINDS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("point", "points"), frozenset({"points"})),
    **dict.fromkeys(("day", "days"), frozenset({"days"})),
    **dict.fromkeys(
        (
            "story",
            "stories",
            "bug",
            "bugs",
            "issue",
            "issues",
            "sprint",
            "sprints",
            "item",
            "items",
        ),
        frozenset({"count"}),
    ),
}
PLACEHOLDER_THEN_WORD = re.compile(r"\{([a-z][a-z0-9_]*)\}\)?\s+([a-z]+)")


def _check_units(name: str, text: str, kinds: dict[str, str]) -> None:
    for match in PLACEHOLDER_THEN_WORD.finditer(text):
        fact, unit = match.group(1), match.group(2)
        allowed = UNIT_KINDS.get(unit)
        if allowed is not None and kinds.get(fact) not in allowed:
            raise RejectedOutput(f"{name} counts {unit} with {{{fact}}}, which is not such a count")


NUMBER_KINDS = frozenset({"count", "points", "ratio", "percent", "days", "score"})
SHARE_KINDS = frozenset({"ratio", "percent"})
SENTENCE_END = re.compile(r"[.!?](?:\s+|$)")
# "the {completion_rate}." or "a {forecast_p85}," puts a number where a noun belongs.
ARTICLE_THEN_NUMBER = re.compile(
    r"\b(?:the|a|an|its|their|our)\s+\{([a-z][a-z0-9_]*)\}(?:\s+points|\s+days)?\s*(?:[.,;:!?)]|$)"
)
SHARE_OF_SHARE = re.compile(r"\{([a-z][a-z0-9_]*)\}\s+of\s+(?:the\s+)?\{([a-z][a-z0-9_]*)\}")


def _check_sentences(name: str, text: str, kinds: dict[str, str]) -> None:
    """What reads wrong around true numbers: one fact twice in a sentence ("40% of 40%"),
    a share of a share, or a number standing where a noun belongs ("lost to the {x}.")."""
    for sentence in SENTENCE_END.split(text):
        used = Counter(PLACEHOLDER.findall(sentence))
        twice = sorted(fact for fact, count in used.items() if count > 1)
        if twice:
            raise RejectedOutput(f"{name} names {{{twice[0]}}} twice in one sentence")
    for match in SHARE_OF_SHARE.finditer(text):
        if {kinds.get(match.group(1)), kinds.get(match.group(2))} <= SHARE_KINDS:
            raise RejectedOutput(f"{name} takes a share of a share ({match.group()})")
    for match in ARTICLE_THEN_NUMBER.finditer(text):
        if kinds.get(match.group(1)) in NUMBER_KINDS:
            raise RejectedOutput(f"{name} puts {{{match.group(1)}}} where a noun belongs")


def _check_field(name: str, text: str, known: set[str], limit: int) -> None:
    if not text:
        raise RejectedOutput(f"{name} is empty")
    if len(text) > limit:
        raise RejectedOutput(f"{name} is longer than {limit} characters")
    unknown = sorted(set(PLACEHOLDER.findall(text)) - known)
    if unknown:
        raise RejectedOutput(f"{name} names facts that do not exist: {', '.join(unknown)}")
    bare = PLACEHOLDER.sub("", text)
    if "{" in bare or "}" in bare:
        raise RejectedOutput(f"{name} has a malformed placeholder")
    if DIGIT.search(bare):
        raise RejectedOutput(f"{name} writes a number itself instead of naming a fact")
    starts = {match.start(1) for match in SENTENCE_START.finditer(bare)}
    for match in re.finditer(r"\b[A-Z][A-Za-z']*", bare):
        if match.start() not in starts:
            raise RejectedOutput(
                f"{name} writes a name ({match.group()!r}) instead of naming a fact"
            )
    words = _words(text)
    banned = sorted(set(words) & BANNED_WORDS)
    if banned:
        raise RejectedOutput(f"{name} mentions {', '.join(banned)}")
    numbers = sorted(set(words) & NUMBER_WORDS)
    if numbers:
        raise RejectedOutput(f"{name} spells out a number ({', '.join(numbers)})")
    long_words = [word for word in words if len(word) > MAX_WORD_LETTERS]
    if long_words:
        raise RejectedOutput(f"{name} has a run-on word ({long_words[0][:24]}...)")
    for first, second in itertools.pairwise(words):
        if first == second:
            raise RejectedOutput(f"{name} repeats the word {first!r}")
    pairs = Counter(
        (a, b) for a, b in itertools.pairwise(words) if not {a, b} <= REPETITION_STOPWORDS
    )
    if pairs and max(pairs.values()) >= 3:
        pair, _ = pairs.most_common(1)[0]
        raise RejectedOutput(f"{name} loops on {' '.join(pair)!r}")


def check_draft(draft: Draft, facts: InsightFacts, *, own_text: bool = False) -> None:
    """Raise RejectedOutput unless every part of the draft is grounded and plain.

    `own_text`: the draft's words are the pipeline's own (a template, or a plan answer returned
    unchanged), so a phrase it shares with a Jira summary is a coincidence, not a copy."""
    known = {fact.name for fact in facts.facts}
    kinds = {fact.name: fact.kind for fact in facts.facts}
    for name, text in draft.fields():
        _check_units(name, text, kinds)
        _check_sentences(name, text, kinds)
    _check_field("title", draft.title, known, MAX_TITLE_CHARS)
    _check_field("message", draft.message, known, MAX_MESSAGE_CHARS)
    if not 1 <= len(draft.recommendations) <= MAX_RECOMMENDATIONS:
        raise RejectedOutput(f"expected 1 to {MAX_RECOMMENDATIONS} recommendations")
    for index, recommendation in enumerate(draft.recommendations):
        _check_field(f"recommendation {index + 1}", recommendation, known, MAX_RECOMMENDATION_CHARS)
    texts = [draft.message, *draft.recommendations]
    if len({text.lower() for text in texts}) < len(texts):
        raise RejectedOutput("a recommendation repeats the message or the other recommendation")
    for name, text in draft.fields() if not own_text else ():
        copied = _copied_phrase(text, facts.untrusted_text)
        if copied:
            raise RejectedOutput(f"{name} repeats Jira text ({copied!r})")
    key_facts = [name for name in facts.key_facts if name in known]
    if key_facts and not set(PLACEHOLDER.findall(draft.message)) & set(key_facts):
        raise RejectedOutput(f"the message names none of the key facts ({', '.join(key_facts)})")


# ---------------------------------------------------------------------------------------------
# 2. Filling placeholders
# ---------------------------------------------------------------------------------------------


def fill(text: str, facts: InsightFacts) -> str:
    by_name = facts.by_name

    def replace(match: re.Match[str]) -> str:
        fact = by_name.get(match.group(1))
        if fact is None:
            raise RejectedOutput(f"unknown fact {match.group(1)!r}")
        return fact.rendered

    return PLACEHOLDER.sub(replace, text)


def fill_draft(draft: Draft, facts: InsightFacts) -> Draft:
    return Draft(
        title=fill(draft.title, facts),
        message=fill(draft.message, facts),
        recommendations=tuple(fill(item, facts) for item in draft.recommendations),
    )


# ---------------------------------------------------------------------------------------------
# 3. The final check on shipped text
# ---------------------------------------------------------------------------------------------


def _fact_spans(text: str, facts: Sequence[Fact]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    rendered_values = {fact.rendered for fact in facts}
    # A list of issue keys may also be cited one key at a time.
    rendered_values |= {str(key) for fact in facts if fact.kind == "keys" for key in fact.value}
    for rendered in sorted(rendered_values, key=len, reverse=True):
        if not rendered:
            continue
        pattern = re.compile(r"(?<![A-Za-z0-9])" + re.escape(rendered) + r"(?![A-Za-z0-9])")
        spans += [(match.start(), match.end()) for match in pattern.finditer(text)]
    return spans


def _outside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return not any(low <= start and end <= high for low, high in spans)


def validate_text(text: str, facts: InsightFacts) -> list[str]:
    """Problems with one shipped field: digits, issue keys or meta words outside the facts."""
    problems: list[str] = []
    spans = _fact_spans(text, facts.facts)
    stray_keys = [
        match for match in ISSUE_KEY.finditer(text) if _outside(spans, match.start(), match.end())
    ]
    problems += [f"issue key {match.group()} is not one of the facts" for match in stray_keys]
    for match in NUMBER.finditer(text):
        in_stray_key = not _outside([m.span() for m in stray_keys], *match.span())
        if _outside(spans, *match.span()) and not in_stray_key:
            problems.append(f"number {match.group()} is not one of the facts")
    masked = list(text)
    for low, high in spans:
        masked[low:high] = " " * (high - low)
    banned = sorted(set(_words("".join(masked))) & BANNED_WORDS)
    if banned:
        problems.append(f"mentions {', '.join(banned)}")
    return problems


def validate_draft(draft: Draft, facts: InsightFacts) -> list[str]:
    """Problems with a filled draft, each prefixed with the field it is in."""
    return [
        f"{name}: {problem}"
        for name, text in draft.fields()
        for problem in validate_text(text, facts)
    ]
