"""The compiled training run: what ``fit`` uses instead of building a new graph for every sample of every batch.

``fit`` builds the same model graph for every sample: only the numbers change. Here that graph is traced once
for ONE sample (``batch_tape.BatchTape``) and replayed over each batch with NumPy, a layer as one matrix product.
(The built-in ``nn.MLP``'s graph is listed from the model's shape instead of traced, ``mlp_listing``: the same
arrays without building 50,000 Values.) Around it, everything a training step does runs on arrays too:

* the parameters live in one array while ``fit`` runs; the model's Values are written back (``sync``) when
  ``fit`` returns or stops, so a user who reads a weight afterwards, saves the model or looks at ``.grad``
  sees what the eager loop would have left there, without paying for it at every step;
* the built-in losses are computed on the ``(batch, outputs)`` array of predictions with their gradient
  (``batch_losses``): the same formulas as ``losses.py``, with nothing read at trace time, so nothing is stale
  when the weights move;
* the optimizer moves the parameter array in one go (``Optimizer.step_arrays``) when it optimizes the model's
  own parameters with a rule that has an array form (SGD, Adam, AdamW); otherwise its ordinary ``step()`` runs
  on the Values, which are synced for it.

``compiled_training`` returns None when this cannot apply (a model that is not a jangrad module, a loss of the
user's own, targets the loss refuses, no NumPy), and ``fit`` runs eagerly as before; eagerly, the same errors
come from the same place.
"""

from __future__ import annotations

import contextlib
import gc
import operator
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..engine import Value

if TYPE_CHECKING:
    from ..optim import Optimizer
    from .batch_losses import BatchLoss, Targets
    from .batch_tape import BatchTape
    from .kernels import FloatArray, IndexArray

__all__ = ["compiled_training", "CompiledTraining"]

_read_data = operator.attrgetter("data")


def compiled_training(
    model: Callable[[list[Value]], Any],
    X: Sequence[Sequence[Any]],
    y: Sequence[Any],
    loss_fn: Callable[..., Any],
    l2: float,
    optimizer: Optimizer,
    params: list[Value],
) -> CompiledTraining | None:
    """The compiled run for ``fit``, or None when this model, loss or data must train eagerly."""
    from ..nn import Module

    try:
        import numpy  # noqa: F401
    except ImportError:  # the tape needs NumPy; without it fit stays eager
        return None
    from . import batch_losses

    if not isinstance(model, Module) or loss_fn not in batch_losses.LOSSES or not len(X):
        return None
    with _collector_paused():
        # The trace's graph is dropped when _traced_run returns, before the collector is back: it never sees it.
        return _traced_run(model, X, y, loss_fn, l2, optimizer, params)


_pauses = 0  # how many threads are inside _collector_paused
_collector_was_on = False
_pausing = threading.Lock()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """CPython's cyclic garbage collector off while fit traces one sample and builds its tape, then as it was.

    The trace makes some 50,000 Values for a wide model, which the collector would otherwise scan again and again as
    they pile up (a sixth of fit's first step) and never free: a jangrad graph has no reference cycles. Threads that
    pause it together leave it as it was before the first of them.
    """
    global _pauses, _collector_was_on
    with _pausing:
        if _pauses == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pausing:
            _pauses -= 1
            if _pauses == 0 and _collector_was_on:
                gc.enable()


def _traced_run(
    model: Callable[[list[Value]], Any],
    X: Sequence[Sequence[Any]],
    y: Sequence[Any],
    loss_fn: Callable[..., Any],
    l2: float,
    optimizer: Optimizer,
    params: list[Value],
) -> CompiledTraining | None:
    """compiled_training's work once it has settled that the model and the loss qualify."""
    import numpy as np

    from . import batch_losses
    from .batch_tape import BatchTape
    from .mlp_listing import list_mlp

    listed = list_mlp(model, params)  # the built-in MLP's graph, listed without building it
    if listed is not None:
        traced, inputs, n_outputs = listed
        single = n_outputs == 1  # MLP returns its one output as a Value, not a list
    else:
        inputs = [Value(0.0) for _ in X[0]]
        outputs = model(inputs)  # one sample's graph: the trace
        single = not isinstance(outputs, list)
        outputs = [outputs] if single else outputs
        if not all(isinstance(o, Value) for o in outputs):
            return None
        n_outputs = len(outputs)
    loss = batch_losses.LOSSES[loss_fn]
    targets = loss.targets(y, n_outputs, single)
    if targets is None:  # the eager loss raises its own error, at the step that meets the bad target
        return None
    try:  # fit has checked that every entry is a real number: NumPy converts lists of floats and ints at C speed
        X_array = np.array(X, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # other number types (Fraction, Decimal), each as float() does
        X_array = np.array([[float(v) for v in row] for row in X], dtype=np.float64)
    if listed is not None:
        tape = BatchTape.from_listing(traced, n_outputs, len(inputs), len(params))
    else:
        tape = BatchTape(inputs, outputs, params)
    return CompiledTraining(tape, single, X_array, targets, loss, l2, optimizer, params)


class CompiledTraining:
    """One ``fit`` run on the batch tape: ``loss_and_backward(indices)``, ``step()``, and ``sync()`` at the end."""

    def __init__(
        self,
        tape: BatchTape,
        single: bool,
        X: FloatArray,
        targets: Targets,
        loss: BatchLoss,
        l2: float,
        optimizer: Optimizer,
        params: list[Value],
    ) -> None:
        import numpy as np

        self._np = np
        self.params = params
        self.X = X
        self.targets = targets
        self.loss = loss
        self.l2 = l2
        self.optimizer = optimizer
        self.single = single
        from ..optim import SGD, Adam, AdamW

        self.tape = tape
        self.theta: FloatArray = np.fromiter(map(_read_data, params), dtype=np.float64, count=len(params))
        self.opt_index: IndexArray | None = None
        self.array_step = optimizer.has_array_step()
        # The common case, an optimizer made from model.parameters(): the same Values in the same order.
        same = len(optimizer.params) == len(params) and all(map(operator.is_, optimizer.params, params))
        if self.array_step and not same:
            position = {id(p): k for k, p in enumerate(params)}
            self.array_step = all(id(p) in position for p in optimizer.params)
            if self.array_step:
                self.opt_index = np.array([position[id(p)] for p in optimizer.params], dtype=np.intp)
        # Where the optimizer's own rule (element by element) moves every parameter, the parameters live where the
        # tape reads them, in its slot order (``order[i]``: the parameter in slot i): no copy in or out per step.
        self.order: IndexArray | None = None
        view = self.tape.params_view
        if same and self.array_step and type(optimizer) in (SGD, Adam, AdamW) and view is not None:
            self.order = self.tape.param_order
            view[:] = self.theta[self.order]
            self.theta = view
        self.grad = np.zeros_like(self.theta)

    def loss_and_backward(self, indices: Sequence[int], predictions: bool = True) -> tuple[float, list[Any] | None]:
        """One batch's loss (plus ``l2`` times the sum of squared parameters) and the parameters' gradient; the
        predictions come back as ``fit``'s eager step gives them (floats, or lists of floats), or None when
        ``predictions`` is False (no metric reads them)."""
        np = self._np
        rows = np.asarray(indices, dtype=np.intp)
        in_place = self.order is not None
        outputs = self.tape.forward(self.X[rows], None if in_place else self.theta)
        with np.errstate(all="ignore"):
            loss, d_outputs = self.loss.value_and_grad(outputs, self.targets[rows])
            self.grad = self.tape.backward(d_outputs, in_slot_order=in_place)
            if self.l2:
                loss = loss + self.l2 * float(np.dot(self.theta, self.theta))
                self.grad += 2.0 * (self.l2 * self.theta)
        if not predictions:
            return float(loss), None
        return float(loss), outputs[:, 0].tolist() if self.single else outputs.tolist()

    def step(self) -> None:
        """The optimizer's step, on the parameter array."""
        if not self.array_step:
            self.optimizer.zero_grad()  # its own parameters outside the model get 0, as in the eager loop
            self.sync()
            self.optimizer.step()
            self.theta[:] = [p.data for p in self.params]
            return
        if self.opt_index is None:
            self.optimizer.step_arrays(self.theta, self.grad, order=self.order)
        else:
            chosen = self.theta[self.opt_index]
            self.optimizer.step_arrays(chosen, self.grad[self.opt_index])
            self.theta[self.opt_index] = chosen

    def sync(self) -> None:
        """Write the parameters, their last gradients and the optimizer's buffers back where users read them."""
        theta, grad = self.theta, self.grad
        if self.order is not None:  # from the tape's slot order back to the parameters' own
            theta, grad = theta.copy(), grad.copy()
            theta[self.order] = self.theta
            grad[self.order] = self.grad
        for p, value, g in zip(self.params, theta.tolist(), grad.tolist(), strict=True):
            p.data = value
            p.grad = g
        self.optimizer.sync_arrays()
