"""Debian's headless Chromium driven by Selenium, started so that it never talks to anything but
loopback (no background networking, updates, sync, QUIC), with a profile of its own.

    with chromium(tmp_path) as driver: driver.get("http://127.0.0.1:PORT/")
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions",
         "--metrics-recording-only", "--no-default-browser-check")


@contextmanager
def chromium(directory: Path) -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed")
    browser, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver_path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are needed in CI (tests/install.sh)")
        pytest.skip("chromium / chromedriver are not installed")
    options = Options()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={directory / 'chromium-profile'}")
    # The driver's path is given: Selenium Manager (which would download a driver) never runs.
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
