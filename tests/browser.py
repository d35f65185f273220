"""Open pages in Debian's headless Chromium (Selenium + chromedriver), with no network.

Usage::

    with chromium_page(path) as page:
        assert page.errors == []
        n = page.js("return document.querySelectorAll('path.leaflet-interactive').length")
        page.screenshot(tmp_path / "page.png")

Browsers cannot be downloaded here: the tests drive ``/usr/bin/chromium`` and
``/usr/bin/chromedriver`` (Debian packages ``chromium`` and ``chromium-driver``). When they are
missing the test is skipped, except under CI (``CI=true``) where it fails.

Every map and report embeds Leaflet from the pip package django-js-lib-leaflet: nothing to
fetch before opening a page.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CPTS_GEO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CPTS_GEO_CHROMEDRIVER", "/usr/bin/chromedriver")

FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # No network: every host resolves to nothing (file:// pages are unaffected).
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--window-size=1280,900",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def _require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e .[test])")
    if missing:
        msg = f"headless browser unavailable: {', '.join(missing)}"
        if in_ci():
            pytest.fail(msg + " (CI must install chromium and chromium-driver)")
        pytest.skip(msg)


class Page:
    """A page loaded in headless Chromium."""

    def __init__(self, driver):
        self.driver = driver
        self._logs: list[dict] = []

    def _collect(self) -> list[dict]:
        self._logs.extend(self.driver.get_log("browser"))
        return self._logs

    @property
    def errors(self) -> list[str]:
        """JavaScript errors (uncaught exceptions, console.error) seen so far."""
        out = [
            e["message"]
            for e in self._collect()
            if e.get("level") == "SEVERE" and e.get("source") != "network"
        ]
        out += self.driver.execute_script("return window.__cptsErrors || []")
        return out

    @property
    def network_errors(self) -> list[str]:
        """Requests that failed (there is no network: any request to a host fails)."""
        return [e["message"] for e in self._collect() if e.get("source") == "network"]

    def js(self, script: str, *args):
        """Run ``script`` in the page and return its value."""
        return self.driver.execute_script(script, *args)

    def screenshot(self, path) -> Path:
        """Save a PNG screenshot of the viewport."""
        path = Path(path)
        self.driver.save_screenshot(str(path))
        return path


@contextlib.contextmanager
def chromium_page(path, *, wait_s: float = 1.0):
    """Open a local HTML file in headless Chromium and yield a :class:`Page`."""
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cpts-geo-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    try:
        # Record errors thrown before the page's own scripts could be inspected.
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument",
            {
                "source": "window.__cptsErrors=[];window.addEventListener('error',"
                "e=>window.__cptsErrors.push(String(e.message||e)));"
            },
        )
        driver.get(Path(path).resolve().as_uri())
        deadline = time.monotonic() + 30
        while driver.execute_script("return document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} did not finish loading")
            time.sleep(0.05)
        time.sleep(wait_s)
        yield Page(driver)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
