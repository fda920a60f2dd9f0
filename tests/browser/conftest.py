"""Browser tests of the playground: a real server process, Debian's chromium driven by Python playwright.

Skipped cleanly when playwright or /usr/bin/chromium is missing (``.ci/install-browser.sh`` installs both; never
``playwright install``, which downloads a browser). Every page records each request it makes; a test fails if any
request goes anywhere but this machine.
"""

from __future__ import annotations

import os

import pytest
from harness import CHROMIUM, CHROMIUM_ARGS, ServerProcess, open_page


@pytest.fixture(scope="session")
def server():
    process = ServerProcess()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (run .ci/install-browser.sh)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context, page, guard = open_page(browser, server.url)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert guard.foreign == [], f"requests left the machine: {guard.foreign}"
    assert errors == [], f"JavaScript errors: {errors}"
