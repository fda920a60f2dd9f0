"""``draw_dot``: the lecture's own drawing function, with the lecture's meaning, for code written against micrograd.

The lecture defines ``draw_dot(root)`` in the notebook: a ``graphviz.Digraph`` with one record per Value
(``label | data %.4f | grad %.4f``) and one small node per op showing the op's symbol, edges operand -> op ->
result, the op node labelled with the node's ``_op``. This is that function, so a learner's cells that call it (or
go on to ``.render()`` or ``.view()`` it) run unchanged, ops built by hand included. It differs from the lecture's
in two ways that do not change the picture: node names are ``n<i>``, the node's index in ``topological_order``
(the lecture's ``id()`` numbers change every run; these make the DOT text the same every time), and a constant
exponent or slope is shown inside its op node (``**2``), as micrograd's ``__pow__`` does, rather than as a box of
its own.

``jangrad.draw`` is jangrad's richer drawing (grouping big graphs, highlighting, saving); this one stays small.
"""

from __future__ import annotations

from ..engine import Value, topological_order
from ..extras import MissingExtraError
from ..ops import OPS

__all__ = ["draw_dot", "lecture_symbol"]


def _number_text(x: float) -> str:
    """A constant as micrograd prints it in ``f'**{other}'``: ``2`` for a whole number, else the float."""
    return str(int(x)) if x.is_integer() else repr(x)


def _folds_constant(node: Value) -> bool:
    """Whether the node's second operand is a constant parameter (``x ** 2``, ``leaky_relu(x, 0.01)``)."""
    rule = OPS.get(node.op)
    return rule is not None and rule.constant_operand and len(node.parents) == 2


def lecture_symbol(node: Value) -> str:
    """What the lecture's drawing writes in the op node of ``node``: its ``_op`` (``'+'``, ``'*'``, ``'tanh'``,
    ``'**2'``, ``'ReLU'``, or the symbol an op built by hand was given), and a slope a drawn box does not show.

    ``''`` for a leaf.
    """
    symbol = node._op
    if _folds_constant(node) and not symbol.startswith("**"):  # "**2" names its exponent already
        return f"{symbol} {_number_text(node.parents[1].data)}"
    return symbol


def _escape_record(text: str) -> str:
    """Backslash the characters that structure a DOT record label, so any label draws as plain text."""
    return "".join("\\" + c if c in '\\{}|<>"' else c for c in text)


def draw_dot(root: Value, format: str = "svg", rankdir: str = "LR"):
    """The graph that produced ``root`` as a ``graphviz.Digraph``, drawn as in the lecture.

    ``format`` is what ``.render()`` and ``.pipe()`` write ('svg', 'png', ...); ``rankdir`` is 'LR' (inputs on
    the left) or 'TB' (inputs on top). In a notebook the returned object shows itself as a picture.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot expects a Value, got {root!r} of type {type(root).__name__}")
    if not isinstance(format, str) or not format:
        raise ValueError(f"format must be a Graphviz output format such as 'svg' or 'png', got {format!r}")
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' (left to right) or 'TB' (top to bottom), got {rankdir!r}")
    try:
        from graphviz import Digraph
    except ImportError:
        raise MissingExtraError("graphviz", "draw_dot") from None

    order = topological_order(root)
    index = {id(node): i for i, node in enumerate(order)}
    folded = set()  # constants shown inside their op node, when nothing else uses them
    uses: dict[int, int] = {}
    for node in order:
        for parent in set(map(id, node.parents)):
            uses[parent] = uses.get(parent, 0) + 1
    for node in order:
        if _folds_constant(node):
            constant = node.parents[1]
            if not constant.label and constant.is_leaf and uses[id(constant)] == 1:
                folded.add(id(constant))

    dot = Digraph(format=format, graph_attr={"rankdir": rankdir})
    edges: dict[tuple[str, str], None] = {}  # the lecture keeps a set of edges; a dict also keeps their order
    for node in order:
        if id(node) in folded:
            continue
        uid = f"n{index[id(node)]}"
        dot.node(
            name=uid,
            label=f"{{ {_escape_record(node.label)} | data {node.data:.4f} | grad {_grad_number(node.grad):.4f} }}",
            shape="record",
        )
        if node._op:
            dot.node(name=uid + "op", label=lecture_symbol(node))
            dot.edge(uid + "op", uid)
        # As in the lecture, operands point at the op node, or at the node itself when its _op is '' (by hand).
        head = uid + "op" if node._op else uid
        for parent in node.parents:
            if id(parent) not in folded:
                edges[(f"n{index[id(parent)]}", head)] = None
    for tail, head in edges:
        dot.edge(tail, head)
    return dot


def _grad_number(grad: object) -> float:
    """A gradient as a float: after ``backward(create_graph=True)`` it is a Value, whose data is drawn."""
    return grad.data if isinstance(grad, Value) else grad
