"""A frame's pictures, read from a model's weights without touching its graph: the decision boundary, every
neuron's heatmap over the input plane, and the forward pass on a list of points (for the test loss).

Both need predictions at thousands of points per frame; building Values for them would be slow and, worse, would
run beside training's own graph. So the forward pass is done again here from the layers' weights
(``Layer.weight_rows()`` and ``biases()``) with the op table's own activation rules, in one of two ways:

* ``"numpy"``: a layer as one matrix product, the rules run on the compiled tape's NumPy maths (``jangrad serve``);
* ``"python"``: plain Python floats with the rules' float maths, which needs nothing but the standard library
  (the page run by Pyodide in a browser, where there is no NumPy). It is slower, so a session using it draws
  a coarser grid (``grid_size``).

Both give the same numbers to rounding (a test holds them together). Pictures travel to the page as bytes:
each value in [-1, 1] becomes a signed byte (``round(127 * value)``), a class index its own byte, all of it
base64 text (``encode``): a 48 x 48 boundary is 3 kB instead of the 15 kB of JSON numbers.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..nn import MLP

__all__ = [
    "BACKENDS",
    "FINE_GRID",
    "default_backend",
    "grid_size",
    "heat_size",
    "extent",
    "grid_points",
    "layer_outputs",
    "forward",
    "boundary_scores",
    "encode",
    "pictures",
    "Standardize",
]

BACKENDS = ("numpy", "python")
# The boundary image is GRID x GRID predictions: FINE_GRID where the maths is fast (NumPy, or JavaScript in the static
# site's worker, which draws from Session.picture_inputs), coarser in plain Python.
FINE_GRID = 48
GRID = {"numpy": FINE_GRID, "python": 24}
HEAT_SIZES = (16, 12, 8, 6)  # a neuron's heatmap is the largest of these that keeps the frame's heatmaps small
MAX_HEAT_VALUES = 16_384  # neurons x heat_size**2


def default_backend() -> str:
    """``"numpy"`` when NumPy can be imported, else ``"python"``."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return "python"
    return "numpy"


def grid_size(backend: str) -> int:
    return GRID[backend]


def heat_size(neurons: int) -> int:
    """The side of each neuron's heatmap: as fine as the frame's budget of heatmap values allows."""
    for size in HEAT_SIZES:
        if neurons * size * size <= MAX_HEAT_VALUES:
            return size
    return HEAT_SIZES[-1]


def extent(points: Sequence[Sequence[float]]) -> list[float]:
    """[xmin, xmax, ymin, ymax] around 2-D points, with a margin (a unit box around a single point)."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    pad_x = 0.15 * (max(xs) - min(xs) or 1.0)
    pad_y = 0.15 * (max(ys) - min(ys) or 1.0)
    return [min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y]


def grid_points(box: Sequence[float], size: int) -> list[list[float]]:
    """``size`` x ``size`` points over ``box``, row by row, the top row (largest y) first; cell centres."""
    x0, x1, y0, y1 = box
    xs = [x0 + (x1 - x0) * (i + 0.5) / size for i in range(size)]
    ys = [y1 - (y1 - y0) * (j + 0.5) / size for j in range(size)]
    return [[x, y] for y in ys for x in xs]


def _layers(model: MLP) -> list[tuple[list[list[float]], list[float], str]]:
    return [(layer.weight_rows(), layer.biases(), layer.activation) for layer in model.layers]


# ---- the forward pass, two ways ------------------------------------------------------------------------------------
def _forward_rule(name: str) -> Callable[..., Any]:
    """The op table's forward rule of an activation (every activation is an op of the table)."""
    from ..ops import OPS

    rule = OPS[name].forward
    if rule is None:
        raise ValueError(f"activation {name!r} has no forward rule")
    return rule


def _numpy_activation(name: str, z: Any) -> Any:
    from ..compiled.kernels import NUMPY_MATH
    from ..ops import LEAKY_SLOPE

    if name == "linear":
        return z
    if name == "leaky_relu":
        return _forward_rule(name)(NUMPY_MATH, z, LEAKY_SLOPE)
    return _forward_rule(name)(NUMPY_MATH, z)


def _numpy_layers(model: MLP, points: Any) -> list[Any]:
    import numpy as np

    outputs = []
    a = np.asarray(points, dtype=float).reshape(len(points), -1)
    with np.errstate(all="ignore"):  # a diverging run gives inf and nan, which the callers handle, not warnings
        for weights, biases, activation in _layers(model):
            z = a @ np.asarray(weights, dtype=float).T + np.asarray(biases, dtype=float)
            a = _numpy_activation(activation, z)
            outputs.append(a)
    return outputs


def _python_activation(name: str) -> Callable[[float], float]:
    from ..ops import FLOAT_MATH, LEAKY_SLOPE

    if name == "linear":
        return lambda z: z
    rule = _forward_rule(name)
    if name == "leaky_relu":
        return lambda z: rule(FLOAT_MATH, z, LEAKY_SLOPE)
    return lambda z: rule(FLOAT_MATH, z)


def _python_layers(model: MLP, points: Sequence[Sequence[float]]) -> list[list[list[float]]]:
    outputs = []
    rows = [[float(v) for v in p] for p in points]
    for weights, biases, activation in _layers(model):
        act = _python_activation(activation)
        units = list(zip(weights, biases, strict=True))
        rows = [[act(_dot(w, row) + b) for w, b in units] for row in rows]
        outputs.append(rows)
    return outputs


def _dot(w: list[float], x: list[float]) -> float:
    return sum(wi * xi for wi, xi in zip(w, x, strict=True))


def layer_outputs(model: MLP, points: Sequence[Sequence[float]], backend: str) -> list[Any]:
    """Every layer's outputs at each point: per layer, an n x width array (NumPy) or list of rows (Python)."""
    if backend == "numpy":
        return _numpy_layers(model, points)
    return _python_layers(model, points)


def forward(model: MLP, points: Sequence[Sequence[float]], backend: str) -> list[list[float]]:
    """The model's outputs at each point, as lists of floats (one list per point)."""
    if not points:
        return []
    last = layer_outputs(model, points, backend)[-1]
    return last.tolist() if backend == "numpy" else last


# ---- from outputs to pictures --------------------------------------------------------------------------------------
def boundary_scores(outputs: list[list[float]], loss: str) -> list[float]:
    """Per point: a score in [-1, 1] for one output (the sign is the class), or the class index for several."""
    scores = []
    for row in outputs:
        if len(row) > 1:
            best = max(range(len(row)), key=lambda k: row[k] if math.isfinite(row[k]) else -math.inf)
            scores.append(float(best))
            continue
        out = row[0]
        if math.isnan(out):
            scores.append(0.0)
        elif loss == "bce":
            scores.append(math.tanh(out / 2.0))  # a logit: 2 sigmoid - 1
        else:
            scores.append(max(-1.0, min(1.0, out)))
    return scores


def encode(values: Sequence[float], scale: float = 127.0) -> str:
    """Values as signed bytes (``round(scale * v)``, clipped to [-127, 127], nan as 0), base64 text."""
    data = bytearray()
    for v in values:
        byte = 0 if v != v else int(round(max(-127.0, min(127.0, scale * v))))
        data.append(byte & 0xFF)
    return base64.b64encode(bytes(data)).decode("ascii")


def _heat(column: list[float]) -> tuple[list[float], float]:
    """A neuron's values scaled into [-1, 1] for its picture, and the scale (at least 1, so that a unit whose
    outputs stay small looks pale rather than saturated)."""
    finite = [abs(v) for v in column if math.isfinite(v)]
    scale = max([1.0, *finite])
    return [v / scale if math.isfinite(v) else math.copysign(1.0, v) if v == v else 0.0 for v in column], scale


def _python_pictures(
    model: MLP, inputs_grid: list[list[float]], inputs_heat: list[list[float]], loss: str
) -> tuple[str, str, list[float]]:
    outputs = _python_layers(model, inputs_grid)[-1]
    scores = boundary_scores(outputs, loss)
    classes = len(outputs[0]) > 1
    units: list[float] = []
    scales: list[float] = []
    layers = [inputs_heat, *_python_layers(model, inputs_heat)]
    for layer in layers:
        for column in zip(*layer, strict=True):
            values, scale = _heat(list(column))
            units.extend(values)
            scales.append(scale)
    return encode(scores, 1.0 if classes else 127.0), encode(units), scales


def _numpy_bytes(values: Any) -> str:
    import numpy as np

    clipped = np.clip(np.round(np.nan_to_num(values, nan=0.0, posinf=127.0, neginf=-127.0)), -127, 127)
    return base64.b64encode(clipped.astype(np.int8).tobytes()).decode("ascii")


def _numpy_pictures(
    model: MLP, inputs_grid: list[list[float]], inputs_heat: list[list[float]], loss: str
) -> tuple[str, str, list[float]]:
    import numpy as np

    outputs = _numpy_layers(model, inputs_grid)[-1]
    with np.errstate(all="ignore"):
        if outputs.shape[1] > 1:
            boundary = _numpy_bytes(np.argmax(np.nan_to_num(outputs, nan=-np.inf), axis=1).astype(float))
        else:
            out = outputs[:, 0]
            scores = np.tanh(out / 2.0) if loss == "bce" else np.clip(out, -1.0, 1.0)
            boundary = _numpy_bytes(127.0 * np.nan_to_num(scores, nan=0.0))
        layers = np.hstack([np.asarray(inputs_heat, dtype=float), *_numpy_layers(model, inputs_heat)])
        finite = np.where(np.isfinite(layers), np.abs(layers), 0.0)
        scales = np.maximum(1.0, finite.max(axis=0))
        scaled = np.where(np.isnan(layers), 0.0, np.clip(layers / scales, -1.0, 1.0))
    return boundary, _numpy_bytes(127.0 * scaled.T.ravel()), scales.tolist()


def pictures(
    model: MLP,
    standardize: Callable[[list[float]], list[float]] | None,
    box: Sequence[float],
    grid: int,
    heat: int,
    loss: str,
    backend: str,
) -> dict[str, Any]:
    """The frame's pictures of a 2-D model: ``boundary`` (grid x grid scores), ``heat`` (every unit's heat x heat
    picture, the inputs first, then each layer's neurons in order) and ``heat_scale`` (each unit's scale).

    ``box`` is the plane as the page shows it; ``standardize`` maps a shown point to the model's inputs (a
    ``Standardize``, or None when the model sees the plane as shown).
    """
    inputs_grid = grid_points(box, grid)
    inputs_heat = grid_points(box, heat)
    if standardize is not None:
        inputs_grid = [standardize(p) for p in inputs_grid]
        inputs_heat = [standardize(p) for p in inputs_heat]
    make = _numpy_pictures if backend == "numpy" else _python_pictures
    boundary, heatmaps, scales = make(model, inputs_grid, inputs_heat, loss)
    return {"boundary": boundary, "heat": heatmaps, "heat_scale": [round(s, 4) for s in scales]}


class Standardize:
    """The map from a point as the page shows it to the model's inputs: ``(x - mean) / scale`` per column, the
    same arithmetic as scikit-learn's ``StandardScaler.transform`` (what ``jangrad.data.standardize`` runs)."""

    def __init__(self, mean: Sequence[float], scale: Sequence[float]) -> None:
        self.mean = [float(m) for m in mean]
        self.scale = [float(s) for s in scale]

    def __call__(self, point: Sequence[float]) -> list[float]:
        return [(x - m) / s for x, m, s in zip(point, self.mean, self.scale, strict=True)]

    def inverse(self, point: Sequence[float]) -> list[float]:
        return [z * s + m for z, m, s in zip(point, self.mean, self.scale, strict=True)]
