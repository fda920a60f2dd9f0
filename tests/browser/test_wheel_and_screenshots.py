"""The page served from an installed wheel (its static files are package data), and the README's screenshots."""

from __future__ import annotations

import shutil
import subprocess
import sys

from harness import ROOT, ServerProcess, expect, open_page


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


def test_screenshots_of_both_labs(page, tmp_path):
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    page.click("#step-next")
    page.click("#step-next")
    page.click("#step-next")
    shot = tmp_path / "playground-expression.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, docs / "playground-expression.png")

    page.click("#tab-network")
    for element, value in {"net-samples": "60", "net-layers": "6", "net-steps": "80"}.items():
        page.fill(f"#{element}", value)
        page.dispatch_event(f"#{element}", "change")
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=90_000)
    shot = tmp_path / "playground-network.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, docs / "playground-network.png")
