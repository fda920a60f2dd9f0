"""The Value: a scalar that remembers how it was computed, and backward(), which walks that record in reverse.

Read it top to bottom, as micrograd's engine: the node, its ops (each one's maths looked up in ``ops.OPS``), the
topological order (an iterative, deterministic post-order), and the reverse pass. Beside it live the switches
(``switches.py``: ``no_grad``, ``detect_anomaly``), anomaly tracing (``anomaly.py``) and the reverse pass that
builds gradients as Values for higher orders (``higher_order.py``).

Design notes, for the reader:

* A node holds its (at most two) operands and its op's rule by reference; no closure refers back to the node, so
  a graph has no reference cycles and is freed by reference counting the moment it is dropped.
* ``backward()`` computes a fresh gradient for every node on each call. Non-leaf nodes get that gradient
  (recomputed, never doubled by a second call); leaves add it to what they had, as in PyTorch, so summing
  per-sample backward passes is right. ``zero_grad()`` clears them.
* Everything the lecture's code uses works as in micrograd: ``Value(data, _children, _op, label)``, ``_prev``,
  ``_op`` (the op's symbol), ``v._backward()`` (one node's local step, by hand), an op built by hand with its own
  ``_backward``, and attributes of your own on any Value.
"""

from __future__ import annotations

import contextlib
import numbers
import threading
from collections.abc import Callable, Iterable
from typing import TypeAlias

from . import switches
from .anomaly import check_forward, user_site
from .checks import as_float as _as_float
from .hand_built import hand_built_operands_and_rule
from .higher_order import reverse_pass, warn_about_create_graph_cycles
from .ops import CONSTANT, FLOAT_MATH, OPS, Op
from .switches import enable_grad

__all__ = ["Value", "topological_order", "apply_op", "constant"]  # the switches (no_grad, ...) live in switches.py

Number: TypeAlias = int | float | numbers.Real  # a Python number, or one of NumPy's scalars


# ---- how an op makes a node ---------------------------------------------------------------------------------
# Each arithmetic method of Value is made here, one per op: it runs the op's forward rule from ops.OPS and records
# the result as a node. This is the hottest code in jangrad, so the method builds its node itself rather than
# calling a shared helper (a Python call costs as much as a tenth of making a node), and the operands sit in two
# slots rather than a tuple (one object fewer per node).
def _unary_op(name: str) -> Callable[[Value], Value]:
    """The method that applies the one-operand op ``OPS[name]`` to ``self``."""

    def method(self: Value) -> Value:
        op = OPS[name]  # looked up at every call, so that a test may patch the table
        data = op.forward(FLOAT_MATH, self.data)  # type: ignore[misc]  # every op of the table has a forward
        if switches.unusual_threads and switches.state.unusual:
            return _record_unusual(data, op, self, None)
        out = _new_object(Value)  # skips Value.__init__'s input checks: an op's result is already a float
        out.data = data
        out.grad = 0.0
        out._x = self
        out._y = None
        out._rule = op
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
            other = constant(other, name)
        op = OPS[name]
        data = op.forward(FLOAT_MATH, self.data, other.data)  # type: ignore[misc]  # every op of the table has one
        if switches.unusual_threads and switches.state.unusual:
            return _record_unusual(data, op, self, other)
        out = _new_object(Value)
        out.data = data
        out.grad = 0.0
        out._x = self
        out._y = other
        out._rule = op
        out._mark = None
        return out

    def reflected_method(self: Value, other: Value | Number) -> Value:
        return method(constant(other, name), self)

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

    ``<``, ``<=``, ``>``, ``>=`` compare ``data`` and ``bool(v)`` is ``v.data != 0``; ``==`` is identity (as for any
    object), so Values can be dict keys and ``v in nodes`` means "this very node". Compare ``a.data == b.data``.
    """

    # __dict__ lets a learner's code hang its own attributes on a node (``p.m = 0.0``). A label lives there too,
    # so the many nodes that have none pay nothing for it; they read the class's "".
    __slots__ = ("data", "grad", "_x", "_y", "_rule", "_mark", "__dict__")
    label: str = ""
    site: str  # set only on a node made inside detect_anomaly(): the line that made it (anomaly.user_site)
    __array_ufunc__ = None  # NumPy scalars defer to our reflected operators instead of wrapping us in arrays

    def __init__(self, data: Number, _children: Iterable[Value] = (), _op: str = "", label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {label!r} of type {type(label).__name__}")
        self.data: float = _as_float(data)
        self.grad: float | Value = 0.0
        if label:
            self.label = label
        self._x: Value | None = None  # first operand of the op that made this node (None for a leaf)
        self._y: Value | None = None  # second operand, for binary ops
        self._rule: Op | None = None  # the op whose rules made this node and differentiate it
        self._mark: object = None  # scratch for topological_order: where this node stands in the current sort
        if _children or _op:
            self._x, self._y, self._rule = hand_built_operands_and_rule(self, _children, _op)

    # ---- what the node is -------------------------------------------------------------------------------------
    @property
    def op(self) -> str:
        """The name of the op that produced this node (``'mul'``; '' for a leaf)."""
        return self._rule.name if self._rule is not None else ""

    @property
    def _op(self) -> str:
        """The op's symbol as the lecture draws it (``'+'``, ``'*'``, ``'tanh'``, ``'**2'``, ``'ReLU'``; '' for a
        leaf)."""
        rule = self._rule
        if rule is None:
            return ""
        if rule.forward is None:  # built by hand: the symbol it was given
            return rule.symbol
        if rule.name == "powc" and self._y is not None:  # powc always has its exponent
            k = self._y.data
            return f"**{int(k) if k.is_integer() else k}"
        return "ReLU" if rule.name == "relu" else rule.symbol

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands of the op that produced this node, in order (empty for a leaf)."""
        x = self._x
        if x is None:
            return ()
        return (x,) if self._y is None else (x, self._y)

    _prev = parents  # micrograd's name (a set there; here a tuple, in operand order, so drawings are deterministic)

    @property
    def is_leaf(self) -> bool:
        return self._x is None

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return self.data

    def __bool__(self) -> bool:
        return self.data != 0.0

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
        return _BINARY_METHODS["pow" if isinstance(exponent, Value) else "powc"](self, exponent)

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
        return _BINARY_METHODS["leaky_relu"](self, slope)

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
        if self._rule is _MADE_UNDER_NO_GRAD:
            raise RuntimeError("computed inside no_grad(), this Value has no graph: compute it outside no_grad()")
        if create_graph or switches.state.anomaly:
            if create_graph:
                warn_about_create_graph_cycles()
            order = _sort(self, fresh_grads=False)
            grads = reverse_pass(order, seed, create_graph)
            with enable_grad() if create_graph else contextlib.nullcontext():
                for node in order:
                    g = grads[id(node)]
                    node.grad = node.grad + g if node._x is None else g
            return
        order = _sort(self, fresh_grads=True)  # inner nodes start this call afresh; leaves keep what they had
        self.grad = self.grad + seed if self._x is None else seed
        # The first-order pass on floats, the hot path of training: each node's rule turns its gradient into its
        # operands', added straight into their .grad. It is _backward() written out in the loop, because a method
        # call per node would cost a tenth of the pass (and a hand-built node's own _backward runs via its rule).
        # (A node with an operand always has a rule with a backward, so the type ignores below are true; narrowing
        # node._rule for mypy would add work to the hottest loop of all.)
        m = FLOAT_MATH
        for node in reversed(order):
            x = node._x
            if x is None:
                continue
            y = node._y
            if y is None:
                x.grad += node._rule.backward(m, node.grad, node.data, x.data)[0]  # type: ignore[union-attr, misc]
                continue
            dx, dy = node._rule.backward(m, node.grad, node.data, x.data, y.data)  # type: ignore[union-attr, misc]
            x.grad += dx
            y.grad += dy

    backtrack = backward  # the name the jangrad post uses

    def _backward(self) -> None:
        """One step of the reverse pass, by hand, as the lecture calls it: add this node's ``.grad`` times its local
        derivative into each operand's ``.grad``. ``backward()`` does every step, in the right order, for you."""
        x = self._x
        if x is None:
            return
        y = self._y
        # (a node with an operand always has a rule with a backward: see the note in backward())
        if y is None:
            x.grad += self._rule.backward(FLOAT_MATH, self.grad, self.data, x.data)[0]  # type: ignore[union-attr, misc]
            return
        dx, dy = self._rule.backward(FLOAT_MATH, self.grad, self.data, x.data, y.data)  # type: ignore[union-attr, misc]
        x.grad += dx
        y.grad += dy

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0 on every node of this Value's graph (leaves included)."""
        for node in topological_order(self):
            node.grad = 0.0


def _data_of(x: Value | Number) -> float:
    return x.data if isinstance(x, Value) else _as_float(x, "operand")


def constant(x: object, op_name: str = "an op") -> Value:
    """A plain number met in an op (the 2 in ``a + 2``) as a leaf marked ``ops.CONSTANT``, so that every view tells
    it from a Value the learner made; anything else is refused with a message naming it."""
    if isinstance(x, numbers.Real):
        out = Value(x)
        out._rule = CONSTANT
        return out
    raise TypeError(f"cannot use {x!r} of type {type(x).__name__} in '{op_name}': expected a Value or a real number")


_UNARY_METHODS = {name: _unary_op(name) for name, op in OPS.items() if op.arity == 1}
_BINARY_METHODS = {name: _binary_op(name) for name, op in OPS.items() if op.arity == 2}
_new_object = object.__new__
# The rule of a result computed inside no_grad: a leaf that backward() refuses to start from, as PyTorch does.
_MADE_UNDER_NO_GRAD = Op("", 0, "", None, None, "computed inside no_grad: no graph")


def _record_unusual(data: float, op: Op, x: Value, y: Value | None) -> Value:
    """A node made under ``detect_anomaly`` (it knows where it was made, and is checked at once) or ``no_grad``
    (a leaf that remembers nothing)."""
    out = _new_object(Value)
    out.data = data
    out.grad = 0.0
    out._x = out._y = out._mark = None
    out._rule = _MADE_UNDER_NO_GRAD
    if switches.state.anomaly:
        out.site = user_site()
        check_forward(out, op.name, (x,) if y is None else (x, y))
    if switches.state.grad_enabled:
        out._x = x
        out._y = y
        out._rule = op
    return out


def apply_op(name: str, *operands: Value | Number) -> Value:
    """Run the op ``OPS[name]`` on its operands and record the result as a new node (unless in ``no_grad``)."""
    if name not in OPS:
        raise ValueError(f"unknown op {name!r}: expected one of {', '.join(OPS)}")
    arity = OPS[name].arity
    if len(operands) != arity:
        raise TypeError(f"op '{name}' takes {arity} operand(s), got {len(operands)}")
    a = operands[0] if isinstance(operands[0], Value) else constant(operands[0], name)
    return _UNARY_METHODS[name](a) if arity == 1 else _BINARY_METHODS[name](a, operands[1])


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
