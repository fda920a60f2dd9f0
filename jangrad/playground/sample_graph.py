"""The network lab's "click a point": one sample's loss graph, drawn grouped by neuron, kept on screen and updated as
training moves the weights, and stepped through op by op while training is paused.

The drawing is made once per sample (Graphviz, or the built-in renderer without it): a box per neuron, the input
boxes and the loss's box. Each frame then rebuilds the sample's graph on a copy of the model at the current weights
(so backward never touches the run's gradients) and sends each box's data and gradient; the page writes them into
the boxes it already has. The boxes are laid out for the widest number a box can hold, so a live number never
spills over its box's edge.

Names: a box is named by its neuron (``layers.0.neurons.3 (tanh)``), and the stepper's narration (``viz/steps.py``,
the notebook stepper's), which names every node of the graph (``v108``, from ``viz/names.py``, as every view does),
says in which box each step's node sits ("v108, in layers.0.neurons.3"), so the words and the lit box point at the
same thing. Above ``MAX_SAMPLE_GRAPH_NODES`` nodes the graph is refused in
one line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol

from ..engine import Value, topological_order
from ..nn import MLP
from ..recipe import Problem
from ..viz.names import is_constant, number_text
from .graph_svg import svg_text, with_node_ids
from .limits import MAX_SAMPLE_GRAPH_NODES

__all__ = ["LiveSample", "WIDEST_NUMBER"]

WIDEST_NUMBER = -8.888e-88  # as wide as any number a box shows (number_text: 4 significant digits)


class SampleSource(Protocol):
    """What a sample's view reads from a lab session (``session.Session`` is one); named here rather than imported,
    so that the session, which makes these views, is not also a dependency of them."""

    @property
    def model(self) -> MLP: ...
    @property
    def params(self) -> Sequence[Value]: ...
    @property
    def problem(self) -> Problem: ...
    @property
    def base_loss(self) -> Callable[..., Value]: ...

    def sample_input(self, index: int) -> tuple[list[float], object]: ...


def _text(x: float) -> str:
    return number_text(x) if math.isfinite(x) else repr(x)


def _grad(node: Value) -> float:
    g = node.grad
    return g.data if isinstance(g, Value) else float(g)


class LiveSample:
    """Sample ``index`` of a session: its drawing (``drawing()``), its numbers now (``values()``), its steps
    (``steps()``)."""

    def __init__(self, session: SampleSource, index: int) -> None:
        self.session = session
        self.index = index
        self.copy = MLP(**session.model.config())  # backward runs here, never on the training model
        self.copy_params = self.copy.parameters()
        loss, order = self._graph(backward=False)
        if len(order) > MAX_SAMPLE_GRAPH_NODES:
            raise ValueError(
                f"this sample's graph has {len(order)} nodes, more than the {MAX_SAMPLE_GRAPH_NODES} the "
                f"playground draws: try a smaller network"
            )
        self.node_count = len(order)
        self._picture = self._draw(loss, order)

    def _graph(self, backward: bool = True) -> tuple[Value, list[Value]]:
        """The sample's loss graph at the training model's current weights (and its backward pass, if asked)."""
        for mine, theirs in zip(self.copy_params, self.session.params, strict=True):
            mine.data = theirs.data
            mine.grad = 0.0
        x, target = self.session.sample_input(self.index)
        out = self.copy(x)
        loss = self.session.base_loss([out], [target])
        loss.label = "loss"
        order = topological_order(loss)
        if backward:
            loss.backward()
        return loss, order

    # ---- the picture, once ------------------------------------------------------------------------------------------
    def drawing(self) -> dict:
        """The grouped drawing (SVG with each box's id), which box shows each node, each box's title, and the
        numbers now."""
        return {**self._picture, "values": self.values()}

    def _draw(self, loss: Value, order: list[Value]) -> dict:
        from ..viz import draw

        for node in order:  # lay the boxes out for the widest number, then the page writes in the real ones
            if not (is_constant(node) or (node.is_leaf and not node.label)):
                node.data = WIDEST_NUMBER
            node.grad = WIDEST_NUMBER
        note = f"sample {self.index}: {self.node_count} nodes, grouped by neuron"
        self._drawing = None
        try:
            drawing = draw(loss, group=True)
            svg = svg_text(drawing)
            self._drawing = drawing
        except ImportError as missing:  # a page without the drawing's packages still steps through the numbers
            drawing, svg = None, None
            note += f" (not drawn here: {missing}; the numbers and the stepper still work)"
        else:
            if svg is None:
                note += " (the Graphviz program 'dot' is not installed, so it is not drawn)"
        # node n<i> -> the box that shows it; box -> the node whose numbers it shows (the last one computed in it)
        self.boxes = dict(drawing.boxes) if drawing else {f"n{i}": f"n{i}" for i in range(len(order))}
        self.heads: dict[str, int] = {}
        for name, box in self.boxes.items():
            self.heads[box] = max(self.heads.get(box, -1), int(name[1:]))
        if drawing is None:
            self.heads = {}
        self.titles = {box.id: box.fields[0] for box in drawing.scene.boxes} if drawing and drawing.scene else {}
        return {
            "index": self.index,
            "node_count": self.node_count,
            "svg": None if svg is None else with_node_ids(svg),
            "boxes": self.boxes,
            "titles": self.titles,
            "note": note,
        }

    # ---- the numbers, every frame -----------------------------------------------------------------------------------
    def values(self) -> dict:
        """Each box's data and gradient (as the drawing writes numbers), the loss, and a note when nothing flows."""
        loss, order = self._graph()
        boxes = {box: [_text(order[i].data), _text(_grad(order[i]))] for box, i in self.heads.items()}
        return {"index": self.index, "loss": _text(loss.data), "boxes": boxes, "note": self._note(loss, order)}

    def _note(self, loss: Value, order: list[Value]) -> str:
        """Why every gradient is 0, when it is: a learner would otherwise see a column of zeros and no reason."""
        weights = [n for n in order if n.is_leaf and n.label and n.label.startswith("layers.")]
        if any(_grad(n) != 0.0 for n in weights):
            return ""
        if loss.data == 0.0:
            why = {
                "hinge": "it is on the right side of the boundary by a margin of at least 1",
                "bce": "it is predicted with full certainty",
                "ce": "it is predicted with full certainty",
            }.get(self.session.problem.loss, "its prediction is exactly right")
            return (
                f"this sample's loss is 0 ({why}), so backward sends 0 to every node: it does not move any weight "
                f"now. Click a point near the boundary to see gradients flow."
            )
        return (
            "every weight's gradient is 0 for this sample: the units on its path are switched off (a relu below 0) "
            "or saturated, so no change of a weight would change its loss"
        )

    # ---- the stepper, while paused ----------------------------------------------------------------------------------
    def steps(self) -> dict:
        """The backward pass of the sample's loss at the current weights, a step at a time (``viz.steps``, as the
        notebook's stepper lays it out): each step's ``box`` is the box the page lights, and a node inside a
        neuron's box is narrated as sitting there ("v108, in layers.0.neurons.3")."""
        from ..viz.steps import backward_steps

        loss, order = self._graph(backward=False)
        steps = backward_steps(loss, drawing=self._drawing, order=order).steps
        note = self._note(loss, order)
        if note:
            steps[0]["lines"].append("note: " + note)
        return {"index": self.index, "steps": steps, "boxes": self.boxes}
