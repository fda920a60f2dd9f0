"""One backward pass worked out on the side: the numbers every view shows, without changing any Value.

``explain``, ``stepper`` and the playground's steppers show what ``root.backward()`` does. Running it would change
what the learner looks at (a leaf adds each pass to its ``.grad``, so looking twice would double it), so the views
never call it. Instead each node's own rule (``node._rule``, the op table's or a hand-built op's ``_backward``) is
applied here in the engine's order, into a dictionary: the same rules, the same order and the same additions as
``Value.backward()``, so the numbers are bit for bit the engine's, and no ``.data`` or ``.grad`` is written.

It also tells whether the Values already hold this pass (``ran``): after ``root.backward()`` every inner node's
``.grad`` is exactly what this pass computes (the engine recomputes them on each call, starting from 0) and every
leaf holds at least its share. A view then shows those gradients and says so, instead of adding another pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..engine import Value, topological_order
from ..ops import FLOAT_MATH, Op
from .names import is_constant

__all__ = ["SidePass", "side_pass", "as_number", "rule_of", "backward_rule_of"]


def rule_of(node: Value) -> Op:
    """The rule of a node made by an op (every node with operands has one: the table's, or a hand-built op's)."""
    rule = node._rule
    if rule is None:
        raise ValueError(f"{node!r} was not made by an op: a leaf has no rule")
    return rule


def backward_rule_of(node: Value) -> Callable[..., tuple[Any, ...]]:
    """The local backward rule of a node made by an op (the table's rule, or a hand-built op's ``_backward``)."""
    rule = rule_of(node)
    if rule.backward is None:  # only the markers (a constant, a no_grad result) have none, and they are leaves
        raise ValueError(f"{node!r} was made by {rule.name or 'an op'!r}, which has no backward rule")
    return rule.backward


def as_number(grad: float | Value) -> float:
    """A gradient as a float (after ``backward(create_graph=True)`` it is a Value, whose data is the number)."""
    return grad.data if isinstance(grad, Value) else float(grad)


def _same(a: float, b: float) -> bool:
    # backward(create_graph=True) sums in its own order: allow the last bits to differ there.
    return a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


@dataclass
class SidePass:
    """The gradients of one ``root.backward()`` (seed 1.0), computed beside the graph.

    ``grads[id(node)]`` is what this pass gives each node: an inner node's ``.grad`` after it, and what a leaf
    adds to its ``.grad``. ``amounts[id(node)]`` is what the node's step sends to each operand. ``held[id(node)]``
    is each ``.grad`` now. ``ran`` says the Values already hold this pass (``root.backward()`` has run).
    """

    root: Value
    order: list[Value]
    grads: dict[int, float]
    amounts: dict[int, tuple[float, ...]]
    held: dict[int, float]
    ran: bool

    def is_variable_leaf(self, node: Value) -> bool:
        """A leaf that gets a gradient a learner reads: not a constant jangrad wrapped (``2`` in ``a + 2``)."""
        return node.is_leaf and not is_constant(node)

    def before(self, node: Value) -> float:
        """What a leaf's ``.grad`` held before this pass: now, or (when the pass has run) now minus the pass."""
        held = self.held[id(node)]
        return held - self.grads.get(id(node), 0.0) if self.ran else held

    def after(self, node: Value) -> float:
        """A node's ``.grad`` after this pass: a leaf adds the pass to what it held; an inner node is the pass."""
        if self.ran:
            return self.held[id(node)]
        gained = self.grads.get(id(node), 0.0)
        return self.held[id(node)] + gained if node.is_leaf else gained


def side_pass(root: Value, order: list[Value] | None = None) -> SidePass:
    """Work out ``root.backward()`` without running it. ``order`` is ``topological_order(root)`` if given."""
    order = topological_order(root) if order is None else order
    grads: dict[int, float] = {id(root): 1.0}
    amounts: dict[int, tuple[float, ...]] = {}
    for node in reversed(order):  # the engine's order: every consumer before the nodes it uses
        x = node._x
        if x is None:
            continue
        g = grads.get(id(node), 0.0)
        y = node._y
        backward = backward_rule_of(node)
        if y is None:
            sent = tuple(backward(FLOAT_MATH, g, node.data, x.data)[:1])
        else:
            sent = tuple(backward(FLOAT_MATH, g, node.data, x.data, y.data))
        amounts[id(node)] = sent
        for parent, amount in zip(node.parents, sent, strict=True):
            grads[id(parent)] = grads.get(id(parent), 0.0) + amount
    held = {id(node): as_number(node.grad) for node in order}
    return SidePass(root, order, grads, amounts, held, _has_run(root, order, grads, held))


def _has_run(root: Value, order: list[Value], grads: dict[int, float], held: dict[int, float]) -> bool:
    """Whether ``root.backward()`` has run and left this pass in the graph: every inner node holds exactly its
    gradient, and no leaf this pass reaches holds 0 (after ``backward()`` it holds at least its share, so a zero
    there means the learner cleared it since, and the pass is not what it holds)."""
    if root.is_leaf:
        return False
    for node in order:
        gained = grads.get(id(node), 0.0)
        if not node.is_leaf:
            if not _same(held[id(node)], gained):
                return False
        elif not is_constant(node) and held[id(node)] == 0.0 and gained != 0.0:
            return False
    return True
