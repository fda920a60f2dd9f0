"""The page served from an installed wheel (its static files are package data), and the README's screenshots."""

from __future__ import annotations

import subprocess
import sys

from harness import ROOT, ServerProcess, expect, keep_screenshot, open_page

NETWORK = "?tab=network&data=moons&test=0.2&layers=8,8&optimizer=adam&lr=0.02&steps=400&pace=100"


def test_the_page_loads_from_an_installed_wheel(browser, tmp_path):
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(wheels.glob("jangrad-*.whl"))
    target = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    assert (target / "jangrad" / "playground" / "static" / "app.js").is_file()
    server = ServerProcess(env_path=target, cwd=tmp_path)  # the worktree is not on this server's path
    try:
        context, page, guard = open_page(browser, server.url)
        expect(page.locator("#expr-output")).to_have_text("L = -8.0")
        assert page.locator("#expr-graph svg").count() == 1
        context.close()
        assert guard.foreign == []
    finally:
        server.stop()


def test_screenshots_of_both_labs(browser, server, tmp_path):
    """The README's pictures, at 1280 pixels wide: the expression lab mid-way through backward, and the network lab
    paused mid-run with a sample's graph and a parameter's optimizer state on screen."""
    context, page, guard = open_page(browser, server.url)
    try:
        page.set_viewport_size({"width": 1280, "height": 800})
        for _ in range(3):
            page.click("#step-next")
        shot = tmp_path / "playground-expression.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        keep_screenshot(shot, "playground-expression.png")

        page.goto(server.url + NETWORK)
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector("body[data-lab='ready']")
        page.click("#train-play")
        page.wait_for_function("() => Number(document.getElementById('train-step-counter').textContent) >= 120")
        page.click("#train-pause")
        expect(page.locator("#train-state")).to_have_text("paused")
        for index in range(60):  # a training sample that still has a loss, so that its gradients are not all 0
            x, y = page.evaluate(
                f"() => window.jangradLab.boundary.toCanvas(...window.jangradLab.summary.points[{index}])"
            )
            box = page.locator("#boundary-canvas").bounding_box()
            page.mouse.click(box["x"] + x * box["width"] / 320, box["y"] + y * box["height"] / 320)
            page.wait_for_function(f"() => document.getElementById('part-sample').dataset.sample === '{index}'")
            if page.get_attribute("#part-sample", "data-loss") not in ("0.0", None):
                break
        page.locator("#net-diagram .unit[data-unit='2,3']").click()
        held = page.inner_text("#train-step-counter")
        page.click("#train-step")
        expect(page.locator("#train-step-counter")).not_to_have_text(held)
        expect(page.locator("#optimizer-table")).to_be_visible()
        for _ in range(4):
            page.click("#sample-next")
        expect(page.locator("#sample-counter")).to_contain_text("step 4 /")
        shot = tmp_path / "playground-network.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        keep_screenshot(shot, "playground-network.png")
    finally:
        context.close()
    assert guard.foreign == []
