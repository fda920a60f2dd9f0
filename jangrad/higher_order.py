"""The general reverse pass: gradients kept in a dictionary, as floats or, for higher orders, as Values.

``Value.backward()`` takes a faster road for plain first-order gradients (it writes straight into ``.grad``). This
pass serves everything else: ``backward(create_graph=True)``, where each gradient is itself a graph built from the
same rules run on Values (``VALUE_MATH``), so that it can be differentiated again; the functional transforms
(``jangrad.grad``), which must not touch any ``.grad``; and ``detect_anomaly()``, which checks every step.

It is given the graph's topological order rather than computing it, and it reaches the nodes only through their
attributes and operators, so it imports nothing above the op table and the switches.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import operator
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .anomaly import check_backward
from .node import Node
from .ops import FLOAT_MATH, FloatMath, Op
from .switches import enable_grad, state

__all__ = ["VALUE_MATH", "reverse_pass", "warn_about_create_graph_cycles"]


# The rules run here on floats and on Values alike, so the numbers they are given are typed Any.
def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real)


def _data_of(x: Any) -> float:
    number: float = x if _is_number(x) else x.data
    return number


class _ValueMath(FloatMath):
    """The maths namespace that runs rules on Values, so that a gradient is itself a differentiable graph. A
    constant (an exponent, a slope, a float gradient seed) stays a float, so no graph is built through it."""

    @staticmethod
    def _lift(name: str, float_fn: Callable[[float], float]) -> Any:  # a staticmethod, used as a class attribute
        def fn(a: Any) -> Any:
            return float_fn(a) if _is_number(a) else getattr(a, name)()  # a Value's own method records the op

        return staticmethod(fn)

    div = staticmethod(lambda a, b: FloatMath.div(a, b) if _is_number(a) and _is_number(b) else operator.truediv(a, b))
    pow = staticmethod(lambda a, b: FloatMath.pow(a, b) if _is_number(a) and _is_number(b) else a**b)

    @staticmethod
    def power_rule(x: Any, k: Any) -> Any:
        if _is_number(k) and k == 0.0:
            return 0.0  # x^0 is constant for a constant exponent: exactly 0, even at x = 0, nan or subnormal
        if _data_of(k) == 0.0 and _data_of(x) == 0.0:
            return 0.0  # as on floats: 0 * 0^-1 would be nan (a Value exponent keeps its path elsewhere)
        return k * VALUE_MATH.pow(x, k - 1.0)

    @staticmethod
    def power_grad(g: Any, x: Any, k: Any) -> Any:
        if _is_number(k) and k == 0.0:
            return 0.0
        if _data_of(k) == 0.0 and not math.isfinite(_data_of(g)):
            # An exponent that is 0 right now passes x nothing, not even an infinite or nan g, as on floats and
            # arrays (and in PyTorch). Only then is the graph through k dropped: with a finite g it is kept, so that
            # d/dk of this gradient (x^(k-1) at k = 0) still counts in the second derivatives.
            return 0.0
        return g * VALUE_MATH.power_rule(x, k)

    exp = _lift("exp", FloatMath.exp)
    log = _lift("log", FloatMath.log)
    sqrt = _lift("sqrt", FloatMath.sqrt)
    tanh = _lift("tanh", FloatMath.tanh)
    erf = _lift("erf", FloatMath.erf)
    sigmoid = _lift("sigmoid", FloatMath.sigmoid)
    relu = _lift("relu", FloatMath.relu)
    # where_positive, step and sign are piecewise constant in their first argument: a float read off .data is exact.
    where_positive = staticmethod(lambda a, g: g if _data_of(a) > 0.0 else 0.0)
    step = staticmethod(lambda a: FloatMath.step(_data_of(a)))
    sign = staticmethod(lambda a: FloatMath.sign(_data_of(a)))
    leaky_relu = staticmethod(lambda a, slope: FloatMath.leaky_relu(a, slope) if _is_number(a) else a.leaky_relu(slope))


VALUE_MATH = _ValueMath()


def _float_inputs(node: Node, x: Node, y: Node | None, rule: Op) -> tuple[float, ...]:
    """A rule's ``out`` and operands as floats."""
    if y is None:
        return node.data, x.data
    return node.data, x.data, y.data


def _value_inputs(node: Node, x: Node, y: Node | None, rule: Op) -> tuple[Node | float, ...]:
    """A rule's ``out`` and operands as Values, so its result is a graph; a constant operand stays a float."""
    if y is None:
        return node, x
    return node, x, (y.data if rule.constant_operand else y)


def reverse_pass(order: Sequence[Node], seed: float, create_graph: bool) -> dict[int, Any]:
    """``{id(node): d root / d node}`` for every node of ``order`` (a topological order ending at the root).

    Each node's rule turns its gradient into one contribution per operand; a node used by several consumers sums
    theirs, and is only reached, walking ``order`` backwards, after all of them.
    """
    grads: dict[int, Any] = {id(order[-1]): seed}  # floats, or Values under create_graph
    m: FloatMath = VALUE_MATH if create_graph else FLOAT_MATH
    rule_inputs: Callable[[Node, Node, Node | None, Op], tuple[Any, ...]] = (
        _value_inputs if create_graph else _float_inputs
    )
    checking = state.anomaly
    # create_graph asks for a graph of the gradients, so record one even inside no_grad (as PyTorch does).
    with enable_grad() if create_graph else contextlib.nullcontext():
        for node in reversed(order):
            x, rule = node._x, node._rule
            if x is None or rule is None or rule.backward is None:  # a leaf (a node with operands has a rule)
                continue
            g = grads[id(node)]
            contributions = rule.backward(m, g, *rule_inputs(node, x, node._y, rule))
            if checking:
                check_backward(node, g, contributions)
            for parent, c in zip(node.parents, contributions, strict=True):
                key = id(parent)
                grads[key] = grads[key] + c if key in grads else c
    return grads


_warned_create_graph = False


def warn_about_create_graph_cycles() -> None:
    global _warned_create_graph
    if not _warned_create_graph:
        _warned_create_graph = True
        warnings.warn(
            "backward(create_graph=True) stores in each .grad a graph that points back at its node: a "
            "reference cycle, freed only by Python's cyclic collector. To differentiate again without it, "
            "use jangrad.grad, or set .grad = 0.0 on the nodes when done.",
            UserWarning,
            stacklevel=3,
        )
