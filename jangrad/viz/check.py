"""Which node broke a gradient? Finds the first node whose op's local derivative rule disagrees with the op's own
numeric slope, so a failed ``gradcheck`` can be drawn with that node highlighted.

This re-applies the op table's rules (``ops.OPS``) one node at a time, the same test ``jangrad.gradcheck`` uses to
name the culprit in its message, but returns the node itself instead of a sentence.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

from ..engine import Value, topological_order
from ..ops import FLOAT_MATH

if TYPE_CHECKING:
    from .graph import Drawing

__all__ = ["first_disagreeing_node", "local_disagreement", "draw_gradcheck"]


def _close(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    if math.isnan(analytic) or math.isnan(numeric):
        return math.isnan(analytic) and math.isnan(numeric)
    if math.isinf(analytic) or math.isinf(numeric):
        return analytic == numeric
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def local_disagreement(node: Value, eps: float = 1e-6, atol: float = 1e-5,
                       rtol: float = 1e-3) -> tuple[int, float, float] | None:
    """For a non-leaf node: (operand index, rule's derivative, numeric slope) of the first disagreement, or None."""
    op = node._op
    if op is None:
        return None
    operands = [p.data for p in node.parents]

    def forward(xs: list[float]) -> float:
        return op.forward(FLOAT_MATH, *xs)

    rule = op.backward(FLOAT_MATH, 1.0, forward(operands), *operands)
    variables = 1 if op.constant_operand else op.arity  # a constant exponent or slope has no derivative to check
    for j in range(variables):
        up, down = list(operands), list(operands)
        up[j] += eps
        down[j] -= eps
        numeric = (forward(up) - forward(down)) / (2.0 * eps)
        if not _close(rule[j], numeric, atol, rtol):
            return j, rule[j], numeric
    return None


def first_disagreeing_node(value: Value, eps: float = 1e-6, atol: float = 1e-5,
                           rtol: float = 1e-3) -> Value | None:
    """The first node (in the engine's topological order) whose local rule is wrong, or None if all agree.

    >>> import jangrad
    >>> out = jangrad.Value(0.5, label="x").tanh()
    >>> first_disagreeing_node(out) is None
    True
    """
    if not isinstance(value, Value):
        raise TypeError(f"expected a Value, got {value!r} of type {type(value).__name__}")
    for node in topological_order(value):
        if node.parents and local_disagreement(node, eps, atol, rtol) is not None:
            return node
    return None


def draw_gradcheck(f: Callable[..., Value], *args: float, eps: float = 1e-6, atol: float = 1e-5,
                   rtol: float = 1e-3, **draw_options: object) -> tuple["Drawing", Value | None]:
    """Build f's graph at ``args`` (inputs labelled x0, x1, ...), run backward, and draw it with the first node
    whose local rule is wrong highlighted. Returns ``(drawing, node)``; node is None when every rule agrees.

    Use it after ``jangrad.gradcheck(f, *args)`` raised ``GradcheckError``, to see where the error comes from.
    """
    from .graph import draw

    inputs = [Value(a, label=f"x{i}") for i, a in enumerate(args)]
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"the function must return a Value, got {out!r} of type {type(out).__name__}")
    out.backward()
    culprit = first_disagreeing_node(out, eps, atol, rtol)
    return draw(out, highlight=culprit, **draw_options), culprit
