"""Speed of the insights' facts step at 10 and 100 boards: does it grow linearly?

The facts step is what the insights asset (`assets/insights.py`) does before any wording: wrap
its input tables in `MetricTables(as_of=latest_as_of(<metric tables>), frames=<inputs>)`, then
call `use_case.facts(current, use_case.thresholds_of(Thresholds()))` for every use case of
`registry.use_cases()`, in registry order. No model is involved.

For each size, the sample generator writes a site of N boards (40 sprints each, cached under
benchmarks/out/sites/, shared with bench_pipeline.py) and a fresh Python process:

- builds the staging tables and every metric table with the real functions, exactly as
  bench_pipeline.py does (`compute_metric_tables`), and keeps the tables the insights asset
  reads (every use case's `insight_inputs`); this preparation is not timed;
- times the facts step `--repeat` times, each with a new `MetricTables` (so the board names and
  issue summaries it indexes lazily are indexed in every run, as in a real run), and reports the
  median of the total and of each use case (a use case's figure includes any index it is the
  first to build);
- measures the facts step's peak Python allocation once more under tracemalloc (untimed), and
  the process' peak RSS (dominated by the staging tables).

The table shows boards, issues, insights, the facts seconds (wall and CPU total, and wall per
use case), seconds per 1k issues, the peak memory, and the growth of the total against the
smallest size: linear growth means the seconds grow as the issues do (about x10 from 10 to 100
boards; the issue asked for no more than ~1.5 times that). The tables are the in-memory frames
the metric functions return, not the DuckDB round trip of a Dagster run. The 2 cores are shared:
the load average is printed, and CPU seconds suffer less from a busy machine than wall seconds.

    .venv/bin/python benchmarks/bench_facts.py                     # 10 and 100 boards
    .venv/bin/python benchmarks/bench_facts.py --boards 10 30 100 --repeat 5
    .venv/bin/python benchmarks/bench_facts.py --boards 10 --sample --dump-facts /tmp/facts
    .venv/bin/python benchmarks/bench_facts.py --boards 100 --profile

`--sample` adds the bundled sample site. `--dump-facts DIR` writes each site's facts (the repr
of every `InsightFacts`, per use case) to DIR/<site>.json (`sample.json`,
`boards-10-sprints-40.json`, ...), to prove a change to the facts code keeps every fact
identical. `--profile` prints a cProfile of one facts run. `--keep-tables` keeps the prepared
tables (benchmarks/out/facts-inputs-*.pkl) and reuses them next time.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import pickle
import pstats
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pandas as pd
from bench_pipeline import OUT, _peak_rss_mb, compute_metric_tables, site_for

SAMPLE = "sample"


def insight_inputs() -> tuple[dict[str, pd.DataFrame], set[str]]:
    """What the insights asset is given: (every table any use case's facts read, the metric
    tables among them), as `build_insights_asset` derives them from the registry."""
    from jira_insights_pipeline.assets.insights import _inputs
    from jira_insights_pipeline.registry import use_cases

    cases = use_cases()
    return _inputs(cases), {table for case in cases for table in case.tables}


def prepare(site: Path, cache: Path | None) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The insights asset's input tables for `site` (from `cache` when it exists), and how long
    making them took."""
    if cache is not None and cache.is_file():
        with open(cache, "rb") as handle:
            return pickle.load(handle), {"prepared_from": "cache"}
    from jira_insights_pipeline.parsing.staging import build_staging_tables
    from jira_insights_pipeline.snapshot import load_snapshot

    started = time.perf_counter()
    staging = build_staging_tables(load_snapshot(site), source="snapshot").tables()
    metrics = compute_metric_tables(staging)
    every = {**staging, **metrics}
    names, _ = insight_inputs()
    missing = [name for name in names if name not in every]
    if missing:
        raise RuntimeError(f"the insights read tables this benchmark does not build: {missing}")
    tables = {name: every[name] for name in names}
    prepared = {"prepare_s": round(time.perf_counter() - started, 2)}
    if cache is not None:
        with open(cache, "wb") as handle:
            pickle.dump(tables, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return tables, prepared


def facts_step(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, list[Any]], dict[str, float]]:
    """The insights asset's facts step, timed: every use case's facts and wall seconds (`total`
    includes building the `MetricTables`; `total_cpu` is the same span in CPU seconds of this
    process, which a busy shared machine inflates less than wall time)."""
    from jira_insights_pipeline.insights.tables import MetricTables, latest_as_of
    from jira_insights_pipeline.registry import Thresholds, use_cases

    cases = use_cases()
    thresholds = Thresholds()
    _, metric_tables = insight_inputs()
    started, started_cpu = time.perf_counter(), time.process_time()
    metric_frames = [frame for name, frame in tables.items() if name in metric_tables]
    current = MetricTables(as_of=latest_as_of(metric_frames), frames=tables)
    facts: dict[str, list[Any]] = {}
    seconds: dict[str, float] = {}
    for case in cases:
        begun = time.perf_counter()
        facts[case.name] = case.facts(current, case.thresholds_of(thresholds))
        seconds[case.name] = time.perf_counter() - begun
    seconds["total"] = time.perf_counter() - started
    seconds["total_cpu"] = time.process_time() - started_cpu
    return facts, seconds


def serialized(facts: dict[str, list[Any]]) -> dict[str, list[str]]:
    """Every insight's facts as text: the repr of each `InsightFacts` (all its fields, values
    with their types), per use case in the order the facts builder returned them."""
    return {name: [repr(item) for item in items] for name, items in facts.items()}


def measure(
    site: Path, label: str, repeat: int, cache: Path | None, dump: Path | None, profile: bool
) -> dict[str, Any]:
    """One site's figures, in this process."""
    tables, prepared = prepare(site, cache)
    facts_step(tables)  # warm up: imports, registry, first-call caches
    runs = [facts_step(tables) for _ in range(repeat)]
    facts = runs[-1][0]
    names = list(runs[0][1])
    median = {name: round(statistics.median(run[1][name] for run in runs), 4) for name in names}
    text = serialized(facts)
    digest = hashlib.sha256(json.dumps(text, sort_keys=True).encode()).hexdigest()[:16]
    for other, _ in runs[:-1]:
        if serialized(other) != text:
            raise RuntimeError("two runs of the facts step on the same tables differ")
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        (dump / f"{label}.json").write_text(json.dumps(text, indent=1, sort_keys=True))

    tracemalloc.start()
    facts_step(tables)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    report = None
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        facts_step(tables)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        report = out.getvalue()

    issues = tables.get("jira_issues")
    return {
        "site": label,
        "issues": 0 if issues is None else len(issues),
        "insights": {name: len(items) for name, items in facts.items()},
        "seconds": median,
        "runs": [round(run[1]["total"], 4) for run in runs],
        "facts_peak_alloc_mb": round(traced_peak / 2**20, 1),
        "peak_rss_mb": round(_peak_rss_mb()),
        "facts_sha256": digest,
        "profile": report,
        **prepared,
    }


def _child(label: str, site: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--site", str(site), "--label", label]
    command += ["--repeat", str(args.repeat)]
    if args.keep_tables:
        command += ["--cache", str(OUT / f"facts-inputs-{label}.pkl")]
    if args.dump_facts:
        command += ["--dump-facts", str(args.dump_facts)]
    if args.profile:
        command.append("--profile")
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the facts benchmark of {site} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def print_table(rows: list[dict[str, Any]]) -> None:
    totals = ("total", "total_cpu")
    cases = [name for name in rows[0]["seconds"] if name not in totals]
    print(
        f"{'boards':>7} {'issues':>8} {'insights':>8} {'facts s':>8} {'cpu s':>7} "
        f"{'s/1k issues':>11} {'peak alloc MB':>13} {'peak RSS MB':>11}"
    )
    for row in rows:
        seconds = row["seconds"]
        per_1k = seconds["total"] / row["issues"] * 1000
        print(
            f"{row['boards']!s:>7} {row['issues']:>8,} {sum(row['insights'].values()):>8} "
            f"{seconds['total']:>8.3f} {seconds['total_cpu']:>7.3f} {per_1k:>11.4f} "
            f"{row['facts_peak_alloc_mb']:>13} {row['peak_rss_mb']:>11}"
        )
    width = max(len(name) for name in [*cases, "facts s (insights)"])
    print()
    print(f"{'facts s (insights)':<{width}} " + " ".join(f"{row['boards']!s:>16}" for row in rows))
    for name in cases:
        cells = [f"{row['seconds'][name]:.3f} ({row['insights'][name]})" for row in rows]
        print(f"{name:<{width}} " + " ".join(f"{cell:>16}" for cell in cells))
    for name, label in (("total", "total"), ("total_cpu", "total (cpu)")):
        cells = [f"{row['seconds'][name]:.3f}" for row in rows]
        print(f"{label:<{width}} " + " ".join(f"{cell:>16}" for cell in cells))

    sized = [row for row in rows if isinstance(row["boards"], int)]
    if len(sized) < 2:
        return
    base = min(sized, key=lambda row: row["boards"])
    print()
    for row in sized:
        if row is base:
            continue
        boards = row["boards"] / base["boards"]
        issues = row["issues"] / base["issues"]
        for name, label in (("total", "wall"), ("total_cpu", "cpu")):
            ratio = row["seconds"][name] / base["seconds"][name]
            verdict = "linear" if ratio <= 1.5 * boards else "NOT linear (> 1.5x linear)"
            print(
                f"ratio {row['boards']} vs {base['boards']} boards ({label}): x{ratio:.2f} for "
                f"x{boards:g} boards, x{issues:.2f} issues: {ratio / issues:.2f} of linear, "
                f"{verdict}"
            )
        best = min(row["runs"]) / min(base["runs"])
        print(
            f"ratio {row['boards']} vs {base['boards']} boards (fastest of each size's runs, "
            f"wall): x{best:.2f}: {best / issues:.2f} of linear"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs; the median is shown")
    parser.add_argument("--sample", action="store_true", help="also the bundled sample site")
    parser.add_argument("--dump-facts", type=Path, help="write each site's facts to DIR")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one run")
    parser.add_argument("--keep-tables", action="store_true", help="keep and reuse the tables")
    parser.add_argument("--site", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--label", default="site", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.site:
        figures = measure(
            args.site, args.label, args.repeat, args.cache, args.dump_facts, args.profile
        )
        print(json.dumps(figures))
        return 0

    from jira_insights_pipeline.sample import SITE_DIR

    OUT.mkdir(parents=True, exist_ok=True)
    sites: list[tuple[int | str, Path]] = [(boards, site_for(boards)) for boards in args.boards]
    if args.sample:
        sites.insert(0, (SAMPLE, SITE_DIR))
    rows = []
    load_before = os.getloadavg()
    for boards, site in sites:
        label = SAMPLE if boards == SAMPLE else site.name
        row = {"boards": boards, **_child(label, site, args)}
        profile = row.pop("profile")
        rows.append(row)
        print(json.dumps(row), flush=True)
        if profile:
            print(profile, flush=True)
    load_after = os.getloadavg()
    print()
    print_table(rows)
    print(
        f"load average before {', '.join(f'{x:.2f}' for x in load_before)}, after "
        f"{', '.join(f'{x:.2f}' for x in load_after)} (2 cores are shared: wall seconds are "
        "noisy, CPU seconds less so)"
    )
    (OUT / "bench_facts.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
