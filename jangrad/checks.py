"""Argument checks shared by the library, so each kind of mistake gets the same clear message everywhere.

Both raise TypeError when the value is not a number of the right kind and ValueError when it is out of range, and
both name the argument and the value they were given.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["whole_number", "real_number"]


def whole_number(value: object, name: str, minimum: int = 1) -> int:
    """``value`` as an int, checked to be an int (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return int(value)


def real_number(value: object, name: str, low: float = 0.0, high: float = math.inf, high_open: bool = False) -> float:
    """``value`` as a float, checked to be a finite number in [low, high] (or [low, high) when ``high_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    too_high = value >= high if high_open else value > high
    if not math.isfinite(value) or value < low or too_high:
        if math.isinf(high):
            bound = f">= {low}"
        else:
            bound = f"in [{low}, {high})" if high_open else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return value
