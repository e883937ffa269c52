"""How fast the live sources extract Jira, against the fake Jira on 127.0.0.1.

Measures, for the same ~10,000 issues: issues/s through the HTTP transport (requests), through
the browser transport (headless Chromium, `fetch` inside the page; Chromium's start and sign-in
timed apart), and from the snapshot source (load + iterate the written snapshot); then an
incremental run with 1% of the issues changed against the full run.

    .venv/bin/python benchmarks/bench_extraction.py                 # 10,000 issues
    .venv/bin/python benchmarks/bench_extraction.py --issues 2000 --skip-browser
    .venv/bin/python benchmarks/bench_extraction.py --snapshot path/to/generated/site
    .venv/bin/python benchmarks/bench_extraction.py --latency-ms 300   # a real site's pace

Without --snapshot, the issues are a scale-up of tests/data/live_improvingflow (real Jira Cloud
issues, copied with new ids, keys and history ids). Targets: browser within 2x of HTTP;
incremental under 10% of full.
"""

from __future__ import annotations

import argparse
import copy
import math
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_jira import FakeJira, Fault  # noqa: E402
from fake_jira.helpers import IMPROVINGFLOW  # noqa: E402

from jira_insights_pipeline.live import LiveSettings, scrape_to_snapshot  # noqa: E402
from jira_insights_pipeline.live.browser_login import open_browser_transport  # noqa: E402
from jira_insights_pipeline.live.incremental import parse_jira_instant  # noqa: E402
from jira_insights_pipeline.snapshot import load_snapshot, write_snapshot  # noqa: E402


def scaled_snapshot(base: Path, issues: int, dest: Path) -> Path:
    """`base` with its issues copied until there are `issues` of them: each copy gets new
    issue ids, keys and history ids (so ids stay unique), everything else unchanged."""
    snapshot = load_snapshot(base)
    originals = list(snapshot.iter_issues())
    stride = max(int(issue["key"].rsplit("-", 1)[1]) for issue in originals) + 1
    copies = math.ceil(issues / len(originals))

    def scaled() -> Iterator[dict[str, Any]]:
        produced = 0
        for round_number in range(copies):
            for original in originals:
                if produced == issues:
                    return
                issue = copy.deepcopy(original)
                project, number = issue["key"].rsplit("-", 1)
                issue["id"] = str(int(issue["id"]) + round_number * 1_000_000)
                issue["key"] = f"{project}-{round_number * stride + int(number)}"
                for history in issue.get("changelog", {}).get("histories", []):
                    history["id"] = str(int(history["id"]) + round_number * 10_000_000)
                # Spread `updated` (each copy 17 minutes older) as on a real site, so that the
                # incremental run's overlap window holds a few issues, not every copy.
                updated = parse_jira_instant(issue["fields"]["updated"])
                shifted = updated - timedelta(minutes=17 * round_number)
                issue["fields"]["updated"] = shifted.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
                produced += 1
                yield issue

    return write_snapshot(
        dest,
        meta=snapshot.meta,
        fields=snapshot.fields,
        boards=snapshot.boards,
        sprints=snapshot.sprints,
        statuses=snapshot.statuses,
        issues=scaled(),
    )


def timed(action: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def _serve(snapshot: Path, latency_s: float, connection: Connection) -> None:
    """The fake Jira, in its own process so that its JSON encoding does not share the
    measured client's interpreter lock; every REST answer delayed by `latency_s` (a real
    site's response time). Answers `touch` (edit issues) and `stop`."""
    with FakeJira(snapshot) as fake:
        if latency_s:
            fake.add_fault(Fault(r"^/rest/", delay_s=latency_s, times=None))
        connection.send(
            {
                "base_url": fake.base_url,
                "email": fake.email,
                "api_token": fake.api_token,
                "username": fake.username,
                "password": fake.password,
                "keys": [issue["key"] for issue in fake.issues],
            }
        )
        while True:
            command, argument = connection.recv()
            if command == "stop":
                return
            keys, updated = argument
            for key in keys:
                fake.touch_issue(key, updated=updated)
            connection.send(len(keys))


def _settings(site: dict[str, Any], kind: str, page_size: int) -> LiveSettings:
    credentials = (
        {"email": site["email"], "api_token": site["api_token"]}
        if kind == "rest"
        else {"username": site["username"], "password": site["password"]}
    )
    return LiveSettings(
        base_url=site["base_url"], page_size=page_size, read_timeout_s=120.0, **credentials
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--snapshot", type=Path, help="serve this snapshot instead")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument(
        "--latency-ms", type=float, default=0, help="delay every REST answer, like a real site"
    )
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-extraction-"))
    try:
        if args.snapshot:
            served = args.snapshot
        else:
            served, seconds = timed(
                lambda: scaled_snapshot(IMPROVINGFLOW, args.issues, work / "served")
            )
            print(f"built {args.issues} issues from {IMPROVINGFLOW.name} in {seconds:.1f} s")
        rows: list[tuple[str, int, float, str]] = []
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        server = context.Process(
            target=_serve, args=(served, args.latency_ms / 1000, theirs), daemon=True
        )
        server.start()
        try:
            site = ours.recv()
            count = len(site["keys"])
            settings = _settings(site, "rest", args.page_size)

            http, http_s = timed(lambda: scrape_to_snapshot(settings, "rest", work / "http"))
            rows.append(
                (
                    "HTTP transport (requests)",
                    http.issue_count,
                    http_s,
                    f"{http.request_count} requests",
                )
            )

            if not args.skip_browser:
                form = _settings(site, "browser", args.page_size)
                transport, start_s = timed(lambda: open_browser_transport(form))
                try:
                    browser, browser_s = timed(
                        lambda: scrape_to_snapshot(
                            form, "browser", work / "browser", transport=transport
                        )
                    )
                finally:
                    transport.close()
                rows.append(
                    (
                        "browser transport (Chromium fetch)",
                        browser.issue_count,
                        browser_s,
                        f"+{start_s:.1f} s to start Chromium and sign in",
                    )
                )

            def read_snapshot() -> int:
                return sum(1 for _ in load_snapshot(work / "http").iter_issues())

            read, read_s = timed(read_snapshot)
            rows.append(("snapshot source (load + iterate)", read, read_s, "issues.jsonl.gz"))

            changed = max(1, count // 100)
            later = datetime.fromtimestamp(http.watermark_ms / 1000, UTC) + timedelta(hours=1)
            stamp = later.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
            ours.send(("touch", (site["keys"][:: max(1, count // changed)][:changed], stamp)))
            ours.recv()
            shutil.copytree(work / "http", work / "incremental")
            incremental, incremental_s = timed(
                lambda: scrape_to_snapshot(
                    settings,
                    "rest",
                    work / "incremental",
                    previous=work / "incremental",
                    full_refresh=False,
                )
            )
            assert incremental.incremental
            rows.append(
                (
                    f"incremental, {changed} changed (HTTP)",
                    incremental.fetched_issue_count,
                    incremental_s,
                    f"{incremental_s / http_s:.1%} of the full run",
                )
            )
        finally:
            ours.send(("stop", None))
            server.join(timeout=30)

        print(
            f"\n{count} issues served by the fake Jira on 127.0.0.1, pages of {args.page_size}, "
            f"{args.latency_ms:g} ms added to each answer\n"
        )
        print(f"{'what':38} {'issues':>7} {'seconds':>8} {'issues/s':>9}  note")
        for what, issues, seconds, note in rows:
            print(f"{what:38} {issues:>7} {seconds:>8.2f} {issues / seconds:>9.0f}  {note}")
        if not args.skip_browser:
            print(f"\nbrowser / HTTP time: {browser_s / http_s:.2f}x (target: within 2x)")
        print(f"incremental / full time: {incremental_s / http_s:.1%} (target: under 10%)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
