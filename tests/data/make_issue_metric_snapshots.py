"""Builds two small snapshot folders of real Jira issues for the issue metric tests, from the
read-only material in /work/shared/real-jira (run once by hand; the results are kept with the
tests). Each folder gets a README.md naming the origin of every file.

- tests/data/actionableagile_site/: the 25 issues of a real `/rest/api/latest/search?expand=
  changelog` page (ActionableAgile/jira-to-analytics @ d1f62222, test/data/json/
  jira-issues-request.json), unchanged: a custom workflow, offsets -0500 and -0400 on either side
  of the 2016 daylight-saving change.
- tests/data/kanalyzer_site/: KAN-5 (martingreer/Kanalyzer @ 0977174a, test/
  jiraParserTestData.json, key `jiraIssueThatWasReopenedThenDoneAgain`), unchanged: done,
  reopened to Testing eight months later, done again.

    .venv/bin/python tests/data/make_issue_metric_snapshots.py
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jira_insights_pipeline.snapshot import SnapshotMeta, write_snapshot

REAL = Path("/work/shared/real-jira")
HERE = Path(__file__).parent

ACTIONABLEAGILE_README = """\
# actionableagile_site: 25 real issues, a custom workflow, daylight saving

Built by `tests/data/make_issue_metric_snapshots.py`; read by
`tests/test_metrics_issue_real_data.py`.

- `issues.jsonl`: ActionableAgile/jira-to-analytics @ d1f62222,
  `test/data/json/jira-issues-request.json` (copied to
  /work/shared/real-jira/actionableagile_jira_to_analytics): the page's 25 issues, unchanged,
  one per line. Offsets are -0500 before and -0400 after 2016-03-13.
- `statuses.json`: rebuilt. Test, Done, Dev Active, Dev Done and Analysis Done carry the
  category the issues' own `status.statusCategory` gives. Backlog (10002) and Analysis Active
  (10100) are no issue's current status, so the page does not give their category: ours follow
  that tool's `config-v2.yaml` workflow (Backlog first, not started: `new`; Analysis Active a
  working stage: `indeterminate`).
- `boards.json`: rebuilt, one kanban board (id 1) on project UT, the page's project.
- `fields.json`, `sprints.json`: empty; the page has no sprints, story points or Flagged values.
- `meta.json`: `exported_at` 2016-03-30T00:00Z, after the page's last `updated`.
"""

KANALYZER_README = """\
# kanalyzer_site: KAN-5, done, reopened, done again

Built by `tests/data/make_issue_metric_snapshots.py`; read by
`tests/test_metrics_issue_real_data.py`.

- `issues.jsonl`: martingreer/Kanalyzer @ 0977174a, `test/jiraParserTestData.json`, key
  `jiraIssueThatWasReopenedThenDoneAgain` (copied to /work/shared/real-jira/kanalyzer): the
  issue KAN-5, unchanged (a Jira Server sub-task, offsets +0200 and +0100).
- `boards.json`: board 4 "Kanalyzer Team Board" of the same server, with the same file's
  `columnsDataLocalKANProject` (its `/rest/agile/1.0/board/4/configuration`) as
  `configuration`; the board's type and project key are ours.
- `statuses.json`: rebuilt. Done's category is the issue's own. Kanalyzer kept no status
  listing, so the others are ours: Ready to Refine (where KAN-5 was created, left of every board
  column) is `new`; Analyzing, Ready for Development, Ready for Test and Testing (between the
  board's first and last columns) are `indeterminate`.
- `fields.json`, `sprints.json`: empty.
- `meta.json`: `exported_at` 2017-03-12T00:00Z, after KAN-5's last update.
"""


def _status(site: str, status_id: str, name: str, category: str) -> dict[str, Any]:
    category_ids = {"new": 2, "indeterminate": 4, "done": 3}
    return {
        "self": f"{site}/rest/api/2/status/{status_id}",
        "id": status_id,
        "name": name,
        "statusCategory": {"id": category_ids[category], "key": category},
    }


def actionableagile() -> Path:
    site = "https://actionableagile.atlassian.net"
    page = json.loads(
        (REAL / "actionableagile_jira_to_analytics/jira-issues-request.json").read_text("utf-8")
    )
    issues = page["issues"]
    # Five statuses are some issue's current status, so their categories are Jira's own
    # (repeated here as the parser would learn them). Backlog and Analysis Active are no issue's
    # current status: their categories follow that tool's config-v2.yaml, whose workflow puts
    # Backlog first (not started) and Analysis Active among the working stages.
    learned = {
        issue["fields"]["status"]["id"]: (
            issue["fields"]["status"]["name"],
            issue["fields"]["status"]["statusCategory"]["key"],
        )
        for issue in issues
    }
    named = {"10002": ("Backlog", "new"), "10100": ("Analysis Active", "indeterminate")}
    statuses = [
        _status(site, status_id, name, category)
        for status_id, (name, category) in sorted({**named, **learned}.items())
    ]
    board = {
        "id": 1,
        "self": f"{site}/rest/agile/1.0/board/1",
        "name": "UT board",
        "type": "kanban",
        "location": {"projectId": 10100, "projectKey": "UT", "projectName": "Upload Test"},
    }
    folder = write_snapshot(
        HERE / "actionableagile_site",
        # After the last `updated` of the page (2016-03-29T07:20:13-04:00).
        meta=SnapshotMeta(site=site, exported_at=datetime(2016, 3, 30, tzinfo=UTC)),
        fields=[],
        boards=[board],
        sprints=[],
        issues=issues,
        statuses=statuses,
        compress=False,
    )
    (folder / "README.md").write_text(ACTIONABLEAGILE_README, encoding="utf-8")
    return folder


def kanalyzer() -> Path:
    site = "http://localhost:8080"
    tests = json.loads((REAL / "kanalyzer/jiraParserTestData.json").read_text("utf-8"))
    issue = tests["jiraIssueThatWasReopenedThenDoneAgain"]
    configuration = tests["columnsDataLocalKANProject"]
    # Done's category is the issue's own; Kanalyzer kept no status listing, so the others are
    # ours: Ready to Refine (where KAN-5 was created, left of every board column) is "new", the
    # statuses between the board's first and last columns are "indeterminate".
    statuses = [
        _status(site, "10002", "Ready to Refine", "new"),
        _status(site, "10012", "Analyzing", "indeterminate"),
        _status(site, "10006", "Ready for Development", "indeterminate"),
        _status(site, "10007", "Ready for Test", "indeterminate"),
        _status(site, "10008", "Testing", "indeterminate"),
        _status(site, "10001", "Done", issue["fields"]["status"]["statusCategory"]["key"]),
    ]
    board = {
        "id": configuration["id"],
        "self": f"{site}/rest/agile/1.0/board/{configuration['id']}",
        "name": configuration["name"],
        "type": "kanban",
        "location": {"projectKey": "KAN"},
        "configuration": configuration,
    }
    folder = write_snapshot(
        HERE / "kanalyzer_site",
        # After KAN-5's last update (2017-03-11T01:19:44+01:00).
        meta=SnapshotMeta(site=site, exported_at=datetime(2017, 3, 12, tzinfo=UTC)),
        fields=[],
        boards=[board],
        sprints=[],
        issues=[issue],
        statuses=statuses,
        compress=False,
    )
    (folder / "README.md").write_text(KANALYZER_README, encoding="utf-8")
    return folder


if __name__ == "__main__":
    for folder in (actionableagile(), kanalyzer()):
        print(f"wrote {folder}")
