"""Derivatives as functions: ``grad`` and ``value_and_grad`` (which nest, for higher orders) and ``gradcheck``.

``grad(f)`` is a function transform in the style of HIPS autograd and JAX. Given plain numbers it returns floats;
given Values it returns Values connected to the graph, which is what lets ``grad(grad(f))`` work: the outer call
hands the inner one a Value, the inner one builds its gradient as a graph (``create_graph=True``), and the outer
one differentiates that graph. Nothing here touches any ``.grad`` attribute.

``gradcheck`` compares those analytic derivatives with central differences and, when they disagree, walks the
graph to name the first op whose own local rule disagrees with its own numeric slope.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .engine import _MADE_UNDER_NO_GRAD, Value, apply_op, topological_order
from .higher_order import VALUE_MATH, reverse_pass
from .ops import FLOAT_MATH
from .switches import enable_grad

__all__ = [
    "grad",
    "value_and_grad",
    "gradients",
    "gradcheck",
    "GradcheckError",
    "local_disagreement",
    "first_disagreeing_node",
]


class GradcheckError(AssertionError):
    """An analytic derivative disagrees with its numeric estimate. The message says where and by how much."""


def _normalise_argnums(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    try:
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    except TypeError:
        raise TypeError(f"argnums must be an int or a sequence of ints, got {argnums!r}") from None
    for n in nums:
        if isinstance(n, bool) or not isinstance(n, int) or not -nargs <= n < nargs:
            raise ValueError(f"argnums {argnums!r} does not fit a call with {nargs} positional argument(s)")
    return tuple(n % nargs for n in nums)


def gradients(output: Value, inputs: list[Value], create_graph: bool = False) -> list[Any]:
    """d output / d input for each input, without touching any ``.grad`` (0.0 where output does not depend on it).

    The functional core of ``grad``. With ``create_graph=True`` each result is a Value connected to the graph (or a
    float where the gradient is a constant).
    """
    if not isinstance(output, Value):
        raise TypeError(f"output must be a Value, got {output!r} of type {type(output).__name__}")
    if output._rule is _MADE_UNDER_NO_GRAD:
        raise RuntimeError("the output was computed inside no_grad(), so it has no graph to differentiate")
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):  # id() of a number is never in the graph: it would silently get 0.0
            raise TypeError(f"inputs[{i}] must be a Value, got {x!r} of type {type(x).__name__}")
    grads = reverse_pass(topological_order(output), 1.0, create_graph)
    return [grads.get(id(x), 0.0) for x in inputs]


class _Nesting(threading.local):
    depth = 0  # how many transforms are evaluating their function on this thread right now


_nesting = _Nesting()


def value_and_grad(f: Callable[..., Value], argnums: int | Sequence[int] = 0) -> Callable[..., tuple[Any, Any]]:
    """Return a function computing ``(f(*args), df/d args[argnums])``.

    Called with plain numbers, at the top level, the results are floats. Called with any Value among its
    arguments, or from inside another transform's function (``grad(grad(f))``, or a ``grad`` whose function
    closes over an outer transform's Value), the results are Values connected to the graph, so that the outer
    transform can differentiate them. Like ``torch.func.grad``, it differentiates even inside ``no_grad``.
    """
    many = not isinstance(argnums, int)

    def wrapped(*given: Any) -> tuple[Any, Any]:
        nums = _normalise_argnums(argnums, len(given))
        connected = _nesting.depth > 0 or any(isinstance(a, Value) for a in given)
        args = list(given)
        for n in nums:
            if not isinstance(args[n], Value):
                if not isinstance(args[n], numbers.Real):
                    raise TypeError(
                        f"argument {n} must be a real number or a Value, got {args[n]!r} of type "
                        f"{type(args[n]).__name__}"
                    )
                args[n] = Value(args[n])
        inputs = [args[n] for n in nums]
        _nesting.depth += 1
        try:
            with enable_grad():
                out = f(*args)
                if isinstance(out, Value):
                    grads = gradients(out, inputs, create_graph=connected)
        finally:
            _nesting.depth -= 1
        if isinstance(out, numbers.Real) and not isinstance(out, Value):
            out, grads = float(out), [0.0] * len(inputs)  # a constant function: every derivative is 0
        elif not isinstance(out, Value):
            raise TypeError(f"the function must return a scalar Value, got {out!r} of type {type(out).__name__}")
        value: Value | float
        if connected:
            value = out if isinstance(out, Value) else Value(out)
            grads = [g if isinstance(g, Value) else Value(g) for g in grads]
        else:
            value = out.data if isinstance(out, Value) else out
            grads = [g.data if isinstance(g, Value) else g for g in grads]
        return value, (tuple(grads) if many else grads[0])

    return wrapped


def grad(f: Callable[..., Value], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return a function computing the derivative of scalar ``f`` with respect to ``args[argnums]``.

    >>> import jangrad
    >>> f = lambda x: x ** 3
    >>> jangrad.grad(f)(2.0), jangrad.grad(jangrad.grad(f))(2.0)
    (12.0, 12.0)
    """
    vg = value_and_grad(f, argnums)

    def derivative(*args: Any) -> Any:
        return vg(*args)[1]

    return derivative


# ---- gradcheck ---------------------------------------------------------------------------------------------------
def _call_on_floats(f: Callable[..., Any], args: Sequence[float]) -> float:
    out = f(*[Value(a) for a in args])
    return out.data if isinstance(out, Value) else float(out)


def _close(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    # A nan on both sides is not agreement: it says the derivative is undefined there (x**y at x < 0, say), which
    # a check must report, as torch.autograd.gradcheck does.
    if math.isnan(analytic) or math.isnan(numeric):
        return False
    if math.isinf(analytic) or math.isinf(numeric):
        return analytic == numeric
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def _central_difference(fn: Callable[[list[float]], float], args: list[float], i: int, eps: float) -> float:
    up, down = list(args), list(args)
    up[i] += eps
    down[i] -= eps
    return (fn(up) - fn(down)) / (2.0 * eps)


def local_disagreement(
    node: Value, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, order: int = 1
) -> str | None:
    """How ``node``'s own local rule disagrees with its op's numeric slope at its operands, or None if it agrees.

    This tests one op in isolation, so it points at a wrong rule in the op table rather than at the function as a
    whole. ``order=2`` also checks the rule's own derivative (what ``grad(grad(...))`` relies on).
    """
    op = node._rule
    if node._x is None or op is None or op.forward is None or op.backward is None:  # a leaf, or built by hand:
        return None  # no table rule to test
    forward, backward = op.forward, op.backward
    operands = [p.data for p in node.parents]
    variables = range(1 if op.constant_operand else op.arity)  # a constant exponent or slope is not a variable

    def local(xs: list[float]) -> float:
        out: float = forward(FLOAT_MATH, *xs)
        return out

    first = backward(FLOAT_MATH, 1.0, local(operands), *operands)
    for j in variables:
        numeric = _central_difference(local, operands, j, eps)
        if not _close(first[j], numeric, atol, rtol):
            return (
                f"op '{op.name}' at operands {tuple(operands)}: its rule gives d/d(operand {j}) = {first[j]!r}, "
                f"its numeric slope is {numeric!r}"
            )
    if order < 2:
        return None
    for j in variables:

        def local_derivative(xs: list[float], j: int = j) -> float:
            slope: float = backward(FLOAT_MATH, 1.0, local(xs), *xs)[j]
            return slope

        def rule_on_values(*xs: Value, j: int = j) -> Value:
            constant = [operands[1]] if op.constant_operand else []
            result = apply_op(op.name, *xs, *constant)
            slope: Value = backward(VALUE_MATH, 1.0, result, *xs, *constant)[j]
            return slope

        for k in variables:
            numeric = _central_difference(local_derivative, operands, k, eps)
            analytic = grad(rule_on_values, k)(*operands[: len(variables)])
            if not _close(analytic, numeric, atol, rtol):
                return (
                    f"op '{op.name}' at operands {tuple(operands)}: its rule's derivative "
                    f"d2/d(operand {j})d(operand {k}) = {analytic!r}, its numeric slope is {numeric!r}"
                )
    return None


def first_disagreeing_node(
    value: Value, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, order: int = 1
) -> Value | None:
    """The first node of ``value``'s graph (in topological order) whose local rule is wrong, or None."""
    if not isinstance(value, Value):
        raise TypeError(f"expected a Value, got {value!r} of type {type(value).__name__}")
    for node in topological_order(value):
        if node._x is not None and local_disagreement(node, eps, atol, rtol, order) is not None:
            return node
    return None


def _describe_culprit(
    f: Callable[..., Any], args: list[float], eps: float, atol: float, rtol: float, order: int
) -> str:
    out = f(*[Value(a) for a in args])
    if not isinstance(out, Value):
        return "no graph to walk"
    node = first_disagreeing_node(out, eps, atol, rtol, order)
    if node is None:
        return "every op's local rule agrees with its numeric slope"
    return local_disagreement(node, eps, atol, rtol, order) or "no op's local rule disagrees on its own"


def gradcheck(
    f: Callable[..., Value], *args: float, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, order: int = 1
) -> bool:
    """Check f's derivatives at ``args`` against central differences; return True or raise ``GradcheckError``.

    ``order=2`` checks every second derivative too (the derivative of each first derivative, numerically).
    On failure the message gives the input, both numbers, and the first node whose local derivative disagrees
    with its own numeric slope (op name and operand values).
    """
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    for name, tolerance in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or not tolerance >= 0.0:
            raise ValueError(f"{name} must be a number >= 0, got {tolerance!r}")
    if eps == 0.0:
        raise ValueError("eps must be > 0: it is the step of the central differences")
    floats = [float(a) if isinstance(a, numbers.Real) else _bad_arg(i, a) for i, a in enumerate(args)]
    every = tuple(range(len(floats)))
    gradient = grad(f, every)
    checks: list[tuple[str, Callable[[list[float]], float], Callable[[list[float]], Any]]] = [
        ("df", lambda xs: _call_on_floats(f, xs), lambda xs: gradient(*xs)),
    ]
    if order == 2:
        for i in every:

            def first_i(*xs: Any, i: int = i) -> Any:
                return gradient(*xs)[i]

            checks.append((f"d(df/dx{i})", _on_a_list(first_i), _on_a_list(grad(first_i, every))))
    for what, fn, analytic_fn in checks:
        analytic = analytic_fn(floats)
        for i in range(len(floats)):
            numeric = _central_difference(fn, floats, i, eps)
            if not _close(analytic[i], numeric, atol, rtol):
                culprit = _describe_culprit(f, floats, eps, atol, rtol, order)
                undefined = " (nan: the derivative is not defined there)" if math.isnan(analytic[i]) else ""
                raise GradcheckError(
                    f"{what}/dx{i} at inputs {tuple(floats)}: analytic {analytic[i]!r}, numeric {numeric!r} "
                    f"(eps={eps}){undefined}; first disagreeing node: {culprit}"
                )
    return True


def _on_a_list(fn: Callable[..., Any]) -> Callable[[list[float]], Any]:
    """``fn`` called with the numbers of a list as its arguments."""
    return lambda xs: fn(*xs)


def _bad_arg(i: int, a: object) -> float:
    raise TypeError(f"gradcheck argument {i} must be a real number, got {a!r} of type {type(a).__name__}")
