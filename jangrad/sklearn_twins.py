"""The scikit-learn functions behind ``jangrad.data``'s moons, circles, split and scaling, in plain Python, for
where scikit-learn is not installed (a light install, or Pyodide in a browser, which has no NumPy).

Each does the same arithmetic in the same order as scikit-learn 1.x on NumPy (``make_moons``, ``make_circles``,
``ShuffleSplit``'s permutation, ``StandardScaler``'s two-pass mean and variance), with NumPy's legacy random
generator rebuilt in ``legacy_random``. The only numbers that may differ are those of the C library's ``sin``,
``cos``, ``log`` and ``sqrt``, which NumPy and Python both take from the platform: the tests hold every twin to
scikit-learn's numbers within 1e-12 (the labels, the order and the split exactly).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .legacy_random import LegacyRandomState

__all__ = ["make_moons", "make_circles", "split_indices", "standard_scaler"]

_EPS = 2.0**-52  # float64's machine epsilon, as NumPy's finfo gives it


def _linspace(stop: float, num: int, endpoint: bool = True) -> list[float]:
    """``numpy.linspace(0, stop, num, endpoint)``: ``i * step``, and exactly ``stop`` last when it is an endpoint."""
    div = num - 1 if endpoint else num
    if div <= 0:
        return [0.0] * num
    step = stop / div
    values = [i * step for i in range(num)]
    if endpoint and num > 1:
        values[-1] = stop
    return values


def _shuffle_and_noise(
    points: list[list[float]], labels: list[int], noise: float, rng: LegacyRandomState
) -> tuple[list[list[float]], list[int]]:
    """scikit-learn's ``shuffle(X, y)`` (a permutation of the rows) and then Gaussian noise on every coordinate,
    row by row, from the same generator."""
    order = rng.permutation(len(points))
    shuffled = [list(points[i]) for i in order]
    for row in shuffled:
        for j in range(len(row)):
            row[j] += rng.normal(0.0, noise)
    return shuffled, [labels[i] for i in order]


def make_moons(n: int, noise: float, seed: int) -> tuple[list[list[float]], list[int]]:
    """``sklearn.datasets.make_moons(n_samples=n, noise=noise, random_state=seed)`` as lists."""
    outer, inner = n // 2, n - n // 2
    rng = LegacyRandomState(seed)
    out_angles, in_angles = _linspace(math.pi, outer), _linspace(math.pi, inner)
    points = [[math.cos(a), math.sin(a)] for a in out_angles]
    points += [[1 - math.cos(a), 1 - math.sin(a) - 0.5] for a in in_angles]
    return _shuffle_and_noise(points, [0] * outer + [1] * inner, noise, rng)


def make_circles(n: int, noise: float, factor: float, seed: int) -> tuple[list[list[float]], list[int]]:
    """``sklearn.datasets.make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)`` as lists."""
    outer, inner = n // 2, n - n // 2
    rng = LegacyRandomState(seed)
    out_angles = _linspace(2 * math.pi, outer, endpoint=False)
    in_angles = _linspace(2 * math.pi, inner, endpoint=False)
    points = [[math.cos(a), math.sin(a)] for a in out_angles]
    points += [[math.cos(a) * factor, math.sin(a) * factor] for a in in_angles]
    return _shuffle_and_noise(points, [0] * outer + [1] * inner, noise, rng)


def split_indices(n: int, test_size: float, seed: int) -> tuple[list[int], list[int]]:
    """The rows ``sklearn.model_selection.train_test_split(..., test_size=test_size, random_state=seed)`` puts in
    the training set and in the test set: one permutation, the first ``ceil(test_size * n)`` rows held out."""
    held_out = math.ceil(test_size * n)
    if not 1 <= held_out < n:
        raise ValueError(f"test_size {test_size!r} of {n} samples leaves no training samples or no test samples")
    order = LegacyRandomState(seed).permutation(n)
    return order[held_out:], order[:held_out]


def _column_sum(values: Sequence[float]) -> float:
    total = 0.0
    for v in values:  # left to right, as NumPy sums down a column (Python's sum() compensates since 3.12)
        total += v
    return total


def standard_scaler(rows: Sequence[Sequence[float]]) -> tuple[list[float], list[float]]:
    """``StandardScaler().fit(rows)``'s ``mean_`` and ``scale_``: the two-pass mean and variance with its correction
    term, and 1 as the scale of a column that is constant (to rounding), so that it is left as it is."""
    n = len(rows)
    means, scales = [], []
    for column in zip(*rows, strict=True):
        mean = _column_sum(column) / n
        deviations = [v - mean for v in column]
        correction = _column_sum(deviations)
        variance = (_column_sum([d * d for d in deviations]) - correction * correction / n) / n
        constant = variance <= n * _EPS * variance + (n * mean * _EPS) ** 2
        means.append(mean)
        scales.append(1.0 if constant else math.sqrt(variance))
    return means, scales
