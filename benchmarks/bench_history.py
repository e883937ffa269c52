"""How long a backfill of the daily history takes, and what it costs per day.

Materializes the bundled sample site once (model off), then backfills `work_item_health_history`
and `hygiene_history` with the report and the publication over the last N days in one run, as
`make history DAYS=N` does, for N in --days (default 30 and 90), in process on a temporary
instance. Reports the wall time of each backfill, the seconds per day, and the rows per board.

    .venv/bin/python benchmarks/bench_history.py
    .venv/bin/python benchmarks/bench_history.py --days 7 30 90 --repeat 3

Target: a 90-day backfill of the sample in under a minute on 2 cores (one snapshot read, one
run), so filling a quarter of history never needs a second thought.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import dagster as dg  # noqa: E402
import duckdb  # noqa: E402
from automation_runs import materialize  # noqa: E402

from jira_insights_pipeline.partitions import last_days  # noqa: E402
from jira_insights_pipeline.sample.generator import EXPORTED_AT  # noqa: E402

HISTORY = "key:work_item_health_history or key:hygiene_history or key:insights_report"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[30, 90])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch, dg.instance_for_test() as instance:
        data_dir = Path(scratch) / "data"
        started = time.perf_counter()
        assert materialize(instance, data_dir).success
        print(f"full run of the sample (model off): {time.perf_counter() - started:.1f} s")
        for days in args.days:
            first, last = last_days(EXPORTED_AT.date(), days)
            timings = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                result = materialize(
                    instance, data_dir, selection=HISTORY, partition_range=(first, last)
                )
                timings.append(time.perf_counter() - started)
                assert result.success
            with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as db:
                per_board = db.execute(
                    "select min(n), max(n) from (select board_id, count(*) as n from "
                    f"metrics.hygiene_history where date between '{first}' and '{last}' "
                    "group by 1)"
                ).fetchone()
            median = statistics.median(timings)
            print(
                f"backfill of {days} days ({first}...{last}): median {median:.1f} s of "
                f"{len(timings)}, {median / days:.2f} s/day, {per_board[0]}-{per_board[1]} "
                "days per board"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
