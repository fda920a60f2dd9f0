"""Small data sets for training, as plain Python lists: ``X`` is a list of samples (lists of floats), ``y`` a list.

* ``seed4()``: the lecture's four samples of three inputs, targets [1, -1, -1, 1].
* ``xor()``: the four corners of the unit square, labelled by exclusive or.
* ``spiral(n, classes, seed)``: interleaved spiral arms (CS231n's), one class per arm, our own generator.
* ``moons``, ``circles``, ``blobs``, ``digits``, ``iris``: scikit-learn's, each with a fixed default ``seed``, so
  the same call always gives the same data.
* ``load_csv(path, target=...)``: numbers from a CSV file, with errors naming the file, line and column.
* ``train_test_split`` and ``standardize``: scikit-learn's, returning lists.

Without scikit-learn (a light install, or a browser page running jangrad in Pyodide), ``moons``, ``circles``,
``train_test_split`` and ``standardize`` run their plain-Python twins (``sklearn_twins``), which give scikit-learn's
numbers for the same seed; ``blobs``, ``digits``, ``iris`` and a stratified split need the ``[data]`` extra.

Binary sets take ``signed=True`` for labels -1/+1 (what ``losses.hinge`` and the lecture's tanh network want)
instead of 0/1. Multi-class sets give class indices 0..k-1.
"""

from __future__ import annotations

import csv
import math
import numbers
import random
from collections.abc import Sequence
from typing import Any, overload

from . import sklearn_twins
from .checks import whole_number
from .extras import require
from .legacy_random import MAX_SEED

__all__ = [
    "seed4",
    "xor",
    "spiral",
    "moons",
    "circles",
    "blobs",
    "digits",
    "iris",
    "load_csv",
    "train_test_split",
    "standardize",
    "check_dataset",
    "CSVError",
]

Dataset = tuple[list[list[float]], list[float]]


class CSVError(ValueError):
    """A CSV file that cannot be read as numbers; the message names the file, the line and the column."""


# ---- checks shared with fit ----------------------------------------------------------------------------------
_PLAIN_NUMBERS = frozenset((float, int))  # exactly these types (not bool, a subclass of int) need no closer look


def check_dataset(X: object, y: object = None, nin: int | None = None) -> None:
    """Raise TypeError/ValueError unless X is a non-empty list of equal-length number lists and y matches it.

    ``y=None`` checks X alone; ``nin`` is the row length expected (the first row's by default).
    """
    for what, seq in [("X", X)] + ([] if y is None else [("y", y)]):
        if isinstance(seq, (str, bytes)) or not (hasattr(seq, "__len__") and hasattr(seq, "__getitem__")):
            raise TypeError(f"{what} must be a list, got {seq!r:.80} of type {type(seq).__name__}")
    rows: Any = X  # checked just above: a list, a tuple or an array, with a length and items
    targets: Any = y
    if len(rows) == 0:
        raise ValueError("X is empty: there is nothing to train on")
    if targets is not None and len(rows) != len(targets):
        raise ValueError(f"X has {len(rows)} samples but y has {len(targets)} targets")
    width = nin if nin is not None else len(rows[0])
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
            raise TypeError(f"X[{i}] must be a list of numbers, got {row!r:.80}")
        if len(row) != width:
            raise ValueError(f"X[{i}] has {len(row)} numbers, expected {width}")
        if _PLAIN_NUMBERS.issuperset(map(type, row)):
            continue  # the common case, settled without an isinstance check (through numbers.Real's ABC) per number
        for j, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"X[{i}][{j}] must be a number, got {v!r} of type {type(v).__name__}")
    for i, t in enumerate([] if targets is None else targets):
        if type(t) in _PLAIN_NUMBERS:
            continue
        parts = t if isinstance(t, (list, tuple)) else [t]
        if not all(isinstance(v, numbers.Real) for v in parts):
            raise TypeError(f"y[{i}] must be a number (or a list of numbers), got {t!r:.80}")


def _check_noise(noise: object) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _as_lists(X: Any, y: Any, signed: bool = False) -> Dataset:
    """NumPy arrays to plain lists of floats (X) and ints or +-1 floats (y)."""
    rows = [[float(v) for v in row] for row in X]
    labels: list[float] = [2.0 * int(t) - 1.0 for t in y] if signed else [int(t) for t in y]
    return rows, labels


# ---- our own ------------------------------------------------------------------------------------------------------
def seed4() -> Dataset:
    """The lecture's data: 4 samples with 3 inputs each, desired outputs [1, -1, -1, 1]."""
    X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    y = [1.0, -1.0, -1.0, 1.0]
    return X, y


def xor(signed: bool = False) -> Dataset:
    """The exclusive-or truth table: labels 0/1, or -1/+1 with ``signed=True``. No straight line separates it."""
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    y: list[float] = [0, 1, 1, 0]
    return X, ([2.0 * t - 1.0 for t in y] if signed else y)


def spiral(n: int = 100, classes: int = 3, seed: int = 0, noise: float = 0.2) -> Dataset:
    """``n`` points on each of ``classes`` spiral arms in the plane; the label is the arm (0..classes-1)."""
    n = whole_number(n, "n", 2)
    classes = whole_number(classes, "classes", 2)
    noise = _check_noise(noise)
    rng = random.Random(whole_number(seed, "seed", 0))
    X: list[list[float]] = []
    y: list[float] = []  # the arm's number: an int
    for arm in range(classes):
        for i in range(n):
            radius = i / (n - 1)
            angle = arm * 4.0 + 4.0 * i / (n - 1) + rng.gauss(0.0, noise)
            X.append([radius * math.sin(angle), radius * math.cos(angle)])
            y.append(arm)
    return X, y


# ---- scikit-learn's -------------------------------------------------------------------------------------------------
def _has_sklearn() -> bool:
    """Whether scikit-learn can be imported (else the plain-Python twins give its numbers)."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def _random_state(seed: object) -> int:
    seed = whole_number(seed, "seed", 0)
    if seed > MAX_SEED:
        raise ValueError(f"seed must be at most {MAX_SEED} (NumPy's limit), got {seed!r}")
    return seed


def moons(n: int = 100, noise: float = 0.1, seed: int = 0, signed: bool = False) -> Dataset:
    """Two interleaving half circles (``sklearn.datasets.make_moons``); micrograd's demo uses n=100, noise=0.1."""
    n, noise, seed = whole_number(n, "n", 2), _check_noise(noise), _random_state(seed)
    if not _has_sklearn():
        return _as_lists(*sklearn_twins.make_moons(n, noise, seed), signed)
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return _as_lists(X, y, signed)


def circles(n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0, signed: bool = False) -> Dataset:
    """A small circle inside a large one (``sklearn.datasets.make_circles``)."""
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"factor must be a number between 0 and 1, got {factor!r}")
    n, noise, seed = whole_number(n, "n", 2), _check_noise(noise), _random_state(seed)
    if not _has_sklearn():
        return _as_lists(*sklearn_twins.make_circles(n, noise, float(factor), seed), signed)
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=n, noise=noise, factor=float(factor), random_state=seed)
    return _as_lists(X, y, signed)


def blobs(n: int = 100, centers: int = 3, features: int = 2, std: float = 1.0, seed: int = 0) -> Dataset:
    """Gaussian clusters (``sklearn.datasets.make_blobs``); the label is the cluster."""
    require("sklearn", "the blobs data set")
    from sklearn.datasets import make_blobs

    if isinstance(std, bool) or not isinstance(std, numbers.Real) or not std > 0 or not math.isfinite(std):
        raise ValueError(f"std must be a finite number > 0, got {std!r}")
    X, y = make_blobs(
        n_samples=whole_number(n, "n", 1),
        centers=whole_number(centers, "centers"),
        n_features=whole_number(features, "features"),
        cluster_std=float(std),
        random_state=whole_number(seed, "seed", 0),
    )
    return _as_lists(X, y)


def _shuffled(features: Any, targets: Any, seed: int, n: int | None) -> Dataset:
    X, y = _as_lists(features, targets)
    order = list(range(len(X)))
    random.Random(whole_number(seed, "seed", 0)).shuffle(order)
    if n is not None:
        n = whole_number(n, "n")
        if n > len(order):
            raise ValueError(f"n must be at most {len(order)} (the size of the set), got {n!r}")
        order = order[:n]
    return [X[i] for i in order], [y[i] for i in order]


def digits(n: int | None = None, classes: int = 10, seed: int = 0) -> Dataset:
    """8x8 images of handwritten digits (``sklearn.datasets.load_digits``), 64 pixel values 0..16 each.

    The samples come shuffled by ``seed``; ``n`` keeps only the first n of them (the full set is 1797).
    """
    require("sklearn", "the digits data set")
    from sklearn.datasets import load_digits

    bunch = load_digits(n_class=whole_number(classes, "classes", 2))
    return _shuffled(bunch.data, bunch.target, seed, n)


def iris(seed: int = 0) -> Dataset:
    """Fisher's 150 irises (``sklearn.datasets.load_iris``): 4 measurements, 3 species, shuffled by ``seed``."""
    require("sklearn", "the iris data set")
    from sklearn.datasets import load_iris

    bunch = load_iris()
    return _shuffled(bunch.data, bunch.target, seed, None)


# ---- files -------------------------------------------------------------------------------------------------------
def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_header(row: Sequence[str]) -> bool:
    """``load_csv``'s rule: a first row with a cell that is not a number is a header."""
    return not all(_is_number(cell) for cell in row)


def csv_header_names(path: str) -> list[str]:
    """The column names of a CSV file's header row, as ``load_csv`` reads them (stripped), or [] when its first
    row is data. (The playground shows a CSV run's inputs under these names.)"""
    with open(path, newline="", encoding="utf-8") as f:
        first = next((row for row in csv.reader(f) if row), [])
    return [cell.strip() for cell in first] if _is_header(first) else []


def load_csv(path: str, target: int | str = -1, header: bool | None = None) -> Dataset:
    """Read a CSV file of numbers: every column but ``target`` becomes X, the ``target`` column becomes y.

    ``target`` is a column index (negative counts from the end; the default is the last column) or a header name.
    ``header=None`` takes the first row as a header when any of its cells is not a number. Target values that are
    not numbers (such as species names) become class indices 0..k-1 in sorted order of the names.
    Errors raise ``CSVError`` naming the file, the line and the column.
    """
    path = str(path)
    with open(path, newline="", encoding="utf-8") as f:
        try:
            rows = [(line_no, row) for line_no, row in enumerate(csv.reader(f), start=1) if row]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CSVError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        raise CSVError(f"{path}: the file has no rows")
    if header is None:
        header = _is_header(rows[0][1])
    names = [cell.strip() for cell in rows[0][1]] if header else [f"column {j}" for j in range(len(rows[0][1]))]
    body = rows[1:] if header else rows
    if not body:
        raise CSVError(f"{path}: the file has a header but no data rows")
    width = len(names)
    if width < 2:
        raise CSVError(f"{path}: line {rows[0][0]} has {width} column; need at least one input and the target")
    if isinstance(target, str):
        if target not in names:
            raise CSVError(f"{path}: no column named {target!r}; the columns are {names}")
        t = names.index(target)
    elif isinstance(target, numbers.Integral) and not isinstance(target, bool):
        if not -width <= target < width:
            raise CSVError(f"{path}: target column {target} does not exist (the file has {width} columns)")
        t = int(target) % width
    else:
        raise TypeError(f"target must be a column index or name, got {target!r}")
    X: list[list[float]] = []
    raw_y: list[str] = []
    for line_no, row in body:
        if len(row) != width:
            raise CSVError(f"{path}: line {line_no} has {len(row)} columns, expected {width}")
        values = []
        for j, cell in enumerate(row):
            if j == t:
                continue
            text = cell.strip()
            try:
                v = float(text)
            except ValueError:
                raise CSVError(
                    f"{path}: line {line_no}, column {j + 1} ({names[j]!r}): {cell!r} is not a number"
                ) from None
            if not math.isfinite(v):
                raise CSVError(
                    f"{path}: line {line_no}, column {j + 1} ({names[j]!r}): {cell!r} is not a "
                    f"finite number (missing values must be filled in first)"
                )
            values.append(v)
        X.append(values)
        raw_y.append(row[t].strip())
    numeric = [_is_number(v) and math.isfinite(float(v)) for v in raw_y]
    if all(numeric):
        return X, [float(v) for v in raw_y]
    if any(numeric):  # a mix of numbers and names is a damaged column, not a set of class names
        bad = numeric.index(False) if numeric[0] else numeric.index(True)
        raise CSVError(
            f"{path}: line {body[bad][0]}, column {t + 1} ({names[t]!r}): the target {raw_y[bad]!r} "
            f"does not fit the column (its first value is {raw_y[0]!r}): mixed numbers and names"
        )
    classes = sorted(set(raw_y))
    index = {name: k for k, name in enumerate(classes)}
    return X, [index[v] for v in raw_y]


# ---- splitting and scaling ------------------------------------------------------------------------------------------
def train_test_split(
    X: Sequence[Any], y: Sequence[Any], test_size: float = 0.25, seed: int = 0, stratify: bool = False
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """``X_train, X_test, y_train, y_test`` (scikit-learn's split, shuffled by ``seed``)."""
    check_dataset(X, y)
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction between 0 and 1, got {test_size!r}")
    if not stratify and not _has_sklearn():
        train, test = sklearn_twins.split_indices(len(X), float(test_size), _random_state(seed))
        return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]
    require("sklearn", "a stratified train_test_split")
    from sklearn.model_selection import train_test_split as split

    X_train, X_test, y_train, y_test = split(
        list(X),
        list(y),
        test_size=float(test_size),
        random_state=whole_number(seed, "seed", 0),
        stratify=list(y) if stratify else None,
    )
    return list(X_train), list(X_test), list(y_train), list(y_test)


@overload
def standardize(X_train: Sequence[Sequence[float]], X_test: None = None) -> list[list[float]]: ...


@overload
def standardize(
    X_train: Sequence[Sequence[float]], X_test: Sequence[Sequence[float]]
) -> tuple[list[list[float]], list[list[float]]]: ...


def standardize(
    X_train: Sequence[Sequence[float]], X_test: Sequence[Sequence[float]] | None = None
) -> list[list[float]] | tuple[list[list[float]], list[list[float]]]:
    """Scale each input column to mean 0 and standard deviation 1, measured on ``X_train`` only.

    Returns the scaled ``X_train``, or ``(X_train, X_test)`` when ``X_test`` is given (scaled with the training
    set's mean and deviation, so nothing about the test set leaks into training).
    """
    check_dataset(X_train)
    if not _has_sklearn():
        means, scales = sklearn_twins.standard_scaler(X_train)
        scaled = [[(v - m) / s for v, m, s in zip(row, means, scales, strict=True)] for row in X_train]
        if X_test is None:
            return scaled
        check_dataset(X_test, nin=len(X_train[0]))
        return scaled, [[(v - m) / s for v, m, s in zip(row, means, scales, strict=True)] for row in X_test]
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X_train)
    train: list[list[float]] = scaler.transform(X_train).tolist()
    if X_test is None:
        return train
    check_dataset(X_test, nin=len(X_train[0]))
    test: list[list[float]] = scaler.transform(X_test).tolist()
    return train, test
