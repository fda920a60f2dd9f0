"""The built-in losses on arrays, with their gradients: what fit's compiled run uses after the batch tape.

Each entry computes, from the predictions of a whole batch (a ``(B, outputs)`` array), the loss ``losses.py``
gives for that batch and its gradient with respect to every prediction, by the same formulas (the derivative
written out as the eager chain rule would produce it). Nothing is read when a graph is traced, so nothing goes
stale as the weights move: cross-entropy's shift is each sample's largest logit at this step, and binary
cross-entropy uses ``losses.py``'s one branch-free formula.

``targets(y, width, single)`` checks the targets as ``losses.py`` would and lays them out as an array, or returns None
when some target would be refused: ``fit`` then trains eagerly, so the error comes from ``losses.py`` itself,
word for word, at the step that meets it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from .. import losses

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .kernels import FloatArray, IndexArray

Targets: TypeAlias = "FloatArray | IndexArray"
"""A batch's targets laid out for its loss: float rows (``(B, outputs)``), or class indices for cross-entropy."""
TargetsOf: TypeAlias = "Callable[[Sequence[Any], int, bool], Targets | None]"

__all__ = ["LOSSES", "BatchLoss"]


@dataclass(frozen=True)
class BatchLoss:
    """A loss on arrays: ``targets(y, width, single)`` -> array or None; ``value_and_grad(Z, T)`` -> (loss,
    dloss/dZ)."""

    targets: TargetsOf
    value_and_grad: Callable[[FloatArray, NDArray[Any]], tuple[float, FloatArray]]


def _is_number(t: object) -> bool:
    return isinstance(t, numbers.Real) and not isinstance(t, bool)


# ---- targets ---------------------------------------------------------------------------------------------------------
# Each gets the targets, the model's number of outputs, and whether it returns one Value (not a list).
def _vector_targets(y: Sequence[Any], width: int, single: bool) -> FloatArray | None:
    rows = []
    for t in y:
        if single:
            row = [t]
        elif isinstance(t, Sequence) and not isinstance(t, (str, bytes)):
            row = list(t)
        else:
            return None
        if len(row) != width or not all(_is_number(v) for v in row):
            return None
        rows.append([float(v) for v in row])
    return np.array(rows, dtype=np.float64).reshape(len(rows), width)


def _labels(allowed: Callable[[float], bool]) -> TargetsOf:
    def targets(y: Sequence[Any], width: int, single: bool) -> FloatArray | None:
        if width != 1 or not all(_is_number(t) and allowed(float(t)) for t in y):
            return None
        return np.array([[float(t)] for t in y], dtype=np.float64)

    return targets


def _classes(y: Sequence[Any], width: int, single: bool) -> IndexArray | None:
    if width < 2 or single:
        return None
    if set(map(type, y)) == {int}:  # the usual labels, checked and converted at C speed
        try:
            classes = np.fromiter(y, dtype=np.intp, count=len(y))
        except OverflowError:  # beyond any class index
            return None
        return classes if classes.min() >= 0 and classes.max() < width else None
    for c in y:
        if not _is_number(c) or not float(c).is_integer() or not 0 <= c < width:
            return None
    return np.array([int(c) for c in y], dtype=np.intp)


# ---- values and gradients -------------------------------------------------------------------------------------------
def _sse(Z: FloatArray, T: FloatArray) -> tuple[float, FloatArray]:
    error = Z - T
    return float(np.sum(error * error)), 2.0 * error


def _mse(Z: FloatArray, T: FloatArray) -> tuple[float, FloatArray]:
    error = Z - T
    scale = 1.0 / error.size
    return float(np.sum(error * error)) * scale, scale * (2.0 * error)


def _hinge(Z: FloatArray, T: FloatArray) -> tuple[float, FloatArray]:
    margin = 1.0 - T * Z
    scale = 1.0 / Z.shape[0]
    loss = float(np.sum(np.where(margin <= 0.0, 0.0, margin))) * scale
    return loss, scale * np.where(margin > 0.0, 1.0, 0.0) * -T


def _bce(Z: FloatArray, T: FloatArray) -> tuple[float, FloatArray]:
    # (1/2 - t) z + |z|/2 + log(1 + exp(-|z|)), as losses.bce_with_logits writes it.
    size = np.abs(Z)
    e = np.exp(-size)
    terms = Z * (0.5 - T) + 0.5 * size + np.log(1.0 + e)
    scale = 1.0 / Z.shape[0]
    sign = np.where(Z > 0.0, 1.0, np.where(Z < 0.0, -1.0, Z * 0.0))
    d_size = 0.5 - e / (1.0 + e)
    return float(np.sum(terms)) * scale, scale * ((0.5 - T) + sign * d_size)


def _cross_entropy(Z: FloatArray, classes: IndexArray) -> tuple[float, FloatArray]:
    # log(sum_k exp(z_k - m)) + m - z_c, m the sample's largest logit at this step.
    top = Z.max(axis=1, keepdims=True)
    e = np.exp(Z - top)
    total = e.sum(axis=1, keepdims=True)
    rows = np.arange(Z.shape[0])
    terms = np.log(total[:, 0]) + top[:, 0] - Z[rows, classes]
    scale = 1.0 / Z.shape[0]
    grad = e / total
    grad[rows, classes] -= 1.0
    return float(np.sum(terms)) * scale, scale * grad


LOSSES: dict[Callable, BatchLoss] = {
    losses.sse: BatchLoss(_vector_targets, _sse),
    losses.mse: BatchLoss(_vector_targets, _mse),
    losses.hinge: BatchLoss(_labels(lambda t: t in (-1.0, 1.0)), _hinge),
    losses.bce_with_logits: BatchLoss(_labels(lambda t: 0.0 <= t <= 1.0), _bce),
    losses.cross_entropy: BatchLoss(_classes, _cross_entropy),
}
