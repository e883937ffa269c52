"""The insight engine: facts in, shipped insights out.

For each insight: ask the model to choose among the answers its sentence plans allow
(`plans.py`), with the insight's own seed; parse, check, fill and validate its answer; on
rejection retry once with the next seed; if that is rejected too, write the insight from its
template. With the model off, templates write everything. Nothing here reads a clock for the
output: the same facts and model give the same bytes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from jira_insights_pipeline.insights.grounding import (
    Draft,
    RejectedOutput,
    check_draft,
    fill_draft,
    parse_draft,
    validate_draft,
)
from jira_insights_pipeline.insights.plans import plan_answers, plans_for
from jira_insights_pipeline.insights.prompts import PROMPT_VERSION, build_messages
from jira_insights_pipeline.insights.values import InsightFacts
from jira_insights_pipeline.resources.llm import Completion, ModelUnavailableError
from jira_insights_pipeline.rules import SEVERITY_RANK
from jira_insights_pipeline.use_case import Wording

MAX_ATTEMPTS = 2
RETRY_TEMPERATURE = 0.8


class InsightModel(Protocol):
    """What the engine needs from a model; `LlamaModelResource` provides it."""

    seed: int

    @property
    def enabled(self) -> bool: ...

    @property
    def model_file_name(self) -> str | None: ...

    def choose(
        self,
        messages: list[dict[str, str]],
        answers: Sequence[str],
        seed: int,
        temperature: float | None = None,
    ) -> Completion: ...


class InsightValidationError(RuntimeError):
    """A template produced text the validator rejects: a bug in templates or facts."""


@dataclass(frozen=True)
class Attempt:
    seed: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    rejection: str | None


@dataclass(frozen=True)
class WrittenInsight:
    """One shipped insight (`document`, the JSON object) and how it was made."""

    document: dict[str, Any]
    attempts: tuple[Attempt, ...] = ()
    seconds: float = 0.0

    @property
    def generated_by(self) -> str:
        return str(self.document["generated_by"])


@dataclass
class EngineStats:
    """What one batch cost, for metadata and the benchmark (never written into insights)."""

    insights: int = 0
    model_written: int = 0
    attempts: int = 0
    rejections: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0


def insight_seed(base_seed: int, insight_id: str, attempt: int) -> int:
    """The seed of one attempt: fixed per insight, different for the retry."""
    offset = int(hashlib.sha256(insight_id.encode()).hexdigest()[:8], 16)
    return (base_seed + offset + attempt) % (2**31 - 1)


def _ask_model(
    facts: InsightFacts, wording: Wording, model: InsightModel
) -> tuple[Draft | None, list[Attempt]]:
    # The model words the message and recommendations; the headline is the template's, so
    # titles stay uniform across insights (and the model spends its tokens on the substance).
    title = wording.template(facts).title
    messages = build_messages(facts, wording)
    # The answers are built from the sentence plans that are true for these facts: the model
    # chooses among them (greedily, at the resource's temperature 0) and cannot word around a
    # number.
    attempts: list[Attempt] = []
    try:
        answers = plan_answers(plans_for(facts, wording.plans))
    except ValueError as error:
        # Facts no plan fits are a gap in plans.py, not a reason to stop the run: the template
        # words this insight, and the reason is kept with it.
        seed = insight_seed(model.seed, facts.insight_id, 0)
        return None, [Attempt(seed, 0, 0, 0.0, f"no sentence plan: {error}")]
    for attempt in range(MAX_ATTEMPTS):
        seed = insight_seed(model.seed, facts.insight_id, attempt)
        # Greedy decoding gives the same answer for any seed, so the retry samples freely.
        temperature = None if attempt == 0 else RETRY_TEMPERATURE
        started = time.perf_counter()
        try:
            completion = model.choose(messages, answers, seed, temperature)
        except ModelUnavailableError:
            raise
        except (ValueError, RuntimeError) as error:
            # llama.cpp raises these for a prompt that overflows the context and the like:
            # that insight falls back to its template, the run goes on.
            attempts.append(
                Attempt(seed, 0, 0, time.perf_counter() - started, f"model error: {error}")
            )
            continue
        try:
            draft = parse_draft(completion.text, title)
            check_draft(draft, facts, own_text=completion.text in answers)
            filled = fill_draft(draft, facts)
            problems = validate_draft(filled, facts)
            if problems:
                raise RejectedOutput("; ".join(problems))
        except RejectedOutput as rejection:
            reason: str | None = str(rejection)
            filled = None
        else:
            reason = None
        attempts.append(
            Attempt(
                seed,
                completion.prompt_tokens,
                completion.completion_tokens,
                completion.seconds,
                reason,
            )
        )
        if filled is not None:
            return filled, attempts
    return None, attempts


def _template(facts: InsightFacts, wording: Wording) -> Draft:
    draft = wording.template(facts)
    try:
        check_draft(draft, facts, own_text=True)
    except RejectedOutput as error:
        raise InsightValidationError(
            f"The {facts.use_case} template for board {facts.board_id} fails its own checks: "
            f"{error}. Fix the template in "
            f"jira_insights_pipeline/assets/{facts.use_case}/wording.py."
        ) from error
    filled = fill_draft(draft, facts)
    problems = validate_draft(filled, facts)
    if problems:
        raise InsightValidationError(
            f"The {facts.use_case} template for board {facts.board_id} shipped ungrounded text: "
            f"{'; '.join(problems)}. Fix the template in "
            f"jira_insights_pipeline/assets/{facts.use_case}/wording.py."
        )
    return filled


def write_insight(
    facts: InsightFacts, wording: Wording, model: InsightModel | None
) -> WrittenInsight:
    """Write one insight: by the model if it passes validation, else from its template."""
    started = time.perf_counter()
    use_model = model is not None and model.enabled
    draft, attempts = (None, []) if not use_model else _ask_model(facts, wording, model)  # type: ignore[arg-type]
    generated_by = "model" if draft is not None else "template"
    if draft is None:
        draft = _template(facts, wording)
    provenance: dict[str, Any] | None = None
    if use_model and model is not None:
        provenance = {
            "file": model.model_file_name,
            "prompt_version": PROMPT_VERSION,
            "seed": attempts[0].seed if attempts else None,
            "attempts": len(attempts),
            "prompt_tokens": sum(a.prompt_tokens for a in attempts),
            "completion_tokens": sum(a.completion_tokens for a in attempts),
            "rejections": [a.rejection for a in attempts if a.rejection],
        }
    document = {
        "id": facts.insight_id,
        "subject": facts.subject,
        "type": facts.use_case,
        "severity": facts.severity,
        # Set by the insights asset against the previous day's feed (insights/history.py).
        "change": None,
        "title": draft.title,
        "message": draft.message,
        "recommendations": list(draft.recommendations),
        "facts": {fact.name: fact.json_value() for fact in facts.facts},
        "evidence": [{"issue_key": e.issue_key, "reason": e.reason} for e in facts.evidence],
        "board": {"id": facts.board_id, "name": facts.board_name},
        "sprint": (
            None if facts.sprint_id is None else {"id": facts.sprint_id, "name": facts.sprint_name}
        ),
        "as_of": facts.as_of,
        "generated_by": generated_by,
        "model": provenance,
    }
    return WrittenInsight(document, tuple(attempts), time.perf_counter() - started)


def write_insights(
    facts_list: Iterable[InsightFacts], wording: Wording, model: InsightModel | None
) -> tuple[list[WrittenInsight], EngineStats]:
    """Write every insight of one use case, returned in the order given, with what the batch
    cost.

    The model sees them grouped by severity: consecutive prompts then share their prefix (rules,
    task, facts), which llama.cpp does not evaluate again. The order is fixed by the facts
    alone, so runs stay byte-identical."""
    items = list(facts_list)
    order = sorted(range(len(items)), key=lambda i: (-SEVERITY_RANK[items[i].severity], i))
    by_index: dict[int, WrittenInsight] = {}
    stats = EngineStats()
    for index in order:
        insight = write_insight(items[index], wording, model)
        by_index[index] = insight
        stats.insights += 1
        stats.model_written += insight.generated_by == "model"
        stats.attempts += len(insight.attempts)
        stats.rejections += [a.rejection for a in insight.attempts if a.rejection]
        stats.prompt_tokens += sum(a.prompt_tokens for a in insight.attempts)
        stats.completion_tokens += sum(a.completion_tokens for a in insight.attempts)
        stats.model_seconds += sum(a.seconds for a in insight.attempts)
    return [by_index[index] for index in range(len(items))], stats


def feed_order(
    documents: Sequence[dict[str, Any]], use_case_order: Sequence[str]
) -> list[dict[str, Any]]:
    """All insights newest first; within one snapshot, the most severe first, then by use case
    (in `use_case_order`, the registry's), board and sprint, so the order never depends on how
    the insights were computed."""
    by_severity = sorted(
        documents,
        key=lambda d: (
            -SEVERITY_RANK[d["severity"]],
            use_case_order.index(d["type"]),
            d["board"]["name"],
            -(d["sprint"]["id"] if d["sprint"] else 0),
            d["id"],
        ),
    )
    # Stable sort: newest snapshot first, keeping the order above within a snapshot.
    return sorted(by_severity, key=lambda d: d["as_of"], reverse=True)
