"""Reference numbers for the engine tests: finite-difference derivatives and one tolerant comparison.

Kept apart from the engine on purpose: nothing here uses jangrad's rules, only function values, so a wrong
derivative rule cannot make its own check pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

STEP = 1e-5
"""The finite-difference step. With the five-point stencil its truncation error is ~STEP^4 and its rounding
error ~1e-16 / STEP relative to f, both far below the tolerances used with it."""


def partial(f: Callable[[list[float]], float], xs: Sequence[float], i: int, h: float = STEP) -> float:
    """d f / d xs[i] by the five-point central stencil (f(x-2h) - 8f(x-h) + 8f(x+h) - f(x+2h)) / 12h."""

    def at(offset: float) -> float:
        moved = list(xs)
        moved[i] += offset
        return f(moved)

    return (at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h)


def close(actual: float, expected: float, rtol: float = 1e-7, atol: float = 1e-8) -> bool:
    """Equal within tolerance; nan matches only nan and an infinity only itself."""
    if math.isnan(actual) or math.isnan(expected):
        return math.isnan(actual) and math.isnan(expected)
    if math.isinf(actual) or math.isinf(expected):
        return actual == expected
    return abs(actual - expected) <= atol + rtol * max(abs(actual), abs(expected))


def assert_close(actual: float, expected: float, what: str, rtol: float = 1e-7, atol: float = 1e-8) -> None:
    """``close`` as an assertion whose message says what was compared and by how much it missed."""
    if not close(actual, expected, rtol, atol):
        raise AssertionError(
            f"{what}: got {actual!r}, expected {expected!r} "
            f"(difference {abs(actual - expected)!r}, rtol={rtol}, atol={atol})"
        )
