"""Ops built by hand, micrograd's way: ``out = Value(t, (x,), 'tanh')`` and then ``out._backward = fn``.

The lecture writes every op like that, and learners write their own so. Such a node gets the two operands it was
given and a rule of its own, which runs the learner's ``_backward`` when ``backward()`` reaches the node, so it
takes part in the reverse pass like any op from the table. Its closure refers back to the node: a reference cycle
that only hand-built nodes have (the table's ops keep graphs free of them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from .node import Node
from .ops import FLOAT_MATH, Op

__all__ = ["hand_built_operands_and_rule"]

N = TypeVar("N", bound=Node)  # the engine's Value


def hand_built_operands_and_rule(node: Node, children: Iterable[N], symbol: str) -> tuple[N | None, N | None, Op]:
    """Operands and rule of a node built by hand, micrograd's way: ``out = Value(t, (x,), 'tanh')`` and then
    ``out._backward = fn``. Its rule runs the learner's ``_backward`` when ``backward()`` reaches it (a closure
    refers back to the node here, a reference cycle that only hand-built nodes have)."""
    if not isinstance(symbol, str):
        raise TypeError(f"_op must be a str such as '+' or 'tanh', got {symbol!r} of type {type(symbol).__name__}")
    if isinstance(children, (str, bytes)) or isinstance(children, (set, frozenset)) and len(children) > 1:
        raise TypeError(
            f"_children must be a tuple of Values such as (a, b), got {children!r}; the order is "
            f"Value(data, _children, _op, label): give a label as label=..."
        )
    operands = tuple(children)
    if len(operands) > 2 or not all(hasattr(c, "_mark") for c in operands):  # Values
        raise TypeError(f"_children must be at most two Values (every op has one or two operands), got {operands!r}")

    def backward(m: object, g: float, out: float, *values: float) -> tuple[Any, ...]:
        learners_step = node.__dict__.get("_backward")
        if learners_step is None:
            return (0.0,) * len(operands)  # micrograd's default _backward does nothing
        if m is not FLOAT_MATH:
            raise TypeError(
                f"the hand-built op {symbol!r} has a first-order _backward only: create_graph=True and "
                f"jangrad.grad need ops from jangrad's table"
            )
        saved, saved_own = [p.grad for p in operands], node.grad
        for p in operands:
            p.grad = 0.0
        node.grad = g
        learners_step()  # adds its contributions into the operands' .grad, which we read back
        contributions = [p.grad for p in operands]
        if len(operands) == 2 and operands[0] is operands[1]:
            contributions[1] = 0.0  # one object, one total
        for p, grad in zip(operands, saved, strict=True):
            p.grad = grad
        node.grad = saved_own
        return tuple(contributions)

    rule = Op(symbol or "hand-built", len(operands), symbol, None, backward, "a _backward written by hand")
    return (operands[0] if operands else None), (operands[1] if len(operands) == 2 else None), rule
