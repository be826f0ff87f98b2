"""A real headless Chromium (Debian's chromium and chromium-driver) driven by selenium, for the
gadgets' browser tests: started once per module, logged in through Special:UserLogin."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER = "/usr/bin/chromedriver"


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium; the test is skipped, with the reason, only when it cannot start."""
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    binary = next((b for b in CHROMIUM if os.path.exists(b)), None)
    if binary is None or not os.path.exists(DRIVER):
        pytest.skip("Chromium cannot start: chromium and chromium-driver are not installed "
                    "(scripts/install-system-deps.sh)")
    profile = tempfile.mkdtemp(prefix="automod-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", f"--user-data-dir={profile}", "--no-proxy-server"):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    except WebDriverException as exc:
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"Chromium cannot start: {str(exc).splitlines()[0]}")
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def log_in(driver: Any, index_url: str, name: str, password: str) -> None:
    """Log in as a person would: Special:UserLogin, name, password, the button."""
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{index_url}?title=Special:UserLogin")
    driver.find_element(By.ID, "wpName1").send_keys(name)
    driver.find_element(By.ID, "wpPassword1").send_keys(password)
    driver.find_element(By.ID, "wpLoginAttempt").click()
    wait_for(lambda: driver.execute_script("return window.mw && mw.config.get('wgUserName')") == name,
             f"logged in as {name}", 30)


def wait_for(probe: Callable[[], T], what: str = "the condition", timeout: float = 30.0, interval: float = 0.25) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except Exception:  # noqa: BLE001 - a page still loading raises; keep polling
            value = None  # type: ignore[assignment]
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def screenshot(driver: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
