"""The JSON shapes of a Jira Cloud site, as its REST API returns them: the field listing, statuses,
issue types, priorities, users, projects, boards with their configuration, sprints, and
descriptions in Atlassian Document Format (API v3) with the wiki text a changelog carries.

Modelled on real responses kept in /work/shared/real-jira (the Intel DAOS Cloud field listing of
the montgomery data set, DevLake's merico.atlassian.net issues and changelogs, jirametrics'
improvingflow.atlassian.net issues and board configuration, go-jira's mock board configuration).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from jira_insights_pipeline.sample.clock import agile_time

SITE = "https://sample-shop.atlassian.net"
API = f"{SITE}/rest/api/3"
AGILE = f"{SITE}/rest/agile/1.0"

STORY_POINTS_FIELD = "customfield_10016"
SPRINT_FIELD = "customfield_10020"
FLAGGED_FIELD = "customfield_10021"
RANK_FIELD = "customfield_10019"
LEGACY_STORY_POINTS_FIELD = "customfield_10026"
IMPEDIMENT_OPTION_ID = "10019"
DONE_RESOLUTION_ID = "10000"

# ---------------------------------------------------------------------------------------------
# Statuses and workflows
# ---------------------------------------------------------------------------------------------

_CATEGORIES: dict[str, dict[str, Any]] = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: str
    description: str


TO_DO = Status("10000", "To Do", "new", "")
SELECTED = Status("10005", "Selected for Development", "new", "")
IN_PROGRESS = Status(
    "3", "In Progress", "indeterminate", "This issue is being actively worked on at the moment."
)
IN_REVIEW = Status("10001", "In Review", "indeterminate", "Waiting for a code review.")
QA = Status("10004", "QA", "indeterminate", "Being tested on the staging environment.")
BLOCKED = Status("10002", "Blocked", "indeterminate", "Work cannot continue until it is unblocked.")
DONE = Status("10003", "Done", "done", "")
# Present on the site but used by no board's workflow, as on real sites.
BACKLOG = Status("10007", "Backlog", "new", "")
WONT_DO = Status("10006", "Won't Do", "done", "")

STATUSES: tuple[Status, ...] = (TO_DO, SELECTED, IN_PROGRESS, IN_REVIEW, QA, BLOCKED, DONE)
STATUS_BY_ID: dict[str, Status] = {s.id: s for s in (*STATUSES, BACKLOG, WONT_DO)}


@dataclass(frozen=True)
class Workflow:
    """A board's way through its statuses, from To Do to Done, with Blocked on the side."""

    name: str
    path: tuple[Status, ...]
    columns: tuple[tuple[str, tuple[Status, ...]], ...]


SIMPLE_WORKFLOW = Workflow(
    "simple",
    (TO_DO, IN_PROGRESS, IN_REVIEW, DONE),
    (
        ("To Do", (TO_DO,)),
        ("In Progress", (IN_PROGRESS, BLOCKED)),
        ("In Review", (IN_REVIEW,)),
        ("Done", (DONE,)),
    ),
)
QA_WORKFLOW = Workflow(
    "qa",
    (TO_DO, IN_PROGRESS, IN_REVIEW, QA, DONE),
    (
        ("To Do", (TO_DO,)),
        ("In Progress", (IN_PROGRESS,)),
        ("Blocked", (BLOCKED,)),
        ("In Review", (IN_REVIEW,)),
        ("QA", (QA,)),
        ("Done", (DONE,)),
    ),
)
SELECTED_WORKFLOW = Workflow(
    "selected",
    (TO_DO, SELECTED, IN_PROGRESS, IN_REVIEW, QA, DONE),
    (
        ("To Do", (TO_DO,)),
        ("Selected for Development", (SELECTED,)),
        ("In Progress", (IN_PROGRESS, BLOCKED)),
        ("In Review", (IN_REVIEW,)),
        ("QA", (QA,)),
        ("Done", (DONE,)),
    ),
)


def status_json(status: Status) -> dict[str, Any]:
    category = _CATEGORIES[status.category]
    return {
        "self": f"{API}/status/{status.id}",
        "description": status.description,
        "iconUrl": f"{SITE}/",
        "name": status.name,
        "untranslatedName": status.name,
        "id": status.id,
        "statusCategory": {"self": f"{API}/statuscategory/{category['id']}", **category},
    }


def statuses_json() -> list[dict[str, Any]]:
    """What `GET /rest/api/3/status` returns."""
    return [status_json(s) for s in (*STATUSES, BACKLOG, WONT_DO)]


RESOLUTION_DONE = {
    "self": f"{API}/resolution/{DONE_RESOLUTION_ID}",
    "id": DONE_RESOLUTION_ID,
    "description": "Work has been completed on this issue.",
    "name": "Done",
}

# ---------------------------------------------------------------------------------------------
# Issue types and priorities
# ---------------------------------------------------------------------------------------------

EPIC, STORY, TASK, SUBTASK, BUG = "Epic", "Story", "Task", "Sub-task", "Bug"

_ISSUE_TYPES = {
    EPIC: ("10000", "A big user story that needs to be broken down.", 10307, 1),
    STORY: ("10001", "Functionality or a feature expressed as a user goal.", 10315, 0),
    TASK: ("10002", "A small, distinct piece of work.", 10318, 0),
    SUBTASK: ("10003", "A small piece of work that's part of a larger task.", 10316, -1),
    BUG: ("10004", "A problem or error.", 10303, 0),
}


def issue_type_json(name: str) -> dict[str, Any]:
    type_id, description, avatar_id, level = _ISSUE_TYPES[name]
    return {
        "self": f"{API}/issuetype/{type_id}",
        "id": type_id,
        "description": description,
        "iconUrl": (f"{API}/universal_avatar/view/type/issuetype/avatar/{avatar_id}?size=medium"),
        "name": name,
        "subtask": level == -1,
        "avatarId": avatar_id,
        "hierarchyLevel": level,
    }


PRIORITIES = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low", "5": "Lowest"}


def priority_json(priority_id: str) -> dict[str, Any]:
    name = PRIORITIES[priority_id]
    return {
        "self": f"{API}/priority/{priority_id}",
        "iconUrl": f"{SITE}/images/icons/priorities/{name.lower()}.svg",
        "name": name,
        "id": priority_id,
    }


# ---------------------------------------------------------------------------------------------
# Fields (GET /rest/api/3/field)
# ---------------------------------------------------------------------------------------------

# (id, name, orderable, navigable, searchable, clause names, schema); system fields first, then
# the custom fields a Jira Software Cloud site is created with, at the ids Cloud gives them.
_SYSTEM_FIELDS: tuple[tuple[str, str, bool, bool, bool, tuple[str, ...], dict | None], ...] = (
    ("statuscategorychangedate", "Status Category Changed", False, True, True,
     ("statusCategoryChangedDate",), {"type": "datetime", "system": "statuscategorychangedate"}),
    ("issuetype", "Issue Type", True, True, True, ("issuetype", "type"),
     {"type": "issuetype", "system": "issuetype"}),
    ("parent", "Parent", False, True, False, ("parent",), None),
    ("timespent", "Time Spent", False, True, False, ("timespent",),
     {"type": "number", "system": "timespent"}),
    ("project", "Project", False, True, True, ("project",),
     {"type": "project", "system": "project"}),
    ("fixVersions", "Fix versions", True, True, True, ("fixVersion",),
     {"type": "array", "items": "version", "system": "fixVersions"}),
    ("statusCategory", "Status Category", False, True, True, ("statusCategory",), None),
    ("resolution", "Resolution", True, True, True, ("resolution",),
     {"type": "resolution", "system": "resolution"}),
    ("resolutiondate", "Resolved", False, True, True, ("resolutiondate", "resolved"),
     {"type": "datetime", "system": "resolutiondate"}),
    ("workratio", "Work Ratio", False, True, True, ("workratio",),
     {"type": "number", "system": "workratio"}),
    ("lastViewed", "Last Viewed", False, True, False, ("lastViewed",),
     {"type": "datetime", "system": "lastViewed"}),
    ("watches", "Watchers", False, True, False, ("watchers",),
     {"type": "watches", "system": "watches"}),
    ("created", "Created", False, True, True, ("created", "createdDate"),
     {"type": "datetime", "system": "created"}),
    ("priority", "Priority", True, True, True, ("priority",),
     {"type": "priority", "system": "priority"}),
    ("labels", "Labels", True, True, True, ("labels",),
     {"type": "array", "items": "string", "system": "labels"}),
    ("versions", "Affects versions", True, True, True, ("affectedVersion",),
     {"type": "array", "items": "version", "system": "versions"}),
    ("issuelinks", "Linked Issues", True, True, True, ("issueLink",),
     {"type": "array", "items": "issuelinks", "system": "issuelinks"}),
    ("assignee", "Assignee", True, True, True, ("assignee",),
     {"type": "user", "system": "assignee"}),
    ("updated", "Updated", False, True, True, ("updated", "updatedDate"),
     {"type": "datetime", "system": "updated"}),
    ("status", "Status", False, True, True, ("status",), {"type": "status", "system": "status"}),
    ("components", "Components", True, True, True, ("component",),
     {"type": "array", "items": "component", "system": "components"}),
    ("issuekey", "Key", False, True, False, ("id", "issue", "issuekey", "key"), None),
    ("description", "Description", True, True, True, ("description",),
     {"type": "string", "system": "description"}),
    ("summary", "Summary", True, True, True, ("summary",),
     {"type": "string", "system": "summary"}),
    ("creator", "Creator", False, True, True, ("creator",), {"type": "user", "system": "creator"}),
    ("subtasks", "Sub-tasks", False, True, False, ("subtasks",),
     {"type": "array", "items": "issuelinks", "system": "subtasks"}),
    ("reporter", "Reporter", True, True, True, ("reporter",),
     {"type": "user", "system": "reporter"}),
    ("environment", "Environment", True, True, True, ("environment",),
     {"type": "string", "system": "environment"}),
    ("duedate", "Due date", True, True, True, ("due", "duedate"),
     {"type": "date", "system": "duedate"}),
    ("comment", "Comment", True, False, True, ("comment",),
     {"type": "comments-page", "system": "comment"}),
    ("votes", "Votes", False, True, False, ("votes",), {"type": "votes", "system": "votes"}),
)  # fmt: skip

# (number, name, extra clause names, schema type, items, custom type)
_CUSTOM_FIELDS: tuple[tuple[int, str, tuple[str, ...], str, str | None, str], ...] = (
    (10000, "Development", (), "any", None,
     "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf"),
    (10001, "Team", ("Team[Team]",), "any", None, "com.atlassian.teams:rm-teams-custom-field-team"),
    (10011, "Epic Name", (), "string", None, "com.pyxis.greenhopper.jira:gh-epic-label"),
    (10012, "Epic Status", (), "option", None, "com.pyxis.greenhopper.jira:gh-epic-status"),
    (10013, "Epic Color", (), "string", None, "com.pyxis.greenhopper.jira:gh-epic-color"),
    (10014, "Epic Link", (), "any", None, "com.pyxis.greenhopper.jira:gh-epic-link"),
    (10015, "Start date", ("Start date[Date]",), "date", None,
     "com.atlassian.jira.plugin.system.customfieldtypes:datepicker"),
    (10016, "Story point estimate", (), "number", None,
     "com.pyxis.greenhopper.jira:jsw-story-points"),
    (10017, "Issue color", (), "string", None, "com.pyxis.greenhopper.jira:jsw-issue-color"),
    (10018, "Parent Link", (), "any", None, "com.atlassian.jpo:jpo-custom-field-parent"),
    (10019, "Rank", (), "any", None, "com.pyxis.greenhopper.jira:gh-lexo-rank"),
    (10020, "Sprint", (), "array", "json", "com.pyxis.greenhopper.jira:gh-sprint"),
    (10021, "Flagged", ("Flagged[Checkboxes]",), "array", "option",
     "com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes"),
    (10022, "Target start", (), "date", None, "com.atlassian.jpo:jpo-custom-field-baseline-start"),
    (10023, "Target end", (), "date", None, "com.atlassian.jpo:jpo-custom-field-baseline-end"),
    # A classic "Story Points" field that no board here estimates with: real sites keep both,
    # and only the board configuration says which one counts.
    (10026, "Story Points", ("Story Points[Number]",), "number", None,
     "com.atlassian.jira.plugin.system.customfieldtypes:float"),
)  # fmt: skip


def fields_json() -> list[dict[str, Any]]:
    """What `GET /rest/api/3/field` returns for this site."""
    listing: list[dict[str, Any]] = []
    for field_id, name, orderable, navigable, searchable, clauses, schema in _SYSTEM_FIELDS:
        entry: dict[str, Any] = {
            "id": field_id,
            "key": field_id,
            "name": name,
            "custom": False,
            "orderable": orderable,
            "navigable": navigable,
            "searchable": searchable,
            "clauseNames": list(clauses),
        }
        if schema is not None:
            entry["schema"] = schema
        listing.append(entry)
    for number, name, clauses, schema_type, items, custom in _CUSTOM_FIELDS:
        schema: dict[str, Any] = {"type": schema_type}
        if items:
            schema["items"] = items
        schema.update({"custom": custom, "customId": number})
        listing.append(
            {
                "id": f"customfield_{number}",
                "key": f"customfield_{number}",
                "name": name,
                "untranslatedName": name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": sorted({f"cf[{number}]", name, *clauses}),
                "schema": schema,
            }
        )
    return listing


# ---------------------------------------------------------------------------------------------
# Users, projects, boards, sprints
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    account_id: str
    display_name: str


def user_json(person: Person) -> dict[str, Any]:
    digest = hashlib.md5(person.account_id.encode(), usedforsecurity=False).hexdigest()
    names = person.display_name.split()
    initials = f"{names[0][0]}{names[-1][0]}".upper()
    # The avatar Atlassian draws for someone who never uploaded a picture.
    avatar = (
        "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/initials/"
        f"{initials}-{int(digest[:2], 16) % 6}.png"
    )
    return {
        "self": f"{API}/user?accountId={person.account_id}",
        "accountId": person.account_id,
        "avatarUrls": {size: avatar for size in ("48x48", "24x24", "16x16", "32x32")},
        "displayName": person.display_name,
        "active": True,
        "timeZone": "Europe/Berlin",
        "accountType": "atlassian",
    }


def project_json(project_id: int, key: str, name: str) -> dict[str, Any]:
    avatar = f"{API}/universal_avatar/view/type/project/avatar/{10400 + project_id % 25}"
    return {
        "self": f"{API}/project/{project_id}",
        "id": str(project_id),
        "key": key,
        "name": name,
        "projectTypeKey": "software",
        "simplified": False,
        "avatarUrls": {
            "48x48": avatar,
            "24x24": f"{avatar}?size=small",
            "16x16": f"{avatar}?size=xsmall",
            "32x32": f"{avatar}?size=medium",
        },
    }


def board_json(
    board_id: int, project_id: int, key: str, name: str, workflow: Workflow
) -> dict[str, Any]:
    """A board from `GET /rest/agile/1.0/board`, with its `configuration` from
    `GET /rest/agile/1.0/board/{id}/configuration` under the key the snapshot format expects."""
    board_name = f"{key} board"
    columns = [
        {
            "name": column,
            "statuses": [{"id": s.id, "self": f"{API}/status/{s.id}"} for s in statuses],
        }
        for column, statuses in workflow.columns
    ]
    return {
        "id": board_id,
        "self": f"{AGILE}/board/{board_id}",
        "name": board_name,
        "type": "scrum",
        "location": {
            "projectId": project_id,
            "displayName": f"{name} ({key})",
            "projectName": name,
            "projectKey": key,
            "projectTypeKey": "software",
            "avatarURI": (
                "/rest/api/2/universal_avatar/view/type/project/avatar/"
                f"{10400 + project_id % 25}?size=small"
            ),
            "name": f"{name} ({key})",
        },
        "isPrivate": False,
        "configuration": {
            "id": board_id,
            "name": board_name,
            "type": "scrum",
            "self": f"{AGILE}/board/{board_id}/configuration",
            "location": {
                "type": "project",
                "key": key,
                "id": str(project_id),
                "self": f"{API}/project/{project_id}",
                "name": name,
            },
            "filter": {"id": str(10000 + board_id), "self": f"{API}/filter/{10000 + board_id}"},
            "subQuery": {"query": "fixVersion in unreleasedVersions() OR fixVersion is EMPTY"},
            "columnConfig": {"columns": columns, "constraintType": "issueCount"},
            "estimation": {
                "type": "field",
                "field": {"fieldId": STORY_POINTS_FIELD, "displayName": "Story point estimate"},
            },
            "ranking": {"rankCustomFieldId": int(RANK_FIELD.rsplit("_", 1)[1])},
        },
    }


@dataclass(frozen=True)
class SprintInfo:
    """One sprint of one board. `complete` is None while the sprint has not been completed;
    `start`/`end` are None for a future sprint whose dates are not set yet."""

    id: int
    board_id: int
    name: str
    goal: str
    created: int
    start: int | None
    end: int | None
    complete: int | None

    @property
    def state(self) -> str:
        if self.complete is not None:
            return "closed"
        return "active" if self.start is not None else "future"


def sprint_json(sprint: SprintInfo) -> dict[str, Any]:
    """A sprint as `GET /rest/agile/1.0/board/{id}/sprint` lists it."""
    entry: dict[str, Any] = {
        "id": sprint.id,
        "self": f"{AGILE}/sprint/{sprint.id}",
        "state": sprint.state,
        "name": sprint.name,
    }
    if sprint.start is not None and sprint.end is not None:
        entry["startDate"] = agile_time(sprint.start)
        entry["endDate"] = agile_time(sprint.end)
    if sprint.complete is not None:
        entry["completeDate"] = agile_time(sprint.complete)
    entry["createdDate"] = agile_time(sprint.created)
    entry["originBoardId"] = sprint.board_id
    entry["goal"] = sprint.goal
    return entry


def sprint_field_json(sprint: SprintInfo) -> dict[str, Any]:
    """A sprint as the Sprint custom field holds it on an issue (Cloud: a JSON object)."""
    entry: dict[str, Any] = {
        "id": sprint.id,
        "name": sprint.name,
        "state": sprint.state,
        "boardId": sprint.board_id,
        "goal": sprint.goal,
    }
    if sprint.start is not None and sprint.end is not None:
        entry["startDate"] = agile_time(sprint.start)
        entry["endDate"] = agile_time(sprint.end)
    if sprint.complete is not None:
        entry["completeDate"] = agile_time(sprint.complete)
    return entry


# ---------------------------------------------------------------------------------------------
# Descriptions: Atlassian Document Format (the issue) and wiki text (the changelog)
# ---------------------------------------------------------------------------------------------

AC_HEADING = "Acceptance Criteria"


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def description_adf(paragraphs: list[str], criteria: list[str]) -> dict[str, Any]:
    content: list[dict[str, Any]] = [
        {"type": "paragraph", "content": [_text(p)]} for p in paragraphs
    ]
    if criteria:
        content.append({"type": "heading", "attrs": {"level": 2}, "content": [_text(AC_HEADING)]})
        content.append(
            {
                "type": "bulletList",
                "content": [
                    {"type": "listItem", "content": [{"type": "paragraph", "content": [_text(c)]}]}
                    for c in criteria
                ],
            }
        )
    return {"type": "doc", "version": 1, "content": content}


def description_wiki(paragraphs: list[str], criteria: list[str]) -> str:
    """The wiki text Jira writes into a changelog's fromString/toString for the same description:
    paragraphs apart by a blank line, `h2.` for the heading, `* ` for each bullet."""
    blocks = list(paragraphs)
    if criteria:
        blocks.append(f"h2. {AC_HEADING}")
        blocks.append("\n".join(f"* {c}" for c in criteria))
    return "\n\n".join(blocks)


def environment_adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [_text(text)]}],
    }
