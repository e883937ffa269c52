"""Constrained decoding over a closed set of answers: the model picks one, token by token.

The insight engine knows every answer it may ship (the sentence plans of
`insights/plans.py`); the model's job is to choose among them. That is decoding constrained by a
token trie of the answers, done the cheap way:

- Where every answer still in play continues with the same token, nothing is decided there:
  such forced runs are evaluated in one batch, at prompt speed, instead of one generation step
  per token (on two cores, SmolLM2-135M evaluates a batch several times faster than it generates).
- Where answers part, the model decides: greedily, the allowed token it rates highest after the
  repeat penalty; or, with a temperature, a token drawn among the allowed ones from a generator
  seeded by the caller, so a retry is reproducible too.
- Decoding stops as soon as one answer is left; its remaining tokens are never evaluated.

The model is reached through `TokenEvaluator` (logits after a token sequence), so the walk is a
plain function; `LlamaEvaluator` is the llama.cpp one, reusing its cache for a shared prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt


class TokenEvaluator(Protocol):
    """A model that scores the next token after a sequence."""

    def logits_after(self, tokens: Sequence[int]) -> npt.NDArray[np.float32]:
        """The next-token logits after `tokens` (the whole context, prompt first)."""
        ...


@dataclass(frozen=True)
class AnswerChoice:
    """Which answer the model chose and how many decisions it took."""

    index: int
    decisions: int


def _penalized(
    scores: npt.NDArray[np.float32], tokens: Sequence[int], recent: set[int], penalty: float
) -> npt.NDArray[np.float64]:
    """llama.cpp's repeat penalty: a recently seen token's positive logit is divided by the
    penalty, a negative one multiplied, so repeating always gets less likely."""
    result = scores.astype(np.float64)
    if penalty == 1.0:
        return result
    for position, token in enumerate(tokens):
        if token in recent:
            value = result[position]
            result[position] = value / penalty if value > 0 else value * penalty
    return result


def choose_answer(
    evaluator: TokenEvaluator,
    prompt: Sequence[int],
    answers: Sequence[Sequence[int]],
    *,
    temperature: float = 0.0,
    seed: int = 0,
    repeat_penalty: float = 1.0,
    repeat_window: int = 64,
) -> AnswerChoice:
    """The answer (an index into `answers`, each a token sequence) the model writes after
    `prompt` when it may write nothing else.

    Greedy at temperature 0; otherwise each decision samples among the allowed tokens with
    probabilities softmax(logit / temperature), from a generator seeded with `seed`.
    """
    if not answers:
        raise ValueError("there is no answer to choose from")
    for index, answer in enumerate(answers):
        if not answer:
            raise ValueError(f"answer {index} is empty")
    if len({tuple(answer) for answer in answers}) != len(answers):
        raise ValueError("two answers have the same tokens")
    rng = np.random.default_rng(seed) if temperature > 0 else None
    alive = list(range(len(answers)))
    context = list(prompt)
    position = 0
    decisions = 0
    while len(alive) > 1:
        following = {answers[i][position] for i in alive if position < len(answers[i])}
        if any(position >= len(answers[i]) for i in alive):
            # One answer ending where another goes on would need the end-of-text token.
            raise ValueError("an answer is a prefix of another; end each with a terminator")
        if len(following) == 1:
            context.append(following.pop())
            position += 1
            continue
        allowed = sorted(following)
        logits = evaluator.logits_after(context)
        recent = set(context[-repeat_window:]) if repeat_window else set()
        scores = _penalized(logits[allowed], allowed, recent, repeat_penalty)
        if rng is None:
            chosen = allowed[int(np.argmax(scores))]
        else:
            weights = np.exp((scores - scores.max()) / temperature)
            chosen = allowed[int(rng.choice(len(allowed), p=weights / weights.sum()))]
        decisions += 1
        alive = [i for i in alive if answers[i][position] == chosen]
        context.append(chosen)
        position += 1
    return AnswerChoice(alive[0], decisions)


class LlamaEvaluator:
    """`TokenEvaluator` over a loaded `llama_cpp.Llama`.

    Each call evaluates only what its cache does not already hold: the longest common prefix
    with the previous context is kept, so consecutive prompts sharing their opening (same
    system prompt and use case) and the forced runs of one answer cost nothing twice.
    """

    def __init__(self, llama: Any) -> None:
        self._llama = llama
        self.evaluated_tokens = 0

    def logits_after(self, tokens: Sequence[int]) -> npt.NDArray[np.float32]:
        import llama_cpp

        llama = self._llama
        if len(tokens) > llama.n_ctx():
            raise ValueError(
                f"the prompt and answer need {len(tokens)} tokens, more than the context of "
                f"{llama.n_ctx()}; raise the resource's context_size"
            )
        wanted = np.asarray(tokens, dtype=np.intc)
        cached = llama.input_ids[: llama.n_tokens]
        shared = min(len(cached), len(wanted))
        differing = np.flatnonzero(cached[:shared] != wanted[:shared])
        keep = int(differing[0]) if differing.size else shared
        # At least one token is evaluated, so the logits read below are this context's.
        keep = min(keep, len(wanted) - 1)
        llama.n_tokens = keep
        llama.eval(wanted[keep:].tolist())
        self.evaluated_tokens += len(wanted) - keep
        logits = llama_cpp.llama_get_logits_ith(llama.ctx, -1)
        return np.ctypeslib.as_array(logits, shape=(llama.n_vocab(),)).copy()
