"""Questions in plain words, answered by an analysis that exists (`ask.py`).

A Scrum Master asks "why is velocity dropping on MOB?" and must get MOB's velocity insight, with
its figures and causes, or a plain "I can answer questions about ..." when no analysis covers
the question; never an answer about a board or topic that does not exist. Checked on the
bundled sample's published feed with the real default model: several phrasings per use case,
with typos, map to the right analysis; unrelated questions get the fallback; a question whose
words leave two topics open is settled by the model's constrained choice between those two.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jira_insights_pipeline.ask import (
    MAX_QUESTION_CHARS,
    QuestionError,
    ask,
    current_analyses,
    question_words,
)
from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.registry import use_cases
from jira_insights_pipeline.resources.llm import LlamaModelResource

# Written by hand, several per use case, typos included: (question, use case, board).
KNOWN_QUESTIONS = [
    ("why is velocity dropping on MOB?", "velocity", "MOB board"),
    ("why did MOB's velocty drop", "velocity", "MOB board"),
    ("why is mob so slow lately", "velocity", "MOB board"),
    ("did PAY finish its sprint?", "missed_target", "PAY board"),
    ("why didnt mob hit the sprint goal", "missed_target", "MOB board"),
    ("why was work left over in PAY sprint 26", "missed_target", "PAY board"),
    ("are bugs leaking to prod on pay", "defect_leakage", "PAY board"),
    ("why do so many defects escpe in PAY", "defect_leakage", "PAY board"),
    ("did scope grow in CHK's sprint?", "scope_creep", "CHK board"),
    ("what got added mid sprint on chk", "scope_creep", "CHK board"),
    ("how clean are PAY's tickts", "team_health", "PAY board"),
    ("stale tickets on plat?", "team_health", "PLAT board"),
    ("is the cylce time getting longer for CHK", "flow", "CHK board"),
    ("how long do stories take on CHK", "flow", "CHK board"),
]
UNRELATED = ["what is the weather tomorrow", "who won the football match last night"]


@pytest.fixture(scope="module")
def feed(published_sample: Path) -> list[dict[str, Any]]:
    document = json.loads(DataFolder(published_sample).insights_feed.read_text("utf-8"))
    return document["insights"]


@pytest.fixture(scope="module")
def model() -> LlamaModelResource:
    return LlamaModelResource(mode="on")


def _picked(result: dict[str, Any]) -> tuple[str, str] | None:
    if not result["answered"]:
        return None
    return result["analysis"]["use_case"], result["analysis"]["board"]["name"]


def test_known_questions_map_to_their_analysis(
    feed: list[dict[str, Any]], model: LlamaModelResource
) -> None:
    analyses = current_analyses(feed)
    right = [
        _picked(ask(question, analyses, use_cases(), model)) == (use_case, board)
        for question, use_case, board in KNOWN_QUESTIONS
    ]
    assert sum(right) >= 0.9 * len(KNOWN_QUESTIONS), [
        q for (q, _, _), ok in zip(KNOWN_QUESTIONS, right, strict=True) if not ok
    ]


def test_the_velocity_answer_carries_mobs_figures_and_causes(
    feed: list[dict[str, Any]], model: LlamaModelResource
) -> None:
    result = ask("why is velocity dropping on MOB?", current_analyses(feed), use_cases(), model)
    (insight,) = [i for i in feed if i["type"] == "velocity" and i["board"]["name"] == "MOB board"]
    assert result["analysis"]["insight_id"] == insight["id"]
    assert result["message"] == insight["message"] and result["facts"] == insight["facts"]
    # PLANTED.md: MOB Sprint 30 completed 16 points against a mean of 30.3; 5 bugs were added.
    assert "16 points" in result["message"] and "30.3" in result["message"]
    assert "5 issues were added after the start" in result["message"]
    assert result["link"] == f"insights.html#{insight['id']}"
    assert "names MOB board" in result["chosen_because"]


@pytest.mark.parametrize("question", UNRELATED)
def test_an_unrelated_question_gets_what_can_be_asked(
    feed: list[dict[str, Any]], model: LlamaModelResource, question: str
) -> None:
    result = ask(question, current_analyses(feed), use_cases(), model)
    assert result["answered"] is False
    assert result["message"].startswith("I can answer questions about ")
    assert "velocity" in result["message"] and "MOB board" in result["message"]
    assert len(result["examples"]) == len(use_cases())


def test_words_that_leave_two_topics_open_are_settled_by_the_model(
    feed: list[dict[str, Any]], model: LlamaModelResource
) -> None:
    # "bugs" is defect leakage's word, "left" the sprint target's: the model picks one of them.
    result = ask("bugs left on PAY?", current_analyses(feed), use_cases(), model)
    assert _picked(result) in {("defect_leakage", "PAY board"), ("missed_target", "PAY board")}
    assert "the model chose" in result["chosen_because"]
    # Without the model, an open topic is not guessed.
    assert ask("bugs left on PAY?", current_analyses(feed), use_cases(), None)["answered"] is False


def test_no_board_named_means_the_board_where_it_is_worst(feed: list[dict[str, Any]]) -> None:
    result = ask("why is velocity dropping?", current_analyses(feed), use_cases(), None)
    # Only MOB's velocity dropped under the limit (PLANTED.md).
    assert _picked(result) == ("velocity", "MOB board") and result["severity"] == "warning"


def test_a_named_sprint_picks_its_analysis(feed: list[dict[str, Any]]) -> None:
    result = ask("bugs escaping from PAY sprint 26?", current_analyses(feed), use_cases(), None)
    assert result["analysis"]["sprint"] == "PAY Sprint 26"


def test_questions_are_bounded_and_words_are_plain() -> None:
    with pytest.raises(QuestionError, match="at most"):
        ask("why " * MAX_QUESTION_CHARS, [], use_cases(), None)
    with pytest.raises(QuestionError, match="Ask a question"):
        ask("   ", [], use_cases(), None)
    assert question_words("Why did MOB\u2019s velocity DROP?") == [
        "why",
        "did",
        "mob",
        "velocity",
        "drop",
    ]


class MissingModel:
    """A model whose file is gone: what LlamaModelResource raises on first use."""

    def choose(self, messages: list[dict[str, str]], answers: Any, seed: int) -> Any:
        from jira_insights_pipeline.resources.llm import ModelUnavailableError

        raise ModelUnavailableError("llama.cpp could not load /models/gone.gguf")


def test_a_missing_model_or_no_insights_get_a_plain_answer(feed: list[dict[str, Any]]) -> None:
    result = ask("bugs left on PAY?", current_analyses(feed), use_cases(), MissingModel())
    assert result["answered"] is False and "could not load /models/gone.gguf" in result["reason"]
    nothing = ask("why is velocity dropping on MOB?", [], use_cases(), None)
    assert (
        nothing["message"] == "No insights are published yet: run the pipeline first (make demo)."
    )


def test_a_board_is_named_by_its_key_not_by_any_word_of_its_name() -> None:
    from jira_insights_pipeline.ask import mentioned_boards

    boards = {1: "MOB board", 2: "Mobile Team Scrum board"}
    assert mentioned_boards(question_words("how is the team on MOB?"), boards) == [1]
    assert mentioned_boards(question_words("anything on scrum?"), boards) == []
