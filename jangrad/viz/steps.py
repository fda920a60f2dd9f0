"""The backward pass as a list of steps to show one at a time: the seed, then one step per op, in the engine's order.

Every stepper uses it: ``jangrad.stepper`` in a notebook, which renders the steps ahead into its HTML, and the
playground's two labs, which send them to their page as JSON. ``backward_steps(root, drawing=...)`` changes no
Value: the numbers come from ``sidepass.py`` and the narration from ``explain``. Each node is named as in every
view (``names.py``) and carries the id ``draw`` gives it (``n<i>``, its index in ``topological_order``) and the
id of the box that shows it in that drawing (itself, or its neuron's box when the drawing is grouped). Where a node
sits inside a group box, its step says so in words ("v108, in layers.0.neurons.3"), so that the narration and the
lit box point at the same thing.

For every operand a step reaches, it lists the contribution and the operand's gradient afterwards: a running sum,
so a node used twice shows both contributions adding up, and a leaf's sum starts from what it held before the pass
(``SidePass.before``: before ``backward()``, what it holds now; after it, what it held before that pass).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine import Value, topological_order
from .names import NodeNames, is_constant, term_of

if TYPE_CHECKING:
    from .graph import Drawing

__all__ = ["BackwardSteps", "backward_steps", "walk_steps", "json_number"]


def json_number(x: float) -> float | str:
    """JSON has no inf or nan: those travel as the strings ``'inf'``, ``'-inf'``, ``'nan'``, shown as they are."""
    return x if math.isfinite(x) else repr(x)


@dataclass
class BackwardSteps:
    """A backward pass laid out for a stepper; everything in it is plain JSON but ``names``.

    * ``steps``: the seed first (``op`` is ``""``), then one per op node, output first. A step is
      ``{"node": "n5", "name": "v3", "box": "g2", "where": "layers.0.neurons.3", "op": "mul", "lines": [...],
      "updates": [{"id": "n2", "name": "a", "box": "n2", "contribution": 3.0, "grad": 4.0}, ...]}``; ``box`` is the
      drawn box that shows the node (the node's own id when it is drawn on its own) and ``where`` names a group
      box the node sits in ("" when it has its own).
    * ``nodes``: every node in topological order: ``{"id", "name", "box", "label", "op", "symbol", "data", "grad"
      (after the pass), "before" (what it held before the pass), "leaf", "constant", "parents"}``.
    * ``output``, ``output_name``: the root's id and name; ``ran``: whether the Values already hold this pass.
    * ``names``: each node's name by ``id(node)``, for Python callers.
    """

    output: str
    output_name: str
    ran: bool
    steps: list[dict]
    nodes: list[dict]
    names: dict[int, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "output_name": self.output_name,
            "ran": self.ran,
            "steps": self.steps,
            "nodes": self.nodes,
        }


def backward_steps(root: Value, *, drawing: Drawing | None = None, order: list[Value] | None = None) -> BackwardSteps:
    """The steps of ``root.backward()``, worked out without running it (no ``.grad`` changes).

    ``drawing`` is the ``jangrad.draw`` picture the steps will light (its ``boxes`` and group ``titles``); without
    one every node is its own box. ``order`` is ``topological_order(root)``, if the caller has it already.
    """
    from .explain import explain
    from .sidepass import rule_of, side_pass

    order = topological_order(root) if order is None else order
    names = NodeNames(root, order)
    passed = side_pass(root, order)
    ids = {id(node): f"n{index}" for index, node in enumerate(order)}
    boxes = drawing.boxes if drawing is not None else {}
    titles = drawing.titles if drawing is not None else {}

    def box(node: Value) -> str:
        return boxes.get(ids[id(node)], ids[id(node)])

    def where(node: Value) -> str:
        title = titles.get(box(node), "")
        return "" if title == names[node] else title

    def update(node: Value, contribution: float, grad: float) -> dict:
        return {
            "id": ids[id(node)],
            "name": names[node],
            "box": box(node),
            "contribution": json_number(contribution),
            "grad": json_number(grad),
        }

    root_name = names[root]
    root_term = term_of(root_name)
    seed_lines = [f"{root_term}.grad = 1.0  (d{root_term}/d{root_term} = 1: backward starts at the output)"]
    if where(root):
        seed_lines.insert(0, f"{root_name}, in {where(root)}:")
    seed_total = passed.before(root) + 1.0 if root.is_leaf else 1.0
    steps = [_step(root, ids, names, box(root), where(root), "", seed_lines, [update(root, 1.0, seed_total)])]
    uses: dict[int, int] = {}
    for told in explain(root, quiet=True):
        lines = [line.strip() for line in told.lines]
        if where(told.node):
            lines.insert(0, f"{told.name}, in {where(told.node)}:")
        updates = []
        for part in told.contributions:
            key = id(part.parent)
            uses[key] = uses.get(key, 0) + 1
            updates.append(update(part.parent, part.amount, part.total))
            held = passed.before(part.parent) if passed.is_variable_leaf(part.parent) else 0.0
            if uses[key] > 1 or held:
                count = f"its {uses[key]} contributions so far" if uses[key] > 1 else "this contribution"
                extra = f", plus the {held:.6g} it held before this pass" if held else ""
                lines.append(f"{term_of(part.name)}.grad is now {part.total:.6g}: the running sum of {count}{extra}")
        steps.append(_step(told.node, ids, names, box(told.node), where(told.node), told.op, lines, updates))
    nodes = [
        {
            "id": ids[id(node)],
            "name": names[node],
            "box": box(node),
            "label": node.label,
            "op": node.op,
            "symbol": rule_of(node).symbol if node.parents else "",
            "data": json_number(node.data),
            "grad": json_number(passed.after(node)),
            "before": json_number(passed.before(node) if node.is_leaf else 0.0),
            "leaf": node.is_leaf,
            "constant": is_constant(node),
            "parents": [ids[id(p)] for p in node.parents],
        }
        for node in order
    ]
    by_id = {id(node): names[node] for node in order}
    return BackwardSteps(ids[id(root)], root_name, passed.ran, steps, nodes, by_id)


def _step(
    node: Value, ids: dict[int, str], names: NodeNames, box: str, where: str, op: str, lines: list[str], updates: list
) -> dict:
    return {
        "node": ids[id(node)],
        "name": names[node],
        "box": box,
        "where": where,
        "op": op,
        "lines": lines,
        "updates": updates,
    }


def walk_steps(root: Value, order: list[Value]) -> tuple[list[dict], dict[int, str]]:
    """``backward_steps(root).steps`` and ``.names``, then ``root.backward()``: the playground's expression lab
    reads the gradients back from its Values (a graph it built for this request). Views never call this."""
    laid_out = backward_steps(root, order=order)
    root.backward()
    return laid_out.steps, laid_out.names
