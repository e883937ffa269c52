"""Constrained decoding over a closed set of answers (`resources/answer_choice.py`).

A scripted evaluator (a plain class that scores each next token from a table and records what
it was asked) checks the walk itself: greedy choices follow the model's scores at each branch,
forced runs cost no decision and reach the model in one batch, decoding stops once one answer is
left, the repeat penalty works as llama.cpp's does, sampling is reproducible per seed, and bad
answer sets are refused. The real model's side is covered in test_llm_resource.py.
"""

from collections.abc import Sequence

import numpy as np
import pytest

from jira_insights_pipeline.resources.answer_choice import choose_answer

VOCABULARY_SIZE = 16
PROMPT = [1, 2, 3]


class ScriptedEvaluator:
    """Scores token t after a context with `scores[tuple(context)][t]` (default 0)."""

    def __init__(self, scores: dict[tuple[int, ...], dict[int, float]] | None = None) -> None:
        self.scores = scores or {}
        self.contexts: list[tuple[int, ...]] = []

    def logits_after(self, tokens: Sequence[int]) -> np.ndarray:
        self.contexts.append(tuple(tokens))
        logits = np.zeros(VOCABULARY_SIZE, dtype=np.float32)
        for token, score in self.scores.get(tuple(tokens), {}).items():
            logits[token] = score
        return logits


def test_greedy_follows_the_best_scored_token_at_each_branch() -> None:
    answers = [[5, 6, 7, 8], [5, 6, 9, 10], [5, 11, 12]]
    evaluator = ScriptedEvaluator(
        {(*PROMPT,): {}, (*PROMPT, 5): {6: 2.0, 11: 1.0}, (*PROMPT, 5, 6): {7: 0.5, 9: 3.0}}
    )
    choice = choose_answer(evaluator, PROMPT, answers)
    assert choice.index == 1 and choice.decisions == 2
    # Token 5 is forced (every answer starts with it): the model is first asked after it, and
    # never again once answer 1 is the only one left.
    assert evaluator.contexts == [(*PROMPT, 5), (*PROMPT, 5, 6)]


def test_a_single_answer_needs_no_model_at_all() -> None:
    evaluator = ScriptedEvaluator()
    assert choose_answer(evaluator, PROMPT, [[4, 5, 6]]).index == 0
    assert evaluator.contexts == []


def test_the_repeat_penalty_discounts_tokens_already_in_the_context() -> None:
    # Token 3 is in the prompt; it scores 1.0 against 0.95, but 1.0 / 1.1 < 0.95.
    answers = [[3, 7], [4, 7]]
    evaluator = ScriptedEvaluator({(*PROMPT,): {3: 1.0, 4: 0.95}})
    assert choose_answer(evaluator, PROMPT, answers, repeat_penalty=1.0).index == 0
    assert choose_answer(evaluator, PROMPT, answers, repeat_penalty=1.1).index == 1
    # Outside the window, the prompt token is not penalized.
    long_prompt = [*PROMPT, 9, 9, 9]
    evaluator = ScriptedEvaluator({tuple(long_prompt): {3: 1.0, 4: 0.95}})
    assert (
        choose_answer(evaluator, long_prompt, answers, repeat_penalty=1.1, repeat_window=3).index
        == 0
    )
    # A negative score is multiplied, so a repeated token still loses.
    evaluator = ScriptedEvaluator({(*PROMPT,): {3: -1.0, 4: -1.05}})
    assert choose_answer(evaluator, PROMPT, answers, repeat_penalty=1.1).index == 1


def test_sampling_is_reproducible_per_seed_and_follows_the_scores() -> None:
    answers = [[5, 1], [6, 1], [7, 1]]
    evaluator = ScriptedEvaluator({(*PROMPT,): {5: 3.0, 6: 1.0, 7: -2.0}})
    picks = [
        choose_answer(evaluator, PROMPT, answers, temperature=1.0, seed=seed).index
        for seed in range(400)
    ]
    again = [
        choose_answer(evaluator, PROMPT, answers, temperature=1.0, seed=seed).index
        for seed in range(400)
    ]
    assert picks == again
    counts = np.bincount(picks, minlength=3) / len(picks)
    expected = np.exp([3.0, 1.0, -2.0]) / np.exp([3.0, 1.0, -2.0]).sum()  # 0.876, 0.118, 0.006
    assert np.allclose(counts, expected, atol=0.05)
    # Greedy ignores the seed.
    assert {choose_answer(evaluator, PROMPT, answers, seed=s).index for s in range(5)} == {0}


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([], "no answer"),
        ([[1, 2], []], "answer 1 is empty"),
        ([[1, 2], [1, 2]], "same tokens"),
        ([[1, 2], [1, 2, 3]], "prefix of another"),
    ],
)
def test_answer_sets_that_cannot_be_decoded_are_refused(
    answers: list[list[int]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        choose_answer(ScriptedEvaluator(), PROMPT, answers)
