"""Turn a network-lab configuration into a training problem: the data, the split, the model.

The data and labels come from ``jangrad train``'s own functions (``cli_train.load_dataset`` and
``prepare_labels``), and the model is built as it builds it, so "copy CLI command" repeats a page's run number for
number, sample count, noise and test split included. The page adds CSV text uploaded from the browser.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from ..cli.training import GENERATED
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


def _raw_dataset(config: RunConfig) -> tuple[list, list]:
    from ..cli.training import load_dataset

    if config.data == "csv":
        handle, path = tempfile.mkstemp(suffix=".csv", prefix="jangrad-upload-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as f:
                f.write(config.csv)
            return load_dataset(path, config.target, config.seed)
        finally:
            os.unlink(path)
    if config.data in GENERATED:
        return load_dataset(config.data, None, config.seed, config.samples, config.noise)
    return load_dataset(config.data, None, config.seed)


def build_problem(config: RunConfig) -> Problem:
    """The data (split if asked) and a fresh model seeded by ``config.seed``. Raises ValueError on a mismatch."""
    from .. import data
    from ..cli.main import UsageError
    from ..cli.training import prepare_labels
    from ..nn import MLP
    from .limits import MAX_FEATURES, MAX_SAMPLES

    try:
        X, raw_y = _raw_dataset(config)
        y, _loss, nout = prepare_labels(raw_y, config.loss)
    except UsageError as error:
        raise ValueError(str(error)) from None
    if len(X) > MAX_SAMPLES or len(X[0]) > MAX_FEATURES:
        raise ValueError(f"the data set is too big for the playground: at most {MAX_SAMPLES} samples of "
                         f"{MAX_FEATURES} features")
    classes = max(nout, 2)
    if config.test:
        X, X_test, y, y_test = data.train_test_split(X, y, test_size=config.test, seed=config.seed)
    else:
        X_test, y_test = [], []
    model = MLP(len(X[0]), list(config.layers) + [nout], activation=config.activation,
                output_activation=config.output, seed=config.seed)
    return Problem(X, y, X_test, y_test, model, classes)
