"""The snapshot format: a folder of Jira's own JSON, the contract between every source and the
rest of the pipeline (see docs/snapshot-format.md).

Every source (the bundled sample site, a saved folder, the REST API, the browser) ends by writing
this format, and the staging assets only ever read it, so any scrape can be replayed later.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

META_FILE = "meta.json"
FIELDS_FILE = "fields.json"
STATUSES_FILE = "statuses.json"
BOARDS_FILE = "boards.json"
SPRINTS_FILE = "sprints.json"
ISSUES_FILE = "issues.jsonl"
ISSUES_FILE_GZ = "issues.jsonl.gz"

REQUIRED_FILES = (META_FILE, FIELDS_FILE, BOARDS_FILE, SPRINTS_FILE)

# The leading run of top-level members with plain (string, number, literal) values, as
# `write_snapshot` writes an issue: `{"expand":"...","id":"10001","self":"...","key":"AB-1",`.
# Jira puts `id` and `key` before `fields`, so this finds them without parsing the whole issue.
_JSON_STRING = rb'"(?:[^"\\]|\\.)*"'
_JSON_PLAIN_VALUE = rb"(?:" + _JSON_STRING + rb"|-?[0-9][0-9.eE+-]*|true|false|null)"
_SCALAR_MEMBERS_HEAD = re.compile(rb"\{(?:" + _JSON_STRING + rb":" + _JSON_PLAIN_VALUE + rb",)*")


class SnapshotError(ValueError):
    """A snapshot folder is missing a file or holds something that is not Jira's JSON."""


@dataclass(frozen=True)
class SnapshotMeta:
    """What `meta.json` says: where the data came from, when, and optional field overrides."""

    site: str
    exported_at: datetime
    story_points_field: str | None = None
    sprint_field: str | None = None
    flagged_field: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any], source: Path | str = META_FILE) -> SnapshotMeta:
        if not isinstance(data, dict):
            raise SnapshotError(f"{source}: expected a JSON object, got {type(data).__name__}.")
        missing = [key for key in ("site", "exported_at") if not data.get(key)]
        if missing:
            raise SnapshotError(
                f"{source}: missing {', '.join(missing)}. meta.json needs "
                '{"site": "https://<your-site>", "exported_at": "<ISO-8601 with offset>"}.'
            )
        exported_at = _parse_instant(data["exported_at"], f"{source}: exported_at")
        known = {"site", "exported_at", "story_points_field", "sprint_field", "flagged_field"}
        return cls(
            site=str(data["site"]).rstrip("/"),
            exported_at=exported_at,
            story_points_field=data.get("story_points_field") or None,
            sprint_field=data.get("sprint_field") or None,
            flagged_field=data.get("flagged_field") or None,
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"site": self.site, "exported_at": self.exported_at.isoformat()}
        for key in ("story_points_field", "sprint_field", "flagged_field"):
            value = getattr(self, key)
            if value:
                data[key] = value
        data.update(self.extra)
        return data


def _parse_instant(value: Any, what: str) -> datetime:
    try:
        instant = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise SnapshotError(f"{what}: {value!r} is not an ISO-8601 instant.") from error
    if instant.tzinfo is None:
        raise SnapshotError(
            f"{what}: {value!r} has no UTC offset; write it as e.g. 2026-01-31T09:00:00+00:00."
        )
    return instant


@dataclass(frozen=True)
class IssueLine:
    """One stored issue left encoded: its line exactly as stored, and the identity needed to
    place it. Lets a merge pass unchanged issues through without decoding and re-encoding
    them, which is almost all the time of an incremental run."""

    issue_id: str
    key: str
    raw: bytes

    def decode(self) -> dict[str, Any]:
        return orjson.loads(self.raw)


@dataclass
class Snapshot:
    """A snapshot folder, read lazily: the small files at once, the issues as a stream."""

    root: Path
    meta: SnapshotMeta
    fields: list[dict[str, Any]]
    statuses: list[dict[str, Any]] | None
    boards: list[dict[str, Any]]
    sprints: list[dict[str, Any]]

    @property
    def issues_path(self) -> Path:
        return _issues_path(self.root)

    def iter_issues(self) -> Iterator[dict[str, Any]]:
        """Yields each issue as Jira returned it; a broken line names the file and line."""
        path = self.issues_path
        for number, line in _numbered_lines(path):
            yield _decode_issue(line, path, number)

    def iter_issue_lines(self) -> Iterator[IssueLine]:
        """Yields each issue still encoded, with its id and key read from the start of its line
        (the whole line is parsed only when they are not there). Unlike `iter_issues`, the
        rest of a line is not checked to be valid JSON: this is for re-writing a snapshot
        that `write_snapshot` wrote (compressed, gzip's checksum guards it against corruption)."""
        path = self.issues_path
        for number, line in _numbered_lines(path):
            head = _scalar_members_head(line)
            if "id" in head and "key" in head and line.rstrip().endswith(b"}"):
                if b'"fields":' not in line:
                    raise SnapshotError(
                        f"{path}, line {number}: not a Jira issue (needs 'key' and 'fields')."
                    )
            else:
                head = _decode_issue(line, path, number)
            yield IssueLine(issue_id=str(head.get("id")), key=str(head["key"]), raw=line)


def _numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """The issues file's non-blank lines, numbered from 1 as an editor shows them."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield number, line


def _decode_issue(line: bytes, path: Path, number: int) -> dict[str, Any]:
    try:
        # orjson: parsing is about half the staging time at 100k issues.
        issue = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise SnapshotError(
            f"{path}, line {number}: not valid JSON ({error}). Each line of the "
            "issues file must be one issue as Jira's issue endpoint returns it."
        ) from error
    if not isinstance(issue, dict) or "key" not in issue or "fields" not in issue:
        raise SnapshotError(f"{path}, line {number}: not a Jira issue (needs 'key' and 'fields').")
    return issue


def _scalar_members_head(line: bytes) -> dict[str, Any]:
    """The top-level members with plain values that open an issue's line, decoded (empty when
    the line does not open that way). Parsing this prefix costs microseconds; the whole issue,
    with its changelog, costs a hundred times more."""
    match = _SCALAR_MEMBERS_HEAD.match(line)
    if match is None or match.end() == 1:
        return {}
    try:
        # The prefix ends with the comma after its last complete member: close the object there.
        head = orjson.loads(line[: match.end() - 1] + b"}")
    except orjson.JSONDecodeError:
        # Loosely matched but not JSON (a malformed number, say): let the full parse report it.
        return {}
    return head


def _issues_path(root: Path) -> Path:
    for name in (ISSUES_FILE_GZ, ISSUES_FILE):
        if (root / name).is_file():
            return root / name
    raise SnapshotError(
        f"{root}: no {ISSUES_FILE} or {ISSUES_FILE_GZ}. A snapshot needs its issues, one per line "
        "as GET /rest/api/3/issue/{key}?expand=changelog returns them."
    )


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise SnapshotError(
            f"{path}: not valid JSON ({error.msg}, line {error.lineno})."
        ) from error


def _read_array(path: Path, *unwrap_keys: str) -> list[dict[str, Any]]:
    """Reads a JSON array; also accepts Jira's paged wrapper ({"values": [...]}) as saved."""
    data = _read_json(path)
    if isinstance(data, dict):
        for key in unwrap_keys:
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list):
        raise SnapshotError(f"{path}: expected a JSON array, got {type(data).__name__}.")
    return data


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Opens a snapshot folder, checking that every required file is there and well formed."""
    root = Path(path)
    if not root.is_dir():
        raise SnapshotError(
            f"Snapshot folder {root} does not exist. Point JIRA_SNAPSHOT_DIR at a folder laid out "
            "as docs/snapshot-format.md describes."
        )
    missing = [name for name in REQUIRED_FILES if not (root / name).is_file()]
    if missing:
        raise SnapshotError(
            f"Snapshot folder {root} is missing {', '.join(missing)} "
            "(see docs/snapshot-format.md for what each file holds)."
        )
    _issues_path(root)
    statuses_path = root / STATUSES_FILE
    return Snapshot(
        root=root,
        meta=SnapshotMeta.from_json(_read_json(root / META_FILE), root / META_FILE),
        fields=_read_array(root / FIELDS_FILE),
        statuses=_read_array(statuses_path) if statuses_path.is_file() else None,
        boards=_read_array(root / BOARDS_FILE, "values"),
        sprints=_read_array(root / SPRINTS_FILE, "values"),
    )


def write_snapshot(
    dest: str | os.PathLike[str],
    *,
    meta: SnapshotMeta,
    fields: list[dict[str, Any]],
    boards: list[dict[str, Any]],
    sprints: list[dict[str, Any]],
    issues: Iterable[dict[str, Any] | bytes],
    statuses: list[dict[str, Any]] | None = None,
    compress: bool = True,
) -> Path:
    """Writes a snapshot folder atomically: into a temporary sibling, then renamed into place,
    so a failure part-way leaves whatever was at `dest` before untouched.

    Each of `issues` is a dict, encoded here, or `bytes`: one issue already encoded as a line
    (an `IssueLine.raw` from `Snapshot.iter_issue_lines`), written unchanged, with a newline
    added when it has none. Passing stored lines through keeps an incremental run cheap."""
    dest_path = Path(dest)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    staging_dir = Path(tempfile.mkdtemp(prefix=f".{dest_path.name}.", dir=dest_path.parent))
    try:
        _write_json(staging_dir / META_FILE, meta.to_json())
        _write_json(staging_dir / FIELDS_FILE, fields)
        _write_json(staging_dir / BOARDS_FILE, boards)
        _write_json(staging_dir / SPRINTS_FILE, sprints)
        if statuses is not None:
            _write_json(staging_dir / STATUSES_FILE, statuses)
        issues_file = staging_dir / (ISSUES_FILE_GZ if compress else ISSUES_FILE)
        with open(issues_file, "wb") as raw, _maybe_gzip(raw, compress) as stream:
            for issue in issues:
                if isinstance(issue, bytes):
                    stream.write(issue if issue.endswith(b"\n") else issue + b"\n")
                else:
                    line = json.dumps(issue, ensure_ascii=False, separators=(",", ":")) + "\n"
                    stream.write(line.encode("utf-8"))
        _replace_dir(staging_dir, dest_path)
    except BaseException:
        shutil.rmtree(staging_dir, ignore_errors=True)
        raise
    return dest_path


def _maybe_gzip(raw: IO[bytes], compress: bool) -> AbstractContextManager[IO[bytes]]:
    # No file name and mtime=0 in the gzip header keep the bytes identical for identical content.
    return (
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0, compresslevel=6)
        if compress
        else nullcontext(raw)
    )


def copy_snapshot(src: Snapshot, dest: str | os.PathLike[str]) -> Path:
    """Copies a snapshot's files (only the format's own) to `dest`, atomically."""
    dest_path = Path(dest)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    staging_dir = Path(tempfile.mkdtemp(prefix=f".{dest_path.name}.", dir=dest_path.parent))
    try:
        names = [*REQUIRED_FILES, STATUSES_FILE, src.issues_path.name]
        for name in names:
            if (src.root / name).is_file():
                shutil.copy2(src.root / name, staging_dir / name)
        _replace_dir(staging_dir, dest_path)
    except BaseException:
        shutil.rmtree(staging_dir, ignore_errors=True)
        raise
    return dest_path


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1, sort_keys=False)
        handle.write("\n")


def _replace_dir(new_dir: Path, dest: Path) -> None:
    """Puts `new_dir` at `dest`; an existing `dest` is moved aside first and removed only after
    the new one is in place."""
    old_dir = None
    if dest.exists():
        old_dir = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        shutil.rmtree(old_dir, ignore_errors=True)
        os.replace(dest, old_dir)
    try:
        os.replace(new_dir, dest)
    except BaseException:
        if old_dir is not None:
            os.replace(old_dir, dest)
        raise
    if old_dir is not None:
        shutil.rmtree(old_dir, ignore_errors=True)
