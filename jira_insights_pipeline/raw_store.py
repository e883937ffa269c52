"""Where raw snapshots are kept: one folder per run under `<data folder>/raw/`, and a pointer
to the newest one, so every run's input can be inspected and replayed."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jira_insights_pipeline.snapshot import Snapshot, load_snapshot

LATEST_POINTER = "latest.json"


@dataclass(frozen=True)
class StoredSnapshot:
    """A raw snapshot as the pipeline stored it, with how it was obtained."""

    snapshot: Snapshot
    source: str
    run_id: str


def run_folder(raw_dir: Path, run_id: str, started_at: datetime) -> Path:
    """The folder a run keeps its raw snapshot in, named so that folders sort by time."""
    return raw_dir / f"{started_at.strftime('%Y%m%dT%H%M%SZ')}-{run_id[:8]}"


def record_latest(raw_dir: Path, folder: Path, *, source: str, run_id: str) -> None:
    """Points `latest.json` at `folder` (atomically: a reader never sees half a pointer)."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    pointer = {"snapshot_dir": folder.name, "source": source, "run_id": run_id}
    handle, temp_name = tempfile.mkstemp(prefix=".latest.", dir=raw_dir)
    with os.fdopen(handle, "w", encoding="utf-8") as temp:
        json.dump(pointer, temp)
    os.replace(temp_name, raw_dir / LATEST_POINTER)


def latest_folder(raw_dir: Path) -> Path | None:
    """The newest stored snapshot folder, or None before the first run."""
    pointer_path = raw_dir / LATEST_POINTER
    if not pointer_path.is_file():
        return None
    pointer = json.loads(pointer_path.read_text(encoding="utf-8"))
    return raw_dir / pointer["snapshot_dir"]


def load_latest(raw_dir: Path) -> StoredSnapshot:
    pointer_path = raw_dir / LATEST_POINTER
    if not pointer_path.is_file():
        raise FileNotFoundError(
            f"No raw snapshot stored under {raw_dir} yet: materialize raw_jira_scrape first."
        )
    pointer = json.loads(pointer_path.read_text(encoding="utf-8"))
    return StoredSnapshot(
        snapshot=load_snapshot(raw_dir / pointer["snapshot_dir"]),
        source=pointer["source"],
        run_id=pointer["run_id"],
    )


def prune_old_folders(raw_dir: Path, keep: int) -> list[Path]:
    """Removes all but the newest `keep` run folders (never the one `latest.json` names)."""
    latest = latest_folder(raw_dir)
    folders = sorted(
        (p for p in raw_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    removed = []
    for folder in folders[: max(len(folders) - keep, 0)]:
        if latest is not None and folder.resolve() == latest.resolve():
            continue
        shutil.rmtree(folder)
        removed.append(folder)
    return removed
