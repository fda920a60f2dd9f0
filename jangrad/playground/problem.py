"""Turn a network-lab configuration into a training problem: the run recipe's own ``build``, plus the two things
only the page has: a CSV file uploaded from the browser, and the server's size limits.

Data, labels, split and model come from ``recipe.build``, exactly as ``jangrad train`` makes them, so "copy CLI
command" repeats a page's run number for number.
"""

from __future__ import annotations

import os
import tempfile

from ..recipe import Problem, build
from .config import CSV_NAME, RunConfig
from .limits import MAX_FEATURES, MAX_SAMPLES

__all__ = ["Problem", "build_problem"]


def build_problem(config: RunConfig) -> Problem:
    """The data (split if asked) and a fresh model seeded by the recipe's seed. Raises ValueError on a mismatch."""
    recipe = config.recipe
    if recipe.data != CSV_NAME:
        problem = build(recipe)
    else:
        handle, path = tempfile.mkstemp(suffix=".csv", prefix="jangrad-upload-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as f:
                f.write(config.csv)
            problem = build(recipe.replace(data=path))
        finally:
            os.unlink(path)
    samples = len(problem.X) + len(problem.X_test)
    if samples > MAX_SAMPLES or len(problem.X[0]) > MAX_FEATURES:
        raise ValueError(
            f"the data set is too big for the playground: at most {MAX_SAMPLES} samples of {MAX_FEATURES} features"
        )
    return problem
