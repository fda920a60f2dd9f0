"""The backward pass as a list of steps to show one at a time: the seed, then one step per op, in the engine's order.

Both steppers use it: the playground's expression lab (which sends the steps to its page) and ``jangrad.stepper``
in a notebook (which renders them ahead into its HTML). The narration of each step is ``jangrad.explain``'s, and
each step lists, for every operand it reaches, the contribution and the operand's gradient afterwards (a running
sum, so a node used twice shows both contributions adding up; a leaf's sum starts from what it held before).
"""

from __future__ import annotations

import math

from ..engine import Value

__all__ = ["walk_steps", "json_number"]


def json_number(x: float) -> float | str:
    """JSON has no inf or nan: those travel as the strings ``'inf'``, ``'-inf'``, ``'nan'``, shown as they are."""
    return x if math.isfinite(x) else repr(x)


def walk_steps(root: Value, order: list[Value]) -> tuple[list[dict], dict[int, str]]:
    """Run ``root.backward()`` (through ``explain``) and return its steps and each node's name (by ``id``).

    ``order`` is ``topological_order(root)``; nodes are called ``n<i>`` by their index in it, as ``jangrad.draw``
    names them. A step is ``{"node": "n5", "op": "mul", "lines": [...], "updates": [{"id", "contribution",
    "grad"}, ...]}``; the first step is the seed (``root.grad = 1``), whose ``op`` is ``""``.
    """
    from .explain import explain, leaf_gradients_before

    held_before = leaf_gradients_before(order)  # read before explain runs backward, which adds to these
    ids = {id(node): f"n{index}" for index, node in enumerate(order)}
    names = {id(node): node.label or (f"{node.data:g}" if node.is_leaf else ids[id(node)]) for node in order}
    told = explain(root, quiet=True)
    root_name = told[0].name if told else names[id(root)]
    names[id(root)] = root_name
    this_pass: dict[int, float] = {id(root): 1.0}
    uses: dict[int, int] = {}
    steps = [
        {
            "node": ids[id(root)],
            "op": "",
            "lines": [f"{root_name}.grad = 1.0  (d{root_name}/d{root_name} = 1: backward starts at the output)"],
            "updates": [{"id": ids[id(root)], "contribution": 1.0, "grad": 1.0}],
        }
    ]
    for step in told:
        names[id(step.node)] = step.name
        lines = [line.strip() for line in step.lines]
        updates = []
        for part in step.contributions:
            key = id(part.parent)
            names[key] = part.name
            this_pass[key] = this_pass.get(key, 0.0) + part.amount
            uses[key] = uses.get(key, 0) + 1
            updates.append({"id": ids[key], "contribution": json_number(part.amount), "grad": json_number(part.total)})
            held = held_before.get(key, 0.0)  # what an earlier backward() left in a leaf
            if uses[key] > 1 or held:
                count = f"its {uses[key]} contributions so far" if uses[key] > 1 else "this contribution"
                extra = f", plus the {held:.6g} it held before this pass" if held else ""
                lines.append(f"{part.name}.grad is now {part.total:.6g}: the running sum of {count}{extra}")
        steps.append({"node": ids[id(step.node)], "op": step.op, "lines": lines, "updates": updates})
    return steps, names
