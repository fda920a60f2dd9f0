"""Hypothesis strategies for the engine tests: operands for every op in ``ops.OPS``, and random expression DAGs.

Everything here is derived from the op table, so a new op is drawn (and therefore tested) without editing this
file. An op this file has no domain for is sampled on ``DEFAULT_DOMAIN``; if that is wrong for it (a log-like op
that wants positive inputs) the property tests fail and say so, which is the cue to add its domain here.

A DAG is drawn as a ``Program``: a list of steps, each an op name and its operands, where an operand refers to an
earlier node (an input or a step) or is a plain constant. ``Program.run`` replays it with any ``apply`` function,
so the same program is built in jangrad and in PyTorch. Every program reuses an intermediate node, which is the
case a pre-order traversal gets wrong.

Also here: ``SETTINGS``, the one hypothesis configuration the engine suite uses (fast on a shared 2-core box and
deterministic, so CI never flakes on a newly found example).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, assume, settings
from hypothesis import strategies as st

from jangrad.ops import OPS, Op

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no slow "explain" phase
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)

KINK_DISTANCE = 1e-3
"""How far drawn operands stay from a kink (|x| at 0), so central differences see one smooth piece."""


@dataclass(frozen=True)
class Interval:
    """Where one operand is drawn from.

    ``required`` means the op is undefined (nan) outside, so a DAG must squash a node into the interval before
    feeding it in; otherwise the interval is only a sensible sampling range. ``kinks`` are points where the op is
    not differentiable; ``integer`` draws whole numbers (an exponent for a negative base).
    """

    lo: float
    hi: float
    required: bool = False
    kinks: tuple[float, ...] = ()
    integer: bool = False

    def strategy(self) -> st.SearchStrategy[float]:
        if self.integer:
            return st.integers(int(self.lo), int(self.hi)).map(float)
        floats = st.floats(self.lo, self.hi, allow_nan=False, allow_infinity=False)
        if self.kinks:
            return floats.filter(lambda x: all(abs(x - k) > KINK_DISTANCE for k in self.kinks))
        return floats


WIDE = Interval(-10.0, 10.0)
DEFAULT_DOMAIN = Interval(-3.0, 3.0)
POSITIVE = Interval(0.1, 5.0, required=True)
AROUND_ZERO = Interval(-5.0, 5.0, kinks=(0.0,))

# Each op: a list of cases, one Interval per operand (the constant operand included). A case is drawn at random;
# a DAG uses the first case, so the first must be one a squashed node can satisfy.
DOMAINS: dict[str, list[tuple[Interval, ...]]] = {
    "add": [(WIDE, WIDE)],
    "sub": [(WIDE, WIDE)],
    "mul": [(WIDE, WIDE)],
    "div": [(WIDE, Interval(0.2, 10.0, required=True)), (WIDE, Interval(-10.0, -0.2))],
    "pow": [(POSITIVE, Interval(-3.0, 3.0))],
    # A real exponent needs a positive base; an integer exponent is defined for every nonzero base.
    "powc": [(POSITIVE, Interval(-3.0, 3.0)), (Interval(-4.0, -0.2), Interval(-3.0, 4.0, integer=True))],
    "neg": [(WIDE,)],
    "abs": [(AROUND_ZERO,)],
    "exp": [(Interval(-10.0, 10.0),)],
    "log": [(Interval(0.01, 100.0, required=True),)],
    "sqrt": [(Interval(0.01, 100.0, required=True),)],
    "tanh": [(Interval(-5.0, 5.0),)],
    "sigmoid": [(Interval(-10.0, 10.0),)],
    "relu": [(AROUND_ZERO,)],
    "leaky_relu": [(AROUND_ZERO, Interval(0.0, 1.0))],
    "erf": [(Interval(-4.0, 4.0),)],
    "gelu": [(Interval(-6.0, 6.0),)],
}


def op_names() -> list[str]:
    """Every op in the table, sorted so that test ids are stable."""
    return sorted(OPS)


def domain_cases(name: str) -> list[tuple[Interval, ...]]:
    """The operand domains of op ``name``; ``DEFAULT_DOMAIN`` for every operand of an op this file does not know."""
    return DOMAINS.get(name, [(DEFAULT_DOMAIN,) * OPS[name].arity])


def variable_count(op: Op) -> int:
    """How many leading operands are variables (the rest is a constant parameter with no gradient)."""
    return 1 if op.constant_operand else op.arity


def operands(name: str) -> st.SearchStrategy[tuple[float, ...]]:
    """Operands for one call of op ``name``, inside its domain and away from its kinks."""
    cases = [st.tuples(*[interval.strategy() for interval in case]) for case in domain_cases(name)]
    return st.one_of(cases)


# ---- random expression DAGs -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """An operand that is an earlier node: inputs are nodes 0..n_inputs-1, then one node per step."""

    index: int


@dataclass(frozen=True)
class Step:
    op: str
    operands: tuple[Ref | float, ...]


@dataclass(frozen=True, repr=False)
class Program:
    """A straight-line program over ``len(inputs)`` inputs; its value is the last step's node."""

    inputs: tuple[float, ...]
    steps: tuple[Step, ...] = field(default_factory=tuple)

    def run(self, leaves: Sequence, apply: Callable) -> list:
        """Build every node from ``leaves`` with ``apply(op_name, *operands)``; return all nodes, output last."""
        nodes = list(leaves)
        for step in self.steps:
            args = [nodes[x.index] if isinstance(x, Ref) else x for x in step.operands]
            nodes.append(apply(step.op, *args))
        return nodes

    def kink_distances(self, nodes: Sequence[float]) -> list[float]:
        """Distance of each kink-sensitive operand from its kink, given the float value of every node."""
        distances = []
        for step in self.steps:
            for x, interval in zip(step.operands, domain_cases(step.op)[0], strict=True):
                value = nodes[x.index] if isinstance(x, Ref) else x
                distances.extend(abs(value - k) for k in interval.kinks)
        return distances

    def __repr__(self) -> str:  # hypothesis prints a failing example with this: make it read like code
        lines = [f"n{i} = {v!r}" for i, v in enumerate(self.inputs)]
        for j, step in enumerate(self.steps):
            args = ", ".join(f"n{x.index}" if isinstance(x, Ref) else repr(x) for x in step.operands)
            lines.append(f"n{len(self.inputs) + j} = {step.op}({args})")
        return "; ".join(lines)


class _Builder:
    """Accumulates steps while a DAG is drawn; squashes nodes into the operand domains that require it."""

    def __init__(self, n_inputs: int) -> None:
        self.n_nodes = n_inputs
        self.steps: list[Step] = []

    def add(self, op: str, *operands: Ref | float) -> Ref:
        self.steps.append(Step(op, operands))
        self.n_nodes += 1
        return Ref(self.n_nodes - 1)

    def into(self, node: Ref, interval: Interval) -> Ref:
        """``lo + (hi - lo) * sigmoid(node)``: any real mapped strictly inside the interval, built from table ops."""
        squashed = self.add("sigmoid", node)
        scaled = self.add("mul", squashed, interval.hi - interval.lo)
        return self.add("add", scaled, interval.lo)


@st.composite
def expression_dags(
    draw: st.DrawFn, ops: Sequence[str] | None = None, max_inputs: int = 3, max_steps: int = 6
) -> Program:
    """A random program over 1..max_inputs inputs whose first intermediate node feeds at least two consumers.

    Operands prefer recent nodes (so graphs get deep, not just wide) but may reach back to any node, which makes
    further reuse common. Where an op requires a domain (log, sqrt, a pow base, a divisor) its operand is
    squashed into it with sigmoid; constant operands (an exponent, a slope) are drawn from their interval.
    """
    names = list(ops) if ops is not None else op_names()
    n_inputs = draw(st.integers(1, max_inputs))
    inputs = tuple(draw(st.floats(-2.0, 2.0, allow_nan=False)) for _ in range(n_inputs))
    builder = _Builder(n_inputs)

    def pick_node() -> Ref:
        if draw(st.booleans()):  # one of the two newest nodes: makes graphs deep
            return Ref(builder.n_nodes - 1 - draw(st.integers(0, min(1, builder.n_nodes - 1))))
        return Ref(draw(st.integers(0, builder.n_nodes - 1)))

    def add_random_step(first: Ref | None = None) -> Ref:
        name = draw(st.sampled_from(names))
        op = OPS[name]
        case = domain_cases(name)[0]
        args: list[Ref | float] = []
        for position, interval in enumerate(case):
            if position >= variable_count(op):
                args.append(draw(interval.strategy()))
                continue
            node = first if (first is not None and position == 0) else pick_node()
            args.append(builder.into(node, interval) if interval.required else node)
        return builder.add(name, *args)

    reused = add_random_step()
    add_random_step(first=reused)  # the first consumer of the reused node ...
    for _ in range(draw(st.integers(0, max_steps - 2))):
        add_random_step()
    # ... and the output is a second one, so the reused node always has two consumers.
    last = Ref(builder.n_nodes - 1)
    builder.add(draw(st.sampled_from(["add", "mul", "sub"])), last, reused)
    return Program(inputs, tuple(builder.steps))


def assume_well_behaved(program: Program, values: Sequence[float], bound: float = 1e4) -> None:
    """Reject a drawn program whose nodes leave a sane range or sit on a kink: finite differences cannot judge it."""
    assume(all(math.isfinite(v) and abs(v) <= bound for v in values))
    assume(all(d > KINK_DISTANCE for d in program.kink_distances(values)))
