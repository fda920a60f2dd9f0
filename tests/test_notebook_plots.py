"""The plots in the example notebooks name their axes: a learner reads a picture before its code.

Each plotting cell is run here on its own (the notebook's setup cell, then that cell), with pyplot's ``show``
held back so that the figure can be read afterwards. ``test_notebooks.py`` runs the notebooks whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _code_cells(name: str) -> list[str]:
    notebook = json.loads((ROOT / "examples" / name).read_text(encoding="utf-8"))
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def _run_cell_and_keep_its_figure(name: str, marker: str, monkeypatch):
    setup, *cells = _code_cells(name)
    plotting = next(source for source in cells if marker in source)
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    namespace: dict = {}
    plt.close("all")
    # Our own notebook's code, run as the notebook runs it (minus the IPython magic line).
    exec("\n".join(line for line in setup.splitlines() if not line.startswith("%")), namespace)
    exec(plotting, namespace)
    return plt.gcf()


def test_the_rise_over_run_plot_of_notebook_02_names_its_axes(monkeypatch):
    figure = _run_cell_and_keep_its_figure("02_neural_network_from_scratch.ipynb", "run, then rise", monkeypatch)
    try:
        (ax,) = figure.axes
        assert ax.get_xlabel() == "x" and ax.get_ylabel() == "f(x)"
        assert "rise / run" in ax.get_title()
        assert {text.get_text() for text in ax.texts} == {"run h = 1.5", "rise = 7.5"}
    finally:
        plt.close("all")
