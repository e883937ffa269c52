"""Benchmark the insight engine with the default local model.

Measures, on the metric tables of the bundled sample site (default), of the four-board demo
tables of the tests (`--tables demo`, tests/demo_tables.py), or of a published warehouse
(`--tables warehouse --data-dir data`, after `make demo`: every table the insights read, the
diagnosis tables included, exactly as the assets wrote them), every use case of the registry
in turn, as the insights asset writes them:
- model load time;
- per-insight latency (median, p95; everything the engine does for one insight, all attempts),
  tokens per answer, tokens the model evaluated, decisions it made;
- the share of insights written by the model and accepted by the validator;
- the same model work through a bare `llama_cpp.Llama` in this process: every evaluation the
  resource asked of llama.cpp (same tokens, same cache reuse) replayed with nothing around it,
  so the cost of the resource and the engine (prompts, answers, tokenizing, choosing,
  validating) shows as a ratio (engine seconds / bare seconds). Engine and bare runs alternate
  `--repeat` times and the median ratio is reported, since one pair is at the mercy of noise;
  the share of engine time spent outside llama.cpp is printed too.

Targets: median < 1 s per insight, overhead < 10%, >= 80% model-written and accepted.

    .venv/bin/python benchmarks/bench_insights.py [--tables sample|demo|warehouse]
        [--data-dir DIR] [--repeat N] [--threads N] [--out FILE]

A quick run (about a minute): `--tables demo --repeat 1`.

The machine is shared: the load average before and after is printed with the figures, and a
busy machine makes every latency figure meaningless.
"""

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from jira_insights_pipeline.insights.engine import EngineStats, WrittenInsight, write_insights
from jira_insights_pipeline.insights.tables import MetricTables, latest_as_of
from jira_insights_pipeline.registry import Thresholds, use_cases
from jira_insights_pipeline.resources import answer_choice
from jira_insights_pipeline.resources.llm import Completion, LlamaModelResource

DEFAULT_OUT = Path(__file__).parent / "out" / "bench_insights.json"
TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"
# The staging tables the insights read beside the metric tables (board names, summaries).
STAGING_INPUTS = ("jira_boards", "jira_issues")


@dataclass(frozen=True)
class Evaluation:
    """One request to llama.cpp: keep `kept` cached tokens, evaluate `tokens` after them."""

    kept: int
    tokens: list[int]


class RecordingEvaluator(answer_choice.LlamaEvaluator):
    """The resource's evaluator, remembering what it asked of llama.cpp for the bare replay."""

    log: ClassVar[list[Evaluation]] = []
    seconds: ClassVar[float] = 0.0

    def logits_after(self, tokens: Sequence[int]) -> np.ndarray:
        before = self.evaluated_tokens
        started = time.perf_counter()
        logits = super().logits_after(tokens)
        RecordingEvaluator.seconds += time.perf_counter() - started
        new = self.evaluated_tokens - before
        RecordingEvaluator.log.append(Evaluation(len(tokens) - new, list(tokens[-new:])))
        return logits


class RecordingModel(LlamaModelResource):
    """The real resource, remembering every answer it gave."""

    def model_post_init(self, context: object) -> None:
        super().model_post_init(context)
        object.__setattr__(self, "completions", [])
        object.__setattr__(self, "answers_offered", [])

    def _evaluator(self, llama: Any) -> answer_choice.LlamaEvaluator:
        return RecordingEvaluator(llama)

    def choose(self, messages, answers, seed, temperature=None) -> Completion:
        completion = super().choose(messages, answers, seed, temperature)
        self.completions.append(completion)
        self.answers_offered.append(len(answers))
        return completion


def sample_site_tables() -> MetricTables:
    """The metric tables of the bundled sample site, computed as the assets compute them."""
    from bench_pipeline import compute_metric_tables

    from jira_insights_pipeline.parsing.staging import build_staging_tables
    from jira_insights_pipeline.sample import SITE_DIR
    from jira_insights_pipeline.snapshot import load_snapshot

    staging = build_staging_tables(load_snapshot(SITE_DIR), source="snapshot").tables()
    metrics = compute_metric_tables(staging)
    return MetricTables(
        as_of=latest_as_of(metrics.values()),
        frames={**{name: staging[name] for name in STAGING_INPUTS}, **metrics},
    )


def warehouse_tables(data_dir: Path) -> MetricTables:
    """Every table the registry's insights read, from the published warehouse of `data_dir`."""
    import duckdb

    from jira_insights_pipeline.data_folder import DataFolder

    wanted = {table for use_case in use_cases() for table in use_case.insight_inputs}
    frames: dict[str, pd.DataFrame] = {}
    with duckdb.connect(str(DataFolder.at(data_dir).warehouse), read_only=True) as connection:
        for schema, table in connection.execute(
            "select schema_name, table_name from duckdb_tables()"
        ).fetchall():
            if table in wanted:
                frames[table] = connection.execute(f'select * from "{schema}"."{table}"').fetchdf()
    missing = sorted(wanted - set(frames))
    if missing:
        raise SystemExit(f"{data_dir}: the warehouse lacks {', '.join(missing)}; run make demo.")
    metric_frames = [frames[t] for t in frames if not t.startswith("jira_")]
    return MetricTables(as_of=latest_as_of(metric_frames), frames=frames)


def demo_site_tables() -> MetricTables:
    """The four-board tables the insight tests use (tests/demo_tables.py)."""
    sys.path.insert(0, str(TESTS_DIR))
    from demo_tables import four_board_tables

    return four_board_tables()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def add_stats(total: EngineStats, batch: EngineStats) -> None:
    """Add one use case's batch to the run's totals."""
    for field in dataclasses.fields(EngineStats):
        setattr(total, field.name, getattr(total, field.name) + getattr(batch, field.name))


def run_engine(
    tables: MetricTables, threads: int
) -> tuple[RecordingModel, list[WrittenInsight], EngineStats, float]:
    """Every use case's insights, one `write_insights` batch per use case in registry order,
    as the insights asset writes them (facts are built before the clock starts)."""
    RecordingEvaluator.log = []
    RecordingEvaluator.seconds = 0.0
    model = RecordingModel(threads=threads)
    model.llama()
    thresholds = Thresholds()
    batches = [(u.wording, u.facts(tables, u.thresholds_of(thresholds))) for u in use_cases()]
    written: list[WrittenInsight] = []
    stats = EngineStats()
    started = time.perf_counter()
    for wording, facts in batches:
        items, batch = write_insights(facts, wording, model)
        written += items
        add_stats(stats, batch)
    return model, written, stats, time.perf_counter() - started


def load_bare(model: RecordingModel, threads: int) -> Any:
    import llama_cpp

    return llama_cpp.Llama(
        model_path=str(model.resolved_model_path()),
        n_ctx=model.context_size,
        n_threads=threads,
        n_threads_batch=threads,
        seed=model.seed,
        verbose=False,
    )


def run_bare(llama: Any, log: Sequence[Evaluation]) -> float:
    """Replay the evaluations `log` through a bare `llama_cpp.Llama`; returns their seconds
    (with the logits read back, as the resource does)."""
    import llama_cpp

    llama.reset()
    started = time.perf_counter()
    for evaluation in log:
        llama.n_tokens = evaluation.kept
        llama.eval(evaluation.tokens)
        logits = llama_cpp.llama_get_logits_ith(llama.ctx, -1)
        np.ctypeslib.as_array(logits, shape=(llama.n_vocab(),)).copy()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", choices=["sample", "demo", "warehouse"], default="sample")
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--threads", type=int, default=LlamaModelResource().threads)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="engine and bare runs, alternated; the overhead is the median of their ratios",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    tables = {
        "sample": sample_site_tables,
        "demo": demo_site_tables,
        "warehouse": lambda: warehouse_tables(args.data_dir),
    }[args.tables]()

    load_before = os.getloadavg()
    model, written, stats, engine_seconds = run_engine(tables, args.threads)
    log, in_engine_seconds = RecordingEvaluator.log, RecordingEvaluator.seconds
    started = time.perf_counter()
    bare = load_bare(model, args.threads)
    bare_load = time.perf_counter() - started
    engine_runs, bare_runs = [engine_seconds], [run_bare(bare, log)]
    for _ in range(args.repeat - 1):
        engine_runs.append(run_engine(tables, args.threads)[3])
        bare_runs.append(run_bare(bare, log))
    ratios = [engine / plain for engine, plain in zip(engine_runs, bare_runs, strict=True)]
    load_after = os.getloadavg()

    latencies = [item.seconds for item in written]
    # Alarms offer the most answers and come first in each use case (cold prompt), so their
    # latency is shown apart from the healthy boards' that pull the overall median down.
    alarms = [item.seconds for item in written if item.document["severity"] != "info"]
    completions = model.completions
    results: dict[str, Any] = {
        "tables": args.tables,
        "model_file": model.model_file_name,
        "threads": args.threads,
        "insights": stats.insights,
        "attempts": stats.attempts,
        "model_load_seconds": round(model.load_seconds or 0.0, 3),
        "latency_median_seconds": round(statistics.median(latencies), 3),
        "latency_p95_seconds": round(percentile(latencies, 0.95), 3),
        "latency_max_seconds": round(max(latencies), 3),
        "alarm_insights": len(alarms),
        "latency_median_alarm_seconds": round(statistics.median(alarms), 3) if alarms else None,
        "answers_offered_median": statistics.median(model.answers_offered),
        "answer_tokens_median": statistics.median(c.completion_tokens for c in completions),
        "prompt_tokens_median": statistics.median(c.prompt_tokens for c in completions),
        "evaluated_tokens_total": sum(c.evaluated_tokens for c in completions),
        "decisions_median": statistics.median(c.decisions for c in completions),
        "model_written_share": round(stats.model_written / stats.insights, 3),
        "rejections": stats.rejections,
        "engine_seconds": [round(x, 3) for x in engine_runs],
        "llama_seconds_inside_engine": round(in_engine_seconds, 3),
        "python_share_of_engine": round(1 - in_engine_seconds / engine_seconds, 3),
        "bare_load_seconds": round(bare_load, 3),
        "bare_evaluations": len(log),
        "bare_seconds": [round(x, 3) for x in bare_runs],
        "overhead_ratios": [round(x, 3) for x in ratios],
        "overhead_ratio": round(statistics.median(ratios), 3),
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
