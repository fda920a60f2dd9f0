"""The decision-boundary image and the network diagram's weights, read from a model without touching its graph.

The boundary needs a prediction at every grid point, thousands per frame; building Values for them would be slow
and, worse, would run in the server's thread while training builds its own graph. So the forward pass is done
again here in NumPy from the layers' weights (``Layer.weight_rows()`` and ``biases()``), with the op table's
activation rules.
"""

from __future__ import annotations

import math

from .limits import GRID_SIZE

__all__ = ["extent", "grid_scores", "weights", "numpy_forward"]


def _activation(name: str, z):
    """The layer's activation on an array: the op table's own forward rule, run on the compiled tape's NumPy maths."""
    from ..compiled.kernels import NUMPY_MATH
    from ..nn import LEAKY_SLOPE
    from ..ops import OPS

    if name == "linear":
        return z
    if name == "leaky_relu":
        return OPS[name].forward(NUMPY_MATH, z, LEAKY_SLOPE)
    return OPS[name].forward(NUMPY_MATH, z)


def numpy_forward(model, points):
    """The model's outputs for each row of ``points`` (an n x nin array): an n x nout array."""
    import numpy as np

    a = np.asarray(points, dtype=float)
    with np.errstate(all="ignore"):  # a diverging run gives inf and nan, which the callers handle, not warnings
        for layer in model.layers:
            z = a @ np.asarray(layer.weight_rows(), dtype=float).T + np.asarray(layer.biases(), dtype=float)
            a = _activation(layer.activation, z)
    return a


def extent(X: list[list[float]]) -> list[float]:
    """[xmin, xmax, ymin, ymax] around 2-D data, with a margin."""
    xs = [p[0] for p in X]
    ys = [p[1] for p in X]
    pad_x = 0.15 * (max(xs) - min(xs) or 1.0)
    pad_y = 0.15 * (max(ys) - min(ys) or 1.0)
    return [min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y]


def grid_scores(model, box: list[float], loss: str) -> list[float]:
    """Row-major GRID_SIZE x GRID_SIZE values, top row first: a score in [-1, 1] (binary) or a class index."""
    import numpy as np

    xs = np.linspace(box[0], box[1], GRID_SIZE)
    ys = np.linspace(box[3], box[2], GRID_SIZE)  # top row is the largest y
    gx, gy = np.meshgrid(xs, ys)
    out = numpy_forward(model, np.column_stack([gx.ravel(), gy.ravel()]))
    if out.shape[1] > 1:
        scores = np.argmax(out, axis=1).astype(float)
    elif loss == "bce":
        scores = np.tanh(out[:, 0] / 2.0)  # a logit: 2 sigmoid - 1
    else:
        scores = np.clip(out[:, 0], -1.0, 1.0)
    scores = np.where(np.isfinite(scores), scores, 0.0)
    return [round(float(s), 3) for s in scores]


def weights(model) -> list[list[list[float]]]:
    """Per layer, its nout x nin weight rows (rounded: only for drawing)."""
    return [
        [[round(w, 4) if math.isfinite(w) else 0.0 for w in row] for row in layer.weight_rows()]
        for layer in model.layers
    ]
