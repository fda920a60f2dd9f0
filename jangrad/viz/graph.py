"""Drawings of a computation graph: DOT text, SVG and PNG files, and inline pictures in Jupyter.

``draw(value)`` lays out the graph that produced ``value`` as in the lecture's ``draw_dot``: one record per Value
(``label | data | grad``) and one small node per op, edges input -> op -> output. It builds DOT text with the
``graphviz`` Python package; turning DOT into SVG or PNG needs the Graphviz ``dot`` program, and without it the
DOT text still works while SVG/PNG raise ``GraphvizNotFound`` with a one-line install hint.

Big graphs (an MLP's loss over a few samples has thousands of nodes) would be an unreadable hairball, so above
``max_nodes`` the drawing groups nodes: every labelled non-leaf node names a group (the nn module labels each
neuron's output ``layers.1.neurons.3``), and an unlabelled node joins the group of its consumers when they all
agree. A group is drawn as one box with its output data and gradient. ``group=`` may also be a function
node -> group name (or None) to group by any rule of the user's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Iterable, Union

from ..engine import Value, topological_order
from ..io.files import write_bytes

__all__ = ["draw", "Drawing", "GraphvizNotFound", "INSTALL_HINT", "fmt", "node_name"]

INSTALL_HINT = ("the Graphviz 'dot' program is not installed, so only DOT text can be written: install it "
                "(apt-get install graphviz | brew install graphviz | conda install graphviz) for SVG and PNG")

# Ops that a neuron applies last: a group whose output comes from one of these is named after it.
_ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "gelu", "erf", "exp")
_MAX_SHOWN = 4  # how many per-sample data/grad numbers a group box lists before "..."

GroupRule = Union[None, bool, Callable[[Value], Union[str, None]]]


class GraphvizNotFound(RuntimeError):
    """SVG or PNG was asked for but the Graphviz ``dot`` program is not on PATH."""


def fmt(x: object) -> str:
    """A number with 4 significant digits (a Value gradient, from create_graph, shows its data)."""
    number = x.data if isinstance(x, Value) else x
    return f"{number:.4g}"


def node_name(node: Value) -> str:
    """What a drawing calls a node: its label, else its op, else (a constant leaf) nothing."""
    return node.label or node.op


def _escape_record(text: str) -> str:
    """Backslash the characters that structure a DOT record label, so any label draws as plain text."""
    return "".join("\\" + c if c in '\\{}|<>"' else c for c in text)


class Drawing:
    """A drawn graph: ``.source`` is DOT text; ``.save(path)`` writes .svg, .png or .dot by the path's suffix.

    ``.boxes`` maps each drawn node's name (``n<i>``, its index in ``topological_order``) to the DOT node that shows
    it: itself, or the box of its group when the drawing is grouped (for pages that point at a node).
    """

    def __init__(self, source: str, boxes: dict[str, str] | None = None) -> None:
        self.source = source
        self.boxes = boxes or {}

    def __repr__(self) -> str:
        return f"Drawing({self.source.count(chr(10))} lines of DOT; .save('graph.svg') to render)"

    def pipe(self, format: str = "svg") -> bytes:
        """Render with the ``dot`` program. Raises GraphvizNotFound (with the install hint) when it is missing."""
        import graphviz

        try:
            return graphviz.Source(self.source).pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFound(INSTALL_HINT) from None

    def save(self, path: str | os.PathLike) -> Path:
        """Write the drawing to ``path``; the suffix (.svg, .png, .dot or .gv) chooses the format."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".dot", ".gv"):
            data = self.source.encode("utf-8")
        elif suffix in (".svg", ".png"):
            data = self.pipe(suffix[1:])
        else:
            raise ValueError(f"cannot save a drawing as {str(path)!r}: expected a name ending in .svg, .png or .dot")
        write_bytes(path, data)
        return path

    def _repr_svg_(self) -> str | None:
        try:
            return self.pipe("svg").decode("utf-8")
        except GraphvizNotFound:
            return None  # Jupyter then falls back to the text form

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        svg = self._repr_svg_()
        if svg is not None:
            return {"image/svg+xml": svg}
        return {"text/plain": INSTALL_HINT + "\n" + self.source}


# ---- grouping ----------------------------------------------------------------------------------------------------
def _consumers(order: list[Value]) -> dict[int, list[Value]]:
    consumers: dict[int, list[Value]] = {id(node): [] for node in order}
    for node in order:
        for parent in node.parents:
            consumers[id(parent)].append(node)
    return consumers


def _assign_groups(order: list[Value], consumers: dict[int, list[Value]], rule: Callable[[Value], str | None],
                   max_nodes: int) -> dict[int, str | None]:
    """Map each node to a group name (or None: drawn on its own). Visits consumers before the nodes they use."""
    root = order[-1]
    group_of: dict[int, str | None] = {}
    for node in reversed(order):
        name = rule(node)
        if name is None and node is root:
            name = "output"
        if name is None:
            groups = [group_of[id(c)] for c in consumers[id(node)]]
            if groups and groups[0] is not None and all(g == groups[0] for g in groups):
                name = groups[0]
            elif node.label:  # a parameter labelled "layers.0.neurons.3.w.1" belongs to its neuron
                owners = [g for g in groups if g is not None and node.label.startswith(g + ".")]
                name = owners[0] if owners else None
        group_of[id(node)] = name
    loose_leaves = [n for n in order if group_of[id(n)] is None and not n.parents]
    if sum(1 for n in order if group_of[id(n)] is None) > max_nodes:
        for leaf in loose_leaves:  # still too many: the inputs and parameters become one box
            group_of[id(leaf)] = "leaves"
    return group_of


def _natural_key(name: str) -> list[tuple[int, object]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name)]


def _label_rule(node: Value) -> str | None:
    return node.label if node.label and node.parents else None


# ---- building the DOT text ----------------------------------------------------------------------------------------
def _highlighted(highlight: Value | Iterable[Value] | None) -> set[int]:
    if highlight is None:
        return set()
    if isinstance(highlight, Value):
        return {id(highlight)}
    nodes = list(highlight)
    for node in nodes:
        if not isinstance(node, Value):
            raise TypeError(f"highlight must be a Value or a list of Values, got {node!r}")
    return {id(node) for node in nodes}


_HIGHLIGHT_STYLE = {"color": "red", "penwidth": "3", "style": "filled", "fillcolor": "#ffd6d6"}


def _folded_constant(node: Value) -> Value | None:
    """For ``x ** 2`` or ``leaky_relu(x, 0.01)``: the unlabelled constant operand, which the op node shows."""
    op = node._rule
    if op is not None and op.constant_operand and not node.parents[1].label and node.parents[1].is_leaf:
        return node.parents[1]
    return None


def _op_text(node: Value) -> str:
    constant = _folded_constant(node)
    symbol = node._rule.symbol
    if constant is None:
        return symbol
    return f"{symbol}{fmt(constant.data)}" if symbol == "**" else f"{symbol} {fmt(constant.data)}"


def _group_box(name: str, members: list[Value], heads: list[Value], stacked: bool) -> str:
    kind = heads[0].op if heads else ""
    if kind in _ACTIVATIONS:
        title = f"{name} ({kind})"
    elif "neurons" in name:
        title = f"{name} (linear)"
    else:
        title = name
    shown = heads[:_MAX_SHOWN]
    more = ", ..." if len(heads) > _MAX_SHOWN else ""
    data = ", ".join(fmt(h.data) for h in shown) + more
    grad = ", ".join(fmt(h.grad) for h in shown) + more
    uses = f" x{len(heads)}" if len(heads) > 1 else ""
    fields = (f"{_escape_record(title)}{uses} | data {_escape_record(data)} | grad {_escape_record(grad)} "
              f"| {len(members)} nodes")
    # A box's fields run across the rank direction; braces flip them. Stacked fields keep a big graph narrow.
    return fields if stacked else "{ " + fields + " }"


def draw(value: Value, rankdir: str = "LR", *, highlight: Value | Iterable[Value] | None = None,
         group: GroupRule = None, max_nodes: int = 150) -> Drawing:
    """Draw the graph that produced ``value``.

    ``rankdir`` is "LR" (inputs on the left) or "TB". ``highlight`` marks a node (or several) in red, for
    example the one ``jangrad.viz.first_disagreeing_node`` finds when a gradcheck fails. ``group`` is None
    (group by labels only when the graph has more than ``max_nodes`` nodes), True or False (always or never),
    or a function node -> group name or None.
    """
    if not isinstance(value, Value):
        raise TypeError(f"draw expects a Value, got {value!r} of type {type(value).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    try:
        import graphviz
    except ImportError:
        raise ImportError("drawing needs the graphviz Python package: pip install graphviz") from None

    order = topological_order(value)
    consumers = _consumers(order)
    marked = _highlighted(highlight)
    if group is None:
        group = len(order) > max_nodes
    if group is False:
        group_of: dict[int, str | None] = {id(n): None for n in order}
    else:
        rule = _label_rule if group is True else group
        if not callable(rule):
            raise TypeError(f"group must be None, True, False or a function node -> name, got {group!r}")
        group_of = _assign_groups(order, consumers, rule, max_nodes)

    index = {id(node): i for i, node in enumerate(order)}  # stable ids: the same graph gives the same DOT
    dot = graphviz.Digraph(graph_attr={"rankdir": rankdir}, node_attr={"fontname": "Helvetica"})

    group_ids: dict[str, str] = {}
    members: dict[str, list[Value]] = {}
    heads: dict[str, list[Value]] = {}
    for node in order:
        name = group_of[id(node)]
        if name is None:
            continue
        group_ids.setdefault(name, f"g{len(group_ids)}")
        members.setdefault(name, []).append(node)
        outside = [c for c in consumers[id(node)] if group_of[id(c)] != name]
        if outside or node is value:
            heads.setdefault(name, []).append(node)
    for name in heads:  # a neuron's box shows the neuron's outputs, not the weights the loss also reads
        named = [h for h in heads[name] if h.label == name and h.parents]
        if named:
            heads[name] = named

    hidden: set[int] = set()  # folded constants: shown inside their op node
    for node in order:
        constant = _folded_constant(node) if group_of[id(node)] is None else None
        if constant is not None and len(consumers[id(constant)]) == 1:
            hidden.add(id(constant))

    def target(node: Value) -> str:
        name = group_of[id(node)]
        return group_ids[name] if name is not None else f"n{index[id(node)]}"

    for name in sorted(group_ids, key=_natural_key):  # layers.0.neurons.2 before layers.0.neurons.10
        gid = group_ids[name]
        attrs = {"shape": "record", "style": "filled,rounded", "fillcolor": "#e8f0fe"}
        if any(id(m) in marked for m in members[name]):
            attrs.update(_HIGHLIGHT_STYLE)
        dot.node(gid, label=_group_box(name, members[name], heads.get(name, []), rankdir in ("LR", "RL")), **attrs)

    edges: dict[tuple[str, str], None] = {}  # a dict keeps first-seen order and drops repeats
    for node in order:
        if id(node) in hidden:
            continue
        if group_of[id(node)] is None:
            nid = f"n{index[id(node)]}"
            attrs = {"shape": "record"}
            if id(node) in marked:
                attrs.update(_HIGHLIGHT_STYLE)
            text = f"{{ {_escape_record(node_name(node))} | data {fmt(node.data)} | grad {fmt(node.grad)} }}"
            dot.node(nid, label=text, **attrs)
            if node.parents:
                op_id = nid + "op"
                dot.node(op_id, label=_op_text(node), shape="ellipse", fontsize="11",
                         **({"color": "red"} if id(node) in marked else {}))
                edges[(op_id, nid)] = None
                for parent in node.parents:
                    if id(parent) not in hidden:
                        edges[(target(parent), op_id)] = None
        else:
            here = target(node)
            for parent in node.parents:
                there = target(parent)
                if there != here:
                    edges[(there, here)] = None
    for tail, head in edges:
        dot.edge(tail, head)
    boxes = {f"n{index[id(node)]}": target(node) for node in order if id(node) not in hidden}
    return Drawing(dot.source, boxes)
