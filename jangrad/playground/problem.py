"""Turn a network-lab configuration into a training problem: the run recipe's own ``build``, plus what only the page
has: a CSV file uploaded from the browser (or the points a learner placed by hand), the points as the page shows
them, and the server's size limits.

Data, labels, split and model come from ``recipe.build``, exactly as ``jangrad train`` makes them, so "copy CLI
command" repeats a page's run number for number. ``jangrad train`` standardises a CSV file's columns (mean 0,
deviation 1); the page still shows such points where they are in the file, and ``standardize`` is the map from the
page's plane to the model's inputs (``None`` for the named sets, which the model sees as they are).
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from dataclasses import dataclass

from ..recipe import Problem, Recipe, build
from .config import CSV_NAME, RunConfig
from .limits import MAX_FEATURES, MAX_SAMPLES
from .pictures import Standardize

__all__ = ["Problem", "LabData", "build_problem", "class_of", "coded_label", "is_classification", "csv_of"]


@dataclass
class LabData:
    """A run's problem and how the page shows its samples (for 2-D data; ``shown`` is empty otherwise).

    ``shown`` and ``shown_test`` are the training and held-out points in the page's plane, in the problem's order;
    ``columns`` names the model's inputs (``x0``, ``x1`` or a CSV file's header).
    """

    problem: Problem
    shown: list[list[float]]
    shown_test: list[list[float]]
    standardize: Standardize | None
    columns: list[str]


def build_problem(config: RunConfig) -> LabData:
    """The data (split if asked) and a fresh model seeded by the recipe's seed. Raises ValueError on a mismatch."""
    recipe = config.recipe
    if recipe.data != CSV_NAME:
        problem = build(recipe)
        raw: list[list[float]] | None = None
        names: list[str] | None = None
    else:
        handle, path = tempfile.mkstemp(suffix=".csv", prefix="jangrad-upload-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as f:
                f.write(config.csv)
            problem = build(recipe.replace(data=path))
            raw, names = _raw_rows(path, recipe.target)
        finally:
            os.unlink(path)
    samples = len(problem.X) + len(problem.X_test)
    width = len(problem.X[0])
    if samples > MAX_SAMPLES or width > MAX_FEATURES:
        raise ValueError(
            f"the data set is too big for the playground: at most {MAX_SAMPLES} samples of {MAX_FEATURES} features"
        )
    columns = names or [f"x{i}" for i in range(width)]
    if width != 2:
        return LabData(problem, [], [], None, columns)
    if raw is None:
        return LabData(problem, [list(p) for p in problem.X], [list(p) for p in problem.X_test], None, columns)
    return _shown_csv(problem, raw, recipe, columns)


def _raw_rows(path: str, target: str | None) -> tuple[list[list[float]], list[str]]:
    """The CSV file's input columns as written (before standardising) and their names (the header's, as
    ``data.load_csv`` reads it, or none when the file has no header)."""
    from .. import data

    column: int | str = -1
    if target is not None:
        column = int(target) if target.lstrip("-").isdigit() else target
    X, _ = data.load_csv(path, target=column)
    names = data.csv_header_names(path)
    if not names:
        return X, []
    index = names.index(column) if isinstance(column, str) else int(column) % len(names)
    return X, names[:index] + names[index + 1 :]


def _shown_csv(problem: Problem, raw: list[list[float]], recipe: Recipe, columns: list[str]) -> LabData:
    """A CSV run's points where the file puts them: the split is scikit-learn's shuffle of the row numbers by the
    seed (it does not look at the values), so splitting the file's rows the same way gives each sample's row."""
    from .. import data

    standardize = _standardization(raw)
    if recipe.test_split is None:
        return LabData(problem, raw, [], standardize, columns)
    rows = list(range(len(raw)))
    train_rows, test_rows, _, _ = data.train_test_split(
        [[float(r)] for r in rows], rows, test_size=recipe.test_split, seed=recipe.seed
    )
    shown = [raw[int(r[0])] for r in train_rows]
    shown_test = [raw[int(r[0])] for r in test_rows]
    return LabData(problem, shown, shown_test, standardize, columns)


def _standardization(rows: list[list[float]]) -> Standardize:
    """Each column's mean and standard deviation (1 for a constant column), as ``data.standardize`` scales them: the
    map from the plane the page shows to the model's inputs (only for drawing: the training data is ``build``'s)."""
    n = len(rows)
    means = [math.fsum(column) / n for column in zip(*rows, strict=True)]
    scales = []
    for column, mean in zip(zip(*rows, strict=True), means, strict=True):
        deviation = math.sqrt(math.fsum((v - mean) ** 2 for v in column) / n)
        scales.append(deviation if deviation > 0 else 1.0)
    return Standardize(means, scales)


# ---- labels: the class a point shows, and the target a class is trained on -----------------------------------------
def is_classification(problem: Problem) -> bool:
    """Whether the targets are classes (points can be added by class); real-valued targets are not."""
    if problem.loss in ("hinge", "bce", "ce"):
        return True
    return all(t in (-1.0, 1.0) for t in problem.y + problem.y_test)


def class_of(target: float, loss: str) -> int:
    """The class index (0, 1, ...) of a coded target: -1/+1 (hinge, squared errors), 0/1 (bce) or an index (ce)."""
    if loss in ("bce", "ce"):
        return int(target)
    return 1 if target > 0 else 0


def coded_label(cls: int, loss: str) -> float | int:
    """The target that ``recipe.prepare_labels`` gives class ``cls`` under this loss (the inverse of ``class_of``)."""
    if loss == "ce":
        return cls
    if loss == "bce":
        return float(cls)
    return 2.0 * cls - 1.0


def csv_of(points: list[list[float]], classes: list[int], columns: list[str]) -> tuple[str, str]:
    """The points as CSV text that ``jangrad train --data data.csv --target <target>`` reads back to the same
    numbers (each written as Python's shortest exact form), and the target column's name."""
    target = "label"
    while target in columns:  # a file that already has a "label" input keeps it
        target += "_"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*columns, target])
    for point, cls in zip(points, classes, strict=True):
        if not all(math.isfinite(v) for v in point):
            raise ValueError(f"a point must be finite numbers, got {point!r}")
        writer.writerow([*(repr(float(v)) for v in point), str(cls)])
    return buffer.getvalue(), target
