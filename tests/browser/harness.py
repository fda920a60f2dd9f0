"""Helpers for the playground's browser tests: the server process, the request guard, opening a page.

Kept out of conftest.py so that test files import them by a name no other conftest can shadow.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def keep_screenshot(shot: Path, name: str) -> None:
    """Copy a test's screenshot to ``docs/<name>`` for the README, only when ``JANGRAD_SCREENSHOTS=1`` asks for it:
    a plain test run never changes the checkout (run ``JANGRAD_SCREENSHOTS=1 python3 -m pytest tests/browser`` to
    renew the README's pictures)."""
    if os.environ.get("JANGRAD_SCREENSHOTS") == "1":
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / name)


def expect(locator):
    """playwright's ``expect``, imported only when playwright is there (so collection never fails without it)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


class ServerProcess:
    """``python -m jangrad.playground --port 0`` in a child process, and the URL it printed."""

    def __init__(self, env_path: str | Path = ROOT, cwd: str | Path = ROOT, path_variable: str | None = None) -> None:
        env = dict(os.environ, PYTHONPATH=str(env_path), PYTHONUNBUFFERED="1")
        if path_variable is not None:
            env["PATH"] = path_variable
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jangrad.playground", "--port", "0"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if "http://127.0.0.1:" not in line:
            self.process.kill()
            raise RuntimeError(f"the server did not start: {line!r} {self.process.stderr.read()!r}")
        self.url = line.split()[2]
        self.port = urlsplit(self.url).port

    def stop(self) -> float:
        """SIGTERM, and the seconds until the process ended."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        elapsed = time.monotonic() - started
        self.process.stdout.close()
        self.process.stderr.close()
        return elapsed


class Guard:
    """Records every request a page makes; ``foreign`` lists those to anywhere but this machine."""

    def __init__(self) -> None:
        self.foreign: list[str] = []

    def __call__(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname not in LOOPBACK:
            self.foreign.append(request.url)


def open_page(browser, url: str):
    """A fresh browser context and page on ``url``, with its request guard; waits until the page is ready."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    guard = Guard()
    context.on("request", guard)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    return context, page, guard
