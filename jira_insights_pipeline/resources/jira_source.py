"""Where raw Jira data comes from. Every source ends the same way: a snapshot folder in the
format of docs/snapshot-format.md, so the rest of the pipeline never knows which one ran."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import dagster as dg
from pydantic import Field

from jira_insights_pipeline.live import LiveSettings, scrape_to_snapshot
from jira_insights_pipeline.snapshot import SnapshotError, copy_snapshot, load_snapshot

SourceKind = Literal["sample", "snapshot", "rest", "browser"]


@dataclass(frozen=True)
class FetchResult:
    """What a source wrote: the snapshot folder and how it was obtained."""

    snapshot_dir: Path
    source: SourceKind
    incremental: bool = False
    detail: str = ""


class SnapshotSource(Protocol):
    """The interface every source implements: write one snapshot folder at `dest`.

    `previous` is the last stored snapshot (live sources merge an incremental fetch into it);
    `full_refresh` asks a live source to re-read everything. A source must leave `dest`
    untouched when it fails (write elsewhere, then rename)."""

    def write_snapshot(
        self, dest: Path, *, previous: Path | None, full_refresh: bool, log: logging.Logger
    ) -> FetchResult: ...


@dataclass(frozen=True)
class SampleSite:
    """The bundled sample Jira site shipped inside the package."""

    def write_snapshot(
        self, dest: Path, *, previous: Path | None, full_refresh: bool, log: logging.Logger
    ) -> FetchResult:
        from jira_insights_pipeline.sample import SITE_DIR

        try:
            copy_snapshot(load_snapshot(SITE_DIR), dest)
        except SnapshotError as error:
            # The sample ships inside the package: only a damaged install can break it.
            raise SnapshotError(
                f"{error} The bundled sample site is damaged: reinstall jira_insights_pipeline "
                "(make install). Nothing was stored; the snapshots stored before are untouched."
            ) from error
        return FetchResult(dest, "sample", detail=f"bundled sample site ({SITE_DIR.name})")


@dataclass(frozen=True)
class SavedSnapshot:
    """A snapshot folder saved earlier, by this pipeline or by hand."""

    folder: Path

    def write_snapshot(
        self, dest: Path, *, previous: Path | None, full_refresh: bool, log: logging.Logger
    ) -> FetchResult:
        try:
            # copy_snapshot decodes every issue line of the user's files as it copies them, so
            # a bad line is reported here against JIRA_SNAPSHOT_DIR, not later against the
            # pipeline's copy under <data>/raw/, a folder the user never wrote.
            copy_snapshot(load_snapshot(self.folder), dest)
        except SnapshotError as error:
            raise SnapshotError(
                f"{error} The snapshot in JIRA_SNAPSHOT_DIR ({self.folder}) was not stored; "
                "the snapshots stored before are untouched."
            ) from error
        return FetchResult(dest, "snapshot", detail=f"saved snapshot {self.folder}")


class JiraSource(dg.ConfigurableResource):
    """Chooses and configures the source of raw Jira data (JIRA_SOURCE and friends).

    `sample` replays the bundled sample site, `snapshot` a saved folder (JIRA_SNAPSHOT_DIR);
    `rest` and `browser` read a live Jira site."""

    kind: str = Field(
        default="sample", description="JIRA_SOURCE: sample | snapshot | rest | browser"
    )
    snapshot_dir: str | None = Field(
        default=None, description="The snapshot folder to replay when kind is 'snapshot'."
    )
    base_url: str | None = Field(default=None, description="JIRA_BASE_URL, for rest and browser.")
    email: str | None = Field(default=None, description="JIRA_EMAIL (Jira Cloud, with a token).")
    api_token: str | None = Field(default=None, description="JIRA_API_TOKEN (Jira Cloud).")
    pat: str | None = Field(default=None, description="JIRA_PAT (Server/Data Center).")
    username: str | None = Field(default=None, description="JIRA_USERNAME (browser login form).")
    password: str | None = Field(default=None, description="JIRA_PASSWORD (browser login form).")
    browser_profile_dir: str | None = Field(
        default=None, description="JIRA_BROWSER_PROFILE_DIR: the signed-in browser profile."
    )
    projects: str | None = Field(default=None, description="JIRA_PROJECTS: comma-separated keys.")
    board_ids: str | None = Field(default=None, description="JIRA_BOARD_IDS: comma-separated ids.")
    jql: str | None = Field(default=None, description="JIRA_JQL: which issues to read.")

    def source(self) -> SnapshotSource:
        """The configured source, checked: a missing setting is named with what to set."""
        if self.kind == "sample":
            return SampleSite()
        if self.kind == "snapshot":
            if not self.snapshot_dir:
                raise ValueError(
                    "JIRA_SOURCE=snapshot needs JIRA_SNAPSHOT_DIR: the folder of a saved snapshot "
                    "(see docs/snapshot-format.md)."
                )
            return SavedSnapshot(Path(self.snapshot_dir))
        if self.kind in ("rest", "browser"):
            return self._live_source()
        raise ValueError(
            f"JIRA_SOURCE={self.kind!r} is not a source; use sample, snapshot, rest or browser."
        )

    def live_settings(self) -> LiveSettings:
        """The live sources' settings; a missing or malformed value is named."""
        if not self.base_url:
            raise ValueError(
                f"JIRA_SOURCE={self.kind} needs JIRA_BASE_URL, e.g. https://your-site.atlassian.net."
            )
        try:
            board_ids = tuple(int(part) for part in _split(self.board_ids))
        except ValueError as error:
            raise ValueError(
                f"JIRA_BOARD_IDS={self.board_ids!r} must be comma-separated numbers, e.g. 12,13."
            ) from error
        return LiveSettings(
            base_url=self.base_url,
            email=self.email,
            api_token=self.api_token,
            pat=self.pat,
            username=self.username,
            password=self.password,
            browser_profile_dir=Path(self.browser_profile_dir)
            if self.browser_profile_dir
            else None,
            projects=tuple(_split(self.projects)),
            board_ids=board_ids,
            jql=self.jql or None,
        )

    def _live_source(self) -> SnapshotSource:
        return LiveJira(
            self.live_settings(), transport="browser" if self.kind == "browser" else "rest"
        )


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@dataclass(frozen=True)
class LiveJira:
    """A live Jira site, read over the REST API with a token or through a signed-in browser."""

    settings: LiveSettings
    transport: Literal["rest", "browser"]

    def write_snapshot(
        self, dest: Path, *, previous: Path | None, full_refresh: bool, log: logging.Logger
    ) -> FetchResult:
        result = scrape_to_snapshot(
            self.settings,
            self.transport,
            dest,
            previous=previous,
            full_refresh=full_refresh,
            log=log,
        )
        for discrepancy in result.sprint_report_discrepancies:
            log.warning(f"Jira's own sprint report disagrees: {discrepancy}")
        mode = "incremental" if result.incremental else "full"
        detail = (
            f"{mode} {self.transport} scrape of {self.settings.base_url} as "
            f"{result.signed_in_as}: {result.issue_count} issues "
            f"({result.fetched_issue_count} fetched), {result.board_count} boards, "
            f"{result.sprint_count} sprints, {result.request_count} requests in "
            f"{result.elapsed_s:.1f} s"
        )
        if result.full_refresh_reason:
            detail += f"; read everything because {result.full_refresh_reason}"
        return FetchResult(dest, self.transport, incremental=result.incremental, detail=detail)
