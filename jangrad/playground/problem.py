"""Turn a network-lab configuration into a training problem: the data, the split, the model and the loss.

The choices here (labels -1/+1 for hinge and squared losses, 0/1 for bce, class indices for ce; a linear output
for hinge, bce and ce, tanh for squared losses) are the ones ``jangrad train`` makes for the same options, so that
"copy CLI command" repeats a page's run number for number.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from .config import RunConfig

__all__ = ["Problem", "build_problem"]


@dataclass
class Problem:
    X: list[list[float]]
    y: list
    X_test: list[list[float]]
    y_test: list
    model: object
    classes: int


def _load_csv_text(text: str, target: str) -> tuple[list, list]:
    from .. import data
    handle, path = tempfile.mkstemp(suffix=".csv", prefix="jangrad-upload-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        return data.load_csv(path, target=int(target) if target.lstrip("-").isdigit() else target)
    finally:
        os.unlink(path)


def _dataset(config: RunConfig) -> tuple[list, list]:
    from .. import data
    signed = config.loss in ("hinge", "sse", "mse")
    if config.data == "seed4":
        X, y = data.seed4()
        return X, (y if signed else [1.0 if t > 0 else 0.0 for t in y])
    if config.data == "xor":
        return data.xor(signed=signed)
    if config.data == "moons":
        return data.moons(config.samples, noise=config.noise, seed=config.seed, signed=signed)
    if config.data == "circles":
        return data.circles(config.samples, noise=config.noise, seed=config.seed, signed=signed)
    if config.data == "spiral":
        return data.spiral(config.samples, classes=3, seed=config.seed, noise=config.noise)
    return _load_csv_text(config.csv, config.target)


def build_problem(config: RunConfig) -> Problem:
    """The data (split if asked), and a fresh model seeded by ``config.seed``. Raises ValueError on a mismatch."""
    from .. import data
    from ..nn import MLP
    from .limits import MAX_FEATURES, MAX_SAMPLES

    X, y = _dataset(config)
    if len(X) > MAX_SAMPLES or (X and len(X[0]) > MAX_FEATURES):
        raise ValueError(f"the data set is too big for the playground: at most {MAX_SAMPLES} samples of "
                         f"{MAX_FEATURES} features")
    labels = sorted({float(t) for t in y})
    classes = len(labels)
    if config.loss != "ce" and classes > 2:
        raise ValueError(f"this data set has {classes} classes: choose the ce (cross-entropy) loss")
    if config.loss == "ce":
        y = [int(t) for t in y]
    if config.test:
        X, X_test, y, y_test = data.train_test_split(X, y, test_size=config.test, seed=config.seed)
    else:
        X_test, y_test = [], []
    nout = max(classes, 2) if config.loss == "ce" else 1
    output = "tanh" if config.loss in ("sse", "mse") else "linear"
    model = MLP(len(X[0]), list(config.layers) + [nout], activation=config.activation,
                output_activation=output, seed=config.seed)
    return Problem(X, y, X_test, y_test, model, classes)
