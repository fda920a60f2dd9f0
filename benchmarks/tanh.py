"""What jangrad's portable tanh (``jangrad/portable_math.py``, musl's algorithm in Python, the same bits on every
platform) costs against the C library's ``math.tanh``: per call, per eager training step of tanh networks, and
what it would cost the compiled tape (which keeps NumPy's ``tanh``).

    python benchmarks/tanh.py            # a minute or so
    python benchmarks/tanh.py --steps 80

W1 and W2 of ``run.py`` run micrograd's model, whose hidden units are ReLUs: they call no tanh, so the rule cannot
change them. The steps here are their tanh twins: the lecture's MLP(3, [4, 4, 1]) on its 4 samples (sum of squared
errors) and MLP(2, [16, 16, 1]) on 100 moons (hinge), jangrad's own ``nn.MLP`` (tanh everywhere). Both rules run in
the same process, step by step in turn, and the medians are compared. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's jangrad, before any installed one

from jangrad import data, losses, nn, ops, portable_math

RULES = {"math.tanh": staticmethod(math.tanh), "portable": staticmethod(portable_math.tanh)}


def per_call(inputs: list[float]) -> dict[str, float]:
    """Nanoseconds per call over ``inputs``, for both functions."""
    times = {}
    for name, function in (("math.tanh", math.tanh), ("portable", portable_math.tanh)):
        started = time.perf_counter()
        for x in inputs:
            function(x)
        times[name] = (time.perf_counter() - started) / len(inputs) * 1e9
    return times


def step_timer(model: nn.MLP, X: list[list[float]], y: list[float], loss: str):
    params = model.parameters()
    loss_fn = losses.get(loss)

    def step() -> float:
        started = time.perf_counter()
        for p in params:
            p.grad = 0.0
        total = loss_fn([model(x) for x in X], y)
        total.backward()
        return time.perf_counter() - started

    return step


def compare_steps(name: str, step, steps: int) -> None:
    """Median step time under each rule, the rules taking turns step by step (in either order by turns, so that
    neither always runs just after the other: the garbage collector's state follows the one before)."""
    measured: dict[str, list[float]] = {rule: [] for rule in RULES}
    for turn in range(steps):
        for rule in list(RULES)[:: 1 if turn % 2 else -1]:
            ops.FloatMath.tanh = RULES[rule]  # type: ignore[method-assign]
            measured[rule].append(step())
    ops.FloatMath.tanh = RULES["portable"]  # type: ignore[method-assign]
    plain, portable = (statistics.median(measured[rule]) for rule in RULES)
    print(
        f"{name}: math.tanh {plain * 1e3:.3f} ms, portable {portable * 1e3:.3f} ms per step "
        f"({(portable / plain - 1) * 100:+.1f} %)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40, help="moons steps per rule (the lecture's: 100 times more)")
    args = parser.parse_args()

    rng = random.Random(0)
    inputs = [rng.uniform(-3.0, 3.0) for _ in range(200_000)]
    calls = per_call(inputs)
    print(f"per call: math.tanh {calls['math.tanh']:.0f} ns, portable {calls['portable']:.0f} ns")

    X, y = data.seed4()
    compare_steps("lecture MLP(3, [4, 4, 1]) tanh, 4 samples", step_timer(nn.MLP(3, [4, 4, 1]), X, y, "sse"),
                  100 * args.steps)  # fmt: skip
    X, y = data.moons(n=100, noise=0.1, seed=1, signed=True)
    compare_steps("MLP(2, [16, 16, 1]) tanh, 100 moons", step_timer(nn.MLP(2, [16, 16, 1]), X, y, "hinge"),
                  args.steps)  # fmt: skip

    try:
        import numpy as np
    except ImportError:
        return
    array = np.asarray(inputs[:100_000])
    started = time.perf_counter()
    np.tanh(array)
    numpy_ns = (time.perf_counter() - started) / array.size * 1e9
    started = time.perf_counter()
    np.frompyfunc(portable_math.tanh, 1, 1)(array).astype(float)
    portable_ns = (time.perf_counter() - started) / array.size * 1e9
    print(
        f"compiled tape, per element: np.tanh {numpy_ns:.1f} ns, the portable rule over an array {portable_ns:.0f} ns "
        f"({portable_ns / numpy_ns:.0f}x): the tape keeps np.tanh"
    )


if __name__ == "__main__":
    main()
