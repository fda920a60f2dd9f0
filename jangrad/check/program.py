"""A small graph written down as data, so that the same graph can be built twice: once with the learner's class,
once with jangrad's op table (the right numbers), and compared node by node.

A ``Program`` is a list of leaf values and a list of ``Step``s, each applying a form (``a * b``, ``a.tanh()``,
``2 - a``) to earlier nodes. Node ``i`` is leaf ``i`` for the first ``len(leaves)`` nodes, then the output of each
step in turn, so the node list is already in topological order and the last node is the output.

``reference`` computes every node's right data and grad from ``jangrad.ops.OPS`` (the forward rules, then the
local backward rules from the output back); ``central_difference`` estimates a node's grad numerically, which
is how the checker confirms that the op table's answer is the right one at that point. ``run_learner`` builds the
program with the learner's class, calls ``backward()`` on the output and reads back ``.data`` and ``.grad`` of every
node, turning whatever goes wrong into a one-line ``problem``; with ``rules=True`` it calls the learner's rules
itself instead, from the output back (``introspect.run_rules``), so that only the rules are judged, not the walk.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

from ..ops import FLOAT_MATH, OPS
from .forms import FORMS, Form, number_text
from .introspect import Graph, NotInspectable, RuleRaised, WalkProblem, collect, record_walk, run_rules, walk_problem

__all__ = [
    "Step",
    "Program",
    "Case",
    "reference",
    "table_forward",
    "table_backward",
    "central_difference",
    "build_learner",
    "run_learner",
    "run_with_graph",
    "node_names",
    "node_text",
    "describe_error",
]


@dataclass(frozen=True)
class Step:
    form: str
    operands: tuple[int, ...]
    constant: float | None = None


@dataclass(frozen=True)
class Program:
    leaves: tuple[float, ...]
    steps: tuple[Step, ...]

    @property
    def size(self) -> int:
        return len(self.leaves) + len(self.steps)

    def consumers(self, node: int) -> list[tuple[int, int]]:
        """(step index, operand position) for each use of ``node``; a node used twice by one step appears twice."""
        return [
            (j, position)
            for j, step in enumerate(self.steps)
            for position, operand in enumerate(step.operands)
            if operand == node
        ]

    def lines(self) -> list[str]:
        """The program as a learner would type it: ``a = Value(2)``, ``c = a * b``..."""
        names = node_names(self.size)
        text = [f"{names[i]} = Value({number_text(x)})" for i, x in enumerate(self.leaves)]
        for j in range(len(self.steps)):
            text.append(f"{names[len(self.leaves) + j]} = {self.expression(j)}")
        return text

    def expression(self, j: int) -> str:
        names = node_names(self.size)
        step = self.steps[j]
        return FORMS[step.form].text([names[i] for i in step.operands], step.constant)


def node_names(count: int) -> list[str]:
    """a, b, ..., z, then a1, b1, ...: short names a learner can find in the drawing."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [letters[i % 26] + (str(i // 26) if i >= 26 else "") for i in range(count)]


def node_text(program: Program, index: int | None, step: int | None) -> str:
    """A node as the learner reads it: ``c = a * b`` for a program node, ``a node inside c = a - b`` for one
    made inside a step (the ``-b`` of the lecture's ``a - b``)."""
    names = node_names(program.size)
    first = len(program.leaves)
    if index is not None:
        return names[index] if index < first else f"{names[index]} = {program.expression(index - first)}"
    if step is not None:
        return f"a node inside {names[first + step]} = {program.expression(step)}"
    return "a node"


@dataclass
class Case:
    """One graph built by the learner's engine, beside the right numbers. ``problem`` is a one-line description of
    what went wrong while building or differentiating it (None when it ran), ``yours_*`` hold None for a number
    that could not be read.

    ``by_rules`` says the grads come from the learner's rules called by the checker from the output back (else from
    the learner's ``backward()``); ``seed`` is the grad the output started with. ``walk`` says what was wrong with
    the order in which ``backward()`` called the rules, when the checker could watch it (``walk_watched``)."""

    program: Program
    right_data: list[float]
    right_grad: list[float]
    yours_data: list[float | None] = field(default_factory=list)
    yours_grad: list[float | None] = field(default_factory=list)
    problem: str | None = None
    by_rules: bool = False
    seed: float = 1.0
    walk: WalkProblem | None = None
    walk_watched: bool = False

    def wrong_data(self) -> list[int]:
        return [i for i in range(len(self.yours_data)) if not close(self.yours_data[i], self.right_data[i])]

    def wrong_grads(self) -> list[int]:
        return [i for i in range(len(self.yours_grad)) if not close(self.yours_grad[i], self.right_grad[i])]

    @property
    def failed(self) -> bool:
        return self.problem is not None or bool(self.wrong_data()) or bool(self.wrong_grads())


def close(yours: float | None, right: float, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    if yours is None:
        return False
    if math.isnan(right) or math.isnan(yours):
        return math.isnan(right) and math.isnan(yours)
    if math.isinf(right) or math.isinf(yours):
        return yours == right
    return abs(yours - right) <= atol + rtol * abs(right)


def table_forward(form: Form, arguments: list[float]) -> float:
    """The right output of ``form`` at ``arguments`` (its op's operands in order), by the op table's forward rule."""
    rule = OPS[form.op].forward
    if rule is None:  # every op of the table has both rules; a form names a table op
        raise ValueError(f"form {form.name!r}: op {form.op!r} of the op table has no forward rule")
    out: float = rule(FLOAT_MATH, *arguments)
    return out


def table_backward(form: Form, g: float, out: float, arguments: list[float]) -> tuple[float, ...]:
    """What ``form``'s op passes back to each of its operands (in op order) for an incoming grad ``g``, by the op
    table's backward rule."""
    rule = OPS[form.op].backward
    if rule is None:
        raise ValueError(f"form {form.name!r}: op {form.op!r} of the op table has no backward rule")
    return rule(FLOAT_MATH, g, out, *arguments)


def _forward(program: Program, override: dict[int, float] | None = None) -> list[float]:
    values = list(program.leaves)
    override = override or {}
    for i in override:
        if i < len(values):
            values[i] = override[i]
    for step in program.steps:
        form = FORMS[step.form]
        out = table_forward(form, form.arguments([values[i] for i in step.operands], step.constant))
        if len(values) in override:
            out = override[len(values)]
        values.append(out)
    return values


def reference(program: Program, seed: float = 1.0) -> tuple[list[float], list[float]]:
    """The right data and grad of every node, from jangrad's op table: forward rules, then backward from the
    output (grad ``seed``, 1 as backward() sets it) in reverse topological order, each node adding up the
    contribution of every use."""
    data = _forward(program)
    grads = [0.0] * len(data)
    grads[-1] = seed
    first = len(program.leaves)
    for j in reversed(range(len(program.steps))):
        grads_of_operands = local_derivatives(program, j, data, grads[first + j])
        for operand, contribution in zip(program.steps[j].operands, grads_of_operands, strict=True):
            grads[operand] += contribution
    return data, grads


def local_derivatives(program: Program, j: int, data: list[float], g: float = 1.0) -> list[float]:
    """What step ``j`` passes back to each of its node operands (in form order) for an incoming grad ``g``."""
    step = program.steps[j]
    form = FORMS[step.form]
    out = data[len(program.leaves) + j]
    arguments = form.arguments([data[i] for i in step.operands], step.constant)
    contributions = table_backward(form, g, out, arguments)
    return [c for slot, c in zip(form.layout, contributions, strict=True) if slot == "v"]


def central_difference(program: Program, node: int, h: float = 1e-6) -> float:
    """d output / d node, estimated as (f(x + h) - f(x - h)) / 2h with the nodes after ``node`` recomputed."""
    x = _forward(program)[node]
    step = h * max(1.0, abs(x))
    up = _forward(program, {node: x + step})[-1]
    down = _forward(program, {node: x - step})[-1]
    return (up - down) / (2.0 * step)


def describe_error(error: BaseException) -> str:
    text = " ".join(str(error).split())
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _read_number(obj: object, attribute: str, where: str) -> tuple[float | None, str | None]:
    try:
        value = getattr(obj, attribute)
    except Exception as error:
        return None, f"reading {where}.{attribute} raised {describe_error(error)}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        try:  # a NumPy scalar or a one-element array is a number too
            number = float(value)
        except Exception:
            shown = repr(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            return None, f"{where}.{attribute} is {shown} (a {type(value).__name__}), expected a number"
        return number, None
    return float(value), None


def build_learner(cls: type, program: Program) -> tuple[list, Case]:
    """Build ``program`` with the learner's class and read every node's data: (the learner's nodes, the case with
    ``yours_data`` filled in, or its ``problem`` set)."""
    right_data, right_grad = reference(program)
    case = Case(program, right_data, right_grad)
    names = node_names(program.size)
    nodes: list = []
    try:
        for x in program.leaves:
            nodes.append(cls(x))
        for step in program.steps:
            form = FORMS[step.form]
            operands = [nodes[i] for i in step.operands]
            nodes.append(form.call(*operands, step.constant) if "c" in form.layout else form.call(*operands))
    except Exception as error:
        built = len(nodes) - len(program.leaves)
        where = f"{names[len(nodes)]} = {program.expression(built)}" if built >= 0 else "Value(number)"
        case.problem = f"building {where} raised {describe_error(error)}"
        return nodes, case
    for i, node in enumerate(nodes):
        if not hasattr(node, "data"):
            text = repr(node)
            case.problem = (
                f"{names[i]} = {program.expression(i - len(program.leaves))} returned "
                f"{text if len(text) <= 40 else text[:37] + '...'} (a {type(node).__name__}), "
                f"expected an object with .data"
            )
            return nodes, case
    for i, node in enumerate(nodes):
        value, problem = _read_number(node, "data", names[i])
        if problem:
            case.problem = problem
            return nodes, case
        case.yours_data.append(value)
    return nodes, case


def _read_grads(case: Case, nodes: list) -> None:
    names = node_names(case.program.size)
    for i, node in enumerate(nodes):
        value, problem = _read_number(node, "grad", names[i])
        if problem:
            case.problem = problem
            return
        case.yours_grad.append(value)


def run_learner(cls: type, program: Program, rules: bool = False, seed: float = 1.0) -> Case:
    """Build ``program`` with the learner's class, call ``backward()`` on its output, read every node back.

    With ``rules=True`` the checker calls the learner's rules itself instead of ``backward()``: it sets the output's
    grad to ``seed`` and calls each node's ``_backward`` once, from the output back. Raises NotInspectable when the
    graph cannot be looked inside that way. Without it, the order in which ``backward()`` calls the rules is
    watched where it can be, and ``case.walk`` says what was wrong with it."""
    return run_with_graph(cls, program, rules, seed)[0]


def run_with_graph(cls: type, program: Program, rules: bool = False, seed: float = 1.0) -> tuple[Case, Graph | None]:
    """``run_learner``, also returning the learner's graph as ``introspect.collect`` saw it (None if it could not)."""
    nodes, case = build_learner(cls, program)
    case.by_rules, case.seed = rules, seed
    if rules:
        case.right_grad = reference(program, seed)[1]
    if case.problem:
        return case, None
    names = node_names(program.size)
    graph: Graph | None = None
    calls: list = []
    try:
        graph = collect(nodes, len(program.leaves))
        if not rules:
            calls = record_walk(graph)
    except NotInspectable:
        if rules:
            raise
        graph = None
    try:
        if rules:
            assert graph is not None  # collect raised NotInspectable otherwise
            run_rules(graph, seed)
        else:
            nodes[-1].backward()
    except RuleRaised as raised:
        node = node_text(program, *raised.where)
        case.problem = f"the rule of {node} (its _backward, called directly) raised {describe_error(raised.error)}"
        return case, graph
    except Exception as error:
        case.problem = f"{names[-1]}.backward() raised {describe_error(error)}"
        return case, graph
    _read_grads(case, nodes)
    if graph is not None and not rules:
        case.walk_watched = True
        case.walk = walk_problem(graph, calls)
    return case, graph
