"""Jira's instants, turned into UTC.

Jira writes instants in several ISO-8601 spellings: `2021-01-25T11:09:27.985+0800` (an offset
without a colon, from the platform REST API), `2020-06-12T00:38:51.882Z` and
`2018-08-06T11:04:04.515-04:00` (the agile API). The old sprint report
(`/rest/greenhopper/1.0/rapid/charts/sprintreport`) writes local times without any offset, like
`14/Feb/20 12:19 PM`, in the time zone of the user who asked.

A snapshot's columns go through `parse_jira_instants_keeping_going`: one value that is no instant
(an impossible date such as 2026-02-30, a typo year, a missing offset) becomes NaT and is handed
back with the reason, so the staging build records and leaves out that value instead of stopping.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

SPRINT_REPORT_DATE_FORMAT = "%d/%b/%y %I:%M %p"


class TimestampError(ValueError):
    """A value that should be a Jira instant is not one."""


def parse_jira_instant(value: str | None) -> pd.Timestamp | None:
    """One Jira instant as a UTC timestamp; None or "" gives None.

    Meant for single values (meta data, sprint dates); columns go through `parse_jira_instants`.
    """
    if value is None or value == "":
        return None
    try:
        instant = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise TimestampError(
            f"{value!r} is not an ISO-8601 instant as Jira writes them."
        ) from error
    if instant.tzinfo is None:
        raise TimestampError(
            f"{value!r} has no UTC offset, so its instant is unknown. Jira's REST API always "
            "writes one; a sprint-report date needs parse_sprint_report_date with a time zone."
        )
    return pd.Timestamp(instant).tz_convert("UTC")


class UnreadableInstant(NamedTuple):
    """A value of a column that is no instant: where it was, the value as found, and why (a
    phrase that follows the value in a sentence: "'2026-02-30T10:00:00.000+0000' is not a real
    calendar date (day is out of range for month)")."""

    position: int
    value: str
    problem: str


def parse_jira_instants(values: Iterable[str | None], what: str = "instants") -> pd.Series:
    """A column of Jira instants as `datetime64[ns, UTC]`; None and "" become NaT.

    The offset (`Z`, `+0800`, `-04:00`) is cut off each value in one pass, the local parts are
    parsed in one vectorised `pd.to_datetime` call, and the offsets, of which a site has few,
    are subtracted as a column. (Letting pandas parse the offsets itself is several times
    slower: it builds a time zone per value.) A value without an offset raises, naming `what`.
    """
    instants, _ = _parse_instants(values, what, strict=True)
    return instants


def parse_jira_instants_keeping_going(
    values: Iterable[str | None], what: str = "instants"
) -> tuple[pd.Series, list[UnreadableInstant]]:
    """`parse_jira_instants` for a snapshot's columns: a value that is no instant (an impossible
    date such as 2026-02-30, no UTC offset, not a date at all) becomes NaT and is returned with
    its position, so the caller can record it and leave it out instead of stopping the run."""
    return _parse_instants(values, what, strict=False)


def _parse_instants(
    values: Iterable[str | None], what: str, *, strict: bool
) -> tuple[pd.Series, list[UnreadableInstant]]:
    local: list[str | None] = []
    offset_minutes: list[int] = []
    known_offsets: dict[str, int] = {}
    unreadable: list[UnreadableInstant] = []
    raw = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else list(values)
    for position, value in enumerate(raw):
        if value is None or value == "" or value != value:
            local.append(None)
            offset_minutes.append(0)
            continue
        text = str(value)
        if "T" not in text:
            cut, offset = 0, ""
        elif text[-1:] == "Z":
            cut, offset = 1, "+00:00"
        elif text[-5:-4] in ("+", "-"):
            cut, offset = 5, text[-5:]
        elif text[-6:-5] in ("+", "-") and text[-3:-2] == ":":
            cut, offset = 6, text[-6:]
        else:
            cut, offset = 0, ""
        minutes = known_offsets.get(offset) if cut else None
        if cut and minutes is None:
            minutes = _offset_minutes(offset)
            if minutes is not None:
                known_offsets[offset] = minutes
        if minutes is None:
            problem = (
                "is not an instant with a UTC offset (Jira writes e.g. "
                "2021-01-25T11:09:27.985+0800), so its instant is unknown"
                if not cut
                else f"has {offset!r}, which is not a UTC offset like +0800 or -04:00"
            )
            if strict:
                raise TimestampError(f"{what}: {text!r} {problem}.")
            unreadable.append(UnreadableInstant(position, text, problem))
            local.append(None)
            offset_minutes.append(0)
            continue
        local.append(text[:-cut])
        offset_minutes.append(minutes)
    column = pd.Series(local, dtype=object)
    try:
        naive = pd.to_datetime(column, format="ISO8601")
    except (ValueError, TypeError) as error:
        if strict:
            raise TimestampError(f"{what}: not ISO-8601 instants ({error}).") from error
        # Rare (a damaged value), so only then is the column parsed a second time, the values
        # pandas cannot read becoming NaT and being named one by one.
        naive = pd.to_datetime(column, format="ISO8601", errors="coerce")
        failed = np.flatnonzero(naive.isna().to_numpy() & column.notna().to_numpy())
        for position in failed:
            unreadable.append(
                UnreadableInstant(
                    int(position), str(raw[position]), _why_unreadable(local[position])
                )
            )
            offset_minutes[position] = 0
        unreadable.sort(key=lambda item: item.position)
    shift = np.asarray(offset_minutes, dtype="int64").astype("timedelta64[m]")
    utc = naive.to_numpy(dtype="datetime64[ns]") - shift
    index = values.index if isinstance(values, pd.Series) else None
    return pd.Series(pd.DatetimeIndex(utc).tz_localize("UTC"), index=index), unreadable


def _why_unreadable(local: str | None) -> str:
    """Why pandas could not read a local date-time: Python's calendar says which part is
    impossible ("day is out of range for month")."""
    try:
        datetime.fromisoformat(str(local))
    except ValueError as error:
        detail = str(error)
        if "out of range" in detail or "must be in" in detail:
            return f"is not a real calendar date or time ({detail})"
        return "is not an ISO-8601 date and time as Jira writes them"
    # A real date pandas still refused: a year outside what nanosecond instants hold (a typo
    # such as 0202 for 2022).
    return "lies outside the years 1678 to 2261 that the tables can hold"


def _offset_minutes(offset: str) -> int | None:
    """An offset such as +0800 or -04:00 in minutes; None when it is not one."""
    digits = offset[1:].replace(":", "")
    if len(digits) != 4 or not digits.isdigit():
        return None
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return minutes if offset[0] == "+" else -minutes


def parse_sprint_report_date(text: str | None, time_zone: str = "UTC") -> pd.Timestamp | None:
    """A sprint-report date like `14/Feb/20 12:19 PM` as a UTC timestamp.

    The report writes the requesting user's local time without an offset, so the caller says
    which zone that was (an IANA name such as "Europe/Berlin"); the report's `isoStartDate`,
    when present, carries the offset and is the better source. "None" and "" give None.
    """
    if text is None or text.strip() in {"", "None"}:
        return None
    try:
        local = datetime.strptime(text.strip(), SPRINT_REPORT_DATE_FORMAT)
    except ValueError as error:
        raise TimestampError(
            f"{text!r} is not a sprint-report date like '14/Feb/20 12:19 PM' (day/month/year)."
        ) from error
    return pd.Timestamp(local.replace(tzinfo=ZoneInfo(time_zone))).tz_convert("UTC")
