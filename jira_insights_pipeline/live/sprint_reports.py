"""Jira's own sprint report (`/rest/greenhopper/1.0/rapid/charts/sprintreport`), saved beside a
snapshot as `sprint_reports/board_<board>_sprint_<sprint>.json`, unchanged, and read back as
one row of Jira's figures per sprint so the pipeline's numbers can be checked against Jira's.

The report's quirks, as real sites send them: a sum over no estimated issues is
`{"text": "null"}` (no `value`); Server dates read `14/Feb/20 12:19 PM` in the user's time zone
(Cloud adds `isoStartDate` and friends); `allIssuesEstimateSum` counts an issue added during the
sprint twice. So the committed and completed figures here are summed from the report's issue
lists, and Jira's own sums are kept beside them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from jira_insights_pipeline.live.incremental import USER_TIME_ZONE_KEY, user_zone
from jira_insights_pipeline.snapshot import META_FILE

SPRINT_REPORTS_DIR = "sprint_reports"
ISSUE_LISTS = {
    "completed": "completedIssues",
    "not_completed": "issuesNotCompletedInCurrentSprint",
    "punted": "puntedIssues",
    "completed_in_another_sprint": "issuesCompletedInAnotherSprint",
}
JIRA_SUMS = {
    "jira_completed_sum": "completedIssuesEstimateSum",
    "jira_completed_initial_sum": "completedIssuesInitialEstimateSum",
    "jira_not_completed_sum": "issuesNotCompletedEstimateSum",
    "jira_not_completed_initial_sum": "issuesNotCompletedInitialEstimateSum",
    "jira_punted_sum": "puntedIssuesEstimateSum",
    "jira_punted_initial_sum": "puntedIssuesInitialEstimateSum",
    "jira_completed_in_another_sprint_sum": "issuesCompletedInAnotherSprintEstimateSum",
    "jira_all_issues_sum": "allIssuesEstimateSum",
}
SPRINT_REPORT_COLUMNS = [
    "sprint_id",
    "board_id",
    "sprint_name",
    "sprint_state",
    "start_date",
    "end_date",
    "complete_date",
    "estimate_field",
    "committed_points",
    "added_points",
    "completed_points",
    "completed_initial_points",
    "not_completed_points",
    "punted_points",
    "committed_issue_count",
    "added_issue_count",
    "completed_issue_count",
    "not_completed_issue_count",
    "punted_issue_count",
    "completed_in_another_sprint_count",
    *JIRA_SUMS,
    "report_file",
]

_FILE_NAME = re.compile(r"^(?:board_(?P<board>\d+)_sprint_)?(?P<sprint>\d+)\.json$")
_SERVER_DATE = "%d/%b/%y %I:%M %p"


def sprint_report_file_name(board_id: int, sprint_id: int) -> str:
    return f"board_{board_id}_sprint_{sprint_id}.json"


def _sum_value(entry: Any) -> float:
    """A report sum as a number; `{"text": "null"}` (Jira's "no estimated issue") is NaN."""
    if isinstance(entry, Mapping):
        value = entry.get("value")
        if isinstance(value, int | float):
            return float(value)
    return math.nan


def _estimate(issue: Mapping[str, Any], key: str) -> float:
    """An issue's estimate in the report (`estimateStatistic` when it entered the sprint,
    `currentEstimateStatistic` now); unestimated counts as 0, as in Jira's sums."""
    value = ((issue.get(key) or {}).get("statFieldValue") or {}).get("value")
    return float(value) if isinstance(value, int | float) else 0.0


def _instant(sprint: Mapping[str, Any], name: str, zone: Any) -> pd.Timestamp:
    iso = sprint.get(f"iso{name[0].upper()}{name[1:]}")
    if iso:
        return pd.Timestamp(iso).tz_convert("UTC")
    text = sprint.get(name)
    if not text or text == "None":
        return pd.NaT
    try:
        local = datetime.strptime(str(text), _SERVER_DATE).replace(tzinfo=zone)
    except ValueError:
        return pd.NaT
    return pd.Timestamp(local).tz_convert("UTC")


def sprint_report_row(
    report: Mapping[str, Any], *, board_id: int | None, time_zone: str | None, source: str
) -> dict[str, Any]:
    """One sprint's figures from one saved report."""
    contents = report.get("contents") or {}
    sprint = report.get("sprint") or {}
    added_keys = set((contents.get("issueKeysAddedDuringSprint") or {}).keys())
    lists = {name: contents.get(key) or [] for name, key in ISSUE_LISTS.items()}
    every_issue = [issue for issues in lists.values() for issue in issues]
    committed = [issue for issue in every_issue if issue.get("key") not in added_keys]
    added = [issue for issue in every_issue if issue.get("key") in added_keys]
    fields = {
        (issue.get("estimateStatistic") or {}).get("statFieldId")
        for issue in every_issue
        if issue.get("estimateStatistic")
    }
    zone = user_zone(time_zone)
    row: dict[str, Any] = {
        "sprint_id": int(sprint["id"]),
        "board_id": board_id,
        "sprint_name": sprint.get("name"),
        "sprint_state": str(sprint.get("state", "")).lower() or None,
        "start_date": _instant(sprint, "startDate", zone),
        "end_date": _instant(sprint, "endDate", zone),
        "complete_date": _instant(sprint, "completeDate", zone),
        "estimate_field": next(iter(sorted(f for f in fields if f)), None),
        "committed_points": sum(_estimate(i, "estimateStatistic") for i in committed),
        "added_points": sum(_estimate(i, "estimateStatistic") for i in added),
        "completed_points": sum(
            _estimate(i, "currentEstimateStatistic") for i in lists["completed"]
        ),
        "completed_initial_points": sum(
            _estimate(i, "estimateStatistic") for i in lists["completed"]
        ),
        "not_completed_points": sum(
            _estimate(i, "currentEstimateStatistic") for i in lists["not_completed"]
        ),
        "punted_points": sum(_estimate(i, "currentEstimateStatistic") for i in lists["punted"]),
        "committed_issue_count": len(committed),
        "added_issue_count": len(added_keys),
        "completed_issue_count": len(lists["completed"]),
        "not_completed_issue_count": len(lists["not_completed"]),
        "punted_issue_count": len(lists["punted"]),
        "completed_in_another_sprint_count": len(lists["completed_in_another_sprint"]),
        "report_file": source,
    }
    for column, key in JIRA_SUMS.items():
        row[column] = _sum_value(contents.get(key))
    return row


def report_issue_keys(report: Mapping[str, Any]) -> set[str]:
    contents = report.get("contents") or {}
    return {
        str(issue["key"])
        for key in ISSUE_LISTS.values()
        for issue in contents.get(key) or []
        if issue.get("key")
    }


def load_sprint_reports(snapshot_dir: str | Path) -> pd.DataFrame:
    """Jira's own per-sprint figures from the reports saved beside a snapshot: one row per
    sprint (columns SPRINT_REPORT_COLUMNS; dates UTC). Empty when none were saved."""
    root = Path(snapshot_dir)
    time_zone = None
    meta_path = root / META_FILE
    if meta_path.is_file():
        time_zone = json.loads(meta_path.read_text(encoding="utf-8")).get(USER_TIME_ZONE_KEY)
    rows = []
    folder = root / SPRINT_REPORTS_DIR
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        match = _FILE_NAME.match(path.name)
        if not match:
            continue
        report = json.loads(path.read_text(encoding="utf-8"))
        board = match["board"]
        rows.append(
            sprint_report_row(
                report,
                board_id=int(board) if board else None,
                time_zone=time_zone,
                source=f"{SPRINT_REPORTS_DIR}/{path.name}",
            )
        )
    frame = pd.DataFrame(rows, columns=SPRINT_REPORT_COLUMNS)
    frame["board_id"] = frame["board_id"].astype("Int64")
    for column in ("start_date", "end_date", "complete_date"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.sort_values("sprint_id", kind="stable").reset_index(drop=True)


def compare_sprint_reports(
    jira_figures: pd.DataFrame,
    our_figures: pd.DataFrame,
    *,
    committed_column: str = "committed_points",
    completed_column: str = "completed_points",
    tolerance: float = 0.01,
) -> pd.DataFrame:
    """Jira's committed and completed points against ours, per sprint present in both: one row
    per sprint and figure with both values, the difference (ours minus Jira's) and whether
    they agree within `tolerance`."""
    ours = our_figures[["sprint_id", committed_column, completed_column]].rename(
        columns={committed_column: "committed_points", completed_column: "completed_points"}
    )
    merged = jira_figures[["sprint_id", "sprint_name", "committed_points", "completed_points"]]
    merged = merged.merge(ours, on="sprint_id", suffixes=("_jira", "_ours"))
    rows = [
        {
            "sprint_id": int(row.sprint_id),
            "sprint_name": row.sprint_name,
            "figure": figure,
            "jira_value": float(getattr(row, f"{figure}_jira")),
            "our_value": float(getattr(row, f"{figure}_ours")),
        }
        for row in merged.itertuples(index=False)
        for figure in ("committed_points", "completed_points")
    ]
    result = pd.DataFrame(
        rows, columns=["sprint_id", "sprint_name", "figure", "jira_value", "our_value"]
    )
    result["difference"] = result["our_value"] - result["jira_value"]
    result["agrees"] = result["difference"].abs() <= tolerance
    return result


def missing_from_snapshot(
    reports: Iterable[tuple[str, Mapping[str, Any]]], snapshot_keys: set[str]
) -> list[str]:
    """For each report, the issues Jira counts in the sprint that the snapshot does not hold
    (outside the scraped query, or deleted): a reason our figures can differ from Jira's."""
    notes = []
    for label, report in reports:
        missing = sorted(report_issue_keys(report) - snapshot_keys)
        if missing:
            shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
            notes.append(
                f"{label}: Jira's sprint report counts {len(missing)} issue(s) the snapshot "
                f"does not hold ({shown}); widen JIRA_JQL/JIRA_PROJECTS to include them."
            )
    return notes
