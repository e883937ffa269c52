"""A live scrape, start to end: sign in, read fields, statuses, boards (with their
configuration), sprints and issues (with complete changelogs) from Jira, and write them as a
snapshot folder (docs/snapshot-format.md), with Jira's sprint reports beside it.

Nothing is written to `dest` until everything has been read: issues are spooled to a scratch
folder next to it first, and `write_snapshot` then replaces `dest` atomically. A scrape that
fails at any point (expired session, rate limit, bad JQL) leaves the stored snapshot as it was.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal

from jira_insights_pipeline.live.client import JiraClient
from jira_insights_pipeline.live.errors import LiveConfigurationError
from jira_insights_pipeline.live.incremental import (
    DEPLOYMENT_KEY,
    INCREMENTAL_KEY,
    JQL_KEY,
    LAST_FULL_REFRESH_KEY,
    SOURCE_KEY,
    USER_TIME_ZONE_KEY,
    WATERMARK_KEY,
    full_jql,
    incremental_blocker,
    merge_issues,
    projects_jql,
    read_previous,
    updated_ms,
    updated_since_jql,
)
from jira_insights_pipeline.live.redaction import install_redaction
from jira_insights_pipeline.live.settings import LiveSettings
from jira_insights_pipeline.live.sprint_reports import (
    SPRINT_REPORTS_DIR,
    missing_from_snapshot,
    sprint_report_file_name,
)
from jira_insights_pipeline.live.transports import HttpTransport, Sleep, Transport
from jira_insights_pipeline.snapshot import (
    ISSUES_PER_MEMBER,
    IssueBlock,
    IssueLine,
    SnapshotMeta,
    load_snapshot,
    write_snapshot,
)

logger = logging.getLogger(__name__)

TransportKind = Literal["rest", "browser"]


@dataclass(frozen=True)
class ScrapeResult:
    """What one live scrape read and wrote."""

    snapshot_dir: Path
    transport: TransportKind
    deployment: str
    signed_in_as: str
    incremental: bool
    # Why a run asked to be incremental read everything instead (None when it did not).
    full_refresh_reason: str | None
    jql: str
    issue_count: int
    fetched_issue_count: int
    changelogs_completed: int
    board_count: int
    sprint_count: int
    field_count: int
    watermark_ms: int | None
    sprint_report_count: int
    sprint_report_discrepancies: tuple[str, ...] = field(default=())
    request_count: int = 0
    elapsed_s: float = 0.0


def open_transport(
    settings: LiveSettings, transport_kind: TransportKind, *, sleep: Sleep = time.sleep
) -> Transport:
    """The transport of the `rest` or `browser` source, ready to send requests."""
    if transport_kind == "rest":
        return HttpTransport.from_settings(settings, sleep=sleep)
    if transport_kind == "browser":
        from jira_insights_pipeline.live.browser_login import open_browser_transport

        return open_browser_transport(settings, sleep=sleep)
    raise LiveConfigurationError(f"Unknown live transport {transport_kind!r}: use rest or browser.")


def scrape_to_snapshot(
    settings: LiveSettings,
    transport_kind: TransportKind,
    dest: Path,
    *,
    previous: Path | None = None,
    full_refresh: bool = True,
    log: logging.Logger | None = None,
    sleep: Sleep = time.sleep,
    now: Callable[[], datetime] | None = None,
    transport: Transport | None = None,
) -> ScrapeResult:
    """Reads the configured Jira site and writes a snapshot folder at `dest`.

    With `full_refresh=False` and `previous` a snapshot written by an earlier scrape of the same
    site and query, only issues updated since its watermark are read and merged into it;
    otherwise everything is read. `sleep` and `now` are for tests; pass `transport` to reuse
    one (it is then left open)."""
    log = log or logger
    redaction = install_redaction(settings.secret_values())
    if redaction not in log.filters:
        log.addFilter(redaction)
    owned = transport is None
    active = transport or open_transport(settings, transport_kind, sleep=sleep)
    try:
        return _scrape(
            settings,
            transport_kind,
            Path(dest),
            active,
            previous=Path(previous) if previous is not None else None,
            full_refresh=full_refresh,
            log=log,
            now=now or (lambda: datetime.now(UTC)),
        )
    finally:
        if owned:
            active.close()


def _scrape(
    settings: LiveSettings,
    transport_kind: TransportKind,
    dest: Path,
    transport: Transport,
    *,
    previous: Path | None,
    full_refresh: bool,
    log: logging.Logger,
    now: Callable[[], datetime],
) -> ScrapeResult:
    started = time.monotonic()
    requests_before = transport.request_count
    client = JiraClient(transport, page_size=settings.page_size)
    user = client.myself()
    client.deployment = user.deployment if settings.deployment == "auto" else settings.deployment
    log.info(
        "Reading %s as %s (Jira %s, %s source).",
        settings.base_url,
        user.display_name,
        client.deployment,
        transport_kind,
    )

    # Independent listings are asked for at once when the transport allows it: on a real
    # site each is a round trip, and together they were most of an incremental run's time.
    fields, statuses, boards = _at_once(
        transport,
        [
            client.fields,
            client.statuses,
            partial(client.boards, board_ids=settings.board_ids, project_keys=settings.projects),
        ],
    )
    per_board = _at_once(
        transport,
        [partial(client.board_configuration, board["id"]) for board in boards]
        + [partial(client.board_sprints, board["id"]) for board in boards],
    )
    for board, configuration in zip(boards, per_board[: len(boards)], strict=True):
        if configuration is not None:
            board["configuration"] = configuration
    sprints, sprint_boards = _sprints_of(boards, per_board[len(boards) :])
    log.info("%d fields, %d boards, %d sprints.", len(fields), len(boards), len(sprints))

    base_jql = _base_jql(settings, boards)
    stored = read_previous(previous)
    blocker = "a full refresh was asked for" if full_refresh else None
    blocker = blocker or incremental_blocker(stored, settings.base_url, base_jql)
    incremental = blocker is None
    if not full_refresh and blocker:
        log.info("Reading everything: %s.", blocker)
    if incremental:
        assert stored is not None and stored.watermark_ms is not None
        jql = updated_since_jql(
            base_jql,
            stored.watermark_ms,
            overlap=timedelta(minutes=settings.overlap_minutes),
            time_zone=user.time_zone,
        )
    else:
        jql = full_jql(base_jql)
    log.info("Issues: %s", jql)

    dest.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f".{dest.name}.scrape-", dir=dest.parent))
    try:
        spool = workdir / "issues.jsonl"
        fetched, watermark = _spool(client.search(jql), spool)
        log.info(
            "Read %d issue(s) (%d changelog(s) completed separately).",
            fetched,
            client.changelogs_completed,
        )
        reports = _fetch_sprint_reports(
            client,
            settings,
            sprints,
            sprint_boards,
            workdir / SPRINT_REPORTS_DIR,
            reuse_from=stored.path if incremental and stored else None,
            log=log,
        )
        exported_at = now()
        if incremental:
            assert stored is not None
            changed = {str(issue["id"]): issue for issue in _read_spool(spool)}
            # The stored issues stay compressed: the gzip members holding none of the ~1% that
            # changed are copied byte for byte, the others opened into their lines, and only
            # the changed issues are decoded (decompressing, decoding, re-encoding and
            # recompressing them all was nearly the whole time of an incremental run).
            issues: Iterable[dict[str, Any] | IssueLine | IssueBlock] = merge_issues(
                load_snapshot(stored.path).iter_issue_blocks(), changed
            )
            watermark = max(w for w in (stored.watermark_ms, watermark) if w is not None)
        else:
            issues = _read_spool(spool)
        meta = SnapshotMeta(
            site=settings.base_url,
            exported_at=exported_at,
            extra={
                SOURCE_KEY: transport_kind,
                DEPLOYMENT_KEY: client.deployment,
                JQL_KEY: base_jql,
                WATERMARK_KEY: watermark,
                INCREMENTAL_KEY: incremental,
                LAST_FULL_REFRESH_KEY: (
                    stored.last_full_refresh_at
                    if incremental and stored
                    else exported_at.isoformat()
                ),
                USER_TIME_ZONE_KEY: user.time_zone,
            },
        )
        keys: set[str] = set()
        write_snapshot(
            dest,
            meta=meta,
            fields=fields,
            boards=boards,
            sprints=sprints,
            issues=_collect_keys(issues, keys),
            statuses=statuses,
            issues_per_member=ISSUES_PER_MEMBER,
        )
        if (workdir / SPRINT_REPORTS_DIR).is_dir():
            os.replace(workdir / SPRINT_REPORTS_DIR, dest / SPRINT_REPORTS_DIR)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    discrepancies = tuple(missing_from_snapshot(reports, keys))
    for note in discrepancies:
        log.warning(note)
    return ScrapeResult(
        snapshot_dir=dest,
        transport=transport_kind,
        deployment=client.deployment,
        signed_in_as=user.display_name,
        incremental=incremental,
        full_refresh_reason=None if full_refresh or incremental else blocker,
        jql=jql,
        issue_count=len(keys),
        fetched_issue_count=fetched,
        changelogs_completed=client.changelogs_completed,
        board_count=len(boards),
        sprint_count=len(sprints),
        field_count=len(fields),
        watermark_ms=watermark,
        sprint_report_count=len(reports),
        sprint_report_discrepancies=discrepancies,
        request_count=transport.request_count - requests_before,
        elapsed_s=time.monotonic() - started,
    )


def _at_once(transport: Transport, calls: list[Callable[[], Any]]) -> list[Any]:
    """The results of independent requests, in the order of `calls`: sent together when the
    transport says it can take several at once (`parallel_requests`, the HTTP one), else one
    after another. Run together, all of them finish before the first failure, in the order of
    `calls`, is raised, so which error a run reports does not depend on timing."""
    workers = min(len(calls), getattr(transport, "parallel_requests", 1))
    if workers <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jira-request") as pool:
        futures = [pool.submit(call) for call in calls]
    return [future.result() for future in futures]


def _sprints_of(
    boards: list[dict[str, Any]], board_sprints: list[list[dict[str, Any]]]
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """Every board's sprints (`board_sprints`, in the order of `boards`), each once (a sprint
    shows on every board whose filter holds its issues), and the board whose report to ask for
    each: its own board when read, else the first board listing it."""
    sprints: dict[int, dict[str, Any]] = {}
    listed_on: dict[int, int] = {}
    for board, listed in zip(boards, board_sprints, strict=True):
        for sprint in listed:
            sprints.setdefault(sprint["id"], sprint)
            listed_on.setdefault(sprint["id"], board["id"])
    board_ids = {board["id"] for board in boards}
    report_board = {
        sprint_id: sprint.get("originBoardId")
        if sprint.get("originBoardId") in board_ids
        else listed_on[sprint_id]
        for sprint_id, sprint in sprints.items()
    }
    return list(sprints.values()), report_board


def _base_jql(settings: LiveSettings, boards: list[dict[str, Any]]) -> str:
    """JIRA_JQL, else the projects of JIRA_PROJECTS, else the projects of the boards read."""
    if settings.jql and settings.jql.strip():
        return settings.jql.strip()
    if settings.projects:
        return projects_jql(settings.projects)
    keys: list[str] = []
    for board in boards:
        location = board.get("location") or {}
        configured = (board.get("configuration") or {}).get("location") or {}
        key = location.get("projectKey") or (
            configured.get("key") if configured.get("type") == "project" else None
        )
        if key and key not in keys:
            keys.append(key)
    if not keys:
        raise LiveConfigurationError(
            "Could not tell which issues to read: no board the user can see belongs to a "
            "project. Set JIRA_PROJECTS (project keys) or JIRA_JQL."
        )
    return projects_jql(keys)


def _spool(issues: Iterator[dict[str, Any]], path: Path) -> tuple[int, int | None]:
    """Writes the fetched issues to a scratch file; returns how many and the latest
    `updated` (epoch ms) among them."""
    count = 0
    latest: int | None = None
    with open(path, "w", encoding="utf-8") as out:
        for issue in issues:
            out.write(json.dumps(issue, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
            stamp = updated_ms(issue)
            if stamp is not None and (latest is None or stamp > latest):
                latest = stamp
    return count, latest


def _read_spool(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _collect_keys(
    issues: Iterable[dict[str, Any] | IssueLine | IssueBlock], keys: set[str]
) -> Iterator[dict[str, Any] | IssueLine | IssueBlock]:
    """Passes the issues on for `write_snapshot`, noting each key."""
    for issue in issues:
        if isinstance(issue, IssueBlock):
            keys.update(issue.keys)
            yield issue
        elif isinstance(issue, IssueLine):
            keys.add(issue.key)
            yield issue
        else:
            keys.add(str(issue.get("key")))
            yield issue


def _fetch_sprint_reports(
    client: JiraClient,
    settings: LiveSettings,
    sprints: list[dict[str, Any]],
    report_board: dict[int, int],
    folder: Path,
    *,
    reuse_from: Path | None,
    log: logging.Logger,
) -> list[tuple[str, dict[str, Any]]]:
    """Jira's sprint report of every started sprint, saved into `folder`. An incremental run
    keeps the stored report of a sprint that was already closed. Returns (label, report)."""
    if not settings.fetch_sprint_reports:
        return []
    reports: list[tuple[str, dict[str, Any]]] = []
    for sprint in sprints:
        if str(sprint.get("state", "")).lower() not in ("active", "closed"):
            continue
        sprint_id, board_id = sprint["id"], report_board[sprint["id"]]
        name = sprint_report_file_name(board_id, sprint_id)
        stored = reuse_from / SPRINT_REPORTS_DIR / name if reuse_from else None
        if stored is not None and stored.is_file() and sprint.get("state") == "closed":
            report = json.loads(stored.read_text(encoding="utf-8"))
        else:
            report = client.sprint_report(board_id, sprint_id)
            if report is None:
                if not reports:
                    log.info(
                        "This site does not answer Jira's sprint report endpoint; skipping "
                        "sprint reports."
                    )
                    return []
                continue
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
        reports.append((f"Sprint {sprint_id} ({sprint.get('name')})", report))
    return reports
