"""The snapshot format: a folder of Jira's own JSON, the contract between every source and the
rest of the pipeline (see docs/snapshot-format.md).

Every source (the bundled sample site, a saved folder, the REST API, the browser) ends by writing
this format, and the staging assets only ever read it, so any scrape can be replayed later.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import struct
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, nullcontext
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

# What each JSON file must hold, for the message when it does not (docs/snapshot-format.md).
_JSON_FILE_HOLDS = {
    META_FILE: '{"site": "https://<your-site>", "exported_at": "<ISO-8601 with offset>"}',
    FIELDS_FILE: "the array GET /rest/api/3/field returns",
    STATUSES_FILE: "the array GET /rest/api/3/status returns",
    BOARDS_FILE: "the boards GET /rest/agile/1.0/board returns (its values array, or the page)",
    SPRINTS_FILE: "the sprints GET /rest/agile/1.0/board/{id}/sprint returns, for every board",
}
# What to do about a file that is damaged rather than misshapen: the export (or the copy of it)
# went wrong, and only the source of the snapshot can give the missing bytes back.
_REEXPORT = "re-export the snapshot (or copy the whole file again)"

COMPRESS_LEVEL = 6
# A live scrape writes its issues file as gzip members of this many issues, each listing its
# issues' ids and keys in its header (see `write_snapshot`), so that the next incremental run
# copies the members whose issues did not change as they are. Smaller members mean less to
# recompress around each changed issue, larger ones a smaller file (each member starts its
# compression afresh): 16 issues cost ~25% in size over one stream on the benchmark's issues.
ISSUES_PER_MEMBER = 16
# The gzip extra subfield (RFC 1952, 2.3.1.1) of such a member: a JSON object with the format
# version `v`, `size` (the bytes of the member after its header) and the `ids` and `keys` of
# its issues, in order. Bump the version when what a member holds for given lines changes.
MEMBER_INDEX_ID = b"JI"
MEMBER_INDEX_VERSION = 1
_GZIP_MAGIC_DEFLATE = b"\x1f\x8b\x08"
_FEXTRA = 0x04
# MTIME 0, XFL 0, OS 255 (unknown): nothing in a header depends on when or where it was written.
_GZIP_HEADER_TAIL = b"\x00\x00\x00\x00\x00\xff"
_MAX_SUBFIELD_DATA = 0xFFFF - 4

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
            raise SnapshotError(
                f"{source}: expected a JSON object, got {type(data).__name__}. meta.json needs "
                f"{_JSON_FILE_HOLDS[META_FILE]}."
            )
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


@dataclass(frozen=True)
class IssueBlock:
    """Consecutive stored issues left compressed: one gzip member of an issues file written
    with `issues_per_member`, with the ids and keys its header lists. An incremental merge
    copies a block none of whose issues changed as these bytes, without decompressing it."""

    ids: tuple[str, ...]
    keys: tuple[str, ...]
    member: bytes
    # The issues file the member was read from, for the message when it is corrupt: a member is
    # only decompressed later, while a merge writes the next snapshot.
    path: Path | None = field(default=None, compare=False)

    def lines(self) -> list[IssueLine]:
        """The block's issues as `IssueLine`s (decompressed; gzip's checksum is checked)."""
        member = f"{self.path}: a" if self.path else "A"
        member += f" gzip member of issues {self.keys[0]}..{self.keys[-1]}"
        # Blocks are only read from a snapshot this pipeline wrote (to merge an incremental
        # fetch into it), so a full refresh, which reads every issue from Jira again, repairs it.
        remedy = (
            "The stored snapshot was damaged after it was written: run raw_jira_scrape with "
            "full_refresh: true to read every issue from Jira again."
        )
        try:
            data = zlib.decompress(self.member, wbits=31)
        except zlib.error as error:
            raise SnapshotError(f"{member} is corrupt ({error}). {remedy}") from error
        raws = [line + b"\n" for line in data.split(b"\n")[:-1]]
        if len(raws) != len(self.ids) or not data.endswith(b"\n"):
            raise SnapshotError(
                f"{member} holds {len(raws)} line(s) where its header lists "
                f"{len(self.ids)} issue(s). {remedy}"
            )
        return [
            IssueLine(issue_id=issue_id, key=key, raw=raw)
            for issue_id, key, raw in zip(self.ids, self.keys, raws, strict=True)
        ]


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

    def iter_issue_blocks(self) -> Iterator[IssueBlock | IssueLine]:
        """Yields the issues as `IssueBlock`s, still compressed, when every gzip member of the
        issues file lists its issues in its header (as `write_snapshot` writes it with
        `issues_per_member`); otherwise as `iter_issue_lines` does. Only the member headers are
        read to tell: no issue is decompressed."""
        path = self.issues_path
        if path.suffix != ".gz":
            yield from self.iter_issue_lines()
            return
        with open(path, "rb") as handle:
            index = _member_index(handle)
            if index is None:
                yield from self.iter_issue_lines()
                return
            handle.seek(0)
            for ids, keys, length in index:
                yield IssueBlock(ids=ids, keys=keys, member=handle.read(length), path=path)


def _numbered_lines(path: Path, stream: IO[bytes] | None = None) -> Iterator[tuple[int, bytes]]:
    """The issues file's non-blank lines, numbered from 1 as an editor shows them.

    `stream`, when given, is read instead of opening `path` (`copy_snapshot` passes the file as
    it copies it); either way a damaged gzip file raises a `SnapshotError` naming `path`, the
    last complete line read and what to do, where gzip raises a bare EOFError or OSError."""
    number = 0
    last = b""
    with ExitStack() as stack:
        raw = stream if stream is not None else stack.enter_context(open(path, "rb"))
        lines: IO[bytes] = raw
        if path.suffix == ".gz":
            lines = stack.enter_context(gzip.GzipFile(filename="", fileobj=raw, mode="rb"))
        try:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    last = line
                    yield number, line
        except EOFError as error:
            # gzip yields only complete lines, so everything up to `number` was read intact.
            raise SnapshotError(
                f"{path}: the file is cut short: its gzip data ends {_after_line(number, last)}, "
                f"before the end of the compressed stream ({error}). It was truncated, e.g. by "
                f"an interrupted export, download or copy: {_REEXPORT}."
            ) from error
        except (gzip.BadGzipFile, zlib.error) as error:
            # Not every OSError: one from writing `copy_snapshot`'s copy (a full disk, say) is
            # about the destination and passes through as it is. zlib.error is corrupt deflate
            # data; gzip.BadGzipFile, a bad header, checksum or length.
            with open(path, "rb") as again:
                head = again.read(2)
            if number == 0 and head != _GZIP_MAGIC_DEFLATE[:2]:
                raise SnapshotError(
                    f"{path}: not gzip data (it starts with {head!r}, where gzip starts with "
                    f"b'\\x1f\\x8b'). If it holds plain JSON lines, name it {ISSUES_FILE}; "
                    f"otherwise {_REEXPORT}."
                ) from error
            raise SnapshotError(
                f"{path}: corrupt gzip data, found {_after_line(number, last)} ({error}). The "
                f"file was damaged after it was written: {_REEXPORT}."
            ) from error


def _after_line(number: int, line: bytes) -> str:
    """Where reading stopped, for a message: the last complete line and, when its start says,
    the issue's key (what a user can look for in Jira or in the file)."""
    if number == 0:
        return "before its first complete line"
    key = _scalar_members_head(line).get("key")
    issue = f" ({key})" if isinstance(key, str) else ""
    return f"after line {number}{issue}, the last complete line read"


def _member_index(handle: IO[bytes]) -> list[tuple[tuple[str, ...], tuple[str, ...], int]] | None:
    """Each gzip member's issue ids, keys and length in bytes, read from the member headers;
    None unless every member carries a valid index subfield and they end where the file does
    (a file gzipped by other means, or altered, is then read line by line instead)."""
    index = []
    size = os.fstat(handle.fileno()).st_size
    offset = 0
    while offset < size:
        handle.seek(offset)
        head = handle.read(12)
        if len(head) < 12 or head[:3] != _GZIP_MAGIC_DEFLATE or head[3] != _FEXTRA:
            return None
        extra = handle.read(int.from_bytes(head[10:12], "little"))
        fields = _index_subfield(extra)
        if fields is None:
            return None
        length = 12 + len(extra) + fields["size"]
        if offset + length > size:
            return None
        index.append((tuple(fields["ids"]), tuple(fields["keys"]), length))
        offset += length
    return index or None


def _index_subfield(extra: bytes) -> dict[str, Any] | None:
    """The index a member's extra field holds, checked; None when it holds none."""
    position = 0
    while position + 4 <= len(extra):
        length = int.from_bytes(extra[position + 2 : position + 4], "little")
        data = extra[position + 4 : position + 4 + length]
        if extra[position : position + 2] == MEMBER_INDEX_ID and len(data) == length:
            try:
                fields = orjson.loads(data)
            except orjson.JSONDecodeError:
                return None
            ok = (
                isinstance(fields, dict)
                and fields.get("v") == MEMBER_INDEX_VERSION
                and type(fields.get("size")) is int
                and fields["size"] >= 8
                and isinstance(fields.get("ids"), list)
                and isinstance(fields.get("keys"), list)
                and 0 < len(fields["ids"]) == len(fields["keys"])
                and all(isinstance(v, str) for v in (*fields["ids"], *fields["keys"]))
            )
            return fields if ok else None
        position += 4 + length
    return None


def _decode_issue(line: bytes, path: Path, number: int) -> dict[str, Any]:
    try:
        # orjson: parsing is about half the staging time at 100k issues.
        issue = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise _bad_issue_line(line, path, number, error) from error
    if not isinstance(issue, dict) or "key" not in issue or "fields" not in issue:
        raise SnapshotError(
            f"{path}, line {number}: not a Jira issue (needs 'key' and 'fields'). Each line "
            "must be one issue as GET /rest/api/3/issue/{key}?expand=changelog returns it: "
            "fix or remove that line, or re-export the snapshot."
        )
    return issue


def _bad_issue_line(
    line: bytes, path: Path, number: int, error: orjson.JSONDecodeError
) -> SnapshotError:
    """The error for an issue line orjson cannot parse, placed as an editor shows it: orjson's
    "line 1 column N" counts within the line, and says nothing of where bad UTF-8 is."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as bad:
        # orjson reports bad UTF-8 at the start of the line; Python finds the byte.
        column = len(line[: bad.start].decode("utf-8")) + 1
        return SnapshotError(
            f"{path}, line {number}: not UTF-8 text at column {column} ({bad.reason}). Jira "
            "sends UTF-8: save the file as UTF-8, or re-export the snapshot."
        )
    column = error.pos + 1  # orjson counts characters, as an editor does
    # Only the last line of a file can lack its line end: cut short mid-issue, most likely.
    remedy = (
        f"The line has no line end, so the file looks cut short: {_REEXPORT}."
        if not line.endswith(b"\n")
        else "Fix or remove that line, or re-export the snapshot."
    )
    return SnapshotError(
        f"{path}, line {number}: not valid JSON at column {column} ({error.msg}). Each line of "
        f"the issues file must be one issue as Jira's issue endpoint returns it. {remedy}"
    )


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
    holds = _JSON_FILE_HOLDS.get(path.name, "JSON")
    content = path.read_bytes()
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        if content.startswith(_GZIP_MAGIC_DEFLATE[:2]):
            # Only the issues file may be compressed; a gzipped small file is a likely slip.
            raise SnapshotError(
                f"{path}: gzip data, not JSON text. Only the issues file may be compressed: "
                f"decompress it (gunzip) so that it holds {holds}."
            ) from error
        raise SnapshotError(
            f"{path}: not UTF-8 text (byte {error.start}: {error.reason}). It must hold {holds}, "
            "as Jira sends it (UTF-8): save it as UTF-8, or re-export the snapshot."
        ) from error
    if not text.strip():
        raise SnapshotError(f"{path}: the file is empty. It must hold {holds}: {_REEXPORT}.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        # Most broken JSON in a saved file is a file cut short: the error is where it ends.
        cut_short = error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated")
        remedy = (
            f"The file ends before its JSON does, so it looks cut short: {_REEXPORT}."
            if cut_short
            else f"It must hold {holds}: fix it there, or re-export the snapshot."
        )
        raise SnapshotError(
            f"{path}: not valid JSON ({error.msg}, line {error.lineno} column {error.colno}). "
            f"{remedy}"
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
        raise SnapshotError(
            f"{path}: expected a JSON array, got {type(data).__name__}. It must hold "
            f"{_JSON_FILE_HOLDS.get(path.name, 'a JSON array')}."
        )
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
    issues: Iterable[dict[str, Any] | bytes | IssueLine | IssueBlock],
    statuses: list[dict[str, Any]] | None = None,
    compress: bool = True,
    issues_per_member: int | None = None,
) -> Path:
    """Writes a snapshot folder atomically: into a temporary sibling, then renamed into place,
    so a failure part-way leaves whatever was at `dest` before untouched.

    Each of `issues` is a dict, encoded here; `bytes`, one issue already encoded as a line,
    written unchanged (with a newline added when it has none); an `IssueLine`, its `raw` line
    so written; or an `IssueBlock`, its issues. Passing stored lines and blocks through keeps
    an incremental run cheap.

    With `issues_per_member` (and `compress`), the issues file is a series of gzip members of
    that many issues each (the last may hold fewer), each listing its issues' ids and keys in
    its header; an `IssueBlock` of that many issues that starts a member is copied as it is.
    Without, it is one gzip stream. Either way the bytes depend only on the issue lines."""
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
        with open(issues_file, "wb") as raw:
            if compress and issues_per_member:
                _write_members(raw, issues, issues_per_member)
            else:
                with _maybe_gzip(raw, compress) as stream:
                    for line, _ in _issue_lines(issues):
                        stream.write(line)
        _replace_dir(staging_dir, dest_path)
    except BaseException:
        shutil.rmtree(staging_dir, ignore_errors=True)
        raise
    return dest_path


def _issue_lines(
    issues: Iterable[dict[str, Any] | bytes | IssueLine | IssueBlock],
) -> Iterator[tuple[bytes, tuple[str, str] | None]]:
    """Each issue as the line to write, with its id and key when they are known."""
    for issue in issues:
        if isinstance(issue, IssueBlock):
            for line in issue.lines():
                yield line.raw, (line.issue_id, line.key)
        elif isinstance(issue, IssueLine):
            yield _with_newline(issue.raw), (issue.issue_id, issue.key)
        elif isinstance(issue, bytes):
            yield _with_newline(issue), None
        else:
            line = json.dumps(issue, ensure_ascii=False, separators=(",", ":")) + "\n"
            identity = (str(issue.get("id")), str(issue["key"])) if "key" in issue else None
            yield line.encode("utf-8"), identity


def _with_newline(line: bytes) -> bytes:
    return line if line.endswith(b"\n") else line + b"\n"


def _write_members(
    out: IO[bytes],
    issues: Iterable[dict[str, Any] | bytes | IssueLine | IssueBlock],
    per_member: int,
) -> None:
    """The issues file as gzip members of `per_member` issues (see `write_snapshot`)."""
    lines: list[bytes] = []
    identities: list[tuple[str, str] | None] = []
    written = False

    def flush() -> None:
        out.write(_gzip_member(b"".join(lines), identities))
        lines.clear()
        identities.clear()

    for issue in issues:
        if isinstance(issue, IssueBlock) and not lines and len(issue.ids) == per_member:
            out.write(issue.member)
            written = True
            continue
        for line, identity in _issue_lines((issue,)):
            if identity is None:
                identity = _identity_of_line(line)
            lines.append(line)
            identities.append(identity)
            if len(lines) == per_member:
                flush()
                written = True
    if lines or not written:
        flush()


def _identity_of_line(line: bytes) -> tuple[str, str] | None:
    """An encoded issue's id and key as `Snapshot.iter_issue_lines` reads them; None when the
    line is not a Jira issue."""
    head = _scalar_members_head(line)
    if not ("id" in head and "key" in head):
        try:
            head = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(head, dict) or "key" not in head:
            return None
    return str(head.get("id")), str(head["key"])


def _gzip_member(data: bytes, identities: list[tuple[str, str] | None]) -> bytes:
    """One gzip member of `data`, its header listing the issues' ids and keys (none when an
    issue's are unknown or the list is too long for a header). Same input, same bytes."""
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data) + compressor.flush()
    body += struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    subfield = b""
    if identities and all(identities):
        index = {
            "v": MEMBER_INDEX_VERSION,
            "size": len(body),
            "ids": [identity[0] for identity in identities if identity],
            "keys": [identity[1] for identity in identities if identity],
        }
        encoded = orjson.dumps(index)
        if len(encoded) <= _MAX_SUBFIELD_DATA:
            subfield = MEMBER_INDEX_ID + struct.pack("<H", len(encoded)) + encoded
    if not subfield:
        return _GZIP_MAGIC_DEFLATE + b"\x00" + _GZIP_HEADER_TAIL + body
    extra = struct.pack("<H", len(subfield)) + subfield
    return _GZIP_MAGIC_DEFLATE + bytes([_FEXTRA]) + _GZIP_HEADER_TAIL + extra + body


def _maybe_gzip(raw: IO[bytes], compress: bool) -> AbstractContextManager[IO[bytes]]:
    # No file name and mtime=0 in the gzip header keep the bytes identical for identical content.
    return (
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0, compresslevel=COMPRESS_LEVEL)
        if compress
        else nullcontext(raw)
    )


def copy_snapshot(src: Snapshot, dest: str | os.PathLike[str]) -> Path:
    """Copies a snapshot's files (only the format's own) to `dest`, atomically.

    Every issue line is decoded as it is copied, so a snapshot that cannot be read fails here,
    with the error naming the source's file and line (not the copy's, which the user never
    made), and nothing is stored: `dest` stays as it was and no temporary folder is left."""
    dest_path = Path(dest)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    staging_dir = Path(tempfile.mkdtemp(prefix=f".{dest_path.name}.", dir=dest_path.parent))
    try:
        for name in (*REQUIRED_FILES, STATUSES_FILE):
            if (src.root / name).is_file():
                shutil.copy2(src.root / name, staging_dir / name)
        _copy_issues_checked(src.issues_path, staging_dir / src.issues_path.name)
        _replace_dir(staging_dir, dest_path)
    except BaseException:
        shutil.rmtree(staging_dir, ignore_errors=True)
        raise
    return dest_path


def _copy_issues_checked(path: Path, dest: Path) -> None:
    """Copies the issues file byte for byte (a live scrape's member index stays usable) while
    decoding each of its lines from the bytes being copied: one read, one decompression."""
    with open(path, "rb") as source, open(dest, "wb") as copy:
        reader = io.BufferedReader(_CopyingReader(source, copy), buffer_size=1 << 20)
        for number, line in _numbered_lines(path, reader):
            _decode_issue(line, path, number)
        # Reading the lines reads to the end of the file; this only makes sure of it, since
        # what is stored must be all of what was checked and nothing else.
        while reader.read(1 << 20):
            pass
    shutil.copystat(path, dest)


class _CopyingReader(io.RawIOBase):
    """A readable file that writes every byte read from `source` to `copy`."""

    def __init__(self, source: io.BufferedIOBase, copy: IO[bytes]) -> None:
        self._source = source
        self._copy = copy

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._source.readinto(buffer)
        self._copy.write(memoryview(buffer)[:count])
        return count


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
