"""The Value: a scalar that remembers how it was computed, and backward(), which walks that record in reverse.

This file owns the graph: building it (one node per op, each op's maths looked up in ``ops.OPS``), ordering it
(an iterative, deterministic post-order), and the reverse pass over it, for floats and, with
``create_graph=True``, for Values (which is what makes higher-order gradients possible). It also owns the two
switches that change how graphs are recorded: ``no_grad`` and ``detect_anomaly``.

Design notes, for the reader:

* A node holds its (at most two) operands and its op by reference; no closure refers back to the node, so a
  graph has no reference cycles and is freed by reference counting the moment it is dropped.
* ``backward()`` computes a fresh gradient for every node on each call. Non-leaf nodes get that gradient
  (recomputed, never doubled by a second call); leaves add it to what they had, as in PyTorch, so summing
  per-sample backward passes is right. ``zero_grad()`` clears them.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import operator
import os
import sys
import threading
from typing import Callable, Iterator, Union

from .ops import FLOAT_MATH, OPS, FloatMath, Op

__all__ = [
    "Value",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "AnomalyError",
    "topological_order",
    "gradients",
    "apply_op",
    "VALUE_MATH",
]

Number = Union[int, float]


class AnomalyError(ArithmeticError):
    """Raised inside ``detect_anomaly()`` by the first op whose output or gradient is nan or infinite."""


class _State(threading.local):
    """The engine's switches, per thread as in PyTorch (a server may train in one thread and evaluate under
    ``no_grad`` in another)."""

    grad_enabled: bool = True
    anomaly: bool = False
    unusual: bool = False  # True while no_grad or detect_anomaly is in force on this thread

    def set(self, grad_enabled: bool, anomaly: bool) -> None:
        global _unusual_threads
        unusual = not grad_enabled or anomaly
        if unusual != self.unusual:
            with _counting:
                _unusual_threads += 1 if unusual else -1
        self.grad_enabled = grad_enabled
        self.anomaly = anomaly
        self.unusual = unusual


_state = _State()
# How many threads have a switch on. Every op reads this plain global first, and looks at its own thread's
# ``_state`` only when it is not 0: reading a thread-local attribute costs about an eighth of making a node.
_unusual_threads = 0
_counting = threading.Lock()


def _as_float(data: object, what: str = "data") -> float:
    """Convert an accepted number to float, or raise a TypeError that names the value and its type."""
    if type(data) is float:
        return data
    if isinstance(data, numbers.Real):  # int, bool, Fraction and NumPy's integer and floating scalars
        try:
            return float(data)
        except OverflowError:
            shown = repr(data) if len(repr(data)) <= 40 else repr(data)[:37] + "..."
            raise OverflowError(f"{what} {shown} is too large for a float64") from None
    if isinstance(data, Value):
        raise TypeError(f"{what} must be a real number, got a Value ({data!r}); pass it directly or use .data")
    raise TypeError(f"{what} must be a real number (int, float or NumPy scalar), got {data!r} of type "
                    f"{type(data).__name__}")


# ---- how an op makes a node ---------------------------------------------------------------------------------
# Each arithmetic method of Value is made here, one per op: it runs the op's forward rule from ops.OPS and records
# the result as a node. This is the hottest code in jangrad, so the method builds its node itself rather than
# calling a shared helper: a Python call costs as much as a tenth of making a node. Operands sit in two slots
# rather than a tuple: one object fewer per node for the allocator and for the cyclic garbage collector to scan.
def _unary_op(name: str) -> Callable[[Value], Value]:
    """The method that applies the one-operand op ``OPS[name]`` to ``self``."""

    def method(self: Value) -> Value:
        op = OPS[name]  # looked up at every call, so that a test may patch the table
        data = op.forward(FLOAT_MATH, self.data)
        if _unusual_threads and _state.unusual:
            return _record_unusual(data, op, self, None)
        out = _new_object(Value)  # skips Value.__init__'s input checks: an op's result is already a float
        out.data = data
        out.grad = 0.0
        out.label = ""
        out._x = self
        out._y = None
        out._op = op
        out._mark = None
        return out

    method.__name__ = name
    method.__doc__ = f"The op '{name}' (ops.OPS[{name!r}]) on this Value, recorded as a new node."
    return method


def _binary_op(name: str, reflected: bool = False) -> Callable[[Value, Value | Number], Value]:
    """The method that applies the two-operand op ``OPS[name]`` to ``(self, other)``, or to ``(other, self)``
    when ``reflected`` (Python's ``__radd__`` and friends, called for ``2 + value``)."""

    def method(self: Value, other: Value | Number) -> Value:
        if not isinstance(other, Value):
            other = _constant(other, name)
        op = OPS[name]
        data = op.forward(FLOAT_MATH, self.data, other.data)
        if _unusual_threads and _state.unusual:
            return _record_unusual(data, op, self, other)
        out = _new_object(Value)
        out.data = data
        out.grad = 0.0
        out.label = ""
        out._x = self
        out._y = other
        out._op = op
        out._mark = None
        return out

    def reflected_method(self: Value, other: Number) -> Value:
        return method(_constant(other, name), self)

    chosen = reflected_method if reflected else method
    chosen.__name__ = name
    chosen.__doc__ = f"The op '{name}' (ops.OPS[{name!r}]) on this Value and another, recorded as a new node."
    return chosen


class Value:
    """A scalar in a computation graph: its ``data``, its ``grad`` after ``backward()``, and how it was made.

    >>> a = Value(2.0, label="a"); b = Value(3.0, label="b")
    >>> e = a * a + a * b
    >>> e.backward()
    >>> a.grad, b.grad
    (7.0, 2.0)

    ``<``, ``<=``, ``>``, ``>=`` compare ``data``; ``==`` is identity (as for any object), so Values can be dict
    keys and ``v in nodes`` means "this very node". Compare ``a.data == b.data`` for numbers.
    """

    __slots__ = ("data", "grad", "label", "_x", "_y", "_op", "_mark")
    __array_ufunc__ = None  # NumPy scalars defer to our reflected operators instead of wrapping us in arrays

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {label!r} of type {type(label).__name__}")
        self.data: float = _as_float(data)
        self.grad: float | Value = 0.0
        self.label: str = label
        self._x: Value | None = None  # first operand of the op that made this node (None for a leaf)
        self._y: Value | None = None  # second operand, for binary ops
        self._op: Op | None = None
        self._mark: object = None  # scratch for topological_order: where this node stands in the current sort

    # ---- what the node is -------------------------------------------------------------------------------------
    @property
    def op(self) -> str:
        """The name of the op that produced this node ('' for a leaf)."""
        return self._op.name if self._op is not None else ""

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands of the op that produced this node, in order (empty for a leaf)."""
        x = self._x
        if x is None:
            return ()
        return (x,) if self._y is None else (x, self._y)

    _prev = parents  # micrograd's name for the same thing

    @property
    def is_leaf(self) -> bool:
        return self._x is None

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # ---- arithmetic: each line names its op; the maths lives in ops.OPS ----------------------------------------
    __add__ = _binary_op("add")
    __radd__ = _binary_op("add", reflected=True)
    __sub__ = _binary_op("sub")
    __rsub__ = _binary_op("sub", reflected=True)
    __mul__ = _binary_op("mul")
    __rmul__ = _binary_op("mul", reflected=True)
    __truediv__ = _binary_op("div")
    __rtruediv__ = _binary_op("div", reflected=True)
    __rpow__ = _binary_op("pow", reflected=True)

    def __pow__(self, exponent: Value | Number) -> Value:
        # A plain-number exponent is a constant (powc): no gradient flows to it, so no log of a negative base.
        return _binary("pow" if isinstance(exponent, Value) else "powc", self, exponent)

    __neg__ = _unary_op("neg")
    __abs__ = _unary_op("abs")

    def __pos__(self) -> Value:
        return self

    exp = _unary_op("exp")
    log = _unary_op("log")
    sqrt = _unary_op("sqrt")
    tanh = _unary_op("tanh")
    sigmoid = _unary_op("sigmoid")
    relu = _unary_op("relu")
    erf = _unary_op("erf")
    gelu = _unary_op("gelu")

    def leaky_relu(self, slope: float = 0.01) -> Value:
        return _binary("leaky_relu", self, slope)

    # Comparisons read .data and give a bool, like PyTorch's scalar tensors (equality: see the class docstring).
    def __lt__(self, other: Value | Number) -> bool:
        return self.data < _data_of(other)

    def __le__(self, other: Value | Number) -> bool:
        return self.data <= _data_of(other)

    def __gt__(self, other: Value | Number) -> bool:
        return self.data > _data_of(other)

    def __ge__(self, other: Value | Number) -> bool:
        return self.data >= _data_of(other)

    __hash__ = object.__hash__

    # ---- the reverse pass ----------------------------------------------------------------------------------------
    def backward(self, gradient: Number = 1.0, create_graph: bool = False) -> None:
        """Fill ``.grad`` of every node this Value depends on with d(self)/d(node).

        Leaves accumulate (``leaf.grad += ...``), as in PyTorch; every other node gets this call's gradient, so a
        second call never doubles them. With ``create_graph=True`` the gradients are Values, built from the same
        rules, and can be differentiated again.
        """
        seed = _as_float(gradient, "gradient")
        if create_graph or _state.anomaly:
            # The general pass: gradients as Values (a graph, recorded even inside no_grad), or every step checked.
            with enable_grad() if create_graph else contextlib.nullcontext():
                order, grads = _backprop(self, seed, create_graph)
                for node in order:
                    g = grads[id(node)]
                    node.grad = node.grad + g if node._x is None else g
            return
        order = _sort(self, fresh_grads=True)  # inner nodes start this call afresh; leaves keep what they had
        self.grad = self.grad + seed if self._x is None else seed
        _float_backward_into_grad(order)

    backtrack = backward  # the name the jangrad post uses

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0 on every node of this Value's graph (leaves included)."""
        for node in topological_order(self):
            node.grad = 0.0


def _data_of(x: Value | Number) -> float:
    return x.data if isinstance(x, Value) else _as_float(x, "operand")


def _constant(x: object, op_name: str) -> Value:
    """Wrap a plain number met in an op as a leaf; refuse anything else with a message naming it."""
    if isinstance(x, numbers.Real):
        return Value(x)
    raise TypeError(f"cannot use {x!r} of type {type(x).__name__} in '{op_name}': expected a Value or a real "
                    f"number")


_UNARY_METHODS = {name: _unary_op(name) for name, op in OPS.items() if op.arity == 1}
_BINARY_METHODS = {name: _binary_op(name) for name, op in OPS.items() if op.arity == 2}


def _unary(name: str, a: Value) -> Value:
    """Apply the one-operand op called ``name`` to ``a`` (for code that has the op's name, not its method)."""
    return _UNARY_METHODS[name](a)


def _binary(name: str, a: Value, b: Value | Number) -> Value:
    """Apply the two-operand op called ``name`` to ``a`` and ``b``."""
    return _BINARY_METHODS[name](a, b)


def _record_unusual(data: float, op: Op, x: Value, y: Value | None) -> Value:
    """A node made under ``detect_anomaly`` (it knows where it was made, and is checked at once) or ``no_grad``
    (a leaf that remembers nothing)."""
    out = _new_object(_TracedValue if _state.anomaly else Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._x = out._y = out._op = out._mark = None
    if _state.anomaly:
        out.site = _user_site()
        _check_forward(out, op, (x,) if y is None else (x, y))
    if _state.grad_enabled:
        out._x = x
        out._y = y
        out._op = op
    return out


_new_object = object.__new__


def apply_op(name: str, *operands: Value | Number) -> Value:
    """Run the op ``OPS[name]`` on its operands and record the result as a new node (unless in ``no_grad``)."""
    if name not in OPS:
        raise ValueError(f"unknown op {name!r}: expected one of {', '.join(OPS)}")
    arity = OPS[name].arity
    if len(operands) != arity:
        raise TypeError(f"op '{name}' takes {arity} operand(s), got {len(operands)}")
    a = operands[0] if isinstance(operands[0], Value) else _constant(operands[0], name)
    return _unary(name, a) if arity == 1 else _binary(name, a, operands[1])


# ---- ordering ------------------------------------------------------------------------------------------------
_sorting = threading.Lock()  # one sort at a time, since a sort writes its marks on the nodes it visits


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each after all of its parents, ``root`` last.

    A real post-order, iterative so that a chain of a million nodes needs no recursion, and deterministic: it
    follows each node's operands in order, so the same program gives the same order in every run.

    The visited record is a mark on each node (two tokens made for this sort) rather than a dictionary keyed by
    node: on a graph of a million nodes the dictionary alone costs more than the rest of backward.
    """
    return _sort(root, fresh_grads=False)


def _sort(root: Value, fresh_grads: bool) -> list[Value]:
    """``topological_order``; with ``fresh_grads`` it also sets every non-leaf's ``.grad`` to 0 as it places it,
    which saves backward() a second walk over the whole graph."""
    opened = object()  # its operands have been pushed
    placed = object()  # it is in `order`
    order: list[Value] = []
    stack = [root]
    with _sorting:
        while stack:
            node = stack.pop()
            mark = node._mark
            if mark is placed:
                continue  # reached again through another consumer
            if mark is opened:  # second visit: everything pushed above it, its operands included, is placed
                node._mark = placed
                order.append(node)
                if fresh_grads:
                    node.grad = 0.0
                continue
            x = node._x
            if x is None:  # a leaf
                node._mark = placed
                order.append(node)
                continue
            node._mark = opened
            stack.append(node)  # come back to it after its operands
            # Push the second operand first, so that the first one is placed first.
            y = node._y
            if y is not None and y._mark is not placed:
                stack.append(y)
            if x._mark is not placed:
                stack.append(x)
    return order


# ---- the reverse pass, shared by backward() and the functional API --------------------------------------------
def _backprop(root: Value, seed: float, create_graph: bool) -> tuple[list[Value], dict[int, object]]:
    """Return the topological order of ``root``'s graph and a fresh ``{id(node): d root / d node}``.

    Each node's rule turns its gradient into one contribution per operand; a node used by several consumers
    sums theirs, and is only reached in reverse order after all of them.
    """
    order = topological_order(root)
    grads: dict[int, object] = {id(root): seed}
    if create_graph:
        rule_inputs, m = _value_inputs, VALUE_MATH
    else:
        rule_inputs, m = _float_inputs, FLOAT_MATH
    # create_graph asks for a graph of the gradients, so record one even inside no_grad (as PyTorch does).
    with enable_grad() if create_graph else contextlib.nullcontext():
        _accumulate(order, grads, rule_inputs, m)
    return order, grads


def _accumulate(order: list[Value], grads: dict[int, object], rule_inputs: Callable, m: object) -> None:
    """Walk ``order`` backwards, turning each node's gradient into its operands' (into ``grads``)."""
    checking = _state.anomaly
    for node in reversed(order):
        if node._x is None:
            continue
        g = grads[id(node)]
        contributions = node._op.backward(m, g, *rule_inputs(node))
        if checking:
            _check_backward(node, g, contributions)
        for parent, c in zip(node.parents, contributions):
            key = id(parent)
            grads[key] = grads[key] + c if key in grads else c


def _float_backward_into_grad(order: list[Value]) -> None:
    """The first-order pass on floats, the hot path of training: the same rules as ``_backprop``, written out for
    one and two operands and accumulating straight into ``.grad`` (no dictionary, no per-node tuple of inputs)."""
    m = FLOAT_MATH
    for node in reversed(order):
        x = node._x
        if x is None:
            continue
        y = node._y
        if y is None:
            x.grad += node._op.backward(m, node.grad, node.data, x.data)[0]
            continue
        dx, dy = node._op.backward(m, node.grad, node.data, x.data, y.data)
        x.grad += dx
        y.grad += dy


def _float_inputs(node: Value) -> tuple:
    """A rule's ``out`` and operands as floats (for the functional first-order pass)."""
    if node._y is None:
        return node.data, node._x.data
    return node.data, node._x.data, node._y.data


def _value_inputs(node: Value) -> tuple:
    """A rule's ``out`` and operands as Values, so its result is a graph. A constant operand (an exponent, a
    slope) stays a float, so that differentiating again never builds a graph through the constant."""
    if node._y is None:
        return node, node._x
    return node, node._x, (node._y.data if node._op.constant_operand else node._y)


def gradients(output: Value, inputs: list[Value], create_graph: bool = False) -> list:
    """d output / d input for each input, without touching any ``.grad`` (0.0 where output does not depend on it).

    The functional core of ``jangrad.grad``. With ``create_graph=True`` each result is a Value connected to the
    graph (or a float where the gradient is a constant).
    """
    if not isinstance(output, Value):
        raise TypeError(f"output must be a Value, got {output!r} of type {type(output).__name__}")
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):  # id() of a number is never in the graph: it would silently get 0.0
            raise TypeError(f"inputs[{i}] must be a Value, got {x!r} of type {type(x).__name__}")
    _, grads = _backprop(output, 1.0, create_graph)
    return [grads.get(id(x), 0.0) for x in inputs]


class _ValueMath(FloatMath):
    """The maths namespace that runs rules on Values, so that a gradient is itself a differentiable graph."""

    @staticmethod
    def _lift(name: str, float_fn: Callable[[float], float]) -> Callable:
        def fn(a):
            return _unary(name, a) if isinstance(a, Value) else float_fn(a)
        return staticmethod(fn)

    div = staticmethod(lambda a, b: operator.truediv(a, b) if isinstance(a, Value) or isinstance(b, Value)
                       else FloatMath.div(a, b))
    pow = staticmethod(lambda a, b: a ** b if isinstance(a, Value) or isinstance(b, Value) else FloatMath.pow(a, b))

    @staticmethod
    def power_rule(x, k):
        if _data_of(k) == 0.0 and _data_of(x) == 0.0:
            return 0.0  # as on floats: 0 * 0^-1 would be nan, but x^0 is constant, so its derivative is 0
        return k * VALUE_MATH.pow(x, k - 1.0)

    exp = _lift("exp", FloatMath.exp)
    log = _lift("log", FloatMath.log)
    sqrt = _lift("sqrt", FloatMath.sqrt)
    tanh = _lift("tanh", FloatMath.tanh)
    erf = _lift("erf", FloatMath.erf)
    sigmoid = _lift("sigmoid", FloatMath.sigmoid)
    relu = _lift("relu", FloatMath.relu)
    # step and sign are piecewise constant: their derivative is 0, so a float read off .data is exact.
    step = staticmethod(lambda a: FloatMath.step(_data_of(a)))
    sign = staticmethod(lambda a: FloatMath.sign(_data_of(a)))
    leaky_relu = staticmethod(lambda a, slope: _binary("leaky_relu", a, slope) if isinstance(a, Value)
                              else FloatMath.leaky_relu(a, slope))


VALUE_MATH = _ValueMath()


# ---- switches --------------------------------------------------------------------------------------------------
class no_grad(contextlib.ContextDecorator):
    """Ops inside record no graph: their results are leaves. For evaluation and parameter updates.

    Use as ``with jangrad.no_grad():`` or as a decorator ``@jangrad.no_grad()``. Like PyTorch's, the switch
    belongs to the thread that sets it.
    """

    def __init__(self, enabled: bool = False) -> None:
        if not isinstance(enabled, bool):  # most often a bare ``@no_grad``, which would silently do nothing
            raise TypeError(f"no_grad takes enabled=True or False, got {enabled!r}; as a decorator write "
                            f"@no_grad() with the parentheses")
        self._enabled = enabled
        self._saved: list[bool] = []

    def _recreate_cm(self) -> no_grad:
        # ContextDecorator calls this for every call of a decorated function: a fresh instance per call, so that
        # threads running the same decorated function never pop each other's saved switch.
        return no_grad(self._enabled)

    def __enter__(self) -> no_grad:
        self._saved.append(_state.grad_enabled)
        _state.set(self._enabled, _state.anomaly)
        return self

    def __exit__(self, *exc: object) -> None:
        _state.set(self._saved.pop(), _state.anomaly)


def enable_grad() -> no_grad:
    """The opposite of ``no_grad``: record graphs inside, even within a ``no_grad`` block."""
    return no_grad(enabled=True)


def is_grad_enabled() -> bool:
    return _state.grad_enabled


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Inside, the first op whose output or gradient is nan or infinite raises ``AnomalyError``.

    The error names the op, its operand values and the file and line where the node was created. Only nodes
    created inside the block carry that record; outside the block nothing is recorded and nothing is checked.
    """
    outer = _state.anomaly
    _state.set(_state.grad_enabled, True)
    try:
        yield
    finally:
        _state.set(_state.grad_enabled, outer)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_site() -> str:
    """The file and line of the innermost caller outside jangrad's own package (or of jangrad, if none)."""
    frame = sys._getframe(1)
    first = frame
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep):
        frame = frame.f_back
    frame = frame or first
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _is_finite(x: object) -> bool:
    value = x.data if isinstance(x, Value) else x
    return not (math.isinf(value) or math.isnan(value))


class _TracedValue(Value):
    """A node made inside ``detect_anomaly()``: it also remembers where it was created. Only such nodes pay
    for that record; it lives and dies with the node."""

    __slots__ = ("site",)


def _check_forward(out: _TracedValue, op: Op, operands: tuple[Value, ...]) -> None:
    if not _is_finite(out.data):
        values = ", ".join(repr(x.data) for x in operands)
        raise AnomalyError(f"'{op.name}' returned {out.data!r} from operand(s) ({values}); created at {out.site}")


def _check_backward(node: Value, g: object, contributions: tuple) -> None:
    for index, c in enumerate(contributions):
        if not _is_finite(c):
            values = ", ".join(repr(x.data) for x in node.parents)
            site = getattr(node, "site", "(a line outside detect_anomaly)")
            raise AnomalyError(
                f"backward of '{node._op.name}' gave gradient {_data_of(c)!r} for operand {index} "
                f"(operands: {values}; incoming gradient {_data_of(g)!r}); created at {site}")
