"""The browser side of the live source: starting Debian's Chromium under Selenium (never
Selenium Manager, never a download), signing in through Jira Server/Data Center's login form,
and `browser_login`, which opens a visible window on the profile folder so a user can sign in
once by hand (SSO, 2FA) for later headless runs to reuse.

The profile folder holds Jira session cookies: treat it as a secret (docs/live-sources.md).

Selenium is imported inside the functions that drive the browser, never at module level: this
module is imported with `jira_insights_pipeline.live`, hence by every code-location load
(through `JiraSource`), and importing Selenium costs about 2.5 s that only the `browser` source
and `jira-insights browser-login` need. tests/test_import_cost.py holds this.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jira_insights_pipeline.live.client import BROWSER_LOGIN_HINT, JiraClient, JiraUser
from jira_insights_pipeline.live.errors import (
    JiraAuthError,
    LiveConfigurationError,
    LiveSourceError,
    SessionExpiredError,
)
from jira_insights_pipeline.live.redaction import install_redaction
from jira_insights_pipeline.live.settings import LiveSettings
from jira_insights_pipeline.live.transports import BrowserTransport, Sleep, build_retry

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

log = logging.getLogger(__name__)

# The machine's network is closed: nothing in Chromium may phone home.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-dev-shm-usage",
    "--password-store=basic",
)
LOGIN_PATH = "/login.jsp"
# A light page on the Jira origin, readable without signing in: fetch() calls made from it
# are same-origin and carry the site's cookies.
LANDING_PATH = "/rest/api/2/serverInfo"


def start_chromium(
    settings: LiveSettings, profile_dir: Path, *, headless: bool = True
) -> WebDriver:
    """Chromium from `settings.chromium_path` with its driver at `settings.chromedriver_path`
    (a `Service` path, so Selenium Manager never runs), on the given profile folder."""
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    for label, path in (
        ("Chromium", settings.chromium_path),
        ("chromedriver", settings.chromedriver_path),
    ):
        if not Path(path).is_file():
            raise LiveConfigurationError(
                f"{label} is not at {path}. Install Debian's chromium and chromium-driver "
                "packages (apt-get install chromium chromium-driver), or set its path."
            )
    profile_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    options = webdriver.ChromeOptions()
    options.binary_location = settings.chromium_path
    if headless:
        options.add_argument("--headless=new")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    try:
        return webdriver.Chrome(
            service=Service(executable_path=settings.chromedriver_path), options=options
        )
    except WebDriverException as error:
        detail = (error.msg or str(error)).splitlines()[0]
        hint = (
            " Another Chromium may be using this profile folder; close it first."
            if "user data directory is already in use" in detail
            else ""
        )
        raise LiveSourceError(f"Could not start Chromium: {detail}.{hint}") from None


def _profile(settings: LiveSettings) -> tuple[Path, Callable[[], None]]:
    """The configured profile folder, or a throw-away one (removed afterwards) when only the
    login form is used."""
    if settings.browser_profile_dir is not None:
        return Path(settings.browser_profile_dir), lambda: None
    folder = Path(tempfile.mkdtemp(prefix="jira-insights-chromium-"))
    return folder, lambda: shutil.rmtree(folder, ignore_errors=True)


def sign_in_with_form(driver: WebDriver, settings: LiveSettings, *, timeout_s: float = 30) -> None:
    """Jira Server/Data Center's login form: `os_username`, `os_password`, "Remember my login"
    (`os_cookie`, so the session outlives the browser), submitted with `login`."""
    from selenium.common.exceptions import NoSuchElementException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    if not (settings.username and settings.password):
        raise LiveConfigurationError("The login form needs JIRA_USERNAME and JIRA_PASSWORD.")
    driver.get(f"{settings.base_url}{LOGIN_PATH}")
    try:
        WebDriverWait(driver, timeout_s).until(lambda d: d.find_elements(By.NAME, "os_username"))
    except TimeoutException:
        raise JiraAuthError(
            f"{settings.base_url}{LOGIN_PATH} shows no Jira login form (no os_username field). "
            "Sites that sign in through SSO need `jira-insights browser-login` instead of "
            "JIRA_USERNAME/JIRA_PASSWORD."
        ) from None
    driver.find_element(By.NAME, "os_username").send_keys(settings.username)
    driver.find_element(By.NAME, "os_password").send_keys(settings.password)
    with contextlib.suppress(NoSuchElementException):
        remember = driver.find_element(By.NAME, "os_cookie")
        if not remember.is_selected():
            remember.click()
    driver.find_element(By.NAME, "login").click()
    with contextlib.suppress(TimeoutException):
        WebDriverWait(driver, timeout_s).until(
            lambda d: LOGIN_PATH not in d.current_url or d.find_elements(By.CLASS_NAME, "error")
        )
    if driver.find_elements(By.ID, "captcha") or driver.find_elements(By.NAME, "os_captcha"):
        raise JiraAuthError(
            "Jira's login form asks for a CAPTCHA (too many failed sign-ins). Sign in once with "
            "`jira-insights browser-login`, then run again."
        )
    if LOGIN_PATH in driver.current_url:
        said = " ".join(
            element.text.strip()
            for element in driver.find_elements(By.CSS_SELECTOR, ".error, .aui-message-error")
            if element.text.strip()
        )
        raise JiraAuthError(
            f"Jira's login form did not accept JIRA_USERNAME={settings.username!r} and "
            f"JIRA_PASSWORD{': ' + said if said else ''}. Check both, or sign in once with "
            "`jira-insights browser-login` and set JIRA_BROWSER_PROFILE_DIR instead."
        )


def _redact_session_cookies(driver: WebDriver) -> None:
    """Adds the signed-in session's cookie values to the secrets every log record and every
    LiveSourceError is redacted of: a Jira or proxy echoing the request's `Cookie` header in
    an error page then shows `[REDACTED]`, whatever the cookie is named."""
    from selenium.common.exceptions import WebDriverException

    try:
        cookies = driver.get_cookies()
    except WebDriverException:
        return
    install_redaction(
        str(cookie.get("value", "")) for cookie in cookies if len(str(cookie.get("value"))) >= 8
    )


def open_browser_transport(
    settings: LiveSettings, *, sleep: Sleep = time.sleep, headless: bool = True
) -> BrowserTransport:
    """A headless Chromium on the Jira site, signed in through the login form when a user
    name and password are configured, otherwise relying on the profile's saved session."""
    from selenium.common.exceptions import WebDriverException

    if settings.browser_profile_dir is None and not (settings.username and settings.password):
        raise LiveConfigurationError(
            "The browser source needs either JIRA_USERNAME and JIRA_PASSWORD (Jira's login "
            "form) or JIRA_BROWSER_PROFILE_DIR, a profile signed in once with "
            "`jira-insights browser-login`."
        )
    profile_dir, remove_profile = _profile(settings)
    try:
        driver = start_chromium(settings, profile_dir, headless=headless)
    except BaseException:
        remove_profile()
        raise

    def close() -> None:
        with contextlib.suppress(WebDriverException):
            driver.quit()
        remove_profile()

    try:
        if settings.username and settings.password:
            sign_in_with_form(driver, settings)
        driver.get(f"{settings.base_url}{LANDING_PATH}")
        _redact_session_cookies(driver)
        return BrowserTransport(
            driver,
            settings.base_url,
            retry=build_retry(settings, sleep=sleep),
            read_timeout_s=settings.read_timeout_s,
            on_close=close,
        )
    except BaseException:
        close()
        raise


def browser_login(
    settings: LiveSettings,
    *,
    timeout_s: float = 600,
    poll_s: float = 2.0,
    headless: bool = False,
) -> JiraUser:
    """Opens a browser window on JIRA_BROWSER_PROFILE_DIR at the Jira site and waits (up to
    `timeout_s`) until the user has signed in, however the site signs in (form, SSO, 2FA).
    When JIRA_USERNAME/JIRA_PASSWORD are set, fills Jira's login form for them. Returns who
    signed in; headless runs of the browser source then reuse the profile.

    `headless=True` is for automated checks only: nobody can type into a headless window."""
    from selenium.common.exceptions import WebDriverException

    if settings.browser_profile_dir is None:
        raise LiveConfigurationError(
            "Set JIRA_BROWSER_PROFILE_DIR to the folder where the signed-in browser profile "
            "should be kept (it holds session cookies: keep it private)."
        )
    install_redaction(settings.secret_values())
    profile_dir = Path(settings.browser_profile_dir)
    driver = start_chromium(settings, profile_dir, headless=headless)
    try:
        if settings.username and settings.password:
            sign_in_with_form(driver, settings)
        else:
            driver.get(f"{settings.base_url}{LOGIN_PATH}")
            log.info("Sign in to %s in the browser window that opened.", settings.base_url)
        transport = BrowserTransport(
            driver,
            settings.base_url,
            retry=build_retry(settings),
            read_timeout_s=settings.read_timeout_s,
        )
        client = JiraClient(transport)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                user = _signed_in_user(driver, client, settings.base_url)
            except SessionExpiredError:
                user = None
            if user is not None:
                log.info("Signed in to %s as %s.", settings.base_url, user.display_name)
                return user
            if time.monotonic() >= deadline:
                raise SessionExpiredError(
                    f"Nobody signed in to {settings.base_url} within {timeout_s:g} s. "
                    f"{BROWSER_LOGIN_HINT}"
                )
            time.sleep(poll_s)
    finally:
        with contextlib.suppress(WebDriverException):
            driver.quit()


def _signed_in_user(driver: WebDriver, client: JiraClient, base_url: str) -> JiraUser | None:
    """Who the browser is signed in as; None while it is not (or is on another site, e.g.
    the SSO provider's page, where a same-origin request to Jira is impossible)."""
    from selenium.common.exceptions import WebDriverException

    try:
        current = driver.current_url
    except WebDriverException:
        raise SessionExpiredError(
            f"The browser window was closed before signing in to {base_url}. {BROWSER_LOGIN_HINT}"
        ) from None
    if not current.startswith(base_url):
        return None
    try:
        return client.myself()
    except JiraAuthError:
        return None
