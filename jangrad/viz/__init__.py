"""Seeing jangrad's graphs: drawings (graph.py), terminal trees (ascii.py), a narrated backward pass
(explain.py), the node a failed gradcheck blames (check.py) and matplotlib plots (plots.py); the lecture's
``draw_dot`` (lecture.py) and a backward pass to click through in a notebook (stepper.py, on steps.py).

Every view names a node as ``names.py`` does, and none changes what it looks at: the backward pass they show is
worked out on the side (``sidepass.py``), never run. In a notebook a drawing is sized to the output area
(``sizing.py``), and a view that cannot draw says why in one line instead of raising.

Importing this package loads neither graphviz nor matplotlib: each is imported inside the function that uses it,
and ``jangrad.viz.plots`` is imported only when first touched.
"""

from typing import TYPE_CHECKING, Any

from .ascii import ascii, print_tree
from .check import draw_gradcheck, first_disagreeing_node
from .explain import explain
from .graph import Drawing, GraphvizNotFound, draw
from .lecture import draw_dot
from .stepper import Stepper, stepper

if TYPE_CHECKING:  # loaded on first use by __getattr__
    from . import plots

__all__ = [
    "draw",
    "Drawing",
    "GraphvizNotFound",
    "ascii",
    "print_tree",
    "explain",
    "first_disagreeing_node",
    "draw_gradcheck",
    "plots",
    "draw_dot",
    "stepper",
    "Stepper",
]


def __getattr__(name: str) -> Any:
    if name == "plots":
        import importlib

        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'jangrad.viz' has no attribute {name!r}")
