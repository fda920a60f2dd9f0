"""The notebook stepper in a real JupyterLab, beside an untrusted notebook (issue 24).

A JupyterLab server of its own (its own config, data and runtime folders, no token, 127.0.0.1) opens two notebooks
side by side in one page, both run with no Graphviz program: a trusted one (signed, as JupyterLab signs a notebook
its user ran) and an untrusted one (a notebook downloaded from a course page). The trusted notebook's stepper must
step; the untrusted one must show its one line and leak no markup; neither may stop the other. The page is saved
as docs/jupyter-stepper.png for the README. Skipped when jupyterlab (the test extra installs it), playwright or
/usr/bin/chromium is missing.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from harness import keep_screenshot

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # views_notebook: runs a notebook with no Graphviz program

pytest.importorskip("jupyterlab", reason="the jupyterlab package is not installed (pip install -e '.[test]')")
nbformat = pytest.importorskip("nbformat")

TRUSTED = [
    """\
import jangrad
from jangrad import Value

# the lecture's neuron: o = tanh(x1*w1 + x2*w2 + b)
x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
x1w1 = x1 * w1; x1w1.label = "x1*w1"
x2w2 = x2 * w2; x2w2.label = "x2*w2"
x1w1x2w2 = x1w1 + x2w2; x1w1x2w2.label = "x1*w1 + x2*w2"
n = x1w1x2w2 + b; n.label = "n"
o = n.tanh(); o.label = "o"
""",
    "o.backward()\njangrad.stepper(o)",
]

UNTRUSTED = [  # a notebook downloaded from a course page: opened, never run here
    """\
import jangrad
from jangrad import Value

a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
f = Value(-2.0, label="f")
L = (a * b + c) * f; L.label = "L"
jangrad.stepper(L)""",
]


def _notebook(cells: list[str], folder: Path):
    from views_notebook import execute_without_graphviz

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell.strip()) for cell in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return execute_without_graphviz(notebook, folder)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _workspace(left: str, right: str) -> dict:
    """JupyterLab's saved layout: the two notebooks side by side, nothing else open."""
    return {
        "data": {
            "layout-restorer:data": {
                "main": {
                    "dock": {
                        "type": "split-area",
                        "orientation": "horizontal",
                        "sizes": [0.5, 0.5],
                        "children": [
                            {"type": "tab-area", "currentIndex": 0, "widgets": [f"notebook:{left}"]},
                            {"type": "tab-area", "currentIndex": 0, "widgets": [f"notebook:{right}"]},
                        ],
                    },
                    "current": f"notebook:{left}",
                },
                "left": {"collapsed": True, "visible": True, "widgets": []},
                "right": {"collapsed": True, "visible": True, "widgets": []},
                "relativeSizes": [0, 1, 0],
            },
            f"notebook:{left}": {"data": {"path": left, "factory": "Notebook"}},
            f"notebook:{right}": {"data": {"path": right, "factory": "Notebook"}},
        },
        "metadata": {"id": "jangrad"},
    }


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server with the two notebooks, and its URL."""
    folder = tmp_path_factory.mktemp("jupyterlab")
    env = dict(os.environ)
    for part in ("config", "data", "runtime"):
        (folder / part).mkdir()
        env[f"JUPYTER_{part.upper()}_DIR"] = str(folder / part)
    env["PYTHONPATH"] = str(ROOT)
    (folder / "config" / "labconfig").mkdir()
    (folder / "config" / "labconfig" / "page_config.json").write_text(  # no "receive Jupyter news?" popup
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    notebooks = folder / "notebooks"
    notebooks.mkdir()
    trusted = _notebook(TRUSTED, folder)
    from nbformat.sign import NotebookNotary

    NotebookNotary(data_dir=str(folder / "data")).sign(trusted)  # what JupyterLab does when its user runs it
    nbformat.write(trusted, notebooks / "lecture.ipynb")
    nbformat.write(_notebook(UNTRUSTED, folder), notebooks / "downloaded.ipynb")
    (folder / "layout.json").write_text(json.dumps(_workspace("lecture.ipynb", "downloaded.ipynb")))
    lab_command = [sys.executable, "-m", "jupyterlab"]
    imported = subprocess.run(
        [*lab_command, "workspaces", "import", "--name", "jangrad", str(folder / "layout.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    port = _free_port()
    log = (folder / "lab.log").open("w")
    server = subprocess.Popen(
        [
            *lab_command,
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--ServerApp.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={notebooks}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/api", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within two minutes")
        assert server.poll() is None, (folder / "lab.log").read_text()
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_a_trusted_notebooks_stepper_steps_beside_an_untrusted_one_and_the_page_is_saved(browser, lab, tmp_path):
    context = browser.new_context(viewport={"width": 1920, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{lab}/lab/workspaces/jangrad")
    panels = page.locator(".jp-NotebookPanel")
    page.wait_for_function("document.querySelectorAll('.jp-NotebookPanel').length === 2")
    page.locator(".jp-NotebookPanel div.jangrad-stepper").wait_for()
    started = [panels.nth(i).locator("div.jangrad-stepper").count() for i in range(2)]
    assert sorted(started) == [0, 1]
    trusted, untrusted = panels.nth(started.index(1)), panels.nth(started.index(0))
    line = untrusted.locator("b.jg-static")
    line.wait_for()

    stepper = trusted.locator("div.jangrad-stepper")
    for _ in range(3):
        stepper.locator('button[data-move="next"]').click()
    assert stepper.get_attribute("data-position") == "3"
    narration = stepper.locator(".jg-lines").inner_text()
    assert narration.startswith("n = (x1*w1 + x2*w2) + b  (add; n.grad = 0.5)")
    lit = stepper.locator("g.node.jg-lit title").evaluate_all("titles => titles.map(t => t.textContent)")
    assert sorted(lit) == ["n8", "n8op"]
    assert trusted.locator("b.jg-static").is_hidden()

    graph, room = stepper.locator(".jg-graph svg").bounding_box(), stepper.bounding_box()
    assert graph["width"] <= room["width"] + 1  # fitted to the panel, its text still legible (see the picture)

    text = line.inner_text()
    assert text.startswith("jangrad.stepper: backward from L, 4 steps.") and "trust this notebook" in text
    output = untrusted.locator(".jp-OutputArea-output").last.inner_text()
    assert output.strip() == text.strip()  # the line, and nothing leaked around it (no SVG text, no JSON)

    shot = tmp_path / "jupyter-stepper.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    keep_screenshot(shot, "jupyter-stepper.png")

    # What the line says works: trusting the notebook (the command palette's Trust Notebook) starts its stepper,
    # and the other one keeps its place.
    untrusted.locator(".jp-Notebook").click()
    page.keyboard.press("Control+Shift+C")
    page.keyboard.type("Trust Notebook")
    page.keyboard.press("Enter")
    page.locator(".jp-Dialog button.jp-mod-accept").click()
    second = untrusted.locator("div.jangrad-stepper")
    second.wait_for()
    second.locator('button[data-move="last"]').click()
    assert second.get_attribute("data-position") == "4" and stepper.get_attribute("data-position") == "3"
    assert second.locator(".jg-lines").inner_text().startswith("v1 = a * b  (mul; v1.grad = -2.0)")
    context.close()
    ours = [error for error in errors if "jangrad" in error or "stepper" in error]
    assert ours == [], errors
