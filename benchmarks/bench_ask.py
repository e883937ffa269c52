"""How fast `ask` answers a question in plain words, with the default model loaded once.

Reads the published feed of a data folder (default: `data`, as `make demo` leaves it), loads
the default model once (as a service process does), then asks each question of
tests/test_ask.py several times and reports the model's load time and the median and p95
latency per question, overall and for the questions the model had to settle.

    .venv/bin/python benchmarks/bench_ask.py
    .venv/bin/python benchmarks/bench_ask.py --data-dir /tmp/data --repeat 5

Target (issue 13): median under 1 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_ask import KNOWN_QUESTIONS, UNRELATED  # noqa: E402

from jira_insights_pipeline.ask import ask, current_analyses  # noqa: E402
from jira_insights_pipeline.data_folder import DataFolder  # noqa: E402
from jira_insights_pipeline.registry import use_cases  # noqa: E402
from jira_insights_pipeline.resources.llm import LlamaModelResource  # noqa: E402

OPEN_QUESTIONS = ["bugs left on PAY?", "how is MOB doing?", "anything wrong with CHK?"]


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    feed = json.loads(DataFolder(args.data_dir).insights_feed.read_text(encoding="utf-8"))
    analyses = current_analyses(feed["insights"])
    model = LlamaModelResource(mode="on")
    started = time.perf_counter()
    model.llama()
    print(f"model load: {time.perf_counter() - started:.2f} s ({model.model_file_name})")
    questions = [q for q, _, _ in KNOWN_QUESTIONS] + UNRELATED + OPEN_QUESTIONS
    every, settled = [], []
    for _ in range(args.repeat):
        for question in questions:
            started = time.perf_counter()
            result = ask(question, analyses, use_cases(), model)
            seconds = time.perf_counter() - started
            every.append(seconds)
            if "the model chose" in result.get("chosen_because", ""):
                settled.append(seconds)
    print(
        f"all {len(every)} asks: median {statistics.median(every) * 1000:.1f} ms, "
        f"p95 {_p95(every) * 1000:.1f} ms"
    )
    if settled:
        print(
            f"{len(settled)} settled by the model: median "
            f"{statistics.median(settled) * 1000:.0f} ms, p95 {_p95(settled) * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
