"""What runs where the learner's code runs, against the learner's class: each probe builds graphs with it and
returns plain data (``Case``s, strings, numbers) that the checker compares and words. A probe is one unit of work
with one time limit: whatever runs it (a worker process here; a Web Worker in a browser) sends its name and
arguments and gets back an ``Outcome``.

Probes: ``discover`` (is a form supported at all?), ``op_rules`` (one form alone, its rules called by the checker
from the output back, and which rules its graph holds), ``op_points`` (one form alone, through the learner's
``backward()``), ``run_program`` and ``run_rules`` (a graph written as data, through ``backward()`` or through the
rules alone), ``random_graphs`` (hypothesis generates graphs from the supported forms and shrinks a failing one to
the smallest; ``random_rule_graphs`` the same through the rules alone), and the limits: ``depth`` (a chain of n
nodes), ``backward_twice`` and ``exp_overflow``. The graphs the checker uses by name are made here too: a leaf used
twice, a chain, nodes used at different depths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .forms import FORMS, LEAF_VALUES
from .introspect import NotInspectable, rule_id
from .program import (
    Case,
    Program,
    Step,
    central_difference,
    describe_error,
    reference,
    run_learner,
    run_with_graph,
    table_forward,
)

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "Outcome",
    "RuleCheck",
    "discover",
    "op_rules",
    "op_points",
    "accumulation_program",
    "chain_program",
    "order_program",
    "graph_programs",
    "random_graphs",
    "random_rule_graphs",
    "run_rules",
    "depth",
    "backward_twice",
    "exp_overflow",
    "PROBES",
    "CALLS_BACKWARD",
    "OTHER_SEED",
]

OTHER_SEED = -2.0
"""The output's grad for a second call of a rule that was right with 1: a rule must scale by ``out.grad``."""


@dataclass
class Outcome:
    """A probe's fate: ``status`` is "ok" (``value`` holds its result), "raised", "timed out" or "crashed"
    (``value`` holds one line saying what happened)."""

    status: str
    value: Any


@dataclass(frozen=True)
class RuleCheck:
    """One form alone, its rules called by the checker: the points checked, the failing cases, how many nodes with
    a rule its graph has (1: the form is one rule of its own; more: it is built on other ops) and which rules
    they are (``introspect.rule_id``), in the order they run from the output back."""

    checked: int
    failing: list[Case]
    rule_nodes: int
    rules: tuple[str, ...]


def discover(cls: type, form_name: str) -> str | None:
    """None when the class supports the form; otherwise why not, in one line."""
    form = FORMS[form_name]
    point = form.points[0]
    try:
        nodes = [cls(x) for x in point[: form.arity]]
        out = form.call(*nodes, point[-1]) if "c" in form.layout else form.call(*nodes)
    except Exception as error:
        return describe_error(error)
    if not hasattr(out, "data"):
        return f"it returned {type(out).__name__}, not an object with .data"
    return None


def _single(form_name: str, point: tuple[float, ...]) -> Program:
    form = FORMS[form_name]
    constant = point[-1] if "c" in form.layout else None
    leaves = point[: form.arity]
    return Program(tuple(leaves), (Step(form_name, tuple(range(len(leaves))), constant),))


def _smooth_at(program: Program) -> bool:
    """Whether the op table's derivative matches a central difference at every input (not at a kink)."""
    _, grads = reference(program)
    for i in range(len(program.leaves)):
        numeric = central_difference(program, i)
        if not math.isfinite(numeric) or abs(numeric - grads[i]) > 1e-4 * max(1.0, abs(grads[i])):
            return False
    return True


def op_rules(cls: type, form_name: str) -> RuleCheck | None:
    """Check one form's rules alone at each of its points, called by the checker from the output back with the
    output's grad 1 and, where that is right, again with ``OTHER_SEED``. None when the learner's graph cannot be
    looked inside (then only ``op_points`` can check the form)."""
    checked, failing = 0, []
    rule_nodes = 0
    rules: tuple[str, ...] = ()
    for point in FORMS[form_name].points:
        program = _single(form_name, point)
        if not _smooth_at(program):
            continue
        checked += 1
        try:
            case, graph = run_with_graph(cls, program, rules=True)
            if not case.failed:
                case = run_learner(cls, program, rules=True, seed=OTHER_SEED)
        except NotInspectable:
            return None
        if graph is not None and not rules:
            found = [rule_id(graph.rules[i]) for i in reversed(range(len(graph.nodes))) if graph.is_rule_node(i)]
            rule_nodes, rules = len(found), tuple(dict.fromkeys(found))
        if case.failed:
            failing.append(case)
    return RuleCheck(checked, failing, rule_nodes, rules)


def op_points(cls: type, form_name: str) -> tuple[int, list[Case]]:
    """Check one form alone at each of its points, through the learner's ``backward()``: (points checked, the
    failing cases)."""
    checked, failing = 0, []
    for point in FORMS[form_name].points:
        program = _single(form_name, point)
        if not _smooth_at(program):
            continue
        checked += 1
        case = run_learner(cls, program)
        if case.failed:
            failing.append(case)
    return checked, failing


def _pick(supported: list[str], preferences: tuple[str, ...]) -> str | None:
    return next((name for name in preferences if name in supported), None)


def accumulation_program(supported: list[str]) -> Program | None:
    """``c = a * a; d = b + b; e = c * d``: each leaf used twice by one op, so its grad is a sum of two parts."""
    times = _pick(supported, ("mul", "add", "sub"))
    plus = _pick(supported, ("add", "mul", "sub")) or times
    if times is None or plus is None:
        return None
    return Program((2.0, -3.0), (Step(times, (0, 0)), Step(plus, (1, 1)), Step(times, (2, 3))))


def chain_program(supported: list[str]) -> Program | None:
    """``c = a * b; d = c + a``: the smallest graph where the order of the rules matters, since c's rule must run
    after d's has given c its grad."""
    times = _pick(supported, ("mul", "add", "sub"))
    plus = _pick(supported, ("add", "sub", "mul")) or times
    if times is None or plus is None:
        return None
    return Program((2.0, -3.0), (Step(times, (0, 1)), Step(plus, (2, 0))))


def order_program(supported: list[str]) -> Program | None:
    """Two inner nodes d and e, each used once near the output and once at the bottom of a two-step chain of
    the other. Whichever way a walk from the output goes first, it reaches d or e before one of its consumers has
    passed back its share: only a reverse topological order gets every gradient right."""
    times = _pick(supported, ("mul", "add", "sub"))
    plus = _pick(supported, ("add", "sub", "mul")) or times
    if times is None or plus is None:
        return None
    steps = (
        Step(times, (0, 1)),  # d = a * b
        Step(plus, (1, 2)),  # e = b + c
        Step(times, (3, 2)),  # f = d * c
        Step(plus, (5, 0)),  # g = f + a
        Step(times, (4, 0)),  # h = e * a
        Step(plus, (7, 1)),  # i = h + b
        Step(times, (6, 4)),  # j = g * e
        Step(times, (8, 3)),  # k = i * d
        Step(plus, (9, 10)),
    )  # l = j + k
    return Program((1.5, -2.0, 0.5), steps)


def graph_programs(forms: list[str]) -> SearchStrategy[Program]:
    """A hypothesis strategy for graphs of 1-3 leaves and 1-8 steps over ``forms``, kept where every op is
    smooth and finite. Operands are drawn counting back from the newest node, so shrinking makes chains."""
    from hypothesis import strategies as st

    @st.composite
    def programs(draw: st.DrawFn) -> Program:
        leaves = [draw(st.sampled_from(LEAF_VALUES)) for _ in range(draw(st.integers(1, 3)))]
        values = list(leaves)
        steps: list[Step] = []
        for _ in range(draw(st.integers(1, 8))):
            form = FORMS[draw(st.sampled_from(forms))]
            operands = tuple(len(values) - 1 - draw(st.integers(0, len(values) - 1)) for _ in range(form.arity))
            constant = draw(st.sampled_from(form.constants)) if form.constants else None
            arguments = form.arguments([values[i] for i in operands], constant)
            if not form.safe(tuple(arguments)):
                continue
            out = table_forward(form, arguments)
            if not math.isfinite(out) or abs(out) > 1e4:
                continue
            steps.append(Step(form.name, operands, constant))
            values.append(out)
        if not steps:
            steps.append(
                Step(
                    forms[0],
                    (0,) * FORMS[forms[0]].arity,
                    FORMS[forms[0]].constants[0] if FORMS[forms[0]].constants else None,
                )
            )
        if "add" in forms:  # every step's node feeds the output, so that every rule's gradient is checked
            used = {i for step in steps for i in step.operands}
            first = len(leaves)
            for i in range(first, first + len(steps) - 1):
                if i not in used:
                    steps.append(Step("add", (first + len(steps) - 1, i)))
        return Program(tuple(leaves), tuple(steps))

    return programs()


def random_graphs(cls: type, forms: list[str], examples: int, rules: bool = False) -> tuple[int, Case | None]:
    """Run up to ``examples`` generated graphs through the learner's ``backward()`` (with ``rules=True``: through
    the learner's rules alone, called by the checker from the output back); on a failure, hypothesis shrinks it to
    the smallest failing graph. Returns (graphs tried, the smallest failing case or None)."""
    from hypothesis import HealthCheck, find, settings
    from hypothesis.errors import NoSuchExample

    tried = 0

    def fails(program: Program) -> bool:
        nonlocal tried
        tried += 1
        try:
            valid = all(math.isfinite(x) for x in reference(program)[1])
        except (OverflowError, ValueError, ZeroDivisionError):
            valid = False
        return valid and run_learner(cls, program, rules).failed

    options = settings(
        max_examples=examples, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
    )
    try:
        smallest = find(graph_programs(forms), fails, settings=options)
    except NoSuchExample:
        return tried, None
    return tried, run_learner(cls, smallest, rules)


def random_rule_graphs(cls: type, forms: list[str], examples: int) -> tuple[int, Case | None] | None:
    """``random_graphs`` through the learner's rules alone, for when ``backward()`` is known to be wrong: do the
    rules work together? None when the graphs cannot be looked inside."""
    try:
        return random_graphs(cls, forms, examples, rules=True)
    except NotInspectable:
        return None


def depth(cls: type, form_name: str, n: int) -> str | None:
    """Build a chain of ``n`` steps, ``x = x + c`` (or the form given), and call backward(): None when it runs
    (and, for +, the leaves' grads come out as 1 and n), else what went wrong."""
    form = FORMS[form_name]
    try:
        start, step = cls(0.5), cls(0.001)
        x = start
        for _ in range(n):
            x = form.call(x, step)
        x.backward()
        grads = float(start.grad), float(step.grad)
    except Exception as error:  # RecursionError, mostly
        return describe_error(error)
    if form_name == "add" and not math.isclose(grads[0], 1.0):
        return f"wrong gradients: the chain's start gets {grads[0]:.6g}, not 1"
    if form_name == "add" and not math.isclose(grads[1], n, rel_tol=1e-9):
        return f"wrong gradients: the leaf added {n} times gets {grads[1]:.6g}, not {n}"
    return None


def backward_twice(cls: type, form_name: str) -> tuple[list[float], list[float]] | str:
    """Leaf grads after one backward() and after a second one on the same graph (``c = a * b; d = c * a``, with
    the form given for *)."""
    form = FORMS[form_name]
    try:
        a, b = cls(1.5), cls(-2.0)
        d = form.call(form.call(a, b), a)
        d.backward()
        first = [float(a.grad), float(b.grad)]
        d.backward()
        second = [float(a.grad), float(b.grad)]
    except Exception as error:
        return describe_error(error)
    return first, second


def exp_overflow(cls: type) -> str:
    """What ``Value(1000).exp()`` does: its data, or the exception it raises."""
    try:
        out = cls(1000.0).exp()
        return f"gives {float(out.data):g}"
    except Exception as error:
        return f"raises {describe_error(error)}"


def run_rules(cls: type, program: Program) -> Case | None:
    """``program`` with the learner's rules called by the checker from the output back (None: it cannot)."""
    try:
        return run_learner(cls, program, rules=True)
    except NotInspectable:
        return None


PROBES: dict[str, Callable[..., Any]] = {
    "discover": discover,
    "op_rules": op_rules,
    "op_points": op_points,
    "run_program": run_learner,
    "run_rules": run_rules,
    "random_graphs": random_graphs,
    "random_rule_graphs": random_rule_graphs,
    "depth": depth,
    "backward_twice": backward_twice,
    "exp_overflow": exp_overflow,
}
"""The probes a worker will run, by name: the checker sends (name, arguments) and gets the result back."""

CALLS_BACKWARD = frozenset({"op_points", "run_program", "random_graphs", "depth", "backward_twice"})
"""The probes that call the learner's ``backward()``: when it never returns, these would hang the same way."""
