"""One name per node, the same in every view: drawings, narration, tables, ASCII trees, the steppers and the labs.

A node's name is chosen once for a graph (the graph below one output) and every view asks here for it:

* a label wins (``Value(2.0, label="a")`` is ``a``); when several nodes carry the same label (each sample's input
  ``x0`` in an MLP's loss), the first keeps it and the others are ``x0#2``, ``x0#3``, ... in graph order;
* a constant, a plain number jangrad wrapped for the learner (the ``2`` in ``a + 2``), is written as its number;
* every other node, a Value the learner made without a label or the result of an op, is ``v1``, ``v2``, ... in
  topological order (operands before the nodes that use them), skipping any name a label already took.

Only constants are constants: a ``Value(3.0)`` the learner made is a variable, named and narrated like any other,
whether or not it has a label. Topological order is deterministic (it follows operands in order, never object
addresses), so the same program gives the same names in every run and every view.
"""

from __future__ import annotations

import re

from ..engine import Value, topological_order
from ..ops import CONSTANT

__all__ = ["is_constant", "number_text", "term_of", "node_names", "NodeNames"]

_ONE_TOKEN = re.compile(r"-?[\w.#]+|-?[\d.]+e[+-]\d+")  # a name, or a number as number_text writes it


def is_constant(node: Value) -> bool:
    """Whether ``node`` is a number jangrad wrapped in an op (``a + 2``, ``2 * a``), not a Value the learner made."""
    return node._rule is CONSTANT


def term_of(name: str) -> str:
    """A node's name as it stands in a formula (``name.grad``, ``a * name``): as it is when it is one token, in
    parentheses when it is not, since a label may be an expression (the lecture's ``x1*w1 + x2*w2``, whose gradient
    is ``(x1*w1 + x2*w2).grad``: ``x1*w1 + x2*w2.grad`` would read as ``x2*w2``'s)."""
    return name if _ONE_TOKEN.fullmatch(name) else f"({name})"


def number_text(x: float) -> str:
    """A number as every view writes it: 4 significant digits, and ``3.0`` rather than ``3`` (the engine's floats)."""
    text = f"{x:.4g}"
    if text.lstrip("-").isdigit():
        text += ".0"
    return text


def node_names(order: list[Value]) -> dict[int, str]:
    """Each node's name, by ``id``, for the nodes of ``order`` (a topological order, as ``topological_order``
    gives)."""
    labels = {node.label for node in order if node.label}
    names: dict[int, str] = {}
    label_uses: dict[str, int] = {}
    count = 0
    for node in order:
        if node.label:
            uses = label_uses[node.label] = label_uses.get(node.label, 0) + 1
            names[id(node)] = node.label if uses == 1 else f"{node.label}#{uses}"
        elif is_constant(node):
            names[id(node)] = number_text(node.data)
        else:
            count += 1
            while f"v{count}" in labels:  # a node labelled "v1" keeps it: the unnamed one takes the next
                count += 1
            names[id(node)] = f"v{count}"
    return names


class NodeNames:
    """The names of one graph, for a view that asks node by node: ``names[node]``, ``names.order``."""

    def __init__(self, root: Value, order: list[Value] | None = None) -> None:
        self.root = root
        self.order = topological_order(root) if order is None else order
        self._names = node_names(self.order)

    def __getitem__(self, node: Value) -> str:
        return self._names[id(node)]

    def __contains__(self, node: Value) -> bool:
        return id(node) in self._names
