"""The live insights service (`jira-insights serve`, docs/service.md), over real HTTP on
127.0.0.1 against a data folder holding a published run of the sample site.

What it covers, and why:

- the API serves exactly the published feed (the file consumers read), with its filters and
  its OpenAPI description, since a team page or a script must see what the pipeline decided;
- feedback is stored durably, attached to the insight's `subject`, and survives a restart of
  the service: the team's verdicts are worth more than any one process;
- a dismissed insight stays hidden across restarts and across a new day's feed with the same
  figures (new ids, same subject and facts), and comes back when its severity rises or its
  day counts move (only a rise in severity is news that undoes a dismissal);
- the ordering and visibility rules as plain functions, without HTTP;
- bad requests (unknown id, bad JSON, wrong content type, oversized note, foreign Origin or
  Host, missing token) get the right 4xx and leave the store untouched: the feedback form is
  reachable by any web page the team's browsers open;
- `jira-insights serve` refuses a non-local bind without a token, and never echoes the token;
- in real headless Chromium, the served page shows the feed, "Dismiss" hides an insight, and a
  newer feed swaps in by itself, without a reload.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from publishing import copy_data_folder

from jira_insights_pipeline.data_folder import DataFolder, write_text_atomically
from jira_insights_pipeline.insights.documents import dumps, validate_document
from jira_insights_pipeline.service.app import create_app
from jira_insights_pipeline.service.feedback import (
    Dismissal,
    FeedbackStore,
    facts_fingerprint,
    feedback_path,
    is_dismissed,
    order_insights,
)
from jira_insights_pipeline.service.figures import KeyFigure, board_figures
from jira_insights_pipeline.service.page import HIDDEN_STYLE_ID

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NEXT_DAY = "2026-11-21T09:00:00+00:00"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_service(data_dir: Path, **options: Any) -> Iterator[str]:
    """A new app on `data_dir`, served by uvicorn on a free 127.0.0.1 port in a thread; its
    base URL. Each use is a fresh app, as a restarted service would be."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(data_dir, **options), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(published_sample: Path, tmp_path: Path) -> Path:
    """A data folder of its own holding the published sample run."""
    return copy_data_folder(published_sample, tmp_path)


def read_feed(data_dir: Path) -> dict[str, Any]:
    return json.loads(DataFolder(data_dir).insights_feed.read_text(encoding="utf-8"))


def write_feed(data_dir: Path, document: dict[str, Any]) -> None:
    """Publishes `document` as the feed, as a publication would (validated, renamed into
    place), its modification time moved on so no file system's clock can hide the change."""
    validate_document(document)
    path = DataFolder(data_dir).insights_feed
    before = path.stat().st_mtime_ns
    write_text_atomically(path, dumps(document))
    later = max(path.stat().st_mtime_ns, before + 1_000_000_000)
    os.utime(path, ns=(later, later))


def next_day_feed(
    document: Mapping[str, Any],
    change: Callable[[dict[str, Any]], None] = lambda insight: None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The feed as the next day's run would write it for the same figures: every insight a new
    id and `as_of`, the same subject, severity and facts; `change` may alter an insight. Also
    the new id of each old one."""
    new_ids: dict[str, str] = {}
    insights = []
    for old in document["insights"]:
        insight = json.loads(json.dumps(old))
        digest = hashlib.sha256(f"{old['id']}|{NEXT_DAY}".encode()).hexdigest()[:16]
        insight["id"] = f"{old['type']}-{digest}"
        insight["as_of"] = NEXT_DAY
        change(insight)
        new_ids[old["id"]] = insight["id"]
        insights.append(insight)
    return {**document, "as_of": NEXT_DAY, "insights": insights}, new_ids


def get(base: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(base + path, timeout=10, **kwargs)


def post_feedback(base: str, insight_id: str, body: Any, **kwargs: Any) -> requests.Response:
    return requests.post(
        f"{base}/api/insights/{insight_id}/feedback", json=body, timeout=10, **kwargs
    )


def ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [insight["id"] for insight in response.json()["insights"]]


def first_of(feed: Mapping[str, Any], severity: str) -> dict[str, Any]:
    return next(i for i in feed["insights"] if i["severity"] == severity)


# The rules, without HTTP.


def test_facts_fingerprint_ignores_key_order_and_sees_every_value() -> None:
    assert facts_fingerprint({"a": 1, "b": [2]}) == facts_fingerprint({"b": [2], "a": 1})
    assert facts_fingerprint({"a": 1}) != facts_fingerprint({"a": 1.5})
    assert facts_fingerprint({"a": ["X-1"]}) != facts_fingerprint({"a": ["X-2"]})


def test_a_dismissal_holds_until_the_severity_rises_or_the_facts_change() -> None:
    insight = {"severity": "warning", "facts": {"rate": 0.4}}
    dismissal = Dismissal("warning", facts_fingerprint({"rate": 0.4}))
    assert is_dismissed(insight, None) is False
    assert is_dismissed(insight, dismissal) is True
    assert is_dismissed({**insight, "severity": "info"}, dismissal) is True
    assert is_dismissed({**insight, "severity": "error"}, dismissal) is False
    # A day count moves every day: the dismissal holds (only a rise in severity undoes it).
    assert is_dismissed({**insight, "facts": {"rate": 0.5}}, dismissal) is True


def test_order_is_severity_then_helpfulness_of_the_use_case_then_the_feeds() -> None:
    insights = [
        {"id": "a", "severity": "info", "type": "flow"},
        {"id": "b", "severity": "warning", "type": "velocity"},
        {"id": "c", "severity": "warning", "type": "flow"},
        {"id": "d", "severity": "error", "type": "defect_leakage"},
        {"id": "e", "severity": "warning", "type": "scope_creep"},
        {"id": "f", "severity": "warning", "type": "velocity"},
    ]
    assert [i["id"] for i in order_insights(insights, {})] == ["d", "b", "c", "e", "f", "a"]
    ordered = order_insights(insights, {"flow": 2, "velocity": -1})
    assert [i["id"] for i in ordered] == ["d", "c", "e", "b", "f", "a"]


def test_the_store_keeps_verdicts_and_reads_the_latest_dismissal(tmp_path: Path) -> None:
    store = FeedbackStore(feedback_path(tmp_path))
    assert store.records() == [] and store.dismissals() == {}
    assert not store.path.exists()  # reading creates nothing
    insight = {
        "id": "flow-0123456789abcdef",
        "subject": "flow-fedcba9876543210",
        "type": "flow",
        "severity": "warning",
        "board": {"id": 1, "name": "CHK board"},
        "facts": {"median_days": 4.5},
    }
    store.record(insight, "helpful", "spot on")
    store.record(insight, "dismiss")
    store.record({**insight, "severity": "error"}, "dismiss")
    store.record(insight, "not_helpful")
    store.record(insight, "helpful")
    assert [r.verdict for r in store.records()] == [
        "helpful",
        "dismiss",
        "dismiss",
        "not_helpful",
        "helpful",
    ]
    assert store.records()[0].note == "spot on"
    assert store.dismissals() == {
        "flow-fedcba9876543210": Dismissal("error", facts_fingerprint({"median_days": 4.5}))
    }
    assert store.helpfulness() == {"flow": 1}
    with pytest.raises(ValueError, match="verdict"):
        store.record(insight, "maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="500"):
        store.record(insight, "helpful", "x" * 501)
    assert len(store.records()) == 5


def test_key_figures_are_read_back_from_the_page_as_text() -> None:
    page = (
        '<section class="board" id="board-7"><h2>A &amp; B</h2><div class="figures">'
        '<div class="figure alert"><div class="label">Escape rate</div>'
        '<div class="value">40%</div><div class="detail">S&lt;1&gt; (limit 20%)</div></div>'
        '<div class="figure unjudged"><div class="label">Velocity</div>'
        '<div class="value">–</div><div class="detail">no closed sprint</div></div>'
        '</div></section><section class="board" id="data-quality">'
        '<div class="figure"><div class="label">x</div></div></section>'
    )
    assert board_figures(page) == {
        7: [
            KeyFigure("Escape rate", "40%", "S<1> (limit 20%)", True),
            KeyFigure("Velocity", "–", "no closed sprint", None),
        ]
    }


# The API.


def test_the_api_serves_exactly_the_published_feed(served: Path) -> None:
    feed = read_feed(served)
    with live_service(served) as base:
        body = get(base, "/api/insights").json()
        assert body["count"] == len(feed["insights"]) == 32
        assert body["as_of"] == feed["as_of"] and body["hidden_by_dismissal"] == 0
        # Every insight exactly as the feed has it; most severe first, else the feed's order.
        assert sorted(body["insights"], key=lambda i: i["id"]) == sorted(
            feed["insights"], key=lambda i: i["id"]
        )
        rank = {"error": 0, "warning": 1, "info": 2}
        assert [i["id"] for i in body["insights"]] == [
            i["id"] for i in sorted(feed["insights"], key=lambda i: rank[i["severity"]])
        ]

        def expected(keep: Callable[[dict[str, Any]], bool]) -> set[str]:
            return {i["id"] for i in feed["insights"] if keep(i)}

        assert set(ids(get(base, "/api/insights?board=3"))) == expected(
            lambda i: i["board"]["id"] == 3
        )
        assert set(ids(get(base, "/api/insights?severity=error"))) == expected(
            lambda i: i["severity"] == "error"
        )
        assert len(ids(get(base, "/api/insights?severity=error"))) == 2
        assert set(ids(get(base, "/api/insights?type=velocity&board=2"))) == expected(
            lambda i: i["type"] == "velocity" and i["board"]["id"] == 2
        )
        assert ids(get(base, "/api/insights?change=new")) == []  # nothing compared with yet
        assert get(base, "/api/insights?type=weather").status_code == 422
        assert get(base, "/api/insights?severity=fatal").status_code == 422
        assert get(base, "/api/insights?board=PAY").status_code == 422

        boards = get(base, "/api/boards").json()["boards"]
        assert [(b["id"], b["name"]) for b in boards] == [
            (1, "CHK board"),
            (2, "MOB board"),
            (3, "PAY board"),
            (4, "PLAT board"),
        ]
        assert boards[2]["counts"] == {"error": 2, "warning": 2, "info": 4}
        assert boards[3]["counts"] == {"error": 0, "warning": 0, "info": 8}
        pay = get(base, "/api/boards/3").json()
        assert {i["id"] for i in pay["insights"]} == expected(lambda i: i["board"]["id"] == 3)
        assert pay["name"] == "PAY board" and pay["resolved"] == []
        figures = {figure["label"]: figure for figure in pay["figures"]}
        assert figures["Escape rate"] == {
            "label": "Escape rate",
            "value": "40%",
            "detail": figures["Escape rate"]["detail"],
            "alert": True,
        }
        assert figures["Escape rate"]["detail"].endswith("(limit 20%)")
        assert len(pay["figures"]) == 6 and figures["Scope growth"]["alert"] is False
        assert get(base, "/api/boards/99").status_code == 404

        health = get(base, "/api/health").json()
        assert health["ok"] is True and health["feed_exists"] is True
        assert health["as_of"] == feed["as_of"] and health["schema_version"] == "1.1.0"
        assert health["data_folder"] == str(served.resolve())


def test_changes_and_resolved_filters_on_a_compared_feed(served: Path) -> None:
    feed = read_feed(served)
    first = feed["insights"][0]
    compared = {
        **feed,
        "compared_with": "2026-11-19",
        "insights": [
            {**insight, "change": "new" if insight is first else "open"}
            for insight in feed["insights"]
        ],
        "resolved": [
            {
                "subject": "velocity-00000000000000aa",
                "id": "velocity-00000000000000bb",
                "type": "velocity",
                "severity": "warning",
                "title": "Velocity fell",
                "board": {"id": 4, "name": "PLAT board"},
                "sprint": None,
            }
        ],
    }
    with live_service(served) as base:
        before = get(base, "/api/version")
        write_feed(served, compared)
        after = get(base, "/api/version")
        assert after.json()["version"] != before.json()["version"]
        assert ids(get(base, "/api/insights?change=new")) == [first["id"]]
        assert len(ids(get(base, "/api/insights?change=open"))) == 31
        resolved = get(base, "/api/insights?status=resolved").json()
        assert resolved["status"] == "resolved" and resolved["compared_with"] == "2026-11-19"
        assert resolved["resolved"] == compared["resolved"]
        assert get(base, "/api/insights?status=resolved&board=1").json()["resolved"] == []
        assert get(base, "/api/boards/4").json()["resolved"] == compared["resolved"]
        assert get(base, "/api/insights?status=resolved&change=new").status_code == 422


def test_the_version_is_conditional(served: Path) -> None:
    with live_service(served) as base:
        first = get(base, "/api/version")
        assert first.status_code == 200 and first.headers["ETag"] == f'"{first.json()["version"]}"'
        assert first.json()["as_of"] == read_feed(served)["as_of"]
        unchanged = get(base, "/api/version", headers={"If-None-Match": first.headers["ETag"]})
        assert unchanged.status_code == 304 and unchanged.content == b""


def test_the_openapi_description_lists_every_endpoint(served: Path) -> None:
    with live_service(served) as base:
        described = get(base, "/openapi.json").json()
    assert set(described["paths"]) == {
        "/api/health",
        "/api/version",
        "/api/insights",
        "/api/boards",
        "/api/boards/{board_id}",
        "/api/insights/{insight_id}/feedback",
        "/api/ask",
    }
    schemas = described["components"]["schemas"]
    assert schemas["AskIn"]["properties"]["question"]["maxLength"] == 300
    assert schemas["FeedbackIn"]["properties"]["note"]["maxLength"] == 500
    assert schemas["FeedbackIn"]["properties"]["verdict"]["enum"] == [
        "helpful",
        "not_helpful",
        "dismiss",
    ]
    assert {"Insight", "InsightList", "ResolvedList", "BoardDetail", "Health"} <= set(schemas)


def test_no_page_of_the_service_loads_from_a_cdn(served: Path) -> None:
    """FastAPI's /docs and /redoc pages fetch their scripts from a CDN; they are off."""
    with live_service(served) as base:
        assert get(base, "/docs").status_code == 404
        assert get(base, "/redoc").status_code == 404


def test_the_report_on_disk_stays_script_free_and_the_served_copy_gets_the_script(
    served: Path,
) -> None:
    on_disk = DataFolder(served).report.read_text(encoding="utf-8")
    with live_service(served) as base:
        page = get(base, "/")
    assert "<script" not in on_disk
    assert (
        page.status_code == 200 and "script-src 'sha256-" in page.headers["Content-Security-Policy"]
    )
    assert page.text.count("<script") == 2 and f'id="{HIDDEN_STYLE_ID}"' in page.text
    assert DataFolder(served).report.read_text(encoding="utf-8") == on_disk


# Feedback.


def test_feedback_is_stored_by_subject_and_survives_a_restart(served: Path) -> None:
    feed = read_feed(served)
    liked = first_of(feed, "warning")
    velocity = next(i for i in feed["insights"] if i["type"] == "velocity")
    with live_service(served) as base:
        stored = post_feedback(base, liked["id"], {"verdict": "helpful", "note": "we fixed it"})
        assert stored.status_code == 201, stored.text
        assert stored.json()["subject"] == liked["subject"]
        assert stored.json()["facts_fingerprint"] == facts_fingerprint(liked["facts"])
        assert stored.json()["hidden"] is False
        assert post_feedback(base, velocity["id"], {"verdict": "not_helpful"}).status_code == 201
    with live_service(served) as base:  # a new app on the same folder
        body = get(base, "/api/insights").json()
    assert body["helpfulness"] == {liked["type"]: 1, "velocity": -1}
    records = FeedbackStore(feedback_path(served)).records()
    assert [(r.subject, r.insight_id, r.verdict, r.note, r.severity) for r in records] == [
        (liked["subject"], liked["id"], "helpful", "we fixed it", liked["severity"]),
        (velocity["subject"], velocity["id"], "not_helpful", "", velocity["severity"]),
    ]
    with sqlite3.connect(feedback_path(served)) as connection:
        assert connection.execute("pragma journal_mode").fetchone() == ("wal",)


def test_helpfulness_orders_the_use_cases_within_a_severity(served: Path) -> None:
    feed = read_feed(served)
    warnings = [i for i in feed["insights"] if i["severity"] == "warning"]
    last = warnings[-1]
    with live_service(served) as base:
        for _ in range(2):
            assert post_feedback(base, last["id"], {"verdict": "helpful"}).status_code == 201
        listed = get(base, "/api/insights").json()["insights"]
    errors = [i for i in listed if i["severity"] == "error"]
    after_errors = listed[len(errors) :]
    same_use_case = [i["id"] for i in warnings if i["type"] == last["type"]]
    assert [i["id"] for i in after_errors[: len(same_use_case)]] == same_use_case


def test_a_dismissed_insight_stays_hidden_until_its_severity_rises(served: Path) -> None:
    feed = read_feed(served)
    target = first_of(feed, "warning")
    with live_service(served) as base:
        answer = post_feedback(base, target["id"], {"verdict": "dismiss", "note": "known"})
        assert answer.status_code == 201 and answer.json()["hidden"] is True
        assert target["id"] not in ids(get(base, "/api/insights"))
        assert get(base, "/api/insights").json()["hidden_by_dismissal"] == 1
        assert target["id"] in ids(get(base, "/api/insights?include_dismissed=true"))
        board = get(base, f"/api/boards/{target['board']['id']}").json()
        assert target["id"] not in [i["id"] for i in board["insights"]]
        assert board["dismissed"] == 1
        page = get(base, "/").text
        assert f'main article.insight[id="{target["id"]}"]' in page

    with live_service(served) as base:  # after a restart
        assert target["id"] not in ids(get(base, "/api/insights"))
        assert len(ids(get(base, "/api/insights"))) == 31

        # The next day's feed, same figures: new ids, same subject, severity and facts.
        same_figures, new_ids = next_day_feed(feed)
        write_feed(served, same_figures)
        shown = ids(get(base, "/api/insights"))
        assert len(shown) == 31 and new_ids[target["id"]] not in shown
        assert set(shown) == set(new_ids.values()) - {new_ids[target["id"]]}

        # Its severity rises: it is news again.
        def raise_severity(insight: dict[str, Any]) -> None:
            if insight["subject"] == target["subject"]:
                insight["severity"] = "error"

        raised, new_ids = next_day_feed(feed, raise_severity)
        write_feed(served, raised)
        shown = ids(get(base, "/api/insights"))
        # Back, among the errors at the top (the sample's two, and this one).
        assert len(shown) == 32 and new_ids[target["id"]] in shown[:3]
        assert get(base, "/api/insights").json()["hidden_by_dismissal"] == 0


def test_feedback_survives_the_pipeline_running_again(served: Path) -> None:
    """A real re-materialization of the sample site, published over the served folder: the
    store is untouched and the dismissed finding, with the same figures, stays hidden."""
    import dagster as dg
    from automation_runs import materialize

    feed = read_feed(served)
    target = first_of(feed, "warning")
    with live_service(served) as base:
        assert post_feedback(base, target["id"], {"verdict": "dismiss"}).status_code == 201
        assert post_feedback(base, target["id"], {"verdict": "helpful"}).status_code == 201
        store = FeedbackStore(feedback_path(served))
        before = store.records()
        published_before = DataFolder(served).insights_feed.stat().st_mtime_ns
        with dg.instance_for_test() as instance:
            assert materialize(instance, served).success
        rerun = read_feed(served)
        assert DataFolder(served).insights_feed.stat().st_mtime_ns != published_before
        assert store.records() == before
        again = next(i for i in rerun["insights"] if i["subject"] == target["subject"])
        assert again["facts"] == target["facts"] and again["severity"] == target["severity"]
        shown = ids(get(base, "/api/insights"))
        assert again["id"] not in shown and len(shown) == len(rerun["insights"]) - 1


def test_a_dismissed_insight_stays_hidden_when_only_its_day_counts_move(served: Path) -> None:
    feed = read_feed(served)
    target = first_of(feed, "warning")
    with live_service(served) as base:
        assert post_feedback(base, target["id"], {"verdict": "dismiss"}).status_code == 201

        def a_day_later(insight: dict[str, Any]) -> None:
            if insight["subject"] == target["subject"]:
                name = next(k for k, v in insight["facts"].items() if isinstance(v, int | float))
                insight["facts"][name] = insight["facts"][name] + 1

        changed, new_ids = next_day_feed(feed, a_day_later)
        write_feed(served, changed)
        assert new_ids[target["id"]] not in ids(get(base, "/api/insights"))


# Bad requests.


def test_bad_requests_get_a_clear_4xx_and_change_nothing(served: Path) -> None:
    feed = read_feed(served)
    target = feed["insights"][0]
    url_path = f"/api/insights/{target['id']}/feedback"
    store = FeedbackStore(feedback_path(served))
    with live_service(served) as base:
        url = base + url_path
        json_header = {"Content-Type": "application/json"}
        cases: list[tuple[str, requests.Response, int]] = [
            (
                "unknown id",
                post_feedback(base, "flow-0000000000000000", {"verdict": "helpful"}),
                404,
            ),
            ("bad JSON", requests.post(url, data="{verdict", headers=json_header, timeout=10), 422),
            (
                "JSON not an object",
                requests.post(url, data="[1]", headers=json_header, timeout=10),
                422,
            ),
            ("unknown verdict", post_feedback(base, target["id"], {"verdict": "love"}), 422),
            ("no verdict", post_feedback(base, target["id"], {"note": "hm"}), 422),
            (
                "unknown field",
                post_feedback(base, target["id"], {"verdict": "helpful", "x": 1}),
                422,
            ),
            (
                "note too long",
                post_feedback(base, target["id"], {"verdict": "helpful", "note": "x" * 501}),
                422,
            ),
            (
                "note not text",
                post_feedback(base, target["id"], {"verdict": "helpful", "note": 5}),
                422,
            ),
            (
                "text/plain",
                requests.post(
                    url,
                    data=json.dumps({"verdict": "helpful"}),
                    headers={"Content-Type": "text/plain"},
                    timeout=10,
                ),
                415,
            ),
            ("a form", requests.post(url, data={"verdict": "helpful"}, timeout=10), 415),
            (
                "body too large",
                requests.post(url, data="x" * 20_000, headers=json_header, timeout=10),
                413,
            ),
            (
                "another site",
                post_feedback(
                    base,
                    target["id"],
                    {"verdict": "dismiss"},
                    headers={"Origin": "http://evil.example"},
                ),
                403,
            ),
            (
                "an opaque origin",
                post_feedback(
                    base, target["id"], {"verdict": "dismiss"}, headers={"Origin": "null"}
                ),
                403,
            ),
            (
                "a rebound host name",
                post_feedback(
                    base, target["id"], {"verdict": "dismiss"}, headers={"Host": "evil.example"}
                ),
                400,
            ),
        ]
        for name, response, status in cases:
            assert response.status_code == status, (name, response.status_code, response.text)
            if status != 400:  # the host check answers in plain text
                assert isinstance(response.json()["detail"], str | list), name
        assert not store.path.exists() and store.records() == []
        assert len(ids(get(base, "/api/insights"))) == 32
        assert "500" in str(cases[6][1].json())
        # The service's own page may post.
        own = post_feedback(base, target["id"], {"verdict": "helpful"}, headers={"Origin": base})
        assert own.status_code == 201
    assert [r.verdict for r in store.records()] == ["helpful"]


def test_a_note_of_500_characters_is_accepted_however_it_is_encoded(served: Path) -> None:
    target = read_feed(served)["insights"][0]
    note = "\N{GRINNING FACE}" * 500  # 12 bytes each as escaped JSON
    with live_service(served) as base:
        answer = post_feedback(base, target["id"], {"verdict": "helpful", "note": note})
    assert answer.status_code == 201, answer.text
    assert FeedbackStore(feedback_path(served)).records()[0].note == note


def test_a_configured_token_is_required_on_every_request(served: Path) -> None:
    token = "correct-horse-battery-staple-7f3a"
    target = read_feed(served)["insights"][0]
    store = FeedbackStore(feedback_path(served))
    with live_service(served, token=token) as base:
        for path in ("/api/insights", "/api/health", "/", "/openapi.json"):
            refused = get(base, path)
            assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
            assert token not in refused.text
        assert (
            get(base, "/api/insights", headers={"Authorization": "Bearer wrong"}).status_code == 401
        )
        assert get(base, "/api/insights", headers={"Authorization": token}).status_code == 401
        unauthorised = post_feedback(base, target["id"], {"verdict": "dismiss"})
        assert unauthorised.status_code == 401 and not store.path.exists()
        bearer = {"Authorization": f"Bearer {token}"}
        assert len(ids(get(base, "/api/insights", headers=bearer))) == 32
        assert (
            post_feedback(base, target["id"], {"verdict": "dismiss"}, headers=bearer).status_code
            == 201
        )
    assert [r.verdict for r in store.records()] == ["dismiss"]


def test_a_data_folder_without_a_feed_says_what_to_do(tmp_path: Path) -> None:
    with live_service(tmp_path / "empty") as base:
        missing = get(base, "/api/insights")
        assert missing.status_code == 503 and "make demo" in missing.json()["detail"]
        health = get(base, "/api/health").json()
        assert health["ok"] is False and health["feed_exists"] is False
        assert "make demo" in health["problem"]
        assert get(base, "/").status_code == 503
    assert not (tmp_path / "empty").exists()  # reading created nothing


# The command.


def _cli(*args: str, env: Mapping[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jira_insights_pipeline.cli", *args],
        cwd=ROOT,
        env={**env, "PYTHONWARNINGS": "ignore"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_serve_refuses_a_non_local_bind_without_a_token(served: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JIRA_INSIGHTS_SERVE_TOKEN"}
    process = _cli(
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        str(_free_port()),
        "--data-dir",
        str(served),
        env=env,
    )
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 2
    assert "JIRA_INSIGHTS_SERVE_TOKEN is not set" in output and "127.0.0.1" in output


def test_serve_on_all_addresses_with_a_token_never_echoes_it(served: Path) -> None:
    token = "s3cret-token-that-must-not-leak-91c2"
    port = _free_port()
    env = {**os.environ, "JIRA_INSIGHTS_SERVE_TOKEN": token}
    process = _cli(
        "serve", "--host", "0.0.0.0", "--port", str(port), "--data-dir", str(served), env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
            try:
                refused = get(base, "/api/health")
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert refused.status_code == 401
        allowed = get(base, "/api/health", headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200 and allowed.json()["ok"] is True
        # Any Host is fine on a non-local bind: the token is the guard there.
        assert (
            get(
                base,
                "/api/health",
                headers={"Authorization": f"Bearer {token}", "Host": "insights.example"},
            ).status_code
            == 200
        )
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "token required" in output and token not in output


def test_the_summary_command_does_not_import_the_service() -> None:
    script = (
        "import sys, jira_insights_pipeline.cli; "
        "print(sorted(m for m in ('fastapi', 'uvicorn') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip().splitlines()[-1] == "[]"


# The page in a real browser.


@pytest.mark.browser
@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="Debian's chromium and driver"
)
def test_chromium_dismisses_and_refreshes_in_place(served: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    feed = read_feed(served)
    target = first_of(feed, "warning")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    with live_service(served, poll_seconds=0.3) as base:
        driver = webdriver.Chrome(
            service=Service(executable_path=str(CHROMEDRIVER)), options=options
        )
        try:
            driver.set_window_size(1280, 900)
            driver.get(base + "/")
            wait = WebDriverWait(driver, 20)
            wait.until(
                lambda d: d.find_elements(By.CSS_SELECTOR, "article.insight .feedback button")
            )
            shown = driver.execute_script(
                "return Array.from(document.querySelectorAll('article.insight'), a => a.id)"
            )
            assert sorted(shown) == sorted(i["id"] for i in feed["insights"])
            article = driver.find_element(By.ID, target["id"])
            assert article.is_displayed()
            driver.execute_script("arguments[0].scrollIntoView()", article)
            article.find_element(By.CSS_SELECTOR, "input").send_keys("we know, <b>tracked</b>")
            article.find_element(By.CSS_SELECTOR, "button[data-verdict='dismiss']").click()
            wait.until(lambda d: not d.find_element(By.ID, target["id"]).is_displayed())
            assert target["id"] not in ids(get(base, "/api/insights"))
            records = FeedbackStore(feedback_path(served)).records()
            assert [(r.verdict, r.note) for r in records] == [
                ("dismiss", "we know, <b>tracked</b>")
            ]

            driver.execute_script("window.scrollTo(0, 1500); window.marker = 42;")
            scrolled = driver.execute_script("return window.scrollY")
            assert scrolled > 0
            # A newer run publishes: the next day's feed with the same figures, and its page.
            newer, new_ids = next_day_feed(feed)
            report = DataFolder(served).report
            page = report.read_text(encoding="utf-8")
            for old, new in new_ids.items():
                page = page.replace(f'id="{old}"', f'id="{new}"')
            page = page.replace("Figures as of 20 Nov 2026", "Figures as of 21 Nov 2026")
            write_text_atomically(report, page)
            write_feed(served, newer)

            wait.until(
                lambda d: d.execute_script("return window.jiraInsightsService.refreshes") >= 1
            )
            assert driver.execute_script("return window.marker") == 42  # no reload
            assert "21 Nov 2026" in driver.find_element(By.TAG_NAME, "header").text
            shown = driver.execute_script(
                "return Array.from(document.querySelectorAll('article.insight'), a => a.id)"
            )
            assert sorted(shown) == sorted(new_ids.values())
            # Still dismissed under its new id: same subject, same figures.
            assert not driver.find_element(By.ID, new_ids[target["id"]]).is_displayed()
            assert driver.find_elements(
                By.CSS_SELECTOR, f"[id='{new_ids[feed['insights'][0]['id']]}'] .feedback button"
            )
            assert abs(driver.execute_script("return window.scrollY") - scrolled) <= 2
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert errors == []
            # The page talks to its service only: its own page, the poll, the feedback.
            requested = {
                json.loads(entry["message"])["message"]["params"]["request"]["url"]
                for entry in driver.get_log("performance")
                if json.loads(entry["message"])["message"]["method"] == "Network.requestWillBeSent"
            }
            assert {url.split("?")[0] for url in requested} == {
                base + "/",
                base + "/api/version",
                f"{base}/api/insights/{target['id']}/feedback",
            }
        finally:
            driver.quit()


def test_ask_answers_with_the_analysis_and_bad_questions_get_a_4xx(served: Path) -> None:
    from jira_insights_pipeline.resources.llm import LlamaModelResource

    feed = read_feed(served)
    (velocity,) = [
        i for i in feed["insights"] if i["type"] == "velocity" and i["board"]["name"] == "MOB board"
    ]
    with live_service(served, model=LlamaModelResource(mode="on"), questions_per_minute=4) as base:
        answered = requests.post(
            f"{base}/api/ask", json={"question": "why is velocity dropping on MOB?"}, timeout=30
        )
        assert answered.status_code == 200
        body = answered.json()
        assert body["answered"] is True and body["analysis"]["insight_id"] == velocity["id"]
        assert body["message"] == velocity["message"] and "16 points" in body["message"]
        unrelated = requests.post(
            f"{base}/api/ask", json={"question": "what is the weather tomorrow"}, timeout=30
        ).json()
        assert unrelated["answered"] is False
        assert unrelated["message"].startswith("I can answer questions about ")
        too_long = requests.post(f"{base}/api/ask", json={"question": "why " * 100}, timeout=30)
        assert too_long.status_code == 422
        blank = requests.post(f"{base}/api/ask", json={"question": "   "}, timeout=30)
        assert blank.status_code == 422
        wrong_origin = requests.post(
            f"{base}/api/ask",
            json={"question": "why?"},
            headers={"Origin": "http://evil.example"},
            timeout=30,
        )
        assert wrong_origin.status_code == 403
        # Two answered, one refused by validation: the fourth question is the last allowed.
        statuses = [
            requests.post(f"{base}/api/ask", json={"question": "velocity on MOB?"}, timeout=30)
            for _ in range(3)
        ]
        assert [s.status_code for s in statuses] == [200, 200, 429]


def test_the_ask_command_answers_in_plain_words(served: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "jira_insights_pipeline.cli",
            "ask",
            "why is velocity dropping on MOB?",
        ],
        cwd=ROOT,
        env={**os.environ, "JIRA_INSIGHTS_DATA_DIR": str(served), "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == "[warning] Velocity dropped in MOB Sprint 30"
    assert "16 points" in lines[1] and "30.3" in lines[1]
    assert "Answered by the velocity analysis of MOB board, MOB Sprint 30" in lines[-1]


def test_chromium_asks_from_the_question_box(served: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    feed = read_feed(served)
    (velocity,) = [
        i for i in feed["insights"] if i["type"] == "velocity" and i["board"]["name"] == "MOB board"
    ]
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with live_service(served) as base:
        driver = webdriver.Chrome(
            service=Service(executable_path=str(CHROMEDRIVER)), options=options
        )
        try:
            driver.get(base + "/")
            wait = WebDriverWait(driver, 20)
            box = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "form.ask input"))
            box.send_keys("why is velocity dropping on MOB? <img src=x onerror=alert(1)>")
            driver.find_element(By.CSS_SELECTOR, "form.ask button").click()
            wait.until(lambda d: d.execute_script("return window.jiraInsightsService.answers"))
            answer = driver.find_element(By.CSS_SELECTOR, ".ask-answer")
            assert velocity["title"] in answer.text and "16 points" in answer.text
            link = answer.find_element(By.TAG_NAME, "a")
            assert link.get_attribute("href") == f"{base}/#{velocity['id']}"
            assert driver.find_elements(By.CSS_SELECTOR, ".ask-answer img") == []
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert errors == []
        finally:
            driver.quit()
