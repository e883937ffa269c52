"""Builds tests/data/live_improvingflow/ from the read-only real Jira material in
/work/shared/real-jira (run once by hand; the result is committed with the tests).

Issues, statuses and board 1's configuration are copied unchanged from mikebowler/jirametrics.
Jira did not save a field listing, a board listing or a sprint listing for that site, so those
three are rebuilt from what the issues themselves say (see tests/data/live_improvingflow/README.md).

    .venv/bin/python tests/fake_jira/build_test_snapshot.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jira_insights_pipeline.snapshot import SnapshotMeta, write_snapshot

REAL = Path("/work/shared/real-jira")
JIRAMETRICS = REAL / "jirametrics_testdata"
FIELD_LISTINGS = REAL / "montgomery_public_jira_dataset_datadefinition/jira_field_information.json"
SITE = "https://improvingflow.atlassian.net"
DEST = Path(__file__).resolve().parents[1] / "data" / "live_improvingflow"

# complete_sample holds six issues; spec/testdata adds the four that carry a Sprint and Story
# Points, so the snapshot has a scrum sprint too. SP-1 and SP-2 exist in both: the
# complete_sample copy (the later one) wins.
ISSUE_FILES = [
    *sorted((JIRAMETRICS / "complete_sample/sample_issues").glob("SP-*.json")),
    *(JIRAMETRICS / "testdata" / f"SP-{n}.json" for n in (10, 13, 14, 15)),
]

# The custom fields these issues' changelogs name (item `field` and `fieldId`).
CUSTOM_FIELDS = {
    "customfield_10019": "Rank",
    "customfield_10020": "Sprint",
    "customfield_10021": "Flagged",
    "customfield_10036": "Story Points",
}


def _issue_number(issue: dict[str, Any]) -> int:
    return int(issue["key"].split("-")[1])


def _fields(issue_field_ids: set[str]) -> list[dict[str, Any]]:
    """Jira Cloud's own /field entries (Atlassian's ecosystem site) for every system field the
    issues carry, and for each named custom field the entry of the same type, re-numbered."""
    listing = json.loads(FIELD_LISTINGS.read_text(encoding="utf-8"))["JiraEcosystem"]
    by_id = {entry["id"]: entry for entry in listing}
    by_name: dict[str, dict[str, Any]] = {}
    for entry in listing:
        if entry.get("custom"):
            by_name.setdefault(entry["name"], entry)
    fields = [by_id[field_id] for field_id in sorted(issue_field_ids) if field_id in by_id]
    for field_id, name in CUSTOM_FIELDS.items():
        template = json.loads(json.dumps(by_name[name]))
        number = int(field_id.removeprefix("customfield_"))
        template["id"] = field_id
        template["key"] = field_id
        template["clauseNames"] = [f"cf[{number}]", name]
        template["schema"]["customId"] = number
        fields.append(template)
    return fields


def build() -> Path:
    issues: dict[str, dict[str, Any]] = {}
    for path in ISSUE_FILES:
        issue = json.loads(path.read_text(encoding="utf-8"))
        issues.setdefault(issue["key"], issue)
    ordered = sorted(issues.values(), key=_issue_number)
    field_ids = {field_id for issue in ordered for field_id in issue["fields"]}

    configuration = json.loads(
        (JIRAMETRICS / "complete_sample/sample_board_1_configuration.json").read_text("utf-8")
    )
    project = configuration["location"]
    location = {
        "projectId": int(project["id"]),
        "displayName": f"{project['name']} ({project['key']})",
        "projectName": project["name"],
        "projectKey": project["key"],
        "projectTypeKey": "software",
        "name": f"{project['name']} ({project['key']})",
    }
    kanban_board = {
        "id": configuration["id"],
        "self": f"{SITE}/rest/agile/1.0/board/{configuration['id']}",
        "name": configuration["name"],
        "type": configuration["type"],
        "location": location,
        "configuration": configuration,
    }

    sprint_objects = {
        sprint["id"]: sprint
        for issue in ordered
        for sprint in issue["fields"].get("customfield_10020") or []
    }
    sprints = [
        {
            "id": sprint["id"],
            "self": f"{SITE}/rest/agile/1.0/sprint/{sprint['id']}",
            "state": sprint["state"],
            "name": sprint["name"],
            "startDate": sprint["startDate"],
            "endDate": sprint["endDate"],
            "originBoardId": sprint["boardId"],
            "goal": sprint["goal"],
        }
        for sprint in sorted(sprint_objects.values(), key=lambda s: s["id"])
    ]
    scrum_board_id = sprints[0]["originBoardId"]
    scrum_configuration = json.loads(json.dumps(configuration))
    scrum_configuration.update(
        id=scrum_board_id,
        name="SP Scrum board",
        type="scrum",
        self=f"{SITE}/rest/agile/1.0/board/{scrum_board_id}/configuration",
        estimation={
            "type": "field",
            "field": {"fieldId": "customfield_10036", "displayName": "Story Points"},
        },
    )
    scrum_board = {
        "id": scrum_board_id,
        "self": f"{SITE}/rest/agile/1.0/board/{scrum_board_id}",
        "name": "SP Scrum board",
        "type": "scrum",
        "location": location,
        "configuration": scrum_configuration,
    }

    statuses = json.loads(
        (JIRAMETRICS / "complete_sample/sample_statuses.json").read_text(encoding="utf-8")
    )
    meta = SnapshotMeta.from_json({"site": SITE, "exported_at": "2022-05-08T00:00:00+00:00"})
    return write_snapshot(
        DEST,
        meta=meta,
        fields=_fields(field_ids),
        boards=[kanban_board, scrum_board],
        sprints=sprints,
        issues=ordered,
        statuses=statuses,
        compress=False,
    )


if __name__ == "__main__":
    print(build())
