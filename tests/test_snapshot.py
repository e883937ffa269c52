"""The snapshot format's reader and writer: every source's output passes through them, so a
broken folder must fail with an error naming the file and what to do, and a failed write must
leave the previous snapshot exactly as it was."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jira_insights_pipeline.snapshot import (
    IssueBlock,
    IssueLine,
    SnapshotError,
    SnapshotMeta,
    copy_snapshot,
    load_snapshot,
    write_snapshot,
)

META = SnapshotMeta(
    site="https://example.atlassian.net", exported_at=datetime(2026, 1, 2, tzinfo=UTC)
)
ISSUE = {"id": "10001", "key": "AB-1", "fields": {"summary": "One"}}


def _write(dest: Path, issues: list[dict] | None = None, **kwargs) -> Path:
    return write_snapshot(
        dest,
        meta=META,
        fields=[{"id": "summary", "name": "Summary"}],
        boards=[{"id": 1, "name": "AB board"}],
        sprints=[],
        issues=issues if issues is not None else [ISSUE],
        **kwargs,
    )


def test_round_trip_keeps_jira_json_unchanged(tmp_path: Path) -> None:
    issue = {"id": "10002", "key": "AB-2", "fields": {"summary": "Ünïcode 中文", "labels": []}}
    _write(tmp_path / "snap", issues=[ISSUE, issue], statuses=[{"id": "1", "name": "Open"}])
    snapshot = load_snapshot(tmp_path / "snap")
    assert snapshot.meta.site == "https://example.atlassian.net"
    assert snapshot.meta.exported_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert [i["key"] for i in snapshot.iter_issues()] == ["AB-1", "AB-2"]
    assert list(snapshot.iter_issues())[1] == issue
    assert snapshot.statuses == [{"id": "1", "name": "Open"}]
    assert snapshot.issues_path.name == "issues.jsonl.gz"


def test_compressed_output_is_byte_identical_for_identical_input(tmp_path: Path) -> None:
    _write(tmp_path / "a")
    _write(tmp_path / "b")
    assert (tmp_path / "a/issues.jsonl.gz").read_bytes() == (
        tmp_path / "b/issues.jsonl.gz"
    ).read_bytes()


def test_plain_jsonl_and_paged_wrappers_are_accepted(tmp_path: Path) -> None:
    _write(tmp_path / "snap", compress=False)
    (tmp_path / "snap/boards.json").write_text(json.dumps({"values": [{"id": 7, "name": "B"}]}))
    snapshot = load_snapshot(tmp_path / "snap")
    assert snapshot.issues_path.name == "issues.jsonl"
    assert snapshot.boards == [{"id": 7, "name": "B"}]
    assert snapshot.statuses is None


def test_missing_files_are_named(tmp_path: Path) -> None:
    _write(tmp_path / "snap")
    (tmp_path / "snap/sprints.json").unlink()
    with pytest.raises(SnapshotError, match=r"missing sprints\.json"):
        load_snapshot(tmp_path / "snap")
    with pytest.raises(SnapshotError, match=r"does not exist.*JIRA_SNAPSHOT_DIR"):
        load_snapshot(tmp_path / "nowhere")


def test_meta_without_offset_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "snap")
    (tmp_path / "snap/meta.json").write_text(
        json.dumps({"site": "https://x", "exported_at": "2026-01-02T00:00:00"})
    )
    with pytest.raises(SnapshotError, match="no UTC offset"):
        load_snapshot(tmp_path / "snap")


def test_a_broken_issue_line_names_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path / "snap", compress=False)
    with open(tmp_path / "snap/issues.jsonl", "a") as handle:
        handle.write('{"key": "AB-3", "fields": {}}\n{not json\n')
    snapshot = load_snapshot(tmp_path / "snap")
    with pytest.raises(SnapshotError, match=r"issues\.jsonl, line 3: not valid JSON"):
        list(snapshot.iter_issues())


def test_encoded_issue_lines_are_written_unchanged_and_dicts_encoded(tmp_path: Path) -> None:
    # Spacing and member order no encoder here would produce: only a pass-through keeps them.
    stored_line = b'{"id": "10003", "key":"AB-3",  "fields":{"summary":"Tr\xc3\xa8s"}}\n'
    without_newline = b'{"id":"10004","key":"AB-4","fields":{}}'
    issues = [stored_line, ISSUE, without_newline]
    expected = (
        stored_line
        + b'{"id":"10001","key":"AB-1","fields":{"summary":"One"}}\n'
        + without_newline
        + b"\n"
    )
    _write(tmp_path / "plain", issues=issues, compress=False)
    assert (tmp_path / "plain/issues.jsonl").read_bytes() == expected
    _write(tmp_path / "gz", issues=issues)
    assert gzip.decompress((tmp_path / "gz/issues.jsonl.gz").read_bytes()) == expected


def test_issue_lines_carry_id_key_and_the_stored_bytes(tmp_path: Path) -> None:
    late_id = b'{"fields":{"summary":"id after fields"},"key":"AB-2","id":"10002"}\n'
    _write(tmp_path / "snap", issues=[ISSUE, late_id])
    snapshot = load_snapshot(tmp_path / "snap")
    lines = list(snapshot.iter_issue_lines())
    assert [(line.issue_id, line.key) for line in lines] == [("10001", "AB-1"), ("10002", "AB-2")]
    assert lines[1].raw == late_id
    assert [line.decode() for line in lines] == list(snapshot.iter_issues())

    # Written back as they came, the lines give the same file, byte for byte.
    _write(tmp_path / "copy", issues=[line.raw for line in lines])
    assert (tmp_path / "copy/issues.jsonl.gz").read_bytes() == (
        tmp_path / "snap/issues.jsonl.gz"
    ).read_bytes()


@pytest.mark.parametrize(
    ("appended", "error"),
    [
        ('{"id":"10003","key":"AB-3","summary":"no fields"}', "line 2: not a Jira issue"),
        ('{"id":"10003","key":"AB-3","fields":{', "line 2: not valid JSON"),
        ('{"id":"10003","fields":{}', "line 2: not valid JSON"),
    ],
)
def test_a_broken_issue_line_is_named_without_decoding_the_others(
    tmp_path: Path, appended: str, error: str
) -> None:
    _write(tmp_path / "snap", compress=False)
    with open(tmp_path / "snap/issues.jsonl", "a") as handle:
        handle.write(appended + "\n")
    with pytest.raises(SnapshotError, match=rf"issues\.jsonl, {error}"):
        list(load_snapshot(tmp_path / "snap").iter_issue_lines())


def test_failed_write_leaves_the_previous_snapshot_untouched(tmp_path: Path) -> None:
    _write(tmp_path / "snap")
    before = {p.name: p.read_bytes() for p in (tmp_path / "snap").iterdir()}

    def failing_issues():
        yield ISSUE
        raise ConnectionError("dropped mid-scrape")

    with pytest.raises(ConnectionError):
        _write(tmp_path / "snap", issues=failing_issues())
    after = {p.name: p.read_bytes() for p in (tmp_path / "snap").iterdir()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"], "no temp folder left behind"


def test_copy_takes_only_the_formats_files(tmp_path: Path) -> None:
    _write(tmp_path / "src")
    (tmp_path / "src/notes.txt").write_text("private")
    copy_snapshot(load_snapshot(tmp_path / "src"), tmp_path / "dest")
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == [
        "boards.json",
        "fields.json",
        "issues.jsonl.gz",
        "meta.json",
        "sprints.json",
    ]
    with gzip.open(tmp_path / "dest/issues.jsonl.gz", "rt") as handle:
        assert json.loads(handle.readline()) == ISSUE


def _issues(count: int) -> list[dict]:
    return [
        {"id": str(10001 + n), "key": f"AB-{n + 1}", "fields": {"summary": f"Issue {n + 1}"}}
        for n in range(count)
    ]


def test_members_of_issues_read_as_one_stream_and_list_their_issues(tmp_path: Path) -> None:
    issues = _issues(5)
    _write(tmp_path / "one", issues=issues)
    _write(tmp_path / "members", issues=issues, issues_per_member=2)
    members = (tmp_path / "members/issues.jsonl.gz").read_bytes()
    assert gzip.decompress(members) == gzip.decompress(
        (tmp_path / "one/issues.jsonl.gz").read_bytes()
    )
    snapshot = load_snapshot(tmp_path / "members")
    assert list(snapshot.iter_issues()) == issues
    blocks = list(snapshot.iter_issue_blocks())
    assert all(isinstance(block, IssueBlock) for block in blocks)
    assert [block.keys for block in blocks] == [("AB-1", "AB-2"), ("AB-3", "AB-4"), ("AB-5",)]
    assert [block.ids for block in blocks] == [("10001", "10002"), ("10003", "10004"), ("10005",)]
    assert b"".join(block.member for block in blocks) == members
    lines = [line for block in blocks for line in block.lines()]
    assert lines == list(snapshot.iter_issue_lines())


def test_members_depend_only_on_the_lines_however_they_are_passed(tmp_path: Path) -> None:
    issues = _issues(7)
    _write(tmp_path / "snap", issues=issues, issues_per_member=3)
    expected = (tmp_path / "snap/issues.jsonl.gz").read_bytes()
    snapshot = load_snapshot(tmp_path / "snap")
    blocks = list(snapshot.iter_issue_blocks())
    lines = list(snapshot.iter_issue_lines())

    _write(tmp_path / "blocks", issues=blocks, issues_per_member=3)
    assert (tmp_path / "blocks/issues.jsonl.gz").read_bytes() == expected
    mixed = [lines[0].raw, lines[1], issues[2], blocks[1], lines[6]]
    _write(tmp_path / "mixed", issues=mixed, issues_per_member=3)
    assert (tmp_path / "mixed/issues.jsonl.gz").read_bytes() == expected

    # A block that does not start a member is opened: the boundaries stay where a fresh write
    # of the same lines puts them.
    shifted = [*_issues(8)[7:], *blocks]
    _write(tmp_path / "shifted", issues=shifted, issues_per_member=3)
    _write(tmp_path / "fresh", issues=[_issues(8)[7], *issues], issues_per_member=3)
    assert (tmp_path / "shifted/issues.jsonl.gz").read_bytes() == (
        tmp_path / "fresh/issues.jsonl.gz"
    ).read_bytes()
    assert [b.keys for b in load_snapshot(tmp_path / "shifted").iter_issue_blocks()] == [
        ("AB-8", "AB-1", "AB-2"),
        ("AB-3", "AB-4", "AB-5"),
        ("AB-6", "AB-7"),
    ]


def test_issues_files_without_member_index_are_read_line_by_line(tmp_path: Path) -> None:
    _write(tmp_path / "one", issues=_issues(3))
    _write(tmp_path / "plain", issues=_issues(3), compress=False)
    for name in ("one", "plain"):
        items = list(load_snapshot(tmp_path / name).iter_issue_blocks())
        assert [type(item) for item in items] == [IssueLine] * 3

    # A member appended by other means (no index in its header): every member is read as lines.
    _write(tmp_path / "appended", issues=_issues(4), issues_per_member=2)
    with open(tmp_path / "appended/issues.jsonl.gz", "ab") as handle:
        handle.write(gzip.compress(b'{"id":"10099","key":"AB-99","fields":{}}\n', mtime=0))
    items = list(load_snapshot(tmp_path / "appended").iter_issue_blocks())
    assert all(isinstance(item, IssueLine) for item in items)
    assert [item.key for item in items] == ["AB-1", "AB-2", "AB-3", "AB-4", "AB-99"]


def test_a_member_whose_lines_are_not_issues_is_written_without_index(tmp_path: Path) -> None:
    issues = [*_issues(2), b"not an issue", *_issues(4)[2:]]
    _write(tmp_path / "snap", issues=issues, issues_per_member=2)
    content = gzip.decompress((tmp_path / "snap/issues.jsonl.gz").read_bytes())
    assert content.splitlines()[2] == b"not an issue"
    # Read line by line, so the broken line is named as usual.
    with pytest.raises(SnapshotError, match=r"issues\.jsonl\.gz, line 3: not valid JSON"):
        list(load_snapshot(tmp_path / "snap").iter_issue_blocks())


def test_no_issues_in_members_is_still_a_gzip_file(tmp_path: Path) -> None:
    _write(tmp_path / "snap", issues=[], issues_per_member=2)
    assert gzip.decompress((tmp_path / "snap/issues.jsonl.gz").read_bytes()) == b""
    assert list(load_snapshot(tmp_path / "snap").iter_issue_blocks()) == []


def test_a_corrupt_member_is_reported_when_opened(tmp_path: Path) -> None:
    _write(tmp_path / "snap", issues=_issues(4), issues_per_member=2)
    block = next(iter(load_snapshot(tmp_path / "snap").iter_issue_blocks()))
    assert isinstance(block, IssueBlock)
    damaged = IssueBlock(block.ids, block.keys, block.member[:-12] + b"\0" * 4 + block.member[-8:])
    with pytest.raises(SnapshotError, match=r"member of issues AB-1\.\.AB-2 is corrupt"):
        damaged.lines()
