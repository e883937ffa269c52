"""The live source's settings: a base URL that is not a web address, missing or half-given
credentials and an unknown transport are refused before any request, with the names of the
settings to fix."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from jira_insights_pipeline.live import LiveConfigurationError, LiveSettings, scrape_to_snapshot
from jira_insights_pipeline.live.scrape import open_transport


@pytest.mark.parametrize("base_url", ["", "jira.example.com", "ftp://jira.example.com"])
def test_a_base_url_must_be_a_web_address(base_url: str) -> None:
    with pytest.raises(LiveConfigurationError, match="JIRA_BASE_URL"):
        LiveSettings(base_url=base_url)


def test_the_base_url_loses_its_trailing_slash() -> None:
    assert LiveSettings(base_url="https://jira.example.com/").base_url == "https://jira.example.com"


def test_rest_needs_a_token(tmp_path: Path) -> None:
    with pytest.raises(LiveConfigurationError) as caught:
        scrape_to_snapshot(LiveSettings(base_url="https://x.atlassian.net"), "rest", tmp_path / "r")
    assert "JIRA_EMAIL and JIRA_API_TOKEN" in str(caught.value)
    assert "JIRA_PAT" in str(caught.value)
    assert not (tmp_path / "r").exists()


def test_an_api_token_needs_its_email() -> None:
    settings = LiveSettings(base_url="https://x.atlassian.net", api_token="tok")
    with pytest.raises(LiveConfigurationError, match="JIRA_EMAIL is not"):
        open_transport(settings, "rest")


def test_browser_needs_a_login_or_a_profile() -> None:
    with pytest.raises(LiveConfigurationError) as caught:
        open_transport(LiveSettings(base_url="https://jira.example.com"), "browser")
    assert "JIRA_USERNAME and JIRA_PASSWORD" in str(caught.value)
    assert "JIRA_BROWSER_PROFILE_DIR" in str(caught.value)


def test_an_unknown_transport_is_refused() -> None:
    with pytest.raises(LiveConfigurationError, match="rest or browser"):
        open_transport(LiveSettings(base_url="https://jira.example.com", pat="p"), "soap")  # type: ignore[arg-type]


def test_a_missing_chromium_is_named(tmp_path: Path) -> None:
    settings = LiveSettings(
        base_url="https://jira.example.com",
        username="u",
        password="p",
        chromium_path=str(tmp_path / "no-chromium"),
    )
    scratch = set(Path(tempfile.gettempdir()).glob("jira-insights-chromium-*"))
    with pytest.raises(LiveConfigurationError, match="chromium-driver"):
        open_transport(settings, "browser")
    # The throw-away profile folder made for the run is gone again.
    assert set(Path(tempfile.gettempdir()).glob("jira-insights-chromium-*")) == scratch
