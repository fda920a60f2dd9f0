"""A narrated backward pass: ``jangrad.explain(value)`` tells each step of ``value.backward()`` in the engine's order.

For every node, from the output back to the leaves, it says which op made the node, the op's local derivative,
the gradient arriving at the node and what is added to each operand's gradient, for example
``a.grad += b.data * e.grad = 3.0 * 1.0 = 3.0``. When a node feeds several others, it says why the engine reaches
it only after all of them: its gradient is the sum of their contributions, complete only then. The order is
``engine.topological_order`` reversed, and the numbers come from each node's rule (``sidepass.py``): the narration
is the engine's own arithmetic, spelt out. Every node is named as in every other view (``names.py``): a learner's
unlabelled ``Value(2.0)`` is a variable (``v1``), and only the numbers jangrad wrapped (the ``2`` in ``a + 2``)
are constants.

Looking changes nothing: explain never runs ``backward()`` and writes no ``.grad``. Before ``value.backward()`` it
tells the pass that call would make and the gradients it would leave; after it, the pass that made the gradients
the Values hold, and those gradients. Leaves keep what earlier passes left (the engine adds to it, as PyTorch
does), so when a leaf holds a gradient from before the pass, the narration says so and its totals include it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..engine import Value, topological_order
from ..ops import FLOAT_MATH, OPS
from .names import NodeNames, is_constant, number_text, term_of
from .sidepass import SidePass, backward_rule_of, rule_of, side_pass

__all__ = ["explain", "Explanation", "Step", "Contribution", "LOCAL_DERIVATIVES"]

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


class Explanation(list[Step]):
    """What ``explain`` returns: its ``Step``s, output first (a list: index it, loop over it), the narration as
    ``.text``, each variable leaf's gradient after the pass as ``.gradients`` (by name), and ``.ran``: whether
    ``backward()`` had already run, so that those are the gradients the Values hold.

    Its repr is one line, so that a notebook shows the narration once (printed) and not the steps again."""

    def __init__(self, steps: list[Step], text: str, output_name: str, gradients: dict[str, float], ran: bool):
        super().__init__(steps)
        self.text = text
        self.output_name = output_name
        self.gradients = gradients
        self.ran = ran

    def __repr__(self) -> str:
        return f"<explain: {len(self)} steps of backward from {self.output_name}; .text holds the narration>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class _Told:
    """How explain writes a node: its shared name; the same name as a term of a formula (``term``), parenthesised
    when it is not one token, since a label may be an expression (the lecture's ``x1*w1 + x2*w2``, whose gradient
    is ``(x1*w1 + x2*w2).grad``, not ``x1*w1 + x2*w2.grad``); and its value in a formula (``a.data``, or a constant
    itself)."""

    def __init__(self, names: NodeNames) -> None:
        self.names = names

    def name(self, node: Value) -> str:
        return self.names[node]

    def term(self, node: Value) -> str:
        return term_of(self.names[node])

    def data(self, node: Value) -> str:
        return self.term(node) if is_constant(node) else f"{self.term(node)}.data"


def _formula(node: Value, told: _Told) -> str:
    op = rule_of(node)
    operands = [told.term(p) for p in node.parents]
    if node.op in _INFIX:
        expression = f"{operands[0]} {op.symbol} {operands[1]}"
    elif node.op == "neg":
        expression = f"-{operands[0]}"
    else:
        expression = f"{op.symbol}({', '.join(operands)})"
    return f"{told.name(node)} = {expression}"


def _local_text(node: Value, j: int, told: _Told) -> str:
    # An op built by hand (``Value(t, (x,), 'tanh')`` with its own ``_backward``) may share a table op's name but
    # not its rule: it gets no formula, only its numbers.
    templates = LOCAL_DERIVATIVES.get(node.op) if node._rule is OPS.get(node.op) else None
    if templates is None or j >= len(templates):
        return f"d{told.term(node)}/d{told.term(node.parents[j])}"
    fill = {"out": told.data(node), "x": told.data(node.parents[0])}
    if len(node.parents) > 1:
        fill["y"] = told.data(node.parents[1])
    return templates[j].format(**fill)


def _contribution_line(parent: str, local: str, local_value: float, out: str, g: float, amount: float) -> str:
    if local == "1":
        return f"{parent}.grad += {out}.grad = {number_text(amount)}"
    if local == "-1":
        return f"{parent}.grad += -{out}.grad = {number_text(amount)}"
    return (
        f"{parent}.grad += {local} * {out}.grad = {number_text(local_value)} * {number_text(g)} = {number_text(amount)}"
    )


def _times(count: int) -> str:
    return "twice" if count == 2 else f"{count} times"


def _shared_note(term: str, received: list[tuple[str, float]], leaf: bool, before: float = 0.0) -> str:
    consumers = ", ".join(who for who, _ in received)
    total = before + sum(amount for _, amount in received)
    parts = " + ".join(number_text(amount) for _, amount in received)
    if before:
        parts = f"{number_text(before)} (held before) + {parts}"
    why = (
        "so the shares add up"
        if leaf
        else "so the shares add up, and the engine visits it only after all of them (reversed topological order "
        "puts every consumer first), so that its gradient is complete before it is passed on"
    )
    return (
        f"{term} is used {_times(len(received))} (by {consumers}), {why}: {term}.grad = {parts} = {number_text(total)}"
    )


def _opening(root_name: str, data: float, passed: SidePass, told: _Told) -> list[str]:
    root = term_of(root_name)
    lines = [f"backward from {root_name} = {number_text(data)}: {root}.grad = 1.0 (d{root}/d{root} = 1)"]
    if passed.ran:
        lines.append(
            f"{root}.backward() has run: these are its steps, and the gradients at the end are the ones "
            f"your Values hold"
        )
    else:
        lines.append(
            f"worked out on the side, as {root}.backward() would run it: no .grad is changed until you call it"
        )
    leaves = [n for n in passed.order if passed.is_variable_leaf(n) and n is not passed.root and passed.before(n)]
    if leaves:
        held = ", ".join(f"{told.term(n)}.grad = {number_text(passed.before(n))}" for n in leaves)
        lines.append(
            f"leaves keep what earlier backward() calls left, and each pass adds to it: {held} before this pass "
            f"(call {root}.zero_grad() before backward() to start from 0)"
        )
    return lines


def _closing(root_name: str, passed: SidePass, told: _Told) -> str:
    parts = []
    for leaf in passed.order:
        if not passed.is_variable_leaf(leaf) or leaf is passed.root:
            continue
        text = f"{told.term(leaf)}.grad = {number_text(passed.after(leaf))}"
        if passed.before(leaf):
            gained = passed.grads.get(id(leaf), 0.0)
            text += f" ({number_text(passed.before(leaf))} held before + {number_text(gained)} from this pass)"
        parts.append(text)
    root = term_of(root_name)
    where = "the gradients your Values hold" if passed.ran else "worked out on the side; your Values are unchanged"
    return f"after {root}.backward() ({where}): {', '.join(parts)}" if parts else ""


def explain(value: Value, file: TextIO | None = None, quiet: bool = False) -> Explanation:
    """Narrate ``value.backward()`` step by step without running it; return the steps (output first).

    Lines go to ``file`` (default stdout) unless ``quiet``. No ``.data`` or ``.grad`` changes. Before
    ``value.backward()`` the narration is of the pass that call would make, ending with the gradients it would
    leave; after it, of the pass that made the gradients the Values hold. A leaf that held a gradient before the
    pass (``backward()`` adds to it) is named with what it held, and its totals include it.

    >>> from jangrad import Value
    >>> a = Value(2.0, label="a"); b = Value(3.0, label="b")
    >>> e = a * b; e.label = "e"
    >>> steps = explain(e, quiet=True)
    >>> steps[0].lines[1]
    '  a.grad += b.data * e.grad = 3.0 * 1.0 = 3.0'
    >>> a.grad  # explain only looks
    0.0
    """
    if not isinstance(value, Value):
        raise TypeError(f"explain expects a Value, got {value!r} of type {type(value).__name__}")
    order = topological_order(value)
    told = _Told(NodeNames(value, order))
    passed = side_pass(value, order)
    root_name = told.name(value)
    lines_out = _opening(root_name, value.data, passed, told)
    running: dict[int, float] = {id(value): 1.0}
    received: dict[int, list[tuple[str, float]]] = {id(value): []}
    steps: list[Step] = []
    for node in reversed(order):  # the engine's order: every consumer before the nodes it uses
        if not node.parents:
            continue
        g = running[id(node)]
        step = Step(node, told.name(node), node.op, _formula(node, told), g)
        if len(received[id(node)]) > 1:
            step.note = _shared_note(told.term(node), received[id(node)], leaf=False)
        operands = [p.data for p in node.parents]
        rule = rule_of(node)
        local = backward_rule_of(node)(FLOAT_MATH, 1.0, node.data, *operands)
        amounts = passed.amounts[id(node)]
        step.lines.append(f"{step.formula}  ({step.op}; {told.term(node)}.grad = {number_text(g)})")
        if step.note:
            step.lines.insert(0, "  note: " + step.note)
        for j, parent in enumerate(node.parents):
            running[id(parent)] = running.get(id(parent), 0.0) + amounts[j]
            received.setdefault(id(parent), []).append((step.name, amounts[j]))
            if is_constant(parent) or (j == 1 and rule.constant_operand):
                continue  # a constant has no gradient worth telling
            text = _local_text(node, j, told)
            line = _contribution_line(told.term(parent), text, local[j], told.term(node), g, amounts[j])
            before = passed.before(parent) if passed.is_variable_leaf(parent) else 0.0
            total = before + running[id(parent)]
            step.contributions.append(
                Contribution(parent, told.name(parent), text, local[j], g, amounts[j], line, total)
            )
            step.lines.append("  " + line)
        steps.append(step)
        lines_out.extend(step.lines)
    for node in order:
        if node.parents or not passed.is_variable_leaf(node) or node is value:
            continue
        uses = received.get(id(node), [])
        if len(uses) > 1:
            note = _shared_note(told.term(node), uses, leaf=True, before=passed.before(node))
            lines_out.append("note: " + note)
    closing = _closing(root_name, passed, told)
    if closing:
        lines_out.append(closing)
    text = "\n".join(lines_out)
    if not quiet:
        print(text, file=sys.stdout if file is None else file)
    gradients = {told.name(n): passed.after(n) for n in order if passed.is_variable_leaf(n) and n is not value}
    return Explanation(steps, text, root_name, gradients, passed.ran)
