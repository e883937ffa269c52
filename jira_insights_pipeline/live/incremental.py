"""Incremental refresh: read only the issues changed since the last run and merge them into the
stored snapshot.

The watermark is the latest `updated` instant among the issues read, in epoch milliseconds,
kept in the snapshot's meta.json (`live_watermark_ms`). The next run asks for
`updated >= "<watermark minus an overlap>"`, written in the user's own time zone because that is
how Jira reads dates in JQL, to the minute because that is JQL's precision. Changed issues
replace stored ones by issue id when their `updated` is not older; new ones are appended.
Deleted issues, and edits that do not bump `updated`, only show on a full refresh.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jira_insights_pipeline.snapshot import IssueBlock, IssueLine, SnapshotError, load_snapshot

log = logging.getLogger(__name__)

WATERMARK_KEY = "live_watermark_ms"
JQL_KEY = "live_jql"
SOURCE_KEY = "live_transport"
DEPLOYMENT_KEY = "live_deployment"
INCREMENTAL_KEY = "live_incremental"
LAST_FULL_REFRESH_KEY = "live_last_full_refresh_at"
USER_TIME_ZONE_KEY = "live_user_time_zone"

# Stored issues as the merge receives them: decoded, or still encoded as their stored line, or
# as the gzip member of the stored file that holds them.
StoredIssue = TypeVar("StoredIssue", dict[str, Any], IssueLine, IssueLine | IssueBlock)

_ORDER_BY = re.compile(r"(?is)^(?P<condition>.*?)\s*\border\s+by\s+(?P<order>.+?)\s*$")
_JIRA_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_jira_instant(text: str) -> datetime:
    """Jira's timestamps (`2021-12-14T00:30:15.272+0000`, `...Z`, `...+08:00`) as aware UTC."""
    value = _JIRA_OFFSET.sub(r"\1:\2", text.strip().replace("Z", "+00:00"))
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return instant.astimezone(UTC)


def epoch_ms(instant: datetime) -> int:
    return round(instant.timestamp() * 1000)


def updated_ms(issue: Mapping[str, Any]) -> int | None:
    """An issue's `updated` in epoch milliseconds, or None when it has none."""
    value = (issue.get("fields") or {}).get("updated")
    if not value:
        return None
    try:
        return epoch_ms(parse_jira_instant(str(value)))
    except ValueError:
        log.warning("Issue %s: unreadable updated %r; ignored.", issue.get("key"), value)
        return None


def split_order_by(jql: str) -> tuple[str, str | None]:
    """`project = A ORDER BY rank` -> (`project = A`, `rank`)."""
    match = _ORDER_BY.match(jql.strip())
    if not match:
        return jql.strip(), None
    return match["condition"].strip(), match["order"].strip()


def quote_jql(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def projects_jql(project_keys: Iterable[str]) -> str:
    return f"project in ({', '.join(quote_jql(key) for key in project_keys)})"


def full_jql(base_jql: str) -> str:
    """The base query with a stable order (key ascending unless the query sets one)."""
    condition, order = split_order_by(base_jql)
    return f"{condition} ORDER BY {order or 'key ASC'}" if condition else f"ORDER BY {order}"


def user_zone(time_zone: str | None) -> ZoneInfo:
    if time_zone:
        try:
            return ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("Unknown Jira time zone %r; writing JQL dates in UTC.", time_zone)
    return ZoneInfo("UTC")


def jql_date(instant_ms: int, time_zone: str | None) -> str:
    """An instant as JQL wants it: `yyyy/MM/dd HH:mm` in the user's time zone, rounded down to
    the minute (so the query never starts later than asked)."""
    local = datetime.fromtimestamp(instant_ms / 1000, tz=UTC).astimezone(user_zone(time_zone))
    return local.strftime("%Y/%m/%d %H:%M")


def updated_since_jql(
    base_jql: str, watermark_ms: int, *, overlap: timedelta, time_zone: str | None
) -> str:
    """The base query narrowed to issues updated since the watermark minus the overlap."""
    since = watermark_ms - int(overlap.total_seconds() * 1000)
    condition, order = split_order_by(base_jql)
    narrowed = f'updated >= "{jql_date(since, time_zone)}"'
    where = f"({condition}) AND {narrowed}" if condition else narrowed
    return f"{where} ORDER BY {order or 'key ASC'}"


@dataclass(frozen=True)
class PreviousScrape:
    """What a stored snapshot says about the scrape that wrote it."""

    path: Path
    site: str
    watermark_ms: int | None
    jql: str | None
    last_full_refresh_at: str | None


def read_previous(path: Path | None) -> PreviousScrape | None:
    """The stored snapshot's scrape state, or None when there is no usable snapshot."""
    if path is None:
        return None
    try:
        snapshot = load_snapshot(path)
    except SnapshotError as error:
        log.info("No usable previous snapshot at %s (%s); reading everything.", path, error)
        return None
    extra = snapshot.meta.extra
    watermark = extra.get(WATERMARK_KEY)
    return PreviousScrape(
        path=Path(path),
        site=snapshot.meta.site,
        watermark_ms=int(watermark) if isinstance(watermark, int | float) else None,
        jql=extra.get(JQL_KEY),
        last_full_refresh_at=extra.get(LAST_FULL_REFRESH_KEY),
    )


def incremental_blocker(previous: PreviousScrape | None, site: str, base_jql: str) -> str | None:
    """Why an incremental run is impossible (None when it is possible)."""
    if previous is None:
        return "there is no stored snapshot"
    if previous.site.rstrip("/") != site.rstrip("/"):
        return f"the stored snapshot is of {previous.site}, not {site}"
    if previous.watermark_ms is None:
        return "the stored snapshot has no watermark (it was not written by a live scrape)"
    if previous.jql != base_jql:
        return "the query changed since the stored snapshot was written"
    return None


def is_not_older(candidate: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    new, old = updated_ms(candidate), updated_ms(stored)
    return new is None or old is None or new >= old


def merge_issues(
    stored: Iterable[StoredIssue], changed: Mapping[str, dict[str, Any]]
) -> Iterator[StoredIssue | dict[str, Any]]:
    """The stored issues in their order, each replaced by its changed version (matched by
    issue id) unless that one is older; then the changed issues that are new, in fetch order.

    Stored issues may be dicts, `IssueLine`s (still encoded) or `IssueBlock`s (still
    compressed); a kept stored issue is yielded as it came, so encoded lines pass through
    without being decoded, except the few that have a changed version to compare `updated`
    with, and a block none of whose issues changed passes through whole (a block with a
    changed issue is opened into its lines)."""
    placed: set[str] = set()
    for item in stored:
        if isinstance(item, IssueBlock):
            if not any(issue_id in changed for issue_id in item.ids):
                yield item
                continue
            issues: Iterable[Any] = item.lines()
        else:
            issues = (item,)
        for issue in issues:
            issue_id = issue.issue_id if isinstance(issue, IssueLine) else str(issue.get("id"))
            replacement = changed.get(issue_id)
            if replacement is not None:
                placed.add(issue_id)
                decoded = issue.decode() if isinstance(issue, IssueLine) else issue
                yield replacement if is_not_older(replacement, decoded) else issue
            else:
                yield issue
    for issue_id, issue in changed.items():
        if issue_id not in placed:
            yield issue
