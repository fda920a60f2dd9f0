"""A campaign of random expression graphs: jangrad against PyTorch (float64), at first and second order, and the
compiled tape against jangrad's own eager engine. It prints how many graphs disagree, by class.

    python scripts/campaign.py --graphs 100000            # 10 to 20 minutes on one core
    python scripts/campaign.py --graphs 2000 --examples 3  # a quick look, with three examples of each class

Graph ``i`` of seed ``s`` is drawn from ``random.Random(f"{s}:{i}")``: the same command gives the same graphs and
figures on every machine, and ``--show I`` prints graph I with both sides' numbers.

What is drawn. A graph has 1 to 3 inputs and 1 to 8 op nodes, the ops taken uniformly from jangrad's op table
(``jangrad.ops.OPS``, so a new op is drawn without editing this file); each operand is an earlier node (a recent
one more often, so graphs get deep, and any node may be reused). Nothing keeps an op inside its domain: inputs mix
ordinary numbers with 0, -0, +-1, 1e-310 (subnormal), 1e-8 and +-1e300, so poles, nan, infinities and kinks come
up on purpose. A constant operand (powc's exponent, leaky_relu's slope) is drawn from a short list.

What is compared, for every graph: the value and the gradient of the output with respect to each input
(``backward()`` against ``torch.autograd.grad``). For a share of the graphs (``--second-order``, 0.3 by default)
every second derivative too (jangrad's ``create_graph`` gradients differentiated again, against PyTorch's
``create_graph=True``). For another share (``--compiled``, 0.03) the graph is compiled with ``jangrad.compile``,
replayed at the inputs moved by a few percent, and its value and gradients compared with the eager engine's at
those inputs.

Two numbers agree when both are nan, both are the same infinity, or they are within rtol 1e-9 and atol 1e-12 (1e-7
and 1e-10 at second order, where PyTorch's formulas are arranged differently). A graph that disagrees is counted
once, in the class of the first thing that differs: value, then gradient, then second order, then compiled; the
class says how (nan where PyTorch is finite, a finite number where PyTorch says nan, an infinity that differs, two
different finite numbers, or an exception), and whether every node of the graph was a finite number in jangrad:
a class ending in "(a node is nan or infinite)" is about how nan and infinity propagate, where the maths itself
is undefined; the others are where every number is defined, the ones to look at first.

Documented conventions are counted apart: a disagreement in a graph whose nodes reach a point where jangrad's op
table says it departs from PyTorch on purpose (``CONVENTIONS`` below) is listed under that convention, not as a
bug. Everything else is a finding.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's jangrad, not an installed one

from jangrad import Value  # noqa: E402
from jangrad import compile as compile_tape  # noqa: E402
from jangrad.engine import apply_op  # noqa: E402
from jangrad.ops import OPS  # noqa: E402

SPECIAL_INPUTS = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-310, 1e-8, 1e300, -1e300)
EXPONENTS = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
SLOPES = (0.01, 0.1, 0.2)
FIRST = (1e-9, 1e-12)  # rtol, atol for values and gradients
SECOND = (1e-7, 1e-10)  # at second order


# ---- graphs ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Graph:
    """``inputs``, then ``steps``: each an op name and its operands (an int is an earlier node, a float a constant)."""

    inputs: tuple[float, ...]
    steps: tuple[tuple[str, tuple[int | float, ...]], ...]

    def run(self, leaves: Sequence, apply: Callable) -> list:
        nodes = list(leaves)
        for name, operands in self.steps:
            nodes.append(apply(name, *[nodes[x] if isinstance(x, int) else x for x in operands]))
        return nodes

    def __str__(self) -> str:
        lines = [f"n{i} = {v!r}" for i, v in enumerate(self.inputs)]
        for j, (name, operands) in enumerate(self.steps):
            args = ", ".join(f"n{x}" if isinstance(x, int) else repr(x) for x in operands)
            lines.append(f"n{len(self.inputs) + j} = {name}({args})")
        return "; ".join(lines)


def draw_graph(seed: int, index: int) -> Graph:
    rng = random.Random(f"{seed}:{index}")
    inputs = tuple(
        rng.choice(SPECIAL_INPUTS) if rng.random() < 0.25 else round(rng.gauss(0.0, 2.0), 3)
        for _ in range(rng.randint(1, 3))
    )
    names = sorted(OPS)
    steps = []
    count = len(inputs)
    for _ in range(rng.randint(1, 8)):
        name = rng.choice(names)
        op = OPS[name]
        operands: list[int | float] = []
        for position in range(op.arity):
            if op.constant_operand and position == op.arity - 1:
                operands.append(rng.choice(EXPONENTS if name == "powc" else SLOPES))
            elif rng.random() < 0.6:
                operands.append(count - 1 - rng.randint(0, min(1, count - 1)))  # one of the two newest nodes
            else:
                operands.append(rng.randrange(count))
        steps.append((name, tuple(operands)))
        count += 1
    return Graph(inputs, tuple(steps))


# ---- the two sides ---------------------------------------------------------------------------------------------
def _gradients_function() -> Callable:
    """jangrad's functional gradients (engine.py today; the module may move, the function stays)."""
    for module in ("jangrad.engine", "jangrad.autodiff"):
        found = getattr(__import__(module, fromlist=["gradients"]), "gradients", None)
        if found is not None:
            return found
    raise ImportError("jangrad has no gradients() function")


def jangrad_side(graph: Graph, second: bool) -> tuple[float, list[float], list[list[float]] | None, list[float]]:
    """The output, its gradient, its Hessian (or None), and every node's value."""
    gradients = _gradients_function()
    leaves = [Value(x) for x in graph.inputs]
    nodes = graph.run(leaves, apply_op)
    out = nodes[-1]
    out.backward()
    gradient = [leaf.grad for leaf in leaves]
    hessian = None
    if second:
        hessian = []
        for first in gradients(out, leaves, create_graph=True):
            hessian.append(
                [float(s) for s in gradients(first, leaves)] if isinstance(first, Value) else [0.0] * len(leaves)
            )
    return out.data, gradient, hessian, [node.data for node in nodes]


def torch_side(torch, graph: Graph, second: bool) -> tuple[float, list[float], list[list[float]] | None]:
    functional = torch.nn.functional
    table = {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
        "pow": torch.pow,
        "powc": torch.pow,
        "neg": lambda x: -x,
        "abs": torch.abs,
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "leaky_relu": functional.leaky_relu,
        "erf": torch.erf,
        "gelu": functional.gelu,
    }
    missing = sorted(set(OPS) - set(table))
    if missing:
        raise KeyError(f"no PyTorch reference for the op(s) {missing}: add them to torch_side's table")
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in graph.inputs]
    out = graph.run(leaves, lambda name, *args: table[name](*args))[-1]
    if not out.requires_grad:  # the output does not depend on the inputs
        zeros = [0.0] * len(leaves)
        return out.item(), zeros, [list(zeros) for _ in leaves] if second else None
    firsts = torch.autograd.grad(out, leaves, create_graph=second, allow_unused=True)
    gradient = [0.0 if g is None else g.item() for g in firsts]
    hessian = None
    if second:
        hessian = []
        for g in firsts:
            if g is None or not g.requires_grad:
                hessian.append([0.0] * len(leaves))
                continue
            row = torch.autograd.grad(g, leaves, retain_graph=True, allow_unused=True)
            hessian.append([0.0 if s is None else s.item() for s in row])
    return out.item(), gradient, hessian


def compiled_side(graph: Graph) -> tuple[float, list[float], float, list[float]]:
    """The compiled tape at inputs moved by a few percent, and the eager engine at the same inputs."""
    leaves = [Value(x) for x in graph.inputs]
    out = graph.run(leaves, apply_op)[-1]
    tape = compile_tape(out, inputs=leaves)
    moved = [x * 1.03 + 0.01 for x in graph.inputs]
    for leaf, x in zip(leaves, moved, strict=True):
        leaf.data, leaf.grad = x, 0.0
    value = tape.forward()
    tape.backward()
    eager_leaves = [Value(x) for x in moved]
    eager_out = graph.run(eager_leaves, apply_op)[-1]
    eager_out.backward()
    return value, [leaf.grad for leaf in leaves], eager_out.data, [leaf.grad for leaf in eager_leaves]


# ---- comparing -------------------------------------------------------------------------------------------------
def how_they_differ(ours: float, theirs: float, tolerance: tuple[float, float]) -> str | None:
    """None when the two agree, else the kind of difference (the class name's second half)."""
    if math.isnan(ours) or math.isnan(theirs):
        if math.isnan(ours) and math.isnan(theirs):
            return None
        return "nan where the reference is a number" if math.isnan(ours) else "a number where the reference is nan"
    if math.isinf(ours) or math.isinf(theirs):
        return None if ours == theirs else "infinity differs"
    rtol, atol = tolerance
    if abs(ours - theirs) <= atol + rtol * max(abs(ours), abs(theirs)):
        return None
    return "different finite numbers"


def first_difference(pairs: list[tuple[str, float, float, tuple[float, float]]]) -> str | None:
    for what, ours, theirs, tolerance in pairs:
        kind = how_they_differ(ours, theirs, tolerance)
        if kind is not None:
            return f"{what}: {kind}"
    return None


# ---- documented conventions ------------------------------------------------------------------------------------
def _pow_base_not_positive(name: str, args: list[float]) -> bool:
    return name == "pow" and args[0] <= 0.0


def _kink(name: str, args: list[float]) -> bool:
    return name in ("abs", "relu", "leaky_relu") and args[0] == 0.0


CONVENTIONS: dict[str, Callable[[str, list[float]], bool]] = {
    # ops.py: "d(x^y)/dy = x^y ln x, which is nan for x <= 0 (no real logarithm)"; PyTorch masks it to 0 at x = 0.
    "pow: d/dy is nan for a base <= 0 (ops.py)": _pow_base_not_positive,
    # ops.py: the derivative at a kink is taken as 0 (relu, abs) or the slope (leaky_relu), as PyTorch does; at
    # second order through create_graph the two engines may still split there.
    "abs/relu/leaky_relu at exactly 0: the kink's one-sided choice (ops.py)": _kink,
}


def convention_hit(graph: Graph, values: list[float]) -> str | None:
    """The first documented convention that some node of the graph reaches, or None."""
    for name, operands in graph.steps:
        args = [values[x] if isinstance(x, int) else x for x in operands]
        for label, reached in CONVENTIONS.items():
            if reached(name, args):
                return label
    return None


# ---- the campaign ----------------------------------------------------------------------------------------------
def check_graph(torch, graph: Graph, second: bool, compiled: bool) -> tuple[str | None, list[float] | None]:
    """The class of the graph's first disagreement (None when it agrees everywhere), and jangrad's node values."""
    try:
        value, gradient, hessian, values = jangrad_side(graph, second)
    except Exception as error:  # a graph jangrad cannot run is itself a finding
        return f"jangrad raised {type(error).__name__}", None
    try:
        torch_value, torch_gradient, torch_hessian = torch_side(torch, graph, second)
    except RuntimeError as error:
        return f"PyTorch raised {type(error).__name__}", values
    pairs = [("value", value, torch_value, FIRST)]
    pairs += [("gradient", a, b, FIRST) for a, b in zip(gradient, torch_gradient, strict=True)]
    if second:
        pairs += [
            ("second order", a, b, SECOND)
            for row, torch_row in zip(hessian, torch_hessian, strict=True)
            for a, b in zip(row, torch_row, strict=True)
        ]
    found = first_difference(pairs)
    if found is None and compiled:
        try:
            tape_value, tape_gradient, eager_value, eager_gradient = compiled_side(graph)
        except Exception as error:
            return f"compiled: raised {type(error).__name__}", values
        found = first_difference(
            [("compiled value", tape_value, eager_value, FIRST)]
            + [("compiled gradient", a, b, FIRST) for a, b in zip(tape_gradient, eager_gradient, strict=True)]
        )
    return found, values


def run_campaign(
    graphs: int, seed: int = 0, second_order: float = 0.3, compiled: float = 0.03, examples: int = 0, out=sys.stdout
) -> dict:
    """Run the campaign; print the report to ``out`` and return the counts (for tests)."""
    import torch

    torch.set_default_dtype(torch.float64)
    findings: Counter = Counter()
    conventions: Counter = Counter()
    shown: dict[str, list[int]] = defaultdict(list)
    second_count = compiled_count = 0
    started = time.perf_counter()
    for index in range(graphs):
        graph = draw_graph(seed, index)
        # Spread the shares evenly (graph i is second-order when the running share falls short), not at random.
        second = math.floor((index + 1) * second_order) > math.floor(index * second_order)
        replay = math.floor((index + 1) * compiled) > math.floor(index * compiled)
        second_count += second
        compiled_count += replay
        found, values = check_graph(torch, graph, second, replay)
        if found is None:
            continue
        convention = convention_hit(graph, values) if values is not None and not found.startswith("compiled") else None
        if convention is not None:
            conventions[convention] += 1
        else:
            if values is not None and not all(math.isfinite(v) for v in values):
                found += " (a node is nan or infinite)"
            findings[found] += 1
            if len(shown[found]) < examples:
                shown[found].append(index)
    seconds = time.perf_counter() - started
    report = {
        "graphs": graphs,
        "second_order": second_count,
        "compiled": compiled_count,
        "findings": dict(findings),
        "conventions": dict(conventions),
        "seconds": seconds,
    }
    print(
        f"jangrad campaign, seed {seed}: {graphs} graphs ({second_count} also at second order, {compiled_count} "
        f"replayed through jangrad.compile) in {seconds:.0f} s",
        file=out,
    )
    print(f"disagreements: {sum(findings.values())} graph(s)" + ("" if findings else ", none"), file=out)
    for name, count in sorted(findings.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {count:8d}  {name}", file=out)
        for index in shown[name]:
            print(f"            graph {index}: {draw_graph(seed, index)}", file=out)
    print(
        f"documented conventions (counted apart): {sum(conventions.values())} graph(s)"
        + ("" if conventions else ", none"),
        file=out,
    )
    for name, count in sorted(conventions.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {count:8d}  {name}", file=out)
    return report


def show(seed: int, index: int) -> None:
    """Print one graph and both sides' numbers."""
    import torch

    graph = draw_graph(seed, index)
    print(f"graph {index}: {graph}")
    value, gradient, hessian, _ = jangrad_side(graph, True)
    print(f"  jangrad: value {value!r}, gradient {gradient}, second order {hessian}")
    torch_value, torch_gradient, torch_hessian = torch_side(torch, graph, True)
    print(f"  PyTorch: value {torch_value!r}, gradient {torch_gradient}, second order {torch_hessian}")


def _share(text: str) -> float:
    share = float(text)
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a share from 0 to 1, got {text!r}")
    return share


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--graphs", type=int, default=1000, help="how many graphs (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="the campaign's seed (default 0)")
    parser.add_argument("--second-order", type=_share, default=0.3, help="share also checked at second order (0.3)")
    parser.add_argument("--compiled", type=_share, default=0.03, help="share replayed through the tape (0.03)")
    parser.add_argument("--examples", type=int, default=0, help="graphs to print for each class of finding")
    parser.add_argument("--show", type=int, metavar="I", help="print graph I and both sides' numbers, and stop")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("campaign: PyTorch is not installed; it is the reference (pip install torch)", file=sys.stderr)
        return 2
    if args.show is not None:
        show(args.seed, args.show)
        return 0
    if args.graphs < 1:
        parser.error(f"--graphs must be at least 1, got {args.graphs}")
    run_campaign(args.graphs, args.seed, args.second_order, args.compiled, args.examples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
