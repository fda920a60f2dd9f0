"""The static site in headless Chromium: its size, the start to ``jangrad.ready`` (cold and warm), W2's moons
step on the eager engine in the page against CPython on the same machine, and the network lab in the page.

    python benchmarks/site.py                 # builds the site into a temporary folder (inputs from the cache)
    python benchmarks/site.py --site DIR      # measures a folder that `jangrad site DIR` wrote
    python benchmarks/site.py --runs 5 --steps 10

Cold: a fresh browser profile (empty cache) opens the page, timed from navigation to ``jangrad.ready``; the visit
then runs the moons step (as a learner's first visit uses the page). Warm: the same profile opens the page again,
twice, timed the same way: the HTTP cache holds the files, and V8 caches the compiled WebAssembly once enough of it
has been optimised (which a first visit may or may not reach, so both warm loads are shown). A persistent profile,
as a learner's browser has: incognito-like contexts keep no compiled-code cache.
The moons step is micrograd's demo step (``models.py``: 100 samples, MLP(2, [16, 16, 1]), hinge + 1e-4 L2), run in
the page through ``jangrad.run`` and in a fresh CPython process with the same source; medians of ``--steps`` steps
after two warm-up steps.
The network lab: MLP(2, [16, 16, 1]) on 100 moons in batches of 20, played as fast as it goes and at the page's
default pace: steps per second with the page's frames, the longest frame handler on the page's main thread, every
main-thread task over 50 ms (the Long Tasks API) and the worker's time per frame; and the slowest step the
worker allows (16,16 on 118 moons, full batch: 39,766 samples x parameters, the browser's limit being 40,000).
These are benchmarks, not tests: times vary with the machine's load (printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the jangrad checkout this file belongs to, before any installed copy

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def moons_source(steps: int) -> str:
    """W2's step as a program: the moons data inline, micrograd's model code, and the timed loop."""
    from jangrad import data

    X, y = data.moons(n=100, noise=0.1, seed=1, signed=True)
    return "\n".join(
        [
            (HERE / "models.py").read_text(),
            "import json, time",
            "from jangrad import Value",
            f"X = {X!r}",
            f"y = {y!r}",
            "model = MLP(Value, 2, [16, 16, 1])",
            "times = []",
            f"for step in range({steps} + 2):",
            "    started = time.perf_counter()",
            "    model.zero_grad()",
            "    loss = hinge_l2_loss(model, X, y)",
            "    loss.backward()",
            "    times.append(time.perf_counter() - started)",
            "print(json.dumps({'times': times[2:], 'loss': loss.data}))",
        ]
    )


def cpython_moons(source: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout)


class Server:
    def __init__(self, folder: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(folder)],
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        self.url = f"http://127.0.0.1:{int(line.split(' port ')[1].split()[0])}/"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def seconds_to_ready(context, url: str) -> tuple[float, object, dict]:
    """Seconds from navigation to jangrad.ready on a new page of ``context``, the page, and details in ms: the
    worker's own start of Pyodide with the archives unpacked, and when the expression lab's graph was drawn."""
    page = context.new_page()
    page.set_default_timeout(180_000)
    page.goto(url)
    ready_at, startup = page.evaluate("window.jangrad.ready.then(v => [performance.now(), v.startup])")
    page.wait_for_selector("body[data-ready='1']", state="attached")  # the expression lab's first graph is drawn
    startup["lab_drawn"] = round(page.evaluate("performance.now()"))
    return ready_at / 1000, page, startup


LONG_TASKS = """window.siteLongTasks = [];
new PerformanceObserver((list) => { for (const task of list.getEntries()) window.siteLongTasks.push(task.duration); })
  .observe({type: 'longtask', buffered: true});"""


def _step(page) -> int:
    return int(page.inner_text("#train-step-counter"))


def lab_rate(browser, url: str, query: str, seconds: float) -> dict:
    """Play the network lab configured by ``query`` and measure ``seconds`` of it after 10 steps."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(180_000)
    page.add_init_script(LONG_TASKS)
    page.goto(url + "?tab=network&" + query)
    page.wait_for_selector("body[data-lab='ready']", state="attached")
    page.wait_for_function("() => window.jangradLab.diagram.frame !== null")
    page.click("#train-play")
    page.wait_for_function("() => Number(document.getElementById('train-step-counter').textContent) >= 10")
    begun, first = page.evaluate("performance.now()"), _step(page)
    page.evaluate("window.siteLongTasks = []; window.jangradLab.frameTimes.length = 0")
    page.wait_for_timeout(seconds * 1000)
    ended, last = page.evaluate("performance.now()"), _step(page)
    frames = page.evaluate("[...window.jangradLab.frameTimes]")
    worker = page.evaluate("window.jangradLab.serverTimes.slice(-Math.max(1, window.jangradLab.frameTimes.length))")
    long_tasks = page.evaluate("window.siteLongTasks")
    page.close()
    return {
        "steps_per_second": (last - first) / ((ended - begun) / 1000),
        "frames": len(frames),
        "frame_ms_max": max(frames, default=0.0),
        "frame_ms_median": statistics.median(frames) if frames else 0.0,
        "worker_ms_median": statistics.median(worker) if worker else 0.0,
        "long_tasks": long_tasks,
    }


def network_lab(browser, url: str) -> None:
    lab = "data=moons&samples=100&layers=16,16&batch=20&steps=5000"
    for pace in ("max", "50"):
        m = lab_rate(browser, url, f"{lab}&pace={pace}", 8.0)
        print(
            f"network lab, MLP(2, [16, 16, 1]) on 100 moons, batches of 20, pace {pace}: "
            f"{m['steps_per_second']:.1f} steps/s; {m['frames']} frames, page's frame handler median "
            f"{m['frame_ms_median']:.1f} ms, longest {m['frame_ms_max']:.1f} ms; worker per frame median "
            f"{m['worker_ms_median']:.1f} ms; main-thread tasks over 50 ms: {len(m['long_tasks'])} "
            f"{[round(t) for t in m['long_tasks']]}  (load {_load()})"
        )
    bound = lab_rate(browser, url, "data=moons&samples=118&layers=16,16&batch=0&steps=5000&pace=max", 8.0)
    print(
        f"network lab at the browser's step limit (16,16 on 118 moons, full batch): "
        f"{1000 / bound['steps_per_second']:.0f} ms per step; main-thread tasks over 50 ms: {len(bound['long_tasks'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=Path, help="a folder written by `jangrad site` (default: build one)")
    parser.add_argument("--runs", type=int, default=3, help="cold and warm starts measured (default 3)")
    parser.add_argument("--steps", type=int, default=10, help="moons steps timed (default 10)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from jangrad.site import build_site

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.site or build_site(Path(scratch) / "site").folder
        files = [p for p in folder.rglob("*") if p.is_file()]
        print(f"folder: {len(files)} files, {sum(p.stat().st_size for p in files) / 2**20:.1f} MiB")
        server = Server(folder)
        source = moons_source(args.steps)
        try:
            with sync_playwright() as playwright:
                cold, warm = [], []
                for _run in range(args.runs):
                    with tempfile.TemporaryDirectory() as profile:
                        context = playwright.chromium.launch_persistent_context(
                            profile, executable_path=CHROMIUM, args=ARGS, headless=True
                        )
                        first, page, cold_parts = seconds_to_ready(context, server.url)
                        page_moons = json.loads(page.evaluate("s => window.jangrad.run(s)", source))
                        page.close()
                        again = []
                        for _ in range(2):
                            seconds, page, parts = seconds_to_ready(context, server.url)
                            again.append((seconds, parts))
                            page.close()
                        context.close()
                    cold.append(first)
                    warm.extend(seconds for seconds, _ in again)
                    shown = ", ".join(f"{seconds:.2f} s {parts}" for seconds, parts in again)
                    print(f"  start to jangrad.ready: cold {first:.2f} s {cold_parts}; warm {shown}  (load {_load()})")
                chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                network_lab(chromium, server.url)
                chromium.close()
        finally:
            server.stop()
        here = cpython_moons(source)
    browser_step, cpython_step = statistics.median(page_moons["times"]), statistics.median(here["times"])
    print(f"cold start: median {statistics.median(cold):.2f} s (min {min(cold):.2f}, max {max(cold):.2f})")
    print(f"warm start: median {statistics.median(warm):.2f} s (min {min(warm):.2f}, max {max(warm):.2f}; all loads)")
    print(
        f"W2 moons step, eager: page {browser_step * 1000:.0f} ms, CPython {cpython_step * 1000:.0f} ms, "
        f"ratio {browser_step / cpython_step:.2f}x (loss {page_moons['loss']!r} vs {here['loss']!r})"
    )


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
