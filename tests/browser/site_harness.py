"""Helpers for the static site's browser tests: building the folder once, serving it with ``python -m http.server``
on 127.0.0.1, and opening it in Chromium with every request recorded.

The build needs its inputs (Pyodide and viz.js from npm, wheels from PyPI, or ``~/.cache/jangrad/site`` holding
them). Where they cannot be had, the tests skip with the builder's one-line reason; CI sets
``JANGRAD_REQUIRE_SITE=1`` so that a missing input fails there instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness import ROOT, Guard

REQUIRE = "JANGRAD_REQUIRE_SITE"
PAGE_TIMEOUT_MS = 120_000  # a cold Pyodide start on a loaded two-core machine, with margin; never asserted on


def build_or_skip(folder: Path) -> Path:
    from jangrad.site import SiteError, build_site

    try:
        build_site(folder)
    except SiteError as error:
        if os.environ.get(REQUIRE):
            raise
        pytest.skip(f"the static site cannot be built here ({error}); CI sets {REQUIRE}=1")
    return folder


class StaticServer:
    """``python -m http.server`` serving ``folder`` on 127.0.0.1 at a free port, as a learner would serve it."""

    def __init__(self, folder: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(folder)],
            cwd=ROOT,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()  # "Serving HTTP on 127.0.0.1 port 41235 (http://127.0.0.1:41235/) ..."
        if " port " not in line:
            self.process.kill()
            raise RuntimeError(f"http.server did not start: {line!r}")
        self.port = int(line.split(" port ")[1].split()[0])
        self.url = f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()


class OpenSite:
    """A page of the site in a fresh browser context: its request guard and the JavaScript errors it raised."""

    def __init__(self, browser, url: str, wait_ready: bool = True) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.guard = Guard()
        self.context.on("request", self.guard)
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.set_default_timeout(PAGE_TIMEOUT_MS)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url)
        if wait_ready:
            self.page.wait_for_selector("body[data-ready='1']", state="attached")

    def close(self) -> None:
        self.context.close()
