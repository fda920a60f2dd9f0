"""Execute every example notebook headless, as a learner would run it top to bottom; every assert cell must pass.

Needs nbclient, nbformat and ipykernel (a python3 Jupyter kernel). The notebooks check their own numbers with
``assert``; a failing assert fails the cell, and nbclient raises ``CellExecutionError`` naming it.
"""

from __future__ import annotations

import os
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
    assert [p.name for p in NOTEBOOKS] == ["01_building_a_gradient_engine.ipynb",
                                           "02_neural_network_from_scratch.ipynb",
                                           "03_backpropagation_by_hand.ipynb"]


def _executed(path: Path, monkeypatch) -> tuple:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []  # run from a clean slate, whatever outputs the file stores
    # The kernel inherits this environment: make it import this checkout's jangrad and draw without a display.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
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
