"""The compiled training step: what ``fit`` runs instead of building a new graph for every batch.

``fit`` builds the same graph at every step: only the batch's numbers change. Here the graph for one batch size
is built once, with the inputs and the targets as leaf Values, and compiled into a tape (``compile.py``). A step
then writes the batch into those leaves and replays the tape. One tape per batch size (a last, smaller batch gets
its own).

This needs a graph whose structure does not depend on the data, so the built-in losses are rebuilt here with the
targets as leaves, computing the same values and gradients as ``losses.py``:

* sse, mse, hinge: the same formulas, with each target a leaf instead of a constant;
* bce: ``-t z - log(sigmoid(-z))``, one formula for both signs of z instead of ``losses.py``'s two branches
  (equal values and gradients; it overflows only for logits beyond about 700, where fit then stops with
  ``TrainingDiverged``: pass ``compiled=False`` there);
* cross-entropy: the target class as a one-hot row of leaves, ``log(sum exp(z - s)) + s - sum(onehot * z)``,
  where the shift s (one leaf per sample) is that sample's largest logit at the previous step: any shift gives
  the same value, it only has to keep exp from overflowing. When the logits moved so far that it no longer does
  (the first step, say), the step is replayed with this step's largest logits.

Any other model or loss (a user's own function, whose graph may branch on data) makes ``compiled_step`` return
None, and ``fit`` runs eagerly as before.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable, Sequence

from .. import losses
from .tape import compile
from ..engine import Value

__all__ = ["compiled_step", "CompiledStep"]


def compiled_step(model, loss_fn: Callable) -> CompiledStep | None:
    """A drop-in for ``train._loss_and_backward`` that replays tapes, or None when this model/loss can't use one."""
    from ..nn import Module

    try:
        import numpy  # noqa: F401  (the tape needs it; without it fit stays eager)
    except ImportError:
        return None
    if not isinstance(model, Module) or loss_fn not in _COMPILED_LOSSES:
        return None
    return CompiledStep()


class _BatchTape:
    """The tape for one batch size: its input leaves, target leaves and the prediction nodes it reads back."""

    def __init__(self, model, loss_fn: Callable, l2: float, params: list[Value], X_batch: Sequence) -> None:
        self.x_leaves = [[Value(0.0) for _ in row] for row in X_batch]
        predictions = [model(x) for x in self.x_leaves]
        self.outputs = [p if isinstance(p, list) else [p] for p in predictions]
        self.single = not isinstance(predictions[0], list)
        self.shifts = [Value(0.0) for _ in self.outputs]  # cross-entropy only: see the module docstring
        build, self.target_rows, per_output = _COMPILED_LOSSES[loss_fn]
        self.y_leaves = [[Value(0.0) for _ in (outputs if per_output else [None])] for outputs in self.outputs]
        loss = build(self, self.outputs, self.y_leaves)
        if l2:
            loss = loss + l2 * losses.l2(params)
        self.flat_outputs = [p for outputs in self.outputs for p in outputs]
        self.tape = compile(loss, inputs=params, keep=self.flat_outputs)

    def run(self, X_batch: Sequence, y_batch: Sequence, loss_fn: Callable) -> tuple[float, list]:
        for leaves, row in zip(self.x_leaves, X_batch):
            for leaf, v in zip(leaves, row):
                leaf.data = float(v)
        for leaves, target in zip(self.y_leaves, self.target_rows(y_batch, self.outputs)):
            for leaf, v in zip(leaves, target):
                leaf.data = v
        loss = self.tape.forward()
        values = self.tape.read(self.flat_outputs)
        width = len(self.outputs[0])
        rows = values if self.single else [values[k:k + width] for k in range(0, len(values), width)]
        if loss_fn is losses.cross_entropy:  # never single: cross-entropy needs two outputs or more
            tops = [max(row) for row in rows]
            stale = not math.isfinite(loss) and any(s.data != top for s, top in zip(self.shifts, tops))
            for shift, top in zip(self.shifts, tops):
                shift.data = top  # any value is exact; each sample's largest logit keeps exp finite
            if stale:
                loss = self.tape.forward()
        self.tape.backward()
        return loss, rows


class CompiledStep:
    """Called like ``train._loss_and_backward``: computes one batch's loss, backpropagates, returns predictions."""

    def __init__(self) -> None:
        self.tapes: dict[int, _BatchTape] = {}  # batch size -> its tape

    def __call__(self, model, X_batch: Sequence, y_batch: Sequence, loss_fn: Callable, l2: float,
                 params: list[Value]) -> tuple[float, list]:
        batch_tape = self.tapes.get(len(X_batch))
        if batch_tape is None:
            batch_tape = _BatchTape(model, loss_fn, l2, params, X_batch)
            self.tapes[len(X_batch)] = batch_tape
        return batch_tape.run(X_batch, y_batch, loss_fn)


# ---- the losses, with targets as leaves ------------------------------------------------------------------------------
def _total(terms) -> Value:
    total = None
    for term in terms:
        total = term if total is None else total + term
    return total


def _squared_errors(outputs, targets) -> list[Value]:
    return [(p - t) ** 2 for ps, ts in zip(outputs, targets) for p, t in zip(ps, ts)]


def _sse(batch: _BatchTape, outputs, targets) -> Value:
    return _total(_squared_errors(outputs, targets))


def _mse(batch: _BatchTape, outputs, targets) -> Value:
    errors = _squared_errors(outputs, targets)
    return _total(errors) * (1.0 / len(errors))


def _hinge(batch: _BatchTape, outputs, targets) -> Value:
    terms = [(1.0 - t[0] * ps[0]).relu() for ps, t in zip(outputs, targets)]
    return _total(terms) * (1.0 / len(terms))


def _bce(batch: _BatchTape, outputs, targets) -> Value:
    terms = [-(t[0] * ps[0]) - (-ps[0]).sigmoid().log() for ps, t in zip(outputs, targets)]
    return _total(terms) * (1.0 / len(terms))


def _cross_entropy(batch: _BatchTape, outputs, targets) -> Value:
    terms = [_total((z - s).exp() for z in zs).log() + s - _total(o * z for o, z in zip(onehot, zs))
             for zs, onehot, s in zip(outputs, targets, batch.shifts)]
    return _total(terms) * (1.0 / len(terms))


# Each checks the targets as losses.py does (same errors), then lays them out for the target leaves.
def _vector_targets(y: Sequence, outputs) -> list[list[float]]:
    rows = [[float(v) for v in t] if isinstance(t, (list, tuple)) else [float(t)] for t in y]
    for i, (row, zs) in enumerate(zip(rows, outputs)):
        if len(row) != len(zs):
            raise ValueError(f"sample {i}: the model has {len(zs)} outputs, so its target must be a list of "
                             f"{len(zs)} numbers, got {y[i]!r}")
    return rows


def _signed_labels(y: Sequence, outputs) -> list[list[float]]:
    labels = [losses._number(t, f"label {i}", "hinge") for i, t in enumerate(y)]
    for i, t in enumerate(labels):
        if t not in (-1.0, 1.0):
            raise ValueError(f"hinge: labels must be -1 or +1, got {t!r} at index {i} (for 0/1 labels use 2*y - 1)")
    return [[t] for t in labels]


def _probabilities(y: Sequence, outputs) -> list[list[float]]:
    targets = [losses._number(t, f"target {i}", "bce_with_logits") for i, t in enumerate(y)]
    for i, t in enumerate(targets):
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"bce_with_logits: targets must lie in [0, 1], got {t!r} at index {i}")
    return [[t] for t in targets]


def _one_hot(y: Sequence, outputs) -> list[list[float]]:
    for i, (c, zs) in enumerate(zip(y, outputs)):
        if len(zs) < 2:
            raise TypeError(f"cross_entropy: logits {i} must be a list of at least 2 Values (one per class), "
                            f"got {zs!r}")
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not float(c).is_integer():
            raise TypeError(f"cross_entropy: class {i} must be a class index (int), got {c!r}")
        if not 0 <= c < len(zs):
            raise ValueError(f"cross_entropy: class index {int(c)} at sample {i} is outside 0..{len(zs) - 1}")
    return [[1.0 if k == int(c) else 0.0 for k in range(len(zs))] for c, zs in zip(y, outputs)]


# Each built-in loss: its graph with targets as leaves, what goes into those leaves for a batch of targets, and
# whether a sample has one target leaf per model output (else one per sample).
_COMPILED_LOSSES = {
    losses.sse: (_sse, _vector_targets, True),
    losses.mse: (_mse, _vector_targets, True),
    losses.hinge: (_hinge, _signed_labels, False),
    losses.bce_with_logits: (_bce, _probabilities, False),
    losses.cross_entropy: (_cross_entropy, _one_hot, True),
}
