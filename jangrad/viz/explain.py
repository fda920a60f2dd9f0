"""A narrated backward pass: ``jangrad.explain(value)`` runs backward and tells each step in the engine's order.

For every node, from the output back to the leaves, it says which op made the node, the op's local derivative,
the gradient arriving at the node and what is added to each operand's gradient, for example
``a.grad += b.data * e.grad = 3.0 * 1.0 = 3.0``. When a node feeds several others, it says why the engine reaches
it only after all of them: its gradient is the sum of their contributions, which is complete only then. The order
is ``engine.topological_order`` reversed, and the numbers come from the rules in ``ops.OPS``: the narration is the
engine's own arithmetic, spelt out.

Leaves keep what earlier ``backward()`` calls left in their ``.grad`` (the engine adds to it, as PyTorch does), so
when a leaf starts with a gradient the narration says what it held before, and the totals it prints include it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from ..engine import Value, topological_order
from ..ops import FLOAT_MATH, OPS

__all__ = ["explain", "Step", "Contribution", "LOCAL_DERIVATIVES"]

# The local derivative of each op with respect to each operand, as text. {x} and {y} stand for the operands'
# data, {out} for the node's own data. The numbers printed next to them come from the op table's rules.
LOCAL_DERIVATIVES: dict[str, tuple[str, ...]] = {
    "add": ("1", "1"),
    "sub": ("1", "-1"),
    "mul": ("{y}", "{x}"),
    "div": ("1/{y}", "-{out}/{y}"),
    "pow": ("{y} * {x}**({y} - 1)", "{out} * log({x})"),
    "powc": ("{y} * {x}**({y} - 1)",),
    "neg": ("-1",),
    "abs": ("sign({x})",),
    "exp": ("{out}",),
    "log": ("1/{x}",),
    "sqrt": ("0.5/{out}",),
    "tanh": ("(1 - {out}**2)",),
    "sigmoid": ("{out} * (1 - {out})",),
    "relu": ("(1 if {x} > 0 else 0)",),
    "leaky_relu": ("(1 if {x} > 0 else {y})",),
    "erf": ("2/sqrt(pi) * exp(-{x}**2)",),
    "gelu": ("(Phi({x}) + {x} * phi({x}))",),
}

_INFIX = ("add", "sub", "mul", "div", "pow", "powc")


@dataclass
class Contribution:
    """What one step adds to one operand's gradient: ``amount = local_value * incoming``."""

    parent: Value
    name: str
    local: str
    local_value: float
    incoming: float
    amount: float
    line: str
    total: float = 0.0  # the operand's .grad after this step: what it held before (a leaf), plus every amount so far


@dataclass
class Step:
    """One node's turn in the backward pass."""

    node: Value
    name: str
    op: str
    formula: str
    incoming: float
    contributions: list[Contribution] = field(default_factory=list)
    note: str = ""
    lines: list[str] = field(default_factory=list)


def _num(x: float) -> str:
    text = f"{x:.4g}"
    if text.lstrip("-").isdigit():
        text += ".0"  # 3 reads as an int; 3.0 says it is the float the engine holds
    return text


class _Names:
    """Readable names: a node's label, a constant's value, else v1, v2, ... in creation order."""

    def __init__(self, order: list[Value]) -> None:
        self.names: dict[int, str] = {}
        labels = {node.label for node in order if node.label}
        count = 0
        for node in order:
            if node.label:
                self.names[id(node)] = node.label
            elif node.parents:
                count += 1
                while f"v{count}" in labels:  # a node labelled "v1" keeps it: the unnamed one takes the next
                    count += 1
                self.names[id(node)] = f"v{count}"
            else:
                self.names[id(node)] = _num(node.data)

    def name(self, node: Value) -> str:
        return self.names[id(node)]

    def data(self, node: Value) -> str:
        """How the node's value is written in a formula: ``a.data``, or the number itself for a constant."""
        return self.name(node) if _is_constant(node) else f"{self.name(node)}.data"


def _is_constant(node: Value) -> bool:
    return not node.parents and not node.label


def _formula(node: Value, names: _Names) -> str:
    op = node._rule
    operands = [names.name(p) for p in node.parents]
    if node.op in _INFIX:
        expression = f"{operands[0]} {op.symbol} {operands[1]}"
    elif node.op == "neg":
        expression = f"-{operands[0]}"
    else:
        expression = f"{op.symbol}({', '.join(operands)})"
    return f"{names.name(node)} = {expression}"


def _local_text(node: Value, j: int, names: _Names) -> str:
    # An op built by hand (``Value(t, (x,), 'tanh')`` with its own ``_backward``) may share a table op's name but
    # not its rule: it gets no formula, only its numbers.
    templates = LOCAL_DERIVATIVES.get(node.op) if node._rule is OPS.get(node.op) else None
    if templates is None or j >= len(templates):
        return f"d{names.name(node)}/d{names.name(node.parents[j])}"
    fill = {"out": names.data(node), "x": names.data(node.parents[0])}
    if len(node.parents) > 1:
        fill["y"] = names.data(node.parents[1])
    return templates[j].format(**fill)


def _contribution_line(parent: str, local: str, local_value: float, out: str, g: float, amount: float) -> str:
    if local == "1":
        return f"{parent}.grad += {out}.grad = {_num(amount)}"
    if local == "-1":
        return f"{parent}.grad += -{out}.grad = {_num(amount)}"
    return f"{parent}.grad += {local} * {out}.grad = {_num(local_value)} * {_num(g)} = {_num(amount)}"


def _shared_note(name: str, received: list[tuple[str, float]], leaf: bool, before: float = 0.0) -> str:
    consumers = ", ".join(who for who, _ in received)
    total = before + sum(amount for _, amount in received)
    parts = " + ".join(_num(amount) for _, amount in received)
    if before:
        parts = f"{_num(before)} (held before) + {parts}"
    why = (
        "a leaf simply adds up what each use sends it"
        if leaf
        else "the engine visits it only after all of them (reversed topological order puts every consumer first), "
        "so that its gradient is complete before it is passed on"
    )
    return f"{name} is used {len(received)} times (by {consumers}); {why}: {name}.grad = {parts} = {_num(total)}"


def _as_number(grad: object) -> float:
    """A gradient as a float (after ``backward(create_graph=True)`` it is a Value)."""
    return grad.data if isinstance(grad, Value) else float(grad)


def leaf_gradients_before(order: list[Value]) -> dict[int, float]:
    """The nonzero gradients that leaves hold before this pass: backward adds to them instead of replacing them."""
    return {
        id(node): _as_number(node.grad)
        for node in order
        if not node.parents and not _is_constant(node) and _as_number(node.grad) != 0.0
    }


def _final_text(leaf: Value, names: _Names, before: dict[int, float], grads: dict[int, float]) -> str:
    text = f"{names.name(leaf)}.grad = {_num(_as_number(leaf.grad))}"
    if id(leaf) in before:
        text += f" ({_num(before[id(leaf)])} held before + {_num(grads.get(id(leaf), 0.0))} from this pass)"
    return text


def explain(value: Value, file: TextIO | None = None, quiet: bool = False) -> list[Step]:
    """Run ``value.backward()`` and narrate it; return one ``Step`` per non-leaf node, output first.

    Lines go to ``file`` (default stdout) unless ``quiet``. Leaves accumulate ``.grad`` as in any backward call:
    a leaf that already holds a gradient (from an earlier ``backward()``) is named with what it held, and the
    totals printed add this pass to it. Call ``value.zero_grad()`` first to start every gradient from 0.

    >>> from jangrad import Value
    >>> a = Value(2.0, label="a"); b = Value(3.0, label="b")
    >>> e = a * b; e.label = "e"
    >>> steps = explain(e, quiet=True)
    >>> steps[0].lines[1]
    '  a.grad += b.data * e.grad = 3.0 * 1.0 = 3.0'
    """
    if not isinstance(value, Value):
        raise TypeError(f"explain expects a Value, got {value!r} of type {type(value).__name__}")
    order = topological_order(value)
    names = _Names(order)
    grads: dict[int, float] = {id(value): 1.0}
    received: dict[int, list[tuple[str, float]]] = {id(value): []}
    steps: list[Step] = []
    lines_out: list[str] = [
        f"backward from {names.name(value)} = {_num(value.data)}: "
        f"{names.name(value)}.grad = 1.0 (d{names.name(value)}/d{names.name(value)} = 1)"
    ]
    before = leaf_gradients_before(order)
    if before:
        held = ", ".join(f"{names.name(node)}.grad = {_num(before[id(node)])}" for node in order if id(node) in before)
        lines_out.append(
            f"leaves keep what earlier backward() calls left, and this pass adds to it: {held} "
            f"before this pass (call {names.name(value)}.zero_grad() first to start from 0)"
        )
    for node in reversed(order):  # the engine's order: every consumer before the nodes it uses
        if not node.parents:
            continue
        g = grads[id(node)]
        step = Step(node, names.name(node), node.op, _formula(node, names), g)
        if len(received[id(node)]) > 1:
            step.note = _shared_note(step.name, received[id(node)], leaf=False)
        operands = [p.data for p in node.parents]
        local = node._rule.backward(FLOAT_MATH, 1.0, node.data, *operands)
        amounts = node._rule.backward(FLOAT_MATH, g, node.data, *operands)
        step.lines.append(f"{step.formula}  ({step.op}; {step.name}.grad = {_num(g)})")
        if step.note:
            step.lines.insert(0, "  note: " + step.note)
        for j, parent in enumerate(node.parents):
            grads[id(parent)] = grads.get(id(parent), 0.0) + amounts[j]
            received.setdefault(id(parent), []).append((step.name, amounts[j]))
            if _is_constant(parent) or (j == 1 and node._rule.constant_operand):
                continue  # a constant has no gradient worth telling
            text = _local_text(node, j, names)
            line = _contribution_line(names.name(parent), text, local[j], step.name, g, amounts[j])
            total = before.get(id(parent), 0.0) + grads[id(parent)]
            step.contributions.append(
                Contribution(parent, names.name(parent), text, local[j], g, amounts[j], line, total)
            )
            step.lines.append("  " + line)
        steps.append(step)
        lines_out.extend(step.lines)
    for node in order:
        if node.parents or _is_constant(node) or node is value:
            continue
        uses = received.get(id(node), [])
        if len(uses) > 1:
            lines_out.append(
                "note: " + _shared_note(names.name(node), uses, leaf=True, before=before.get(id(node), 0.0))
            )
    value.backward()
    leaves = [n for n in order if not n.parents and not _is_constant(n)]
    if leaves:
        lines_out.append("after backward: " + ", ".join(_final_text(n, names, before, grads) for n in leaves))
    if not quiet:
        print("\n".join(lines_out), file=sys.stdout if file is None else file)
    return steps
