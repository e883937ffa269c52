"""Benchmark the insight engine with the default local model.

Measures, on the hand-made four-board metric tables (24 insights):
- model load time;
- per-insight latency (median, p95; all attempts of one insight), tokens per second;
- the share of insights written by the model and accepted by the validator;
- the same prompts (same messages, grammar, seed, temperature) through a bare
  `llama_cpp.Llama` in this process, so the overhead of the resource and the engine shows as
  a ratio (engine seconds / bare seconds).

Targets: median < 1 s per insight, overhead < 10%, >= 80% model-written and accepted.

    .venv/bin/python benchmarks/bench_insights.py [--boards 1,2,3,4] [--out FILE]

The machine is shared: the load average before and after is printed with the figures, and a
busy machine makes every latency figure meaningless.
"""

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jira_insights_pipeline.insights import demo_tables
from jira_insights_pipeline.insights.engine import EngineStats, WrittenInsight, write_insights
from jira_insights_pipeline.insights.facts import all_facts
from jira_insights_pipeline.resources.llm import Completion, LlamaModelResource

DEFAULT_OUT = Path(__file__).parent / "out" / "bench_insights.json"


@dataclass
class RecordedCall:
    messages: list[dict[str, str]]
    grammar: str | None
    seed: int
    temperature: float
    completion: Completion


class RecordingModel(LlamaModelResource):
    """The real resource, remembering every call so the bare run can replay it."""

    def model_post_init(self, context: object) -> None:
        super().model_post_init(context)
        object.__setattr__(self, "recorded", [])

    def complete(self, messages, grammar, seed, temperature=None) -> Completion:
        completion = super().complete(messages, grammar, seed, temperature)
        used = self.temperature if temperature is None else temperature
        self.recorded.append(RecordedCall(messages, grammar, seed, used, completion))
        return completion


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def run_engine(boards: set[int]) -> tuple[RecordingModel, list[WrittenInsight], EngineStats, float]:
    tables = demo_tables.only_boards(demo_tables.four_board_tables(), boards)
    model = RecordingModel()
    model.llama()
    facts = all_facts(tables)
    started = time.perf_counter()
    written, stats = write_insights(facts, model)
    return model, written, stats, time.perf_counter() - started


def run_bare(model: RecordingModel) -> tuple[float, float, int]:
    """Replay every recorded call through a fresh bare `llama_cpp.Llama`; returns its load
    seconds, completion seconds and how many answers differ from the resource's."""
    import llama_cpp

    started = time.perf_counter()
    llama = llama_cpp.Llama(
        model_path=str(model.resolved_model_path()),
        n_ctx=model.context_size,
        n_threads=model.threads,
        n_threads_batch=model.threads,
        seed=model.seed,
        verbose=False,
    )
    load_seconds = time.perf_counter() - started
    differing = 0
    started = time.perf_counter()
    for call in model.recorded:
        grammar = (
            llama_cpp.LlamaGrammar.from_string(call.grammar, verbose=False)
            if call.grammar
            else None
        )
        response = llama.create_chat_completion(
            messages=call.messages,
            grammar=grammar,
            seed=call.seed,
            temperature=call.temperature,
            top_k=model.top_k,
            repeat_penalty=model.repeat_penalty,
            max_tokens=model.max_tokens,
        )
        differing += response["choices"][0]["message"]["content"] != call.completion.text
    return load_seconds, time.perf_counter() - started, differing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", default="1,2,3,4", help="board ids of the demo site")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    boards = {int(board) for board in args.boards.split(",")}

    load_before = os.getloadavg()
    model, written, stats, engine_seconds = run_engine(boards)
    bare_load, bare_seconds, differing = run_bare(model)
    load_after = os.getloadavg()

    latencies = [item.seconds for item in written]
    attempts = [call.completion.seconds for call in model.recorded]
    model_seconds = sum(attempts)
    results: dict[str, Any] = {
        "model_file": model.model_file_name,
        "threads": model.threads,
        "insights": stats.insights,
        "attempts": stats.attempts,
        "model_load_seconds": round(model.load_seconds or 0.0, 3),
        "latency_median_seconds": round(statistics.median(latencies), 3),
        "latency_p95_seconds": round(percentile(latencies, 0.95), 3),
        "attempt_median_seconds": round(statistics.median(attempts), 3),
        "completion_tokens": stats.completion_tokens,
        "prompt_tokens": stats.prompt_tokens,
        "tokens_per_second": round(stats.completion_tokens / model_seconds, 1),
        "model_written_share": round(stats.model_written / stats.insights, 3),
        "rejections": stats.rejections,
        "engine_seconds": round(engine_seconds, 3),
        "bare_load_seconds": round(bare_load, 3),
        "bare_seconds": round(bare_seconds, 3),
        "overhead_ratio": round(engine_seconds / bare_seconds, 3),
        "bare_answers_differing": differing,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
    targets = {
        "median < 1 s": results["latency_median_seconds"] < 1.0,
        "overhead < 10%": results["overhead_ratio"] < 1.10,
        ">= 80% model-written": results["model_written_share"] >= 0.8,
    }
    results["targets_met"] = targets

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    width = max(len(key) for key in results)
    for key, value in results.items():
        if key != "rejections":
            print(f"{key:<{width}}  {value}")
    print(f"{'rejections':<{width}}  {len(stats.rejections)}")
    for reason in stats.rejections:
        print(f"  - {reason}")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
