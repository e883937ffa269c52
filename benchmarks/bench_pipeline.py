"""Speed and memory of the staging and metric tables at 10k to 100k issues.

For each size, the sample generator writes a site (cached under benchmarks/out/sites/), then
fresh Python processes measure, so each peak-memory figure belongs to one phase alone:

- `staging+metrics`: read the snapshot, parse it into the staging tables (validated), compute
  and validate every metric table (the sprint ledger, then each use case's tables from its home
  under `assets/`), exactly as the assets call them;
- `metrics`: the metric tables alone, from staging tables loaded beforehand (not timed);
- `dagster` (with --dagster): the real Definitions' raw, staging and metric assets (groups
  `raw`, `staging`, `sprints` and one per use case) and the publication materialized in
  process against the site with JIRA_SOURCE=snapshot, DuckDB writes and reads included;
  `publish_s` is the publication step alone (every table swapped in one transaction).

Targets (issue 3): metric tables alone at most 10 s, staging plus metrics at most 60 s, peak
memory under 4 GB, time growing about linearly from 10k to 100k issues.

    .venv/bin/python benchmarks/bench_pipeline.py                 # 10, 30 and 100 boards
    .venv/bin/python benchmarks/bench_pipeline.py --boards 10 --dagster
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SPRINTS = 40


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def site_for(boards: int) -> Path:
    from jira_insights_pipeline.sample.generator import generate_site

    site = OUT / "sites" / f"boards-{boards}-sprints-{SPRINTS}"
    marker = site / "summary.json"
    if not marker.is_file():
        started = time.perf_counter()
        summary = generate_site(site, boards=boards, sprints=SPRINTS)
        marker.write_text(
            json.dumps(
                {
                    "issues": summary.issues,
                    "changelog_items": summary.changelog_items,
                    "generated_in_s": round(time.perf_counter() - started, 1),
                }
            )
        )
    return site


def compute_metric_tables(staging: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every metric table, called and validated as the assets call them: the sprint ledger
    (`assets/sprints`), then each use case's tables from its home, each function given its own
    section of the registry's `Thresholds`."""
    from jira_insights_pipeline.assets.defect_leakage.metrics import (
        defect_escape_rates,
        defect_leakage,
    )
    from jira_insights_pipeline.assets.defect_leakage.schemas import (
        DefectEscapeRatesSchema,
        DefectLeakageSchema,
    )
    from jira_insights_pipeline.assets.flow.metrics import cycle_time_trends, cycle_times
    from jira_insights_pipeline.assets.flow.schemas import CycleTimesSchema, CycleTimeTrendsSchema
    from jira_insights_pipeline.assets.missed_target.metrics import sprint_targets
    from jira_insights_pipeline.assets.missed_target.schemas import SprintTargetsSchema
    from jira_insights_pipeline.assets.scope_creep.metrics import sprint_scope_creep
    from jira_insights_pipeline.assets.scope_creep.schemas import SprintScopeCreepSchema
    from jira_insights_pipeline.assets.sprints.commitments import sprint_commitments
    from jira_insights_pipeline.assets.sprints.schemas import (
        SprintCommitmentsSchema,
        SprintScopeChangesSchema,
    )
    from jira_insights_pipeline.assets.sprints.scope_changes import sprint_scope_changes
    from jira_insights_pipeline.assets.team_health.metrics import hygiene_scores, work_item_health
    from jira_insights_pipeline.assets.team_health.schemas import (
        HygieneScoresSchema,
        WorkItemHealthSchema,
    )
    from jira_insights_pipeline.assets.velocity.metrics import sprint_velocity
    from jira_insights_pipeline.assets.velocity.schemas import SprintVelocitySchema
    from jira_insights_pipeline.metrics.timeline import resolve_as_of
    from jira_insights_pipeline.registry import Thresholds
    from jira_insights_pipeline.validation import validate_table

    s = staging
    thresholds = Thresholds()
    as_of = resolve_as_of(s["jira_snapshot"]["exported_at"].iloc[0])
    tables: dict[str, pd.DataFrame] = {}
    tables["sprint_scope_changes"] = sprint_scope_changes(
        s["jira_sprints"], s["jira_issues"], s["jira_sprint_membership"], s["jira_estimates"],
        s["jira_status_intervals"], s["jira_changelog"], as_of, thresholds.sprints,
    )  # fmt: skip
    tables["sprint_commitments"] = sprint_commitments(
        tables["sprint_scope_changes"], s["jira_sprints"], as_of
    )
    tables["sprint_scope_creep"] = sprint_scope_creep(
        tables["sprint_commitments"], thresholds.scope_creep
    )
    tables["sprint_targets"] = sprint_targets(
        tables["sprint_commitments"], thresholds.missed_target
    )
    tables["sprint_velocity"] = sprint_velocity(
        tables["sprint_commitments"], s["jira_sprints"], as_of, thresholds.velocity
    )
    tables["defect_leakage"] = defect_leakage(
        s["jira_issues"], s["jira_status_intervals"], s["jira_issue_links"], s["jira_sprints"],
        as_of,
    )  # fmt: skip
    tables["defect_escape_rates"] = defect_escape_rates(
        tables["defect_leakage"], s["jira_sprints"], as_of, thresholds.defect_leakage
    )
    tables["work_item_health"] = work_item_health(
        s["jira_issues"], s["jira_changelog"], s["jira_status_intervals"], s["jira_estimates"],
        s["jira_sprint_membership"], s["jira_sprints"], as_of, thresholds.team_health,
    )  # fmt: skip
    tables["hygiene_scores"] = hygiene_scores(
        tables["work_item_health"], s["jira_boards"], as_of, thresholds.team_health
    )
    tables["cycle_times"] = cycle_times(
        s["jira_issues"], s["jira_status_intervals"], s["jira_sprints"], as_of
    )
    tables["cycle_time_trends"] = cycle_time_trends(
        tables["cycle_times"], s["jira_sprints"], as_of, thresholds.flow
    )
    models = {
        "sprint_scope_changes": SprintScopeChangesSchema,
        "sprint_commitments": SprintCommitmentsSchema,
        "sprint_scope_creep": SprintScopeCreepSchema,
        "sprint_targets": SprintTargetsSchema,
        "sprint_velocity": SprintVelocitySchema,
        "defect_leakage": DefectLeakageSchema,
        "defect_escape_rates": DefectEscapeRatesSchema,
        "work_item_health": WorkItemHealthSchema,
        "hygiene_scores": HygieneScoresSchema,
        "cycle_times": CycleTimesSchema,
        "cycle_time_trends": CycleTimeTrendsSchema,
    }
    return {name: validate_table(models[name], frame, name) for name, frame in tables.items()}


def measure(phase: str, site: Path, cache: Path) -> dict[str, Any]:
    """Runs one phase in this process and returns its figures."""
    from jira_insights_pipeline.parsing.staging import build_staging_tables
    from jira_insights_pipeline.snapshot import load_snapshot

    if phase == "staging+metrics":
        started = time.perf_counter()
        staging = build_staging_tables(load_snapshot(site), source="snapshot").tables()
        staged = time.perf_counter()
        metrics = compute_metric_tables(staging)
        finished = time.perf_counter()
        with open(cache, "wb") as handle:
            pickle.dump(staging, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return {
            "staging_s": round(staged - started, 2),
            "metrics_s": round(finished - staged, 2),
            "total_s": round(finished - started, 2),
            "peak_rss_mb": round(_peak_rss_mb()),
            "issues": len(staging["jira_issues"]),
            "changelog_items": len(staging["jira_changelog"]),
            "metric_rows": {name: len(frame) for name, frame in metrics.items()},
        }
    if phase == "metrics":
        with open(cache, "rb") as handle:
            staging = pickle.load(handle)
        loaded_rss = _peak_rss_mb()
        started = time.perf_counter()
        compute_metric_tables(staging)
        return {
            "metrics_s": round(time.perf_counter() - started, 2),
            "peak_rss_mb": round(_peak_rss_mb()),
            "rss_after_loading_staging_mb": round(loaded_rss),
        }
    if phase == "dagster":
        return _dagster_run(site)
    raise ValueError(f"unknown phase {phase}")


def _dagster_run(site: Path) -> dict[str, Any]:
    import dagster as dg

    with tempfile.TemporaryDirectory() as data_dir:
        os.environ.update(
            {"JIRA_SOURCE": "snapshot", "JIRA_SNAPSHOT_DIR": str(site),
             "JIRA_INSIGHTS_DATA_DIR": data_dir}
        )  # fmt: skip
        from jira_insights_pipeline.definitions import build_definitions
        from jira_insights_pipeline.registry import use_case_names

        defs = build_definitions()
        graph = defs.resolve_asset_graph()
        # Raw, staging and every metric table: the sprint ledger's group and one group per use
        # case (each home's package name), and the publication; the insights and the report
        # are left out.
        groups = ("raw", "staging", "sprints", *use_case_names(), "publish")
        selection = dg.AssetSelection.groups(*groups).resolve(graph)
        job = defs.resolve_implicit_global_asset_job_def()
        started = time.perf_counter()
        with dg.instance_for_test() as instance:
            result = job.execute_in_process(instance=instance, asset_selection=sorted(selection))
            elapsed = time.perf_counter() - started
            publication = {
                entry.dagster_event_type: entry.timestamp
                for entry in instance.all_logs(result.run_id)
                if entry.step_key == "publication"
            }
        publish_s = (
            publication[dg.DagsterEventType.STEP_SUCCESS]
            - publication[dg.DagsterEventType.STEP_START]
        )
        return {
            "dagster_s": round(elapsed, 2),
            "publish_s": round(publish_s, 2),
            "success": result.success,
            "peak_rss_mb": round(_peak_rss_mb()),
        }


def _child(phase: str, site: Path, cache: Path) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--site", str(site), "--cache", str(cache)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"phase {phase} on {site} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, nargs="+", default=[10, 30, 100])
    parser.add_argument("--dagster", action="store_true", help="also time a Dagster run")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--site", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        print(json.dumps(measure(args.phase, args.site, args.cache)))
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for boards in args.boards:
        site = site_for(boards)
        cache = OUT / f"staging-{site.name}.pkl"
        full = _child("staging+metrics", site, cache)
        alone = _child("metrics", site, cache)
        row = {"boards": boards, **full, "metrics_alone_s": alone["metrics_s"],
               "metrics_alone_peak_rss_mb": alone["peak_rss_mb"]}  # fmt: skip
        if args.dagster:
            row.update(_child("dagster", site, cache))
        cache.unlink(missing_ok=True)
        rows.append(row)
        print(json.dumps(row), flush=True)

    print()
    print(f"{'issues':>8} {'items':>9} {'staging s':>10} {'metrics s':>10} {'alone s':>8} "
          f"{'total s':>8} {'peak MB':>8} {'s/10k issues':>13}")  # fmt: skip
    for row in rows:
        per_10k = row["total_s"] / row["issues"] * 10_000
        print(
            f"{row['issues']:>8,} {row['changelog_items']:>9,} {row['staging_s']:>10} "
            f"{row['metrics_s']:>10} {row['metrics_alone_s']:>8} {row['total_s']:>8} "
            f"{row['peak_rss_mb']:>8} {per_10k:>13.2f}"
        )
    (OUT / "bench_pipeline.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
