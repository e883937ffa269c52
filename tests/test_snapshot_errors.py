"""Errors from damaged snapshot files (issue #15, part 7): each names the user's own file (and
line), says what is wrong with it and what to do, and a snapshot that cannot be read is refused
when `JIRA_SOURCE=snapshot` copies it, so nothing half-usable is stored under `<data>/raw/`.

Why: a saved snapshot is made by hand or by another tool, so it may be cut short by an
interrupted download, gzipped wrongly, or edited. Before, a truncated `issues.jsonl.gz` raised a
bare EOFError naming no file, and a bad issue line was reported later, by the staging step,
against the pipeline's copy under `<data>/raw/<run>/`: a folder the user never wrote.

Every case starts from real data (tests/data/devlake_site and actionableagile_site, copied from
real Jira responses) and damages a copy of it in tmp_path the way it happens for real: the
first N bytes of the real gzip file, a line edited, a file saved in the wrong encoding.
"""

from __future__ import annotations

import errno
import gzip
import json
import logging
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from jira_insights_pipeline.resources.jira_source import FetchResult, JiraSource, SampleSite
from jira_insights_pipeline.snapshot import (
    IssueBlock,
    SnapshotError,
    _copy_issues_checked,
    load_snapshot,
    write_snapshot,
)

TEST_DATA = Path(__file__).resolve().parent / "data"
SITE_FILES = (
    "meta.json",
    "fields.json",
    "boards.json",
    "sprints.json",
    "statuses.json",
    "issues.jsonl",
    "issues.jsonl.gz",
)
REEXPORT = "re-export the snapshot (or copy the whole file again)."
LOG = logging.getLogger(__name__)


def _export(tmp_path: Path, site: str = "devlake_site") -> Path:
    """A user's snapshot folder: the snapshot files of a real site in tests/data."""
    folder = tmp_path / "export"
    folder.mkdir()
    for name in SITE_FILES:
        if (TEST_DATA / site / name).is_file():
            shutil.copy(TEST_DATA / site / name, folder / name)
    return folder


def _devlake_lines() -> list[bytes]:
    with gzip.open(TEST_DATA / "devlake_site/issues.jsonl.gz", "rb") as handle:
        return handle.readlines()


def _complete_lines(prefix: bytes) -> list[bytes]:
    """The complete lines that the first bytes of a gzip file hold, decompressed with zlib
    directly (not with the gzip module the reader uses)."""
    data = zlib.decompressobj(wbits=31).decompress(prefix) if len(prefix) > 10 else b""
    return data.split(b"\n")[:-1]


def _issues_read_before_error(folder: Path) -> tuple[int, SnapshotError]:
    count = 0
    with pytest.raises(SnapshotError) as caught:
        for _ in load_snapshot(folder).iter_issues():
            count += 1
    return count, caught.value


# -- a truncated or damaged issues.jsonl.gz ---------------------------------------------------


def test_the_real_issues_file_has_thirty_lines() -> None:
    # What the numbers below are checked against.
    lines = _devlake_lines()
    assert len(lines) == 30
    # The keys skip numbers: line 7 holds EE-8, line 30 EE-37.
    assert [json.loads(line)["key"] for line in (lines[6], lines[8], lines[29])] == [
        "EE-8",
        "EE-10",
        "EE-37",
    ]


@pytest.mark.parametrize("keep", [5, 10, 5000, 29759, -4])
def test_a_truncated_gzip_names_the_file_and_the_last_complete_line(
    tmp_path: Path, keep: int
) -> None:
    folder = _export(tmp_path)
    path = folder / "issues.jsonl.gz"
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    complete = _complete_lines(data[:keep])

    count, error = _issues_read_before_error(folder)

    # Every complete line before the cut is still read; the error says where reading stopped.
    assert count == len(complete)
    if complete:
        key = json.loads(complete[-1])["key"]
        where = f"after line {len(complete)} ({key}), the last complete line read"
    else:
        where = "before its first complete line"
    assert str(error) == (
        f"{path}: the file is cut short: its gzip data ends {where}, before the end of the "
        "compressed stream (Compressed file ended before the end-of-stream marker was "
        "reached). It was truncated, e.g. by an interrupted export, download or copy: "
        f"{REEXPORT}"
    )
    assert isinstance(error.__cause__, EOFError)


def test_the_truncation_points_cover_none_some_and_all_lines() -> None:
    data = (TEST_DATA / "devlake_site/issues.jsonl.gz").read_bytes()
    assert [len(_complete_lines(data[:keep])) for keep in (5, 10, 5000, 29759, -4)] == [
        0,
        0,
        1,
        9,
        30,
    ]


def test_a_truncated_gzip_is_named_by_every_reader(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    path = folder / "issues.jsonl.gz"
    path.write_bytes(path.read_bytes()[:29759])
    expected = f"{path}: the file is cut short: its gzip data ends after line 9 (EE-10), "
    snapshot = load_snapshot(folder)
    for read in (snapshot.iter_issue_lines, snapshot.iter_issue_blocks):
        with pytest.raises(SnapshotError) as caught:
            list(read())
        assert str(caught.value).startswith(expected)


def test_a_file_named_gz_that_is_not_gzip_says_to_rename_it(tmp_path: Path) -> None:
    folder = _export(tmp_path, "actionableagile_site")
    (folder / "issues.jsonl").rename(folder / "issues.jsonl.gz")
    count, error = _issues_read_before_error(folder)
    assert count == 0
    assert str(error) == (
        f"{folder / 'issues.jsonl.gz'}: not gzip data (it starts with b'{{\"', where gzip "
        "starts with b'\\x1f\\x8b'). If it holds plain JSON lines, name it issues.jsonl; "
        f"otherwise {REEXPORT}"
    )


def test_a_gzip_whose_checksum_fails_is_corrupt_after_the_last_line(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    path = folder / "issues.jsonl.gz"
    data = bytearray(path.read_bytes())
    data[-6] ^= 0xFF  # a byte of the CRC-32 in the gzip trailer
    path.write_bytes(bytes(data))
    count, error = _issues_read_before_error(folder)
    assert count == 30
    message = str(error)
    assert message.startswith(
        f"{path}: corrupt gzip data, found after line 30 (EE-37), the last complete line read "
        "(CRC check failed "
    )
    assert message.endswith(f"). The file was damaged after it was written: {REEXPORT}")


def test_bytes_after_the_gzip_data_are_corrupt_data_not_a_plain_file(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    path = folder / "issues.jsonl.gz"
    path.write_bytes(path.read_bytes() + b"<html>502 Bad Gateway</html>")
    count, error = _issues_read_before_error(folder)
    assert count == 30
    assert str(error) == (
        f"{path}: corrupt gzip data, found after line 30 (EE-37), the last complete line read "
        f"(Not a gzipped file (b'<h')). The file was damaged after it was written: {REEXPORT}"
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("issues.jsonl.gz", b""),
        ("issues.jsonl.gz", gzip.compress(b"", mtime=0)),
        ("issues.jsonl", b""),
        ("issues.jsonl", b"\n\n"),
    ],
    ids=["0-byte-gz", "gzip-of-nothing", "0-byte-jsonl", "blank-lines"],
)
def test_an_empty_but_valid_issues_file_loads_as_zero_issues(
    tmp_path: Path, name: str, content: bytes
) -> None:
    folder = _export(tmp_path)
    (folder / "issues.jsonl.gz").unlink()
    (folder / name).write_bytes(content)
    snapshot = load_snapshot(folder)
    assert list(snapshot.iter_issues()) == []
    assert list(snapshot.iter_issue_lines()) == []
    assert list(snapshot.iter_issue_blocks()) == []
    # And it is stored as it is: "no issues" is for the later steps to report.
    dest = tmp_path / "data/raw/run"
    _source(folder).source().write_snapshot(dest, previous=None, full_refresh=True, log=LOG)
    assert (dest / name).read_bytes() == content


# -- a broken issue line -----------------------------------------------------------------------


def _write_gz(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(gzip.compress(b"".join(lines), mtime=0))


def test_a_broken_line_in_a_gzip_names_file_line_and_column(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    lines = _devlake_lines()
    # A hand edit that lost the opening quote of the last status name on line 7: after
    # Chinese text, so that the column an editor shows (characters) is not orjson's (bytes).
    text = lines[6].decode()
    at = text.rindex('"已完成"')
    lines[6] = (text[:at] + text[at + 1 :]).encode()
    assert len(text[:at].encode()) > at
    _write_gz(folder / "issues.jsonl.gz", lines)
    count, error = _issues_read_before_error(folder)
    assert count == 6
    assert str(error) == (
        f"{folder / 'issues.jsonl.gz'}, line 7: not valid JSON at column {at + 1} (unexpected "
        "character, expected a JSON value). Each line of the issues file must be one issue as "
        "Jira's issue endpoint returns it. Fix or remove that line, or re-export the snapshot."
    )


def test_a_line_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    lines = _devlake_lines()
    # The status name "已完成" saved in GBK, as an editor on a Chinese-locale Windows might.
    column = lines[3].decode().index("已完成") + 1
    lines[3] = lines[3].replace("已完成".encode(), "已完成".encode("gbk"), 1)
    _write_gz(folder / "issues.jsonl.gz", lines)
    count, error = _issues_read_before_error(folder)
    assert count == 3
    assert str(error) == (
        f"{folder / 'issues.jsonl.gz'}, line 4: not UTF-8 text at column {column} (invalid "
        "continuation byte). Jira sends UTF-8: save the file as UTF-8, or re-export the snapshot."
    )


def test_a_plain_file_cut_mid_line_says_it_looks_cut_short(tmp_path: Path) -> None:
    folder = _export(tmp_path, "actionableagile_site")
    path = folder / "issues.jsonl"
    content = path.read_bytes()
    start_of_line_12 = sum(len(line) for line in content.splitlines(keepends=True)[:11])
    path.write_bytes(content[: start_of_line_12 + 500])
    assert content[start_of_line_12 : start_of_line_12 + 500].isascii()  # 500 bytes, 500 columns
    count, error = _issues_read_before_error(folder)
    assert count == 11
    assert str(error) == (
        f"{path}, line 12: not valid JSON at column 501 (unexpected end of data). Each line of "
        "the issues file must be one issue as Jira's issue endpoint returns it. The line has "
        f"no line end, so the file looks cut short: {REEXPORT}"
    )


def test_a_line_that_is_json_but_not_an_issue_says_what_an_issue_is(tmp_path: Path) -> None:
    folder = _export(tmp_path, "actionableagile_site")
    path = folder / "issues.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    # A search page saved whole where one issue per line belongs.
    lines[1] = json.dumps({"startAt": 0, "maxResults": 50, "issues": []}).encode() + b"\n"
    path.write_bytes(b"".join(lines))
    count, error = _issues_read_before_error(folder)
    assert count == 1
    assert str(error) == (
        f"{path}, line 2: not a Jira issue (needs 'key' and 'fields'). Each line must be one "
        "issue as GET /rest/api/3/issue/{key}?expand=changelog returns it: fix or remove that "
        "line, or re-export the snapshot."
    )


# -- the other snapshot files ------------------------------------------------------------------

JSON_FILES = ["meta.json", "fields.json", "boards.json", "sprints.json", "statuses.json"]
HOLDS = {
    "meta.json": '{"site": "https://<your-site>", "exported_at": "<ISO-8601 with offset>"}',
    "fields.json": "the array GET /rest/api/3/field returns",
    "statuses.json": "the array GET /rest/api/3/status returns",
    "boards.json": "the boards GET /rest/agile/1.0/board returns (its values array, or the page)",
    "sprints.json": "the sprints GET /rest/agile/1.0/board/{id}/sprint returns, for every board",
}


def _load_error(folder: Path) -> str:
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(folder)
    return str(caught.value)


@pytest.mark.parametrize("name", JSON_FILES)
def test_a_json_file_cut_short_says_so(tmp_path: Path, name: str) -> None:
    folder = _export(tmp_path)
    path = folder / name
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:3]))
    assert _load_error(folder) == (
        f"{path}: not valid JSON (Expecting property name enclosed in double quotes, line 4 "
        f"column 1). The file ends before its JSON does, so it looks cut short: {REEXPORT}"
    )


@pytest.mark.parametrize("name", JSON_FILES)
def test_a_json_file_broken_inside_names_line_and_column(tmp_path: Path, name: str) -> None:
    folder = _export(tmp_path)
    path = folder / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    column = lines[2].index(":") + 1
    lines[2] = lines[2].replace(":", "=", 1)
    path.write_text("".join(lines), encoding="utf-8")
    assert _load_error(folder) == (
        f"{path}: not valid JSON (Expecting ':' delimiter, line 3 column {column}). It must "
        f"hold {HOLDS[name]}: fix it there, or re-export the snapshot."
    )


def test_an_empty_json_file_says_what_it_must_hold(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    (folder / "sprints.json").write_bytes(b"")
    assert _load_error(folder) == (
        f"{folder / 'sprints.json'}: the file is empty. It must hold {HOLDS['sprints.json']}: "
        f"{REEXPORT}"
    )


def test_a_json_file_not_in_utf8_is_named_with_the_byte(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    path = folder / "boards.json"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("gbk"))  # the board's Chinese name, saved as GBK
    byte = text.encode("gbk").index("迭".encode("gbk"))  # its first character, 0xB5 0xFC
    assert byte == text.encode("utf-8").index("迭".encode())
    message = _load_error(folder)
    assert message.startswith(f"{path}: not UTF-8 text (byte {byte}: ")
    assert message.endswith(
        f"). It must hold {HOLDS['boards.json']}, as Jira sends it (UTF-8): save it as UTF-8, "
        "or re-export the snapshot."
    )


def test_a_gzipped_json_file_says_to_decompress_it(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    path = folder / "fields.json"
    path.write_bytes(gzip.compress(path.read_bytes()))
    assert _load_error(folder) == (
        f"{path}: gzip data, not JSON text. Only the issues file may be compressed: decompress "
        f"it (gunzip) so that it holds {HOLDS['fields.json']}."
    )


def test_a_json_file_of_the_wrong_shape_says_what_it_must_hold(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    (folder / "fields.json").write_text(json.dumps({"errorMessages": ["Unauthorized"]}))
    assert _load_error(folder) == (
        f"{folder / 'fields.json'}: expected a JSON array, got dict. It must hold "
        f"{HOLDS['fields.json']}."
    )
    (folder / "fields.json").write_bytes((TEST_DATA / "devlake_site/fields.json").read_bytes())
    (folder / "meta.json").write_text("[]")
    assert _load_error(folder) == (
        f"{folder / 'meta.json'}: expected a JSON object, got list. meta.json needs "
        f"{HOLDS['meta.json']}."
    )


# -- JIRA_SOURCE=snapshot: errors name the user's folder, and nothing is stored -----------------


def _source(folder: Path) -> JiraSource:
    return JiraSource(kind="snapshot", snapshot_dir=str(folder))


def _stored_before(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A data folder's raw/ with one run already stored, and the bytes of everything in it."""
    raw = tmp_path / "data/raw"
    earlier = raw / "20260101T000000Z-aaaaaaaa"
    result = (
        _source(TEST_DATA / "devlake_site")
        .source()
        .write_snapshot(earlier, previous=None, full_refresh=True, log=LOG)
    )
    assert result == FetchResult(
        earlier, "snapshot", detail=f"saved snapshot {TEST_DATA / 'devlake_site'}"
    )
    (raw / "latest.json").write_text(json.dumps({"snapshot_dir": earlier.name}))
    return raw, _tree(raw)


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else b"<dir>"
        for path in sorted(folder.rglob("*"))
    }


def _truncate_gz(folder: Path) -> str:
    path = folder / "issues.jsonl.gz"
    path.write_bytes(path.read_bytes()[:29759])
    return f"{path}: the file is cut short: its gzip data ends after line 9 (EE-10)"


def _break_gz_line(folder: Path) -> str:
    lines = _devlake_lines()
    lines[19] = lines[19][:-40] + b"\n"
    _write_gz(folder / "issues.jsonl.gz", lines)
    column = len(lines[19].decode().rstrip("\n")) + 1  # just past its last character
    return f"{folder / 'issues.jsonl.gz'}, line 20: not valid JSON at column {column} ("


def _break_meta(folder: Path) -> str:
    (folder / "meta.json").write_text('{"site": "https://merico.atlassian.net",\n')
    return f"{folder / 'meta.json'}: not valid JSON ("


@pytest.mark.parametrize("damage", [_truncate_gz, _break_gz_line, _break_meta])
def test_a_damaged_snapshot_is_refused_naming_the_users_folder(
    tmp_path: Path, damage: Callable[[Path], str]
) -> None:
    raw, before = _stored_before(tmp_path)
    folder = _export(tmp_path)
    expected_start = damage(folder)
    dest = raw / "20260102T000000Z-bbbbbbbb"

    with pytest.raises(SnapshotError) as caught:
        _source(folder).source().write_snapshot(dest, previous=None, full_refresh=True, log=LOG)

    message = str(caught.value)
    assert message.startswith(expected_start)
    assert message.endswith(
        f" The snapshot in JIRA_SNAPSHOT_DIR ({folder}) was not stored; the snapshots stored "
        "before are untouched."
    )
    assert str(raw) not in message
    # No half folder (nor a hidden temporary one), and the stored run is byte for byte as it was.
    assert not dest.exists()
    assert _tree(raw) == before


def test_a_readable_snapshot_is_copied_byte_for_byte(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    dest = tmp_path / "data/raw/run"
    _source(folder).source().write_snapshot(dest, previous=None, full_refresh=True, log=LOG)
    assert _tree(dest) == _tree(folder)
    source_file, copy = folder / "issues.jsonl.gz", dest / "issues.jsonl.gz"
    assert copy.stat().st_mtime_ns == source_file.stat().st_mtime_ns


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_failed_write_of_the_copy_is_not_blamed_on_the_users_file(tmp_path: Path) -> None:
    # A full disk under <data>/raw/ is the data folder's problem: it must not read as a
    # corrupt gzip file in JIRA_SNAPSHOT_DIR. /dev/full fails every write with ENOSPC.
    folder = _export(tmp_path)
    with pytest.raises(OSError) as caught:
        _copy_issues_checked(folder / "issues.jsonl.gz", Path("/dev/full"))
    assert not isinstance(caught.value, SnapshotError)
    assert caught.value.errno == errno.ENOSPC


def test_a_copied_live_snapshot_keeps_its_member_index(tmp_path: Path) -> None:
    # A live scrape's snapshot saved and replayed: its issue blocks still read without
    # decompressing, because the copy keeps every byte.
    devlake = load_snapshot(TEST_DATA / "devlake_site")
    folder = write_snapshot(
        tmp_path / "export",
        meta=devlake.meta,
        fields=devlake.fields,
        boards=devlake.boards,
        sprints=devlake.sprints,
        issues=devlake.iter_issue_lines(),
        issues_per_member=16,
    )
    dest = tmp_path / "data/raw/run"
    _source(folder).source().write_snapshot(dest, previous=None, full_refresh=True, log=LOG)
    blocks = list(load_snapshot(dest).iter_issue_blocks())
    assert [(type(block), len(block.ids)) for block in blocks] == [
        (IssueBlock, 16),
        (IssueBlock, 14),
    ]


def test_a_corrupt_member_of_a_stored_snapshot_names_its_file(tmp_path: Path) -> None:
    devlake = load_snapshot(TEST_DATA / "devlake_site")
    stored = write_snapshot(
        tmp_path / "raw/run",
        meta=devlake.meta,
        fields=devlake.fields,
        boards=devlake.boards,
        sprints=devlake.sprints,
        issues=devlake.iter_issue_lines(),
        issues_per_member=16,
    )
    path = stored / "issues.jsonl.gz"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # the second member's last compressed byte, before its 8-byte trailer
    path.write_bytes(bytes(data))
    first, second = load_snapshot(stored).iter_issue_blocks()
    assert isinstance(first, IssueBlock) and isinstance(second, IssueBlock)
    assert len(first.lines()) == 16
    with pytest.raises(SnapshotError) as caught:
        second.lines()
    message = str(caught.value)
    assert message.startswith(f"{path}: a gzip member of issues EE-24..EE-37 is corrupt (")
    assert message.endswith(
        "). The stored snapshot was damaged after it was written: run raw_jira_scrape with "
        "full_refresh: true to read every issue from Jira again."
    )


def test_a_damaged_sample_site_says_to_reinstall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jira_insights_pipeline.sample as sample

    site = tmp_path / "site"
    shutil.copytree(sample.SITE_DIR, site)
    (site / "issues.jsonl.gz").write_bytes((site / "issues.jsonl.gz").read_bytes()[:100_000])
    monkeypatch.setattr(sample, "SITE_DIR", site)
    dest = tmp_path / "data/raw/run"
    with pytest.raises(SnapshotError) as caught:
        SampleSite().write_snapshot(dest, previous=None, full_refresh=True, log=LOG)
    message = str(caught.value)
    assert message.startswith(f"{site / 'issues.jsonl.gz'}: the file is cut short: ")
    assert message.endswith(
        " The bundled sample site is damaged: reinstall jira_insights_pipeline (make install). "
        "Nothing was stored; the snapshots stored before are untouched."
    )
    assert not dest.exists()
