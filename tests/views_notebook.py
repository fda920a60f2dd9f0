"""The notebook of the views tests, as a learner would type it: the lecture's first expression and neuron, their
``backward()``, then every view, each followed by a cell asserting that every ``.grad`` is what it was. Built and
run here with no Graphviz program, for tests/test_notebook_views.py (nbclient) and tests/browser/test_jupyterlab.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CELL_TIMEOUT = 120

SETUP = f"""\
import shutil, sys
sys.path.insert(0, {str(ROOT / "tests")!r})
import jangrad
from jangrad import Value
from lecture import neuron_nodes

assert shutil.which("dot") is None, "this notebook runs with the Graphviz program hidden"


def grads(root):
    return [(node.data, node.grad) for node in jangrad.topological_order(root)]"""

LECTURE = """\
a = Value(2.0, label="a")
b = Value(-3.0, label="b")
c = Value(10.0, label="c")
e = a * b; e.label = "e"
d = e + c; d.label = "d"
f = Value(-2.0, label="f")
L = d * f; L.label = "L"
L"""

BACKWARD = """\
L.backward()
assert (a.grad, b.grad, c.grad, f.grad) == (6.0, -4.0, -2.0, 4.0)  # as in the video
held_L = grads(L)
o = neuron_nodes()["o"]
o.backward()
held_o = grads(o)"""

MLP = """\
from jangrad.nn import MLP
model = MLP(3, [8, 8, 1], seed=0)
loss = sum((model(x) - y) ** 2 for x, y in zip([[2.0, 3.0, -1.0], [3.0, -1.0, 0.5]], [1.0, -1.0]))
loss.label = "loss"
loss.backward()
held_loss = grads(loss)"""

# (a view as a learner types it, the graph whose gradients it must leave alone)
VIEWS = [
    ("jangrad.draw(L)", "L"),
    ("jangrad.draw_dot(L)", "L"),
    ("jangrad.ascii(L)", "L"),
    ("jangrad.explain(L)", "L"),
    ("jangrad.stepper(L)", "L"),
    ("jangrad.draw(o)", "o"),
    ("jangrad.draw_dot(o)", "o"),
    ("jangrad.stepper(o)", "o"),
    ("jangrad.explain(o)", "o"),
    ("jangrad.draw(loss)", "loss"),
    ("jangrad.stepper(loss)", "loss"),
    ("jangrad.draw(L, renderer='graphviz')", "L"),  # forced to a program that is not there: one line, no error
]

CHECK_ENGINE = """\
from micrograd.engine import Value as MicrogradValue
jangrad.check_engine(MicrogradValue, examples=10)"""


def build_notebook():
    cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(LECTURE)]
    cells += [nbformat.v4.new_code_cell("jangrad.draw_dot(L)"), nbformat.v4.new_code_cell("jangrad.stepper(L)")]
    cells += [nbformat.v4.new_code_cell(BACKWARD), nbformat.v4.new_code_cell(MLP)]
    for view, root in VIEWS:
        cells.append(nbformat.v4.new_code_cell(view))
        cells.append(nbformat.v4.new_code_cell(f"assert grads({root}) == held_{root}, 'the view changed a gradient'"))
    try:
        import micrograd  # noqa: F401 (the test extra installs it: a learner's engine for check_engine)

        cells.append(nbformat.v4.new_code_cell(CHECK_ENGINE))
    except ImportError:
        pass
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def path_without_graphviz(folder: Path) -> str:
    """A PATH that has every program of this one but Graphviz's (as .ci/bare-machine.sh makes one)."""
    folder.mkdir(exist_ok=True)
    graphviz = {"dot", "neato", "twopi", "circo", "fdp", "sfdp", "osage", "patchwork"}
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            program = os.path.join(directory, name)
            if name not in graphviz and os.access(program, os.X_OK) and not (folder / name).exists():
                (folder / name).symlink_to(program)
    return str(folder)


def execute_without_graphviz(notebook, folder: Path):
    """Run the notebook top to bottom as Run All runs it (nbclient, as ``jupyter nbconvert --execute``), with the
    dot program hidden from PATH; raises CellExecutionError, naming the cell, if any cell fails."""
    import nbclient

    saved_env = dict(os.environ)
    os.environ["PATH"] = path_without_graphviz(folder / "bin")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), saved_env.get("PYTHONPATH")]))
    os.environ.pop("MPLBACKEND", None)
    try:
        client = nbclient.NotebookClient(
            notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    return notebook
