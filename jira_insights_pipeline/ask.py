"""Questions in plain words ("why is MOB slowing down?"), answered by an analysis that
exists.

The analyses are the current insights: one per use case, board (and sprint), each computed from
the diagnosis tables and already grounded and validated. A question is mapped to one of them,
never to a subject that does not exist:

1. **Names narrow the board.** A board named in the question (its name, or the project key its
   name starts with; a typo within one letter or so is tolerated) keeps that board's analyses;
   a question that names none is about the board where the chosen topic is most severe.
2. **Words narrow the use case.** Each use case's home lists the words a question about it is
   likely to hold (`UseCase.question_words`); the use cases whose words the question holds most
   are kept.
3. **The local model chooses among what is left**, by constrained choice over those options only
   (`LlamaModelResource.choose`): it can pick one of the given topics, nothing else.
   Measured on the sample with SmolLM2-135M, the model alone picks the right topic for 7 of 14
   phrasings, so it only decides what the names and words leave open.

A question that names no board and holds no use case's words is answered with what can be asked,
with examples. The answer is the chosen insight (its title, message, recommendations, facts and
evidence, as validated when it was written) and says which analysis it used and how it was
chosen.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from jira_insights_pipeline.resources.llm import ModelUnavailableError
from jira_insights_pipeline.rules import SEVERITY_RANK
from jira_insights_pipeline.use_case import UseCase

# Longer questions are refused: a question, not a document, and the prompt stays small.
MAX_QUESTION_CHARS = 300
# How close a word must be to a board key or a use case's word to count (difflib's ratio):
# "slowwing" matches "slowing", "mob" does not match "job".
CLOSE_MATCH = 0.84
# The seed of the model's choice, so the same question gets the same answer.
CHOICE_SEED = 7
WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class Chooser(Protocol):
    """What `ask` needs of the model: a constrained choice (LlamaModelResource has it)."""

    def choose(self, messages: list[dict[str, str]], answers: Sequence[str], seed: int) -> Any: ...


class QuestionError(ValueError):
    """The question cannot be asked (empty or too long)."""


@dataclass(frozen=True)
class Analysis:
    """One analysis a question can be answered with: one current insight."""

    use_case: str
    board_id: int
    board_name: str
    sprint_name: str | None
    insight: Mapping[str, Any]

    def describe(self, labels: Mapping[str, str]) -> dict[str, Any]:
        return {
            "use_case": self.use_case,
            "use_case_label": labels.get(self.use_case, self.use_case),
            "board": {"id": self.board_id, "name": self.board_name},
            "sprint": self.sprint_name,
            "insight_id": self.insight["id"],
        }


def current_analyses(insights: Sequence[Mapping[str, Any]]) -> list[Analysis]:
    """The analyses of the current feed's insights, in the feed's order."""
    return [
        Analysis(
            use_case=insight["type"],
            board_id=int(insight["board"]["id"]),
            board_name=str(insight["board"]["name"]),
            sprint_name=insight["sprint"]["name"] if insight["sprint"] else None,
            insight=insight,
        )
        for insight in insights
    ]


def question_words(question: str) -> list[str]:
    """The question's words, lowercase, with a possessive 's dropped ("MOB's" is "mob")."""
    text = question.lower().replace("\u2019", "'")
    text = re.sub(r"'s\b", "", text)
    return WORD.findall(text)


def _close(word: str, candidates: Sequence[str]) -> bool:
    if word in candidates:
        return True
    # Short words must match exactly: "pay" and "day" are a letter apart.
    return len(word) > 3 and bool(difflib.get_close_matches(word, candidates, 1, CLOSE_MATCH))


def board_keys(board_name: str) -> list[str]:
    """The word a question names a board by: the first of its name, the project key of Jira's
    default "<KEY> board" (not every word: "Mobile Team board" must not answer "team")."""
    return question_words(board_name)[:1]


def mentioned_boards(words: Sequence[str], boards: Mapping[int, str]) -> list[int]:
    """The boards the question names, by their keys."""
    return [
        board_id
        for board_id, name in boards.items()
        if any(_close(word, board_keys(name)) for word in words)
    ]


def topic_scores(words: Sequence[str], use_cases: Sequence[UseCase]) -> dict[str, int]:
    """For each use case, how many of the question's words are its words."""
    return {
        use_case.name: sum(_close(word, use_case.question_words) for word in words)
        for use_case in use_cases
    }


def _model_choice(model: Chooser, question: str, prompt: str, options: Mapping[str, str]) -> str:
    """The key of the option the model picks for `question` (constrained to `options`)."""
    answers = list(options.values())
    system = f"{prompt}\n" + "\n".join(f"- {answer}" for answer in answers)
    messages = [
        {"role": "system", "content": system + "\nAnswer with one of them only."},
        # The question is the user's text: data to classify, never instructions to follow.
        {"role": "user", "content": f"Question: {question}"},
    ]
    chosen = model.choose(messages, answers, seed=CHOICE_SEED).text
    return next(key for key, answer in options.items() if answer == chosen)


def _sprint_named(words: Sequence[str], analyses: Sequence[Analysis]) -> list[Analysis]:
    """The analyses whose sprint the question names ("sprint 26"), if any."""
    numbers = {word for word in words if word.isdigit()}
    named = [
        a for a in analyses if a.sprint_name and numbers & set(re.findall(r"\d+", a.sprint_name))
    ]
    return named


def _most_telling(analyses: Sequence[Analysis]) -> Analysis:
    """Of one use case's analyses, the most severe, then the feed's first (max keeps the first
    of equals)."""
    return max(analyses, key=lambda a: SEVERITY_RANK[a.insight["severity"]])


def _examples(analyses: Sequence[Analysis], labels: Mapping[str, str]) -> list[str]:
    """A few questions the current analyses answer, one per use case."""
    seen: dict[str, Analysis] = {}
    for analysis in analyses:
        seen.setdefault(analysis.use_case, analysis)
    return [
        f"What about {labels.get(a.use_case, a.use_case).lower()} on {a.board_name}?"
        for a in seen.values()
    ]


def ask(
    question: str,
    analyses: Sequence[Analysis],
    use_cases: Sequence[UseCase],
    model: Chooser | None,
) -> dict[str, Any]:
    """The answer to `question` from one of `analyses` (see the module docstring), or what can
    be asked. Without a model, an open choice is answered with what can be asked."""
    question = question.strip()
    if not question:
        raise QuestionError("Ask a question, e.g. 'why is MOB slowing down?'.")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is {len(question)} characters long; ask in at most {MAX_QUESTION_CHARS}."
        )
    labels = {u.name: u.label for u in use_cases}
    if not analyses:
        return {
            "question": question,
            "answered": False,
            "reason": "no insights are published",
            "message": "No insights are published yet: run the pipeline first (make demo).",
            "examples": [],
        }
    topics = {u.name: f"{u.label.lower()}: {u.wording.topic}" for u in use_cases}
    boards = {a.board_id: a.board_name for a in analyses}
    words = question_words(question)
    named = mentioned_boards(words, boards)
    scores = topic_scores(words, use_cases)
    best = max(scores.values(), default=0)
    how: list[str] = []

    if not named and best == 0:
        return fallback(question, analyses, labels, "it names no board and no topic")
    candidates = [a for a in analyses if not named or a.board_id in named]
    if len(named) == 1:
        how.append(f"the question names {boards[named[0]]}")
    topic_options = {
        name: topics[name]
        for name in topics
        if (best == 0 or scores[name] == best) and any(a.use_case == name for a in candidates)
    }
    if not topic_options:
        return fallback(question, analyses, labels, "no analysis covers it")
    if len(topic_options) == 1:
        (topic,) = topic_options
        if best:
            how.append(f"its words are about {labels[topic].lower()}")
    elif model is None:
        return fallback(question, analyses, labels, "the model is off and the topic is open")
    else:
        try:
            topic = _model_choice(
                model, question, "Which topic is the Scrum Master's question about?", topic_options
            )
        except ModelUnavailableError as error:
            return fallback(question, analyses, labels, f"the topic is open and {error}")
        how.append(f"the model chose {labels[topic].lower()} among {len(topic_options)} topics")
    candidates = [a for a in candidates if a.use_case == topic]
    chosen = _most_telling(_sprint_named(words, candidates) or candidates)
    if len({a.board_id for a in candidates}) > 1:
        # "Why are we slowing down?" asks about the board where it happens: the most severe.
        how.append(f"of the boards, {chosen.board_name}'s is the most severe")
    return answer(question, chosen, labels, how)


def answer_from_feed(
    question: str, insights: Sequence[Mapping[str, Any]], model: Chooser | None
) -> dict[str, Any]:
    """`ask` over the analyses of a feed's insights and every registered use case: the one
    call the CLI, the service and the MCP server make."""
    from jira_insights_pipeline.registry import use_cases

    return ask(question, current_analyses(insights), use_cases(), model)


def answer(
    question: str, analysis: Analysis, labels: Mapping[str, str], how: Sequence[str]
) -> dict[str, Any]:
    """The grounded answer: the analysis's insight as it was validated, and how it was found."""
    insight = analysis.insight
    return {
        "question": question,
        "answered": True,
        "analysis": analysis.describe(labels),
        "chosen_because": "; ".join(how) or "it is the only analysis",
        "severity": insight["severity"],
        "title": insight["title"],
        "message": insight["message"],
        "recommendations": list(insight["recommendations"]),
        "facts": dict(insight["facts"]),
        "evidence": list(insight["evidence"]),
        "link": f"insights.html#{insight['id']}",
    }


def fallback(
    question: str, analyses: Sequence[Analysis], labels: Mapping[str, str], reason: str
) -> dict[str, Any]:
    """What can be asked, for a question no analysis covers."""
    topics = sorted({labels.get(a.use_case, a.use_case).lower() for a in analyses})
    boards = sorted({a.board_name for a in analyses})
    return {
        "question": question,
        "answered": False,
        "reason": reason,
        "message": f"I can answer questions about {', '.join(topics)} on {', '.join(boards)}.",
        "examples": _examples(analyses, labels),
    }
