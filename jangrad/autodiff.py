"""Derivatives as functions: ``grad`` and ``value_and_grad`` (which nest, for higher orders) and ``gradcheck``.

``grad(f)`` is a function transform in the style of HIPS autograd and JAX. Given plain numbers it returns floats;
given Values it returns Values connected to the graph, which is what lets ``grad(grad(f))`` work: the outer call
hands the inner one a Value, the inner one builds its gradient as a graph (``create_graph=True``), and the outer
one differentiates that graph. Nothing here touches any ``.grad`` attribute.

``gradcheck`` compares those analytic derivatives with central differences and, when they disagree, walks the
graph to name the first op whose own local rule disagrees with its own numeric slope.
"""

from __future__ import annotations

import inspect
import math
import numbers
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .engine import _MADE_UNDER_NO_GRAD, Value, apply_op, topological_order
from .higher_order import VALUE_MATH, reverse_pass
from .ops import FLOAT_MATH, Op
from .switches import enable_grad

__all__ = [
    "grad",
    "value_and_grad",
    "gradients",
    "gradcheck",
    "GradcheckError",
    "local_disagreement",
    "local_kink",
    "first_disagreeing_node",
    "input_names",
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


def _moved(args: list[float], i: int, step: float) -> list[float]:
    moved = list(args)
    moved[i] += step
    return moved


def _central_difference(fn: Callable[[list[float]], float], args: list[float], i: int, eps: float) -> float:
    return (fn(_moved(args, i, eps)) - fn(_moved(args, i, -eps))) / (2.0 * eps)


def _kink_sides(
    fn: Callable[[list[float]], float], args: list[float], i: int, eps: float, analytic: float, atol: float, rtol: float
) -> tuple[float, float] | None:
    """The slopes of ``fn`` to the left and to the right of ``args`` along input ``i``, when the point is a kink (or
    one lies within ``eps`` of it): the two slopes differ, and ``analytic`` is one of them or lies between them,
    as a rule's choice at a kink does (relu takes 0, abs takes 0 between -1 and 1). Else None.

    On a smooth curve the two one-sided slopes differ only by about f'' eps, so a rule that is wrong by more than
    the tolerance falls outside them: that is a wrong rule, not a kink.
    """
    here = fn(args)
    left = (here - fn(_moved(args, i, -eps))) / eps
    right = (fn(_moved(args, i, eps)) - here) / eps
    if not (math.isfinite(left) and math.isfinite(right)) or _close(left, right, atol, rtol):
        return None
    low, high = min(left, right), max(left, right)
    slack = atol + rtol * max(abs(low), abs(high))
    return (left, right) if low - slack <= analytic <= high + slack else None


class _RuleAt(NamedTuple):
    """An op-table node's rule at the node's operands: the op, its backward rule, the op as a function of its
    operands, the operands, which of them are variables (a constant exponent or slope is not), and the rule's first
    derivatives there."""

    op: Op
    backward: Callable[..., Any]
    local: Callable[[list[float]], float]
    operands: list[float]
    variables: range
    first: Sequence[float]


def _rule_at(node: Value) -> _RuleAt | None:
    """``node``'s rule at its operands, or None for a leaf or an op built by hand (no table rule to test)."""
    op = node._rule
    if op is None or node._x is None or op.forward is None or op.backward is None:
        return None
    forward, backward = op.forward, op.backward

    def local(xs: list[float]) -> float:
        out: float = forward(FLOAT_MATH, *xs)
        return out

    operands = [p.data for p in node.parents]
    variables = range(1 if op.constant_operand else op.arity)
    return _RuleAt(op, backward, local, operands, variables, backward(FLOAT_MATH, 1.0, local(operands), *operands))


def local_kink(node: Value, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> str | None:
    """Where ``node``'s op has a kink at (or within ``eps`` of) its operands, say so; else None.

    At a kink (relu or abs at 0) the derivative is not defined: the slopes on either side differ, a central
    difference averages them, and the rule takes one side's slope (or a value between), as PyTorch's does.
    """
    at = _rule_at(node)
    if at is None:
        return None
    op, _, local, operands, variables, first = at
    for j in variables:
        sides = _kink_sides(local, operands, j, eps, first[j], atol, rtol)
        if sides is not None:
            where = f"operand {operands[j]!r}" if len(operands) == 1 else f"operands {tuple(operands)}"
            return f"{op.name} at {where} (slope {sides[0]:.6g} on the left, {sides[1]:.6g} on the right)"
    return None


def local_disagreement(
    node: Value, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, order: int = 1
) -> str | None:
    """How ``node``'s own local rule disagrees with its op's numeric slope at its operands, or None if it agrees.

    This tests one op in isolation, so it points at a wrong rule in the op table rather than at the function as a
    whole. ``order=2`` also checks the rule's own derivative (what ``grad(grad(...))`` relies on). At a kink, where
    the derivative is not defined (see ``local_kink``), a rule that takes one side's slope is not a disagreement.
    """
    at = _rule_at(node)
    if at is None:
        return None
    op, backward, local, operands, variables, first = at
    for j in variables:
        numeric = _central_difference(local, operands, j, eps)
        if (
            not _close(first[j], numeric, atol, rtol)
            and _kink_sides(local, operands, j, eps, first[j], atol, rtol) is None
        ):
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
            kink = _kink_sides(local_derivative, operands, k, eps, analytic, atol, rtol)
            if not _close(analytic, numeric, atol, rtol) and kink is None:
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


def _graph_at(f: Callable[..., Any], args: list[float]) -> Value | None:
    out = f(*[Value(a) for a in args])
    return out if isinstance(out, Value) else None


def _describe_culprit(
    f: Callable[..., Any], args: list[float], eps: float, atol: float, rtol: float, order: int
) -> str:
    out = _graph_at(f, args)
    if out is None:
        return "no graph to walk"
    node = first_disagreeing_node(out, eps, atol, rtol, order)
    if node is None:
        return "every op's local rule agrees with its numeric slope"
    return local_disagreement(node, eps, atol, rtol, order) or f"op '{node.op}'"


def _describe_kinks(f: Callable[..., Any], args: list[float], eps: float, atol: float, rtol: float) -> str:
    out = _graph_at(f, args)
    kinks = [] if out is None else [local_kink(node, eps, atol, rtol) for node in topological_order(out)]
    found = [k for k in kinks if k is not None]
    return f"; the kink: {', '.join(found)}" if found else ""


def input_names(f: Callable[..., Any], count: int) -> list[str]:
    """The names gradcheck gives ``f``'s ``count`` inputs in its messages: f's own positional parameter names
    where it has them (``lambda a, b: ...`` gives a and b), else x0, x1, ... by position."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):  # a builtin or a callable without a signature
        parameters = []
    names = []
    for parameter in parameters[:count]:
        if parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            break  # *args: the inputs from here on have no names of their own
        names.append(parameter.name)
    for i in range(len(names), count):
        names.append(f"x{i}" if f"x{i}" not in names else f"input{i}")
    return names


def _check_names(names: Sequence[str], count: int) -> list[str]:
    names = list(names) if not isinstance(names, str) else [names]
    if len(names) != count or not all(isinstance(n, str) and n for n in names) or len(set(names)) != count:
        raise ValueError(f"names must be {count} different non-empty strings, one per input, got {names!r}")
    return names


def gradcheck(
    f: Callable[..., Value],
    *args: float,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    order: int = 1,
    names: Sequence[str] | None = None,
) -> bool:
    """Check f's derivatives at ``args`` against central differences; return True or raise ``GradcheckError``.

    ``order=2`` checks every second derivative too (the derivative of each first derivative, numerically).
    On failure the message names the input (by ``names``, else by f's parameter names, else x0, x1, ...), gives
    both numbers, and the first node whose local derivative disagrees with its own numeric slope (op name and
    operand values).

    At a kink (relu or abs at 0, or any point where f is not differentiable) the derivative is not defined: the
    slopes on either side differ, and the central difference is their average, which no rule gives. That is a
    failure here, as in ``torch.autograd.gradcheck``, since the derivative cannot be confirmed there; the message
    says it is a kink, with both one-sided slopes and the op that has it, not a wrong rule. Check a point beside
    the kink instead.
    """
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    for name, tolerance in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or not tolerance >= 0.0:
            raise ValueError(f"{name} must be a number >= 0, got {tolerance!r}")
    if eps == 0.0:
        raise ValueError("eps must be > 0: it is the step of the central differences")
    floats = [float(a) if isinstance(a, numbers.Real) else _bad_arg(i, a) for i, a in enumerate(args)]
    labels = input_names(f, len(floats)) if names is None else _check_names(names, len(floats))
    every = tuple(range(len(floats)))
    gradient = grad(f, every)
    checks: list[tuple[str, Callable[[list[float]], float], Callable[[list[float]], Any]]] = [
        ("df", lambda xs: _call_on_floats(f, xs), lambda xs: gradient(*xs)),
    ]
    if order == 2:
        for i in every:

            def first_i(*xs: Any, i: int = i) -> Any:
                return gradient(*xs)[i]

            checks.append((f"d(df/d{labels[i]})", _on_a_list(first_i), _on_a_list(grad(first_i, every))))
    point = ", ".join(f"{label}={x!r}" for label, x in zip(labels, floats, strict=True))
    for what, fn, analytic_fn in checks:
        analytic = analytic_fn(floats)
        for i in range(len(floats)):
            numeric = _central_difference(fn, floats, i, eps)
            if _close(analytic[i], numeric, atol, rtol):
                continue
            found = f"{what}/d{labels[i]} at {point}: analytic {analytic[i]!r}, numeric {numeric!r} (eps={eps})"
            sides = _kink_sides(fn, floats, i, eps, analytic[i], atol, rtol)
            if sides is not None:
                differentiated = "f" if what == "df" else what[2:-1]  # d(df/da): the function is df/da
                raise GradcheckError(
                    f"{found}: a kink, not a wrong rule: {differentiated} is not differentiable at "
                    f"{labels[i]}={floats[i]!r} (or within eps of it): its slope is {sides[0]:.6g} on the left and "
                    f"{sides[1]:.6g} on the right, the central difference averages them, and the rule takes the "
                    f"value PyTorch takes there{_describe_kinks(f, floats, eps, atol, rtol)}. Check a point beside "
                    f"the kink"
                )
            undefined = " (nan: the derivative is not defined there)" if math.isnan(analytic[i]) else ""
            culprit = _describe_culprit(f, floats, eps, atol, rtol, order)
            raise GradcheckError(f"{found}{undefined}; first disagreeing node: {culprit}")
    return True


def _on_a_list(fn: Callable[..., Any]) -> Callable[[list[float]], Any]:
    """``fn`` called with the numbers of a list as its arguments."""
    return lambda xs: fn(*xs)


def _bad_arg(i: int, a: object) -> float:
    raise TypeError(f"gradcheck argument {i} must be a real number, got {a!r} of type {type(a).__name__}")
