"""Execute every example notebook headless, as a learner would run it top to bottom; every assert cell must pass.

Needs nbclient, nbformat and ipykernel (a python3 Jupyter kernel). The notebooks check their own numbers with
``assert``; a failing assert fails the cell, and nbclient raises ``CellExecutionError`` naming it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds; a whole notebook takes well under a minute on a shared 2-core machine


def test_the_three_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == [
        "01_building_a_gradient_engine.ipynb",
        "02_neural_network_from_scratch.ipynb",
        "03_backpropagation_by_hand.ipynb",
    ]


def _executed(path: Path, monkeypatch) -> tuple:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []  # run from a clean slate, whatever outputs the file stores
    # The kernel inherits this environment: make it import this checkout's jangrad and draw without a display.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    return notebook, time.perf_counter() - start


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_its_asserts_pass(path, monkeypatch):
    notebook, seconds = _executed(path, monkeypatch)
    print(f"{path.name} ran in {seconds:.1f} s")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    sources = "\n".join(cell.source for cell in code)
    assert sources.count("assert ") >= 5, "each notebook checks its numbers with assert cells"
    errors = [out for cell in code for out in cell.outputs if out.output_type == "error"]
    assert not errors
    mime_types = {kind for cell in code for out in cell.outputs for kind in out.get("data", {})}
    assert "image/png" in mime_types, "plots should render inline"
    assert "image/svg+xml" in mime_types, "graphs should render inline"


# ---- scripts/run_notebooks.py: never writes worse outputs than the file has --------------------------------------
def _graph_notebook(path: Path, draw_call: str) -> None:
    """A one-graph notebook whose stored output is a picture, as the committed examples are."""
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        "import jangrad\n"
        "a = jangrad.Value(2.0, label='a'); b = jangrad.Value(-3.0, label='b')\n"
        "e = a * b; e.label = 'e'; e.backward()\n" + draw_call
    )
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg>stored graph</svg>"})]
    notebook.cells = [cell]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


def _run_script_without_dot(tmp_path: Path, notebook: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "python3").exists():
        (bin_dir / "python3").symlink_to(sys.executable)
    env = {**os.environ, "PATH": str(bin_dir), "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), str(notebook)],
        env=env,
        capture_output=True,
        text=True,
        timeout=CELL_TIMEOUT * 2,
    )


def test_run_notebooks_refuses_to_replace_a_graph_with_dot_text(tmp_path):
    notebook = tmp_path / "graph.ipynb"
    _graph_notebook(notebook, "jangrad.draw(e, renderer='graphviz')")  # no dot here: only DOT text comes out
    before = notebook.read_bytes()
    result = _run_script_without_dot(tmp_path, notebook)
    assert result.returncode == 1, result.stderr
    assert "graph.ipynb: not written: code cell 1 would lose its image/svg+xml output" in result.stderr
    assert notebook.read_bytes() == before


def test_run_notebooks_without_dot_stores_the_builtin_svg(tmp_path):
    notebook = tmp_path / "graph.ipynb"
    _graph_notebook(notebook, "jangrad.draw(e)")
    result = _run_script_without_dot(tmp_path, notebook)
    assert result.returncode == 0, result.stderr
    assert "built-in renderer" in result.stdout
    outputs = nbformat.read(notebook, as_version=4).cells[0].outputs
    svg = "".join(out["data"]["image/svg+xml"] for out in outputs if "image/svg+xml" in out.get("data", {}))
    assert "stored graph" not in svg and ">grad -3</text>" in svg and "digraph" not in svg
