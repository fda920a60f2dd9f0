"""Drawings of a computation graph: DOT text, SVG and PNG files, and inline pictures in Jupyter.

``draw(value)`` lays out the graph that produced ``value`` as in the lecture's ``draw_dot``: one record per Value
(``label | data | grad``) and one small node per op, edges input -> op -> output. It builds DOT text with the
``graphviz`` Python package. SVG and PNG come from the Graphviz ``dot`` program when it is installed, else from
the built-in renderer (``layout.py`` places the boxes, ``render.py`` writes SVG and PNG), which needs no system
package: every machine with Python gets pictures. ``renderer="graphviz"`` or ``"builtin"`` forces one.

Big graphs (an MLP's loss over a few samples has thousands of nodes) would be an unreadable hairball, so above
``max_nodes`` the drawing groups nodes: every labelled non-leaf node names a group (the nn module labels each
neuron's output ``layers.1.neurons.3``), and an unlabelled node joins the group of its consumers when they all
agree. A group is drawn as one box with its output data and gradient. ``group=`` may also be a function
node -> group name (or None) to group by any rule of the user's.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeAlias

from ..engine import Value, topological_order
from ..extras import require
from ..io.files import write_bytes
from .names import node_names
from .scene import GROUP, OP, RECORD, Box, Scene, to_dot
from .sidepass import rule_of
from .sizing import fit_svg

__all__ = ["draw", "Drawing", "GraphvizNotFound", "INSTALL_HINT", "RENDERERS", "fmt", "graphviz_installed"]

INSTALL_HINT = (
    "the Graphviz 'dot' program is not installed: install it (apt-get install graphviz | brew install "
    'graphviz | conda install graphviz), or draw with renderer="builtin" (--renderer builtin)'
)

# Ops that a neuron applies last: a group whose output comes from one of these is named after it.
_ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "gelu", "erf", "exp")
_MAX_SHOWN = 4  # how many per-sample data/grad numbers a group box lists before "..."
MAX_INLINE_BOXES = 2000  # a notebook shows a bigger drawing as one line saying so: laying it out takes too long

GroupRule: TypeAlias = bool | Callable[[Value], str | None] | None


class GraphvizNotFound(RuntimeError):
    """The Graphviz renderer was asked for (``renderer="graphviz"``) but the ``dot`` program is not on PATH."""


RENDERERS = ("auto", "graphviz", "builtin")


def _check_renderer(renderer: object) -> None:
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be 'auto', 'graphviz' or 'builtin', got {renderer!r}")


def graphviz_installed() -> bool:
    """Whether the Graphviz ``dot`` program is on PATH (the "auto" renderer then uses it)."""
    return shutil.which("dot") is not None


def fmt(x: object) -> str:
    """A number with 4 significant digits (a Value gradient, from create_graph, shows its data)."""
    number = x.data if isinstance(x, Value) else x
    return f"{number:.4g}"


class Drawing:
    """A drawn graph: ``.source`` is DOT text; ``.save(path)`` writes .svg, .png or .dot by the path's suffix.

    SVG and PNG come from Graphviz when the ``dot`` program is installed, else from the built-in renderer
    (``renderer`` forces either). ``.boxes`` maps each drawn node's name (``n<i>``, its index in
    ``topological_order``) to the box that shows it: itself, or the box of its group when the drawing is grouped
    (for pages that point at a node). Both renderers give each box's SVG group that id. ``.titles`` maps each group
    box's id to its group's name (``g3`` -> ``layers.0.neurons.3``), the words a narration uses for it.

    In a notebook it shows itself sized to the output area (``sizing.py``); when no picture can be made there (no
    Graphviz with ``renderer="graphviz"``, a graph too big to lay out inline, anything) it shows one line saying
    why instead of raising, so that Run All goes on.
    """

    def __init__(
        self,
        source: str,
        boxes: dict[str, str] | None = None,
        *,
        scene: Scene | None = None,
        renderer: str = "auto",
        titles: dict[str, str] | None = None,
    ) -> None:
        _check_renderer(renderer)
        self.source = source
        self.boxes = boxes or {}
        self.titles = titles or {}
        self.scene = scene
        self.renderer = renderer

    def __repr__(self) -> str:
        boxes = (
            f"{len(self.scene.boxes)} boxes" if self.scene is not None else f"{self.source.count(chr(10))} lines of DOT"
        )
        return f"<jangrad.draw: {boxes}; a picture in a trusted notebook, or .save('graph.svg' | '.png' | '.dot')>"

    def renderer_used(self) -> str:
        """ "graphviz" or "builtin": who draws the SVG and PNG now, with ``renderer`` and this machine's PATH."""
        if self.renderer == "auto":
            return "graphviz" if graphviz_installed() or self.scene is None else "builtin"
        return self.renderer

    def pipe(self, format: str = "svg") -> bytes:
        """The picture as SVG or PNG bytes. With ``renderer="graphviz"`` and no ``dot`` program this raises
        GraphvizNotFound (with the install hint); "auto" then draws with the built-in renderer."""
        if format not in ("svg", "png"):
            raise ValueError(f"format must be 'svg' or 'png', got {format!r}")
        if self.renderer_used() == "graphviz":
            try:
                return self._graphviz(format)
            except GraphvizNotFound:
                if self.renderer == "graphviz" or self.scene is None:
                    raise
        from .render import png_bytes, svg_text

        scene = self.scene
        if scene is None:  # renderer_used() says "graphviz" without a scene: unreachable, said plainly if not
            raise GraphvizNotFound(INSTALL_HINT)
        return svg_text(scene).encode("utf-8") if format == "svg" else png_bytes(scene)

    def _graphviz(self, format: str) -> bytes:
        require("graphviz", "drawing with Graphviz")
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

    def notebook_svg(self, fit: bool = True) -> tuple[str | None, str]:
        """The picture a notebook shows, sized for its output area (unless ``fit`` is False), or ``(None, reason)``:
        a one-line reason why no picture can be made here. Never raises, since a display hook must not."""
        if self.scene is not None and len(self.scene.boxes) > MAX_INLINE_BOXES:
            return None, (
                f"{len(self.scene.boxes)} boxes are too many to draw inline: draw(..., group=True) draws a box per "
                f"neuron, and .save('graph.svg') draws them all"
            )
        try:
            svg = self.pipe("svg").decode("utf-8")
            return (fit_svg(svg) if fit else svg), ""
        except GraphvizNotFound as missing:
            return None, str(missing)
        except Exception as error:  # a display hook must never raise: Run All would stop at this cell
            failure: Exception = error
            if self.renderer == "auto" and self.scene is not None and self.renderer_used() == "graphviz":
                try:  # the dot program failed: the built-in renderer still draws the same boxes
                    from .render import svg_text

                    svg = svg_text(self.scene)
                    return (fit_svg(svg) if fit else svg), ""
                except Exception as second:
                    failure = second
            reason = " ".join(str(failure).split())[:200]
            return None, f"the drawing failed ({type(failure).__name__}: {reason})"

    def _repr_svg_(self) -> str | None:
        return self.notebook_svg()[0]

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        svg, reason = self.notebook_svg()
        if svg is not None:
            return {"image/svg+xml": svg, "text/plain": repr(self)}
        return {"text/plain": f"{self!r}: no picture here: {reason}"}


# ---- grouping ----------------------------------------------------------------------------------------------------
def _consumers(order: list[Value]) -> dict[int, list[Value]]:
    consumers: dict[int, list[Value]] = {id(node): [] for node in order}
    for node in order:
        for parent in node.parents:
            consumers[id(parent)].append(node)
    return consumers


def _assign_groups(
    order: list[Value], consumers: dict[int, list[Value]], rule: Callable[[Value], str | None], max_nodes: int
) -> dict[int, str | None]:
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


def _folded_constant(node: Value) -> Value | None:
    """For ``x ** 2`` or ``leaky_relu(x, 0.01)``: the unlabelled constant operand, which the op node shows."""
    op = node._rule
    if op is not None and op.constant_operand and not node.parents[1].label and node.parents[1].is_leaf:
        return node.parents[1]
    return None


def _op_text(node: Value) -> str:
    constant = _folded_constant(node)
    symbol = rule_of(node).symbol
    if constant is None:
        return symbol
    return f"{symbol}{fmt(constant.data)}" if symbol == "**" else f"{symbol} {fmt(constant.data)}"


def _group_fields(
    name: str, members: list[Value], heads: list[Value], gradient: Callable[[Value], object]
) -> tuple[str, ...]:
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
    grad = ", ".join(fmt(gradient(h)) for h in shown) + more
    uses = f" x{len(heads)}" if len(heads) > 1 else ""
    return f"{title}{uses}", f"data {data}", f"grad {grad}", f"{len(members)} nodes"


def _layer_runs(group_names: list[str], group_ids: dict[str, str]) -> list[list[str]]:
    """The group boxes of each layer's neurons (``layers.1.neurons.<j>``), in neuron order, for the renderers."""
    runs: dict[str, list[str]] = {}
    for name in group_names:  # already in natural order
        match = re.fullmatch(r"(.*)\.neurons\.\d+", name)
        if match:
            runs.setdefault(match.group(1), []).append(group_ids[name])
    return [run for run in runs.values() if len(run) > 1]


def draw(
    value: Value,
    rankdir: str = "LR",
    *,
    highlight: Value | Iterable[Value] | None = None,
    group: GroupRule = None,
    max_nodes: int = 150,
    renderer: str = "auto",
) -> Drawing:
    """Draw the graph that produced ``value``, each Value a box of its name, data and grad (as it holds them now).

    ``rankdir`` is "LR" (inputs on the left) or "TB". ``highlight`` marks a node (or several) in red, for
    example the one ``jangrad.viz.first_disagreeing_node`` finds when a gradcheck fails. ``group`` is None
    (group by labels only when the graph has more than ``max_nodes`` nodes), True or False (always or never),
    or a function node -> group name or None. ``renderer`` picks who turns the drawing into SVG and PNG:
    "graphviz" (the ``dot`` program), "builtin" (pure Python, see ``jangrad.viz.layout``) or "auto" (Graphviz
    when ``dot`` is installed, else the built-in one). Names are every view's (``jangrad.viz.names``): a label,
    a constant's number, else ``v1``, ``v2``, ... Drawing changes no ``.data`` or ``.grad``.
    """
    return drawing_of(value, rankdir, highlight=highlight, group=group, max_nodes=max_nodes, renderer=renderer)


def drawing_of(
    value: Value,
    rankdir: str = "LR",
    *,
    highlight: Value | Iterable[Value] | None = None,
    group: GroupRule = None,
    max_nodes: int = 150,
    renderer: str = "auto",
    grad_of: Callable[[Value], object] | None = None,
) -> Drawing:
    """``draw``, with each box's gradient read by ``grad_of(node)`` instead of ``node.grad``: the stepper draws the
    gradients of a pass it worked out on the side (``sidepass.py``) without writing them into the Values."""
    if not isinstance(value, Value):
        raise TypeError(f"draw expects a Value, got {value!r} of type {type(value).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    _check_renderer(renderer)
    gradient = grad_of if grad_of is not None else _held_grad

    order = topological_order(value)
    names = node_names(order)
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

    index = {id(node): i for i, node in enumerate(order)}  # stable ids: the same graph gives the same drawing
    scene = Scene(rankdir)

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

    group_names = sorted(group_ids, key=_natural_key)  # layers.0.neurons.2 before layers.0.neurons.10
    for name in group_names:
        marked_inside = any(id(m) in marked for m in members[name])
        fields = _group_fields(name, members[name], heads.get(name, []), gradient)
        scene.boxes.append(Box(group_ids[name], GROUP, fields, marked_inside))
    scene.ordered = _layer_runs(group_names, group_ids)

    edges: dict[tuple[str, str], None] = {}  # a dict keeps first-seen order and drops repeats
    for node in order:
        if id(node) in hidden:
            continue
        if group_of[id(node)] is None:
            nid = f"n{index[id(node)]}"
            fields = (names[id(node)], f"data {fmt(node.data)}", f"grad {fmt(gradient(node))}")
            scene.boxes.append(Box(nid, RECORD, fields, id(node) in marked))
            if node.parents:
                op_id = nid + "op"
                scene.boxes.append(Box(op_id, OP, (_op_text(node),), id(node) in marked))
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
    scene.edges = list(edges)
    boxes = {f"n{index[id(node)]}": target(node) for node in order if id(node) not in hidden}
    titles = {group_ids[name]: name for name in group_names}
    return Drawing(to_dot(scene), boxes, scene=scene, renderer=renderer, titles=titles)


def _held_grad(node: Value) -> object:
    return node.grad
