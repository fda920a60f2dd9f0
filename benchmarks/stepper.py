"""How big and how quick ``jangrad.stepper`` is on graphs of tens to hundreds of nodes, beside the obvious design it
replaced: one SVG per frame.

    python benchmarks/stepper.py            # prints one row per graph; the click times need /usr/bin/chromium

Per graph: nodes and steps; the seconds to build the stepper (backward, narration, drawing); the size of its HTML
and of its frames (the diffs), beside the size the same steps would take as one full SVG each; and, in headless
Chromium opened on the saved page, the median milliseconds of a click on "next" and of a click on "last" (each
including the layout the page does to keep the lit node in view). Not a test: timings on a shared machine vary.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jangrad
from jangrad.nn import MLP

CHROMIUM = "/usr/bin/chromium"


def graphs() -> list[tuple[str, jangrad.Value]]:
    cases = []
    for hidden in (2, 4, 8, 10):
        model = MLP(3, [hidden, hidden, 1], seed=0)
        loss = (model([2.0, 3.0, -1.0]) - 1.0) ** 2
        cases.append((f"MLP(3, [{hidden}, {hidden}, 1]) loss", loss))
    return cases


def click_times(browser, path: Path) -> tuple[float, float]:
    page = browser.new_page()
    page.goto(path.as_uri())
    times = page.evaluate("""() => {
        const root = document.querySelector('div.jangrad-stepper');
        const press = (move) => { const start = performance.now();
            root.querySelector(`button[data-move="${move}"]`).click(); return performance.now() - start; };
        const next = [];
        for (let i = 0; i < 20; i++) next.push(press('next'));
        press('first');
        const last = [];
        for (let i = 0; i < 5; i++) { last.push(press('last')); press('first'); }
        return {next, last};
    }""")
    page.close()
    return statistics.median(times["next"]), statistics.median(times["last"])


def main() -> int:
    browser = playwright = None
    if os.path.exists(CHROMIUM):
        try:
            from playwright.sync_api import sync_playwright

            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        except ImportError:
            pass
    print(
        f"{'graph':<26} {'nodes':>5} {'steps':>5} {'build s':>8} {'HTML KiB':>9} {'frames KiB':>10} "
        f"{'SVG/frame KiB':>13} {'next ms':>8} {'last ms':>8}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for name, root in graphs():
            nodes = len(jangrad.topological_order(root))
            started = time.perf_counter()
            st = jangrad.stepper(root)
            build = time.perf_counter() - started
            page_kib = len(st.html().encode("utf-8")) / 1024
            frames_kib = len(json.dumps(st.frames, ensure_ascii=False).encode("utf-8")) / 1024
            per_frame_svg_kib = len((st.svg or "").encode("utf-8")) * len(st.frames) / 1024
            clicks = ("", "")
            if browser is not None and st.svg is not None:
                path = st.save(Path(folder) / "steps.html")
                clicks = tuple(f"{ms:.1f}" for ms in click_times(browser, path))
            print(
                f"{name:<26} {nodes:>5} {len(st.frames):>5} {build:>8.2f} {page_kib:>9.0f} {frames_kib:>10.0f} "
                f"{per_frame_svg_kib:>13.0f} {clicks[0]:>8} {clicks[1]:>8}"
            )
    if browser is not None:
        browser.close()
        playwright.stop()
    else:
        print("(no click times: /usr/bin/chromium or the playwright package is missing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
