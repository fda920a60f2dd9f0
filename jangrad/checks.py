"""Argument checks shared by the library, so each kind of mistake gets the same clear message everywhere.

Each raises TypeError when the value is not a number of the right kind (and the range checks ValueError when it is
out of range), naming the argument and the value it was given.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["whole_number", "real_number", "as_float"]


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
        bound = f">= {low}" if math.isinf(high) else f"in [{low}, {high})" if high_open else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return value


def as_float(data: object, what: str = "data") -> float:
    """Convert an accepted number to float, or raise a TypeError that names the value and its type."""
    if type(data) is float:
        return data
    if isinstance(data, numbers.Real):  # int, bool, Fraction and NumPy's integer and floating scalars
        try:
            return float(data)
        except OverflowError:
            shown = repr(data) if len(repr(data)) <= 40 else repr(data)[:37] + "..."
            raise OverflowError(f"{what} {shown} is too large for a float64") from None
    if hasattr(data, "grad") and hasattr(data, "_mark"):  # a Value (this module sits below the engine)
        raise TypeError(f"{what} must be a real number, got a Value ({data!r}); pass it directly or use .data")
    raise TypeError(
        f"{what} must be a real number (int, float or NumPy scalar), got {data!r} of type {type(data).__name__}"
    )
