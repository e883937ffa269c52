"""Builds tests/data/devlake_site/, a snapshot folder of real Jira Cloud data, from the raw API
rows Apache DevLake keeps for its Jira end-to-end test.

Origin: apache/incubator-devlake @ 420e494b, backend/plugins/jira/e2e/raw_tables (copied to
/work/shared/real-jira/devlake_jira_e2e/raw_tables). Each CSV row there holds one JSON object
exactly as merico.atlassian.net returned it. Only connection 2 / board 8 rows are used:

- fields.json   <- _raw_jira_api_issue_fields (DevLake kept only 2 of the site's fields)
- statuses.json <- _raw_jira_api_status
- sprints.json  <- _raw_jira_api_sprints (GET /rest/agile/1.0/board/8/sprint)
- issues.jsonl  <- _raw_jira_api_issues (GET /rest/agile/1.0/board/8/issue?expand=changelog)
- boards.json   <- board 8 as DevLake's _tool_jira_boards names it (no raw board rows were
                   kept), located in project EE (id 10003 in _raw_jira_api_projects)
- meta.json     <- exported_at = when DevLake collected the issues (2022-06-23 10:43:19.866,
                   its rows' created_at); story_points_field = customfield_10024, which DevLake's
                   e2e configuration names; sprint_field = customfield_10020, since the saved
                   field listing lacks the Sprint field (its changelog items name that id).

Run: .venv/bin/python tests/data/make_devlake_snapshot.py [raw_tables_dir]
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jira_insights_pipeline.snapshot import SnapshotMeta, write_snapshot

RAW_TABLES = Path("/work/shared/real-jira/devlake_jira_e2e/raw_tables")
DESTINATION = Path(__file__).parent / "devlake_site"
CONNECTION_ID = 2
BOARD_ID = 8
SITE = "https://merico.atlassian.net"
EXPORTED_AT = datetime(2022, 6, 23, 10, 43, 19, 866000, tzinfo=UTC)
STORY_POINTS_FIELD = "customfield_10024"
SPRINT_FIELD = "customfield_10020"
BOARD = {
    "id": BOARD_ID,
    "self": f"{SITE}/rest/agile/1.0/board/{BOARD_ID}",
    "name": "迭代开发看板（停用）",
    "type": "scrum",
    "location": {"projectId": 10003, "projectKey": "EE", "projectName": "Enterprise Edition"},
}


def raw_rows(raw_tables: Path, table: str, *, board_id: int | None = None) -> list[Any]:
    """The JSON `data` of a raw table's rows for connection 2 (and board 8 when asked), in
    DevLake's row order."""
    text = (raw_tables / f"{table}.csv").read_text(encoding="utf-8-sig").lstrip("\r\n")
    csv.field_size_limit(1 << 30)
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        params = json.loads(row["params"])
        if params.get("ConnectionId") != CONNECTION_ID:
            continue
        if board_id is not None and params.get("BoardId") != board_id:
            continue
        rows.append(json.loads(row["data"]))
    return rows


def main(raw_tables: Path = RAW_TABLES, destination: Path = DESTINATION) -> Path:
    issues = raw_rows(raw_tables, "_raw_jira_api_issues", board_id=BOARD_ID)
    if not issues:
        raise SystemExit(f"No connection {CONNECTION_ID} issue rows in {raw_tables}.")
    return write_snapshot(
        destination,
        meta=SnapshotMeta(
            site=SITE,
            exported_at=EXPORTED_AT,
            story_points_field=STORY_POINTS_FIELD,
            sprint_field=SPRINT_FIELD,
            extra={"origin": "apache/incubator-devlake@420e494b backend/plugins/jira/e2e"},
        ),
        fields=raw_rows(raw_tables, "_raw_jira_api_issue_fields"),
        statuses=raw_rows(raw_tables, "_raw_jira_api_status"),
        boards=[BOARD],
        sprints=raw_rows(raw_tables, "_raw_jira_api_sprints", board_id=BOARD_ID),
        issues=issues,
        compress=True,
    )


if __name__ == "__main__":
    print(main(Path(sys.argv[1])) if len(sys.argv) > 1 else main())
