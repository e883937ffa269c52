"""Where raw snapshots are kept: one folder per run under `<data folder>/raw/`, and pointers to
them, so every run's input can be inspected and replayed.

Two kinds of pointer, the same small JSON file: `raw/latest.json` names the published snapshot
(the one the current tables were built from; incremental fetches merge onto it), and a run's
draft pointer (`runs/<run id>/raw/latest.json`) names the snapshot that run fetched. A run's
staging reads its own draft pointer, never `latest.json`, so two overlapping runs never read
each other's snapshot; the run's publication moves its pointer to `latest.json`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jira_insights_pipeline.data_folder import RAW_POINTER as LATEST_POINTER
from jira_insights_pipeline.data_folder import write_text_atomically
from jira_insights_pipeline.snapshot import Snapshot, load_snapshot


@dataclass(frozen=True)
class StoredSnapshot:
    """A raw snapshot as the pipeline stored it, with how it was obtained."""

    snapshot: Snapshot
    source: str
    run_id: str
    detail: str = ""
    """Where the source read it, in the user's terms ("saved snapshot /their/folder")."""


def run_folder(raw_dir: Path, run_id: str, started_at: datetime) -> Path:
    """The folder a run keeps its raw snapshot in, named so that folders sort by time."""
    return raw_dir / f"{started_at.strftime('%Y%m%dT%H%M%SZ')}-{run_id[:8]}"


def record_pointer(
    pointer_path: Path, folder: Path, *, source: str, run_id: str, detail: str = ""
) -> None:
    """Writes a pointer at `pointer_path` to the snapshot `folder` (a folder of the raw dir)."""
    pointer = {"snapshot_dir": folder.name, "source": source, "run_id": run_id, "detail": detail}
    write_text_atomically(pointer_path, json.dumps(pointer))


def record_latest(raw_dir: Path, folder: Path, *, source: str, run_id: str) -> None:
    """Points `latest.json` at `folder` (atomically: a reader never sees half a pointer)."""
    record_pointer(raw_dir / LATEST_POINTER, folder, source=source, run_id=run_id)


def _read_pointer(pointer_path: Path) -> dict[str, str]:
    try:
        pointer = json.loads(pointer_path.read_text(encoding="utf-8"))
        found = {key: str(pointer[key]) for key in ("snapshot_dir", "source", "run_id")}
        return {**found, "detail": str(pointer.get("detail") or "")}
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"The raw snapshot pointer {pointer_path} is unreadable ({error}). Delete it and "
            "materialize raw_jira_scrape again with a full refresh."
        ) from None


def pointed_folder(raw_dir: Path, pointer_path: Path) -> Path | None:
    """The snapshot folder a pointer names, or None when there is no pointer."""
    if not pointer_path.is_file():
        return None
    return raw_dir / _read_pointer(pointer_path)["snapshot_dir"]


def latest_folder(raw_dir: Path) -> Path | None:
    """The published snapshot folder, or None before the first published run."""
    return pointed_folder(raw_dir, raw_dir / LATEST_POINTER)


def load_pointed(raw_dir: Path, pointer_path: Path) -> StoredSnapshot:
    """The snapshot a pointer names, loaded."""
    if not pointer_path.is_file():
        raise FileNotFoundError(
            f"No raw snapshot stored under {raw_dir} yet: materialize raw_jira_scrape first."
        )
    pointer = _read_pointer(pointer_path)
    return StoredSnapshot(
        snapshot=load_snapshot(raw_dir / pointer["snapshot_dir"]),
        source=pointer["source"],
        run_id=pointer["run_id"],
        detail=pointer["detail"],
    )


def load_latest(raw_dir: Path) -> StoredSnapshot:
    """The published snapshot, loaded."""
    return load_pointed(raw_dir, raw_dir / LATEST_POINTER)


def prune_old_folders(raw_dir: Path, keep: int, *, in_use: Iterable[Path] = ()) -> list[Path]:
    """Removes all but the newest `keep` run folders, never the published one nor those `in_use`
    (named by a draft pointer of a run not yet published)."""
    protected = {p.resolve() for p in in_use}
    latest = latest_folder(raw_dir)
    if latest is not None:
        protected.add(latest.resolve())
    folders = sorted(
        (p for p in raw_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    removed = []
    for folder in folders[: max(len(folders) - keep, 0)]:
        if folder.resolve() in protected:
            continue
        shutil.rmtree(folder)
        removed.append(folder)
    return removed
