"""How fast the insights service answers (`jira-insights serve`, docs/service.md).

Serves a data folder (default: `data`, as `make demo` leaves it) with uvicorn on a free
127.0.0.1 port in this process, as `jira-insights serve` does, then times real HTTP requests
over one kept-alive connection: `GET /api/insights` (the whole feed: filtered, dismissed ones
left out, ordered, validated against the response models), a filtered one, `GET /api/boards`
and the page's poll, `GET /api/version` answered 304. The first request (which parses and
validates the feed once) is timed apart. Reports median, p95 and max per endpoint.

    .venv/bin/python benchmarks/bench_service.py [--data-dir DIR] [--requests N]

Target (issue 13): `GET /api/insights` p95 under 20 ms on the sample site. The machine is
shared: the load average before and after is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import threading
import time
from pathlib import Path

import requests
import uvicorn

from jira_insights_pipeline.service.app import create_app


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    if not (args.data_dir / "insights" / "insights_feed.json").is_file():
        print(f"No published feed in {args.data_dir}: run `make demo` first.")
        return 2

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(args.data_dir),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    print(f"load average before: {os.getloadavg()}")
    started = time.perf_counter()
    first = session.get(base + "/api/insights", timeout=30)
    print(
        f"first GET /api/insights (parses and validates the feed): "
        f"{(time.perf_counter() - started) * 1000:.1f} ms, {first.json()['count']} insights"
    )
    etag = session.get(base + "/api/version", timeout=30).headers["ETag"]
    cases = {
        "GET /api/insights": ("/api/insights", {}),
        "GET /api/insights?board=3&severity=warning": (
            "/api/insights?board=3&severity=warning",
            {},
        ),
        "GET /api/boards": ("/api/boards", {}),
        "GET /api/version (304)": ("/api/version", {"If-None-Match": etag}),
    }
    for name, (path, headers) in cases.items():
        timings = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = session.get(base + path, headers=headers, timeout=30)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code in (200, 304), response.text
        print(
            f"{name:<45} median {statistics.median(timings):6.2f} ms   "
            f"p95 {_percentile(timings, 0.95):6.2f} ms   max {max(timings):6.2f} ms"
        )
    print(f"load average after:  {os.getloadavg()}")
    server.should_exit = True
    thread.join(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
