"""The smallest failing graph, drawn: every node with the learner's data and grad beside the right ones, the
node the diagnosis blames in red.

It builds the same ``Scene`` (boxes and arrows) that ``jangrad.draw`` builds for jangrad's own Values, and hands
it to ``jangrad.viz.graph.Drawing``: Graphviz draws it when the ``dot`` program is installed, jangrad's built-in
renderer when it is not, so every machine gets the picture (``Drawing.renderer_used()`` says which drew it).
"""

from __future__ import annotations

from ..ops import OPS
from ..viz.graph import Drawing
from ..viz.scene import OP, RECORD, Box, Scene, to_dot
from .forms import FORMS, number_text
from .program import Case, close, node_names

__all__ = ["case_scene", "case_drawing"]


def _pair(yours: float | None, right: float) -> str:
    if close(yours, right):
        return number_text(right)
    shown = "?" if yours is None else number_text(yours)
    return f"yours {shown}, right {number_text(right)}"


def _op_label(form_name: str, constant: float | None) -> str:
    form = FORMS[form_name]
    if form.category == "constant":
        return form.template.format(*["·"] * form.arity, c=number_text(constant))
    return OPS[form.op].symbol


def case_scene(case: Case, culprit: int | None) -> Scene:
    """The case's graph as boxes and arrows, inputs on the left."""
    program = case.program
    names = node_names(program.size)
    first = len(program.leaves)
    scene = Scene(rankdir="LR")
    for i in range(program.size):
        yours_data = case.yours_data[i] if i < len(case.yours_data) else None
        yours_grad = case.yours_grad[i] if i < len(case.yours_grad) else None
        fields = (
            names[i],
            f"data {_pair(yours_data, case.right_data[i])}",
            f"grad {_pair(yours_grad, case.right_grad[i])}",
        )
        scene.boxes.append(Box(f"n{i}", RECORD, fields, highlighted=i == culprit))
        if i >= first:
            step = program.steps[i - first]
            scene.boxes.append(Box(f"n{i}op", OP, (_op_label(step.form, step.constant),)))
            scene.edges.append((f"n{i}op", f"n{i}"))
            for operand in step.operands:  # a * a draws two arrows: a used twice
                scene.edges.append((f"n{operand}", f"n{i}op"))
    return scene


def case_drawing(case: Case, culprit: int | None) -> Drawing:
    """The case's graph as a ``Drawing``: ``.source`` is its DOT text, ``.pipe("svg")`` / ``.save(path)`` draw it
    with Graphviz, or with the built-in renderer where the ``dot`` program is missing."""
    scene = case_scene(case, culprit)
    return Drawing(to_dot(scene), scene=scene)
