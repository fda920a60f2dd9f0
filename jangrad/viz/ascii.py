"""The graph as an indented tree in the terminal: ``jangrad.ascii(value)`` and ``jangrad.print_tree(value)``.

The output Value is the root and each node's operands hang below it, in operand order. A node used more than
once (``a`` in ``a * a + a * b``) is a DAG, not a tree: it is printed in full the first time with a marker such as
``[#1]`` and, wherever it appears again, only referenced (``[#1] see above``), so a shared sub-graph never repeats.
Each line names its node as every view does (``names.py``): ``v3  mul``, ``a``, ``2.0  constant``. The tree shows
``.data`` and ``.grad`` as the Values hold them (before ``backward()`` every gradient is 0) and changes neither.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ..engine import Value, topological_order
from .graph import fmt
from .names import is_constant, node_names

__all__ = ["ascii", "print_tree", "Tree"]


class Tree(str):
    """The text of ``ascii``: a ``str`` (print it, split it, compare it) that a notebook shows as the tree itself
    rather than as a quoted string full of ``\\n``."""

    __slots__ = ()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def _describe(node: Value, name: str) -> str:
    if node.parents:
        head = f"{name}  {node.op}"
    elif is_constant(node):
        head = f"{name}  constant"
    else:
        head = name
    return f"{head}  data={fmt(node.data)}  grad={fmt(node.grad)}"


def ascii(value: Value, max_depth: int | None = None) -> Tree:
    """Return the tree of ``value``'s graph as text (one node per line). ``max_depth`` cuts deep trees short.

    >>> from jangrad import Value
    >>> a = Value(2.0, label="a"); b = Value(3.0, label="b")
    >>> print(ascii(a * b))
    v1  mul  data=6  grad=0
    ├── a  data=2  grad=0
    └── b  data=3  grad=0
    """
    if not isinstance(value, Value):
        raise TypeError(f"ascii expects a Value, got {value!r} of type {type(value).__name__}")
    if max_depth is not None and (not isinstance(max_depth, int) or max_depth < 0):
        raise ValueError(f"max_depth must be None or an int >= 0, got {max_depth!r}")
    order = topological_order(value)
    names = node_names(order)
    uses: dict[int, int] = {}
    for node in order:
        for parent in node.parents:
            uses[id(parent)] = uses.get(id(parent), 0) + 1
    markers: dict[int, str] = {}  # id -> "[#k]", given when a shared node is first printed
    lines: list[str] = []
    # Each entry: the node, the text before its branch, its branch glyph, and its depth. A stack (not recursion)
    # so a chain of thousands of nodes prints without hitting Python's recursion limit.
    stack: list[tuple[Value, str, str, int]] = [(value, "", "", 0)]
    while stack:
        node, indent, branch, depth = stack.pop()
        key = id(node)
        if key in markers:
            lines.append(f"{indent}{branch}{names[key]} {markers[key]} see above")
            continue
        marker = ""
        if uses.get(key, 0) > 1:
            markers[key] = f"[#{len(markers) + 1}]"
            marker = " " + markers[key]
        lines.append(f"{indent}{branch}{_describe(node, names[key])}{marker}")
        if not node.parents:
            continue
        child_indent = indent + ("" if not branch else ("│   " if branch == "├── " else "    "))
        if max_depth is not None and depth >= max_depth:
            lines.append(f"{child_indent}└── ... ({len(node.parents)} operand(s) not shown)")
            continue
        children = node.parents
        for i in range(len(children) - 1, -1, -1):  # pushed in reverse so the first operand prints first
            glyph = "└── " if i == len(children) - 1 else "├── "
            stack.append((children[i], child_indent, glyph, depth + 1))
    return Tree("\n".join(lines))


def print_tree(value: Value, max_depth: int | None = None, file: TextIO | None = None) -> None:
    """Print ``ascii(value)``."""
    print(ascii(value, max_depth), file=sys.stdout if file is None else file)
