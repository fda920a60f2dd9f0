"""The smallest failing graph, drawn: every node with the learner's data and grad beside the right ones, the
node the diagnosis blames in red. Graphviz DOT, built with the ``graphviz`` package in the style of
``jangrad.viz.draw`` (which draws jangrad's own Values, so it cannot show a second engine's numbers)."""

from __future__ import annotations

from ..extras import require
from ..ops import OPS
from .forms import FORMS, number_text
from .program import Case, close, node_names

__all__ = ["case_dot"]

_HIGHLIGHT = {"color": "red", "penwidth": "3", "style": "filled", "fillcolor": "#ffd6d6"}


def _escape(text: str) -> str:
    return "".join("\\" + c if c in '\\{}|<>"' else c for c in text)


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


def case_dot(case: Case, culprit: int | None) -> str:
    """DOT text for the case's graph (inputs on the left)."""
    require("graphviz", "drawing a failing graph")
    import graphviz

    program = case.program
    names = node_names(program.size)
    first = len(program.leaves)
    dot = graphviz.Digraph(graph_attr={"rankdir": "LR"}, node_attr={"fontname": "Helvetica"})
    for i in range(program.size):
        yours_data = case.yours_data[i] if i < len(case.yours_data) else None
        yours_grad = case.yours_grad[i] if i < len(case.yours_grad) else None
        text = (
            f"{{ {_escape(names[i])} | data {_escape(_pair(yours_data, case.right_data[i]))} "
            f"| grad {_escape(_pair(yours_grad, case.right_grad[i]))} }}"
        )
        attributes = dict(_HIGHLIGHT) if i == culprit else {}
        dot.node(f"n{i}", label=text, shape="record", **attributes)
        if i >= first:
            step = program.steps[i - first]
            dot.node(f"n{i}op", label=_op_label(step.form, step.constant), shape="ellipse", fontsize="11")
            dot.edge(f"n{i}op", f"n{i}")
            for operand in step.operands:  # a * a draws two edges: a used twice
                dot.edge(f"n{operand}", f"n{i}op")
    return dot.source
