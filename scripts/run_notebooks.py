"""Execute the example notebooks in place, storing their outputs (graphs, plots, printed numbers) in the files.

Run from the repository root after changing a notebook: ``python scripts/run_notebooks.py [NOTEBOOK ...]``.
CI does not use this script: ``tests/test_notebooks.py`` executes the notebooks without writing them.

A notebook is written back only if no cell loses a picture it had: a cell that showed an SVG graph or a PNG
plot and now shows only text (a drawing forced to Graphviz on a machine without it, a plot that failed) keeps
the file as it was, and the script says which cells and exits 1. Without the Graphviz program the graphs are
drawn by jangrad's built-in renderer, which is a picture too, so such a machine can still refresh the files.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PICTURES = ("image/svg+xml", "image/png")


class WorseOutputs(RuntimeError):
    """Running the notebook would replace a picture in the file with text: the file is left alone."""


def pictures(notebook) -> list[set[str]]:
    """For each code cell, the kinds of picture (SVG, PNG) among its outputs."""
    return [
        {kind for out in cell.get("outputs", []) for kind in out.get("data", {}) if kind in PICTURES}
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def lost_pictures(before, after) -> list[str]:
    """Which code cells (numbered from 1) had a picture ``before`` that they lack ``after``, and which."""
    lost = []
    for number, (old, new) in enumerate(zip(pictures(before), pictures(after), strict=True), start=1):
        missing = sorted(old - new)
        if missing:
            lost.append(f"code cell {number} would lose its {' and '.join(missing)} output")
    return lost


def run(path: Path, timeout: int = 300) -> float:
    """Execute one notebook with a fresh python3 kernel and write it back with outputs; return the seconds taken.

    Raises WorseOutputs (and writes nothing) if a cell would lose a picture the file has.
    """
    import nbformat
    from nbclient import NotebookClient

    committed = nbformat.read(path, as_version=4)
    notebook = nbformat.read(path, as_version=4)
    # The kernel must import this checkout's jangrad, not whichever one is installed.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    lost = lost_pictures(committed, notebook)
    if lost:
        raise WorseOutputs(f"{path.name}: not written: " + "; ".join(lost))
    temporary = path.with_name(path.name + ".tmp")
    nbformat.write(notebook, temporary)
    os.replace(temporary, path)
    return seconds


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "examples").glob("*.ipynb"))
    if shutil.which("dot") is None:
        print(
            "the Graphviz program 'dot' is not installed: graphs are drawn by jangrad's built-in renderer", flush=True
        )
    failed = 0
    for path in paths:
        try:
            print(f"{path.name}: {run(path):.1f} s", flush=True)
        except WorseOutputs as refusal:
            sys.stderr.write(f"{refusal}\n")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
