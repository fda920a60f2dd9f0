"""``fit``: the training loop every example in the lecture writes by hand, with batches, a history and a bar.

One step is: set the learning rate (from the schedule, if any), zero the gradients, compute the batch's loss and
run ``backward()`` (all in ``_loss_and_backward``), stop if the loss has blown up, record the loss, learning rate
and accuracy, and let the optimizer move the parameters. The compiled run (``compiled/training.py``) replaces the
zeroing, ``_loss_and_backward`` and the optimizer's step, and writes the parameters back when the loop ends (and
before each ``on_step`` call).

A loss has blown up when it is nan or infinite, or when it is more than ``max_loss_growth`` (1000) times the
starting loss: a run whose loss went from 1.2 to 5e21 in five steps has diverged even if its saturated network then
settles at a finite loss. The starting loss is the first step's loss when every step sees all the data; with
mini-batches, whose losses differ from batch to batch, it is the largest loss of the first batches (one epoch's
worth, at most 10), and the growth check starts after them. It counts as at least 1e-12, so that a run starting at
a loss of 0 is not stopped by the first rounding error.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TextIO

from . import losses as losses_module
from .checks import whole_number
from .data import check_dataset
from .engine import Value
from .io.files import write_text
from .optim import Optimizer, make_optimizer
from .schedules import make_schedule

__all__ = ["fit", "History", "TrainingDiverged", "TrainingInterrupted"]

METRICS = ("loss", "accuracy")
DEFAULT_LR = {"sgd": 0.05, "adam": 0.01, "adamw": 0.01}
MAX_LOSS_GROWTH = 1000.0
_SMALLEST_START_LOSS = 1e-12
_MOST_START_STEPS = 10


class TrainingDiverged(ArithmeticError):
    """The loss became nan or infinite, or grew past ``max_loss_growth`` times the starting loss (module docstring).

    ``step``, ``loss``, ``lr`` and the ``history`` so far are attributes; ``start_loss`` is the loss the growth
    was measured from (None when the run stopped on a nan or infinite loss).
    """

    def __init__(
        self,
        step: int,
        loss: float,
        lr: float,
        history: History,
        start_loss: float | None = None,
        growth: float | None = None,
    ) -> None:
        self.step, self.loss, self.lr, self.history = step, loss, lr, history
        self.start_loss = start_loss if math.isfinite(loss) else None
        why = ""
        if self.start_loss is not None:
            times = loss / max(self.start_loss, _SMALLEST_START_LOSS)
            why = f" ({times:.3g} times the starting loss {self.start_loss:.6g}; the limit is {growth:g} times)"
        super().__init__(
            f"training diverged at step {step}: the loss is {loss!r}{why} with learning rate {lr!r}. A learning "
            f"rate that is too high is the usual cause: try a smaller one (such as {lr / 10:g})."
        )


def _blown_up(loss: float, start_loss: float | None, growth: float | None) -> bool:
    """Whether ``loss`` means the run diverged (see the module docstring); ``start_loss`` is None until known."""
    if not math.isfinite(loss):
        return True
    if growth is None or start_loss is None:
        return False
    return loss > growth * max(start_loss, _SMALLEST_START_LOSS)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``fit``: still a KeyboardInterrupt, carrying the ``history`` of the steps done so far."""

    def __init__(self, history: History) -> None:
        self.history = history
        super().__init__(f"training interrupted after {len(history)} steps")


class History:
    """What ``fit`` measured at each step: ``step``, ``loss``, ``lr`` and ``accuracy`` (lists, one entry per step).

    Steps count from 0. Loss and accuracy are those of the batch the step trained on, measured before its update.
    ``accuracy`` stays empty when the targets are not class labels. ``seconds`` is the wall time of the run.
    """

    def __init__(self) -> None:
        self.step: list[int] = []
        self.loss: list[float] = []
        self.lr: list[float] = []
        self.accuracy: list[float] = []
        self.seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.step)

    def __repr__(self) -> str:
        if not self.step:
            return "History(no steps)"
        accuracy = f", accuracy {self.accuracy[-1]:.3f}" if self.accuracy else ""
        return f"History({len(self)} steps, final loss {self.loss[-1]:.6g}{accuracy}, {self.seconds:.2f} s)"

    @property
    def metrics(self) -> dict[str, list[float]]:
        """The metric series recorded besides the loss, by name (``{"accuracy": [...]}`` or ``{}``)."""
        return {"accuracy": self.accuracy} if self.accuracy else {}

    def columns(self) -> dict[str, list[Any]]:
        """The recorded series by name (only the ones that were recorded)."""
        return {"step": self.step, "loss": self.loss, "lr": self.lr, **self.metrics}

    def to_csv(self, path: str) -> None:
        """One row per step: step, loss, lr[, accuracy]. Written atomically (temporary file, then renamed)."""
        write_text(path, csv_text(self.columns()), newline="")  # csv chose the line endings already

    def to_json(self, path: str) -> None:
        """``{"step": [...], "loss": [...], "lr": [...], "accuracy": [...], "seconds": ...}``, written atomically."""
        document = {**self.columns(), "seconds": self.seconds}
        write_text(path, json.dumps(document, indent=1))


class Model(Protocol):
    """What ``fit`` trains: a callable on one sample with ``parameters()``, such as ``nn.MLP``."""

    def __call__(self, x: Any) -> Any: ...

    def parameters(self) -> list[Value]: ...


class Progress(Protocol):
    """What ``fit`` reports its progress to: a tqdm bar, or the plain progress lines."""

    def update(self, steps: int) -> Any: ...

    def set_postfix(self, shown: dict[str, object], refresh: bool = False) -> Any: ...

    def close(self) -> Any: ...


# ---- the step that a compiled tape replaces ---------------------------------------------------------------------
def _loss_and_backward(
    model: Model,
    X_batch: Sequence[Any],
    y_batch: Sequence[Any],
    loss_fn: Callable[..., Any],
    l2: float,
    params: list[Value],
) -> tuple[float, list[float | list[Any]]]:
    """Compute one batch's loss (plus ``l2`` times the sum of squared parameters) and run ``backward()``.

    Returns the loss as a float and the predictions as floats (or lists of floats), for the metrics.
    """
    predictions = [model(x) for x in X_batch]
    loss = loss_fn(predictions, y_batch)
    if not isinstance(loss, Value):
        raise TypeError(f"the loss function must return a Value, got {loss!r} of type {type(loss).__name__}")
    if l2:
        loss = loss + l2 * losses_module.l2(params)
    loss.backward()
    return loss.data, [_floats(p) for p in predictions]


def _floats(prediction: Any) -> float | list[Any]:
    if isinstance(prediction, Value):
        return prediction.data
    if isinstance(prediction, (list, tuple)):
        return [_floats(p) for p in prediction]
    return float(prediction)


def csv_text(columns: dict[str, list[Any]]) -> str:
    """Columns as CSV text, a header then one row per step: ``repr`` of each number, None as an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(columns))
    for row in zip(*columns.values(), strict=True):
        writer.writerow(["" if v is None else repr(v) for v in row])
    return buffer.getvalue()


# ---- accuracy ----------------------------------------------------------------------------------------------------
def _accuracy_rule(y: Sequence[Any], loss_name: str) -> Callable[[Any, Any], bool] | None:
    """How to tell a right prediction from a wrong one for these targets, or None when they are not labels.

    Labels -1/+1: the sign decides. Labels 0/1 with one output: a logit above 0 (for "bce") or an output above
    0.5 means 1. Class indices with several outputs: the largest output is the predicted class.
    """
    if not all(isinstance(t, numbers.Real) for t in y):
        return None  # lists of targets, or values the loss function will reject with a clear message
    if all(t in (-1, 1) for t in y):
        return lambda p, t: not isinstance(p, list) and (p > 0) == (t > 0)
    if not all(float(t).is_integer() and t >= 0 for t in y):
        return None
    threshold = 0.0 if loss_name == "bce" else 0.5

    def right(p: Any, t: float) -> bool:
        if isinstance(p, list):
            return p.index(max(p)) == int(t)  # the first largest output, found at C speed
        return t in (0, 1) and (p > threshold) == (t == 1)

    return right


def _accuracy(rule: Callable[[Any, Any], bool], predictions: list[Any], targets: Sequence[Any]) -> float:
    return sum(1 for p, t in zip(predictions, targets, strict=True) if rule(p, t)) / len(targets)


def accuracy_of(predictions: list[Any], targets: Sequence[Any], loss_name: str) -> float | None:
    """The fraction of ``predictions`` (Values, or lists of them) that ``fit`` counts as right for ``targets``, or
    None where accuracy means nothing (real-valued targets, or none at all)."""
    rule = _accuracy_rule(targets, loss_name)
    if rule is None or not targets:
        return None
    return _accuracy(rule, [_floats(p) for p in predictions], targets)


# ---- argument checks ----------------------------------------------------------------------------------------------
def _positive_int_or_none(value: object, name: str) -> int | None:
    return None if value is None else whole_number(value, name)


def _resolve_loss(loss: str | Callable[..., Value]) -> tuple[Callable[..., Value], str]:
    fn = losses_module.get(loss)
    names = {fn_: name for name, fn_ in losses_module.LOSSES.items()}
    return fn, names.get(fn, loss if isinstance(loss, str) else "")


def _resolve_optimizer(optimizer: Optimizer | str | None, lr: float | None, params: list[Value]) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            raise ValueError("give lr either to the optimizer or to fit, not both")
        return optimizer
    if optimizer is None:
        optimizer = "sgd"
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be an optim.SGD/Adam/AdamW or a name such as 'sgd', got {optimizer!r}")
    return make_optimizer(optimizer, params, DEFAULT_LR.get(optimizer.lower(), 0.01) if lr is None else lr)


def _resolve_schedule(
    schedule: str | Callable[[int], float] | None, lr: float, total: int
) -> Callable[[int], float] | None:
    if schedule is None or callable(schedule):
        return schedule
    if isinstance(schedule, str):
        return make_schedule(schedule, lr, total)
    raise TypeError(
        f"schedule must be a name ('linear', 'step', 'cosine'), a function of the step, or None, got {schedule!r}"
    )


def _batches(n: int, batch_size: int, rng: random.Random) -> Iterator[list[int]]:
    """Endless index batches: a fresh shuffle each epoch; full batches keep the data's order (nothing to mix)."""
    order = list(range(n))
    while True:
        if batch_size < n:
            rng.shuffle(order)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]


class _ProgressLines:
    """Progress where there is no terminal (a notebook's ``!jangrad train``, a pipe, CI): a line every few seconds
    with the step, the loss, the rate and the time left, instead of a bar that would print a line per redraw."""

    def __init__(self, total: int, every: float = 5.0, stream: TextIO | None = None) -> None:
        self.total, self.every, self.stream = total, every, stream or sys.stderr
        self.done = 0
        self.shown: dict[str, object] = {}
        self.started = self.last = time.perf_counter()

    def set_postfix(self, shown: dict[str, object], refresh: bool = False) -> None:
        self.shown = shown

    def update(self, steps: int) -> None:
        self.done += steps
        now = time.perf_counter()
        if now - self.last >= self.every and self.done < self.total:
            self.last = now
            rate = self.done / (now - self.started)
            numbers = "".join(f", {name} {value}" for name, value in self.shown.items())
            self.stream.write(
                f"training: step {self.done}/{self.total}{numbers}, {rate:.3g} steps/s, "
                f"{(self.total - self.done) / rate:.0f} s left\n"
            )
            self.stream.flush()

    def close(self) -> None:
        pass


def _progress_bar(total: int, progress: bool) -> Progress | None:
    """A tqdm bar on a terminal, progress lines elsewhere (or without tqdm), or None when asked for none."""
    if not progress:
        return None
    try:
        interactive = sys.stderr.isatty()
    except (AttributeError, ValueError):
        interactive = False
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm comes with the [viz] extra; without it a terminal gets the plain progress lines
        interactive = False
    if not interactive:
        return _ProgressLines(total)
    bar: Progress = tqdm(total=total, desc="training", unit="step")
    return bar


# ---- the loop ----------------------------------------------------------------------------------------------------
def fit(
    model: Model,
    X: Sequence[Any],
    y: Sequence[Any],
    loss: str | Callable[..., Value] = "sse",
    optimizer: Optimizer | str | None = None,
    steps: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    schedule: str | Callable[[int], float] | None = None,
    metrics: Sequence[str] = METRICS,
    seed: int | None = None,
    progress: bool = True,
    lr: float | None = None,
    l2: float = 0.0,
    compiled: bool = True,
    max_loss_growth: float | None = MAX_LOSS_GROWTH,
    on_step: Callable[[int, History], None] | None = None,
) -> History:
    """Train ``model`` on ``(X, y)`` and return the ``History`` of every step.

    ``loss``: a name ("sse", "mse", "hinge", "bce", "ce") or a function ``(predictions, targets) -> Value``;
    ``l2`` adds ``l2 * sum(p**2)`` over the parameters (micrograd's demo uses 1e-4).
    ``optimizer``: an ``optim`` optimizer, or a name ("sgd", "adam", "adamw") built with ``lr``.
    Give ``steps`` (optimizer steps) or ``epochs`` (passes over the data). ``batch_size=None`` uses every sample in
    every step; otherwise each epoch is shuffled into batches by ``seed`` (None counts as 0, so runs repeat).
    ``schedule``: a name ("linear", "step", "cosine"), a function of the step number, or None for a fixed lr.
    ``metrics``: which of "loss" and "accuracy" to record (the loss is always recorded; it is what training uses).
    ``compiled``: trace one sample's graph once and replay it over every batch (``compiled/training.py``; the same
    numbers to rounding, much faster) when the model is a jangrad module and the loss a built-in one; the
    parameters then move as one array and the model's Values are updated when ``fit`` returns. ``False`` builds
    and backpropagates a graph every step.
    Raises ``TrainingDiverged`` as soon as the loss is nan or infinite, or more than ``max_loss_growth`` times the
    starting loss (the first step's, or the largest of the first batches': see the module docstring; ``None`` lets
    only nan and infinity stop a run), and ``TrainingInterrupted`` (a KeyboardInterrupt) on Ctrl-C; both carry the
    ``history`` so far. ``progress`` shows a bar on a terminal and a line every few seconds elsewhere.
    ``on_step(step, history)``, if given, is called after each step's update (the history holds that step's
    numbers, and the model's Values its weights); an exception it raises ends the run (the playground pauses and
    stops runs this way).
    """
    if not callable(model) or not hasattr(model, "parameters"):
        raise TypeError(f"model must be a jangrad model (such as nn.MLP), got {model!r:.80}")
    params = model.parameters()
    check_dataset(X, y, getattr(model, "nin", None))
    loss_fn, loss_name = _resolve_loss(loss)
    if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not math.isfinite(l2) or l2 < 0:
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    if isinstance(metrics, str) or not all(m in METRICS for m in metrics):
        raise ValueError(f"metrics must be a list drawn from {METRICS}, got {metrics!r}")
    steps = _positive_int_or_none(steps, "steps")
    epochs = _positive_int_or_none(epochs, "epochs")
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps= (optimizer steps) or epochs= (passes over the data)")
    n = len(X)
    batch_size = min(_positive_int_or_none(batch_size, "batch_size") or n, n)
    total = steps if steps is not None else epochs * math.ceil(n / batch_size)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    opt = _resolve_optimizer(optimizer, lr, params)
    lr_at = _resolve_schedule(schedule, opt.lr, total)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    if on_step is not None and not callable(on_step):
        raise TypeError(f"on_step must be a function of (step, history) or None, got {on_step!r:.80}")
    if max_loss_growth is not None and (
        isinstance(max_loss_growth, bool)
        or not isinstance(max_loss_growth, numbers.Real)
        or not math.isfinite(max_loss_growth)
        or max_loss_growth <= 1
    ):
        raise ValueError(f"max_loss_growth must be a finite number above 1, or None, got {max_loss_growth!r}")

    run = None  # the compiled run (compiled/training.py), or None for the eager step
    if compiled:
        from .compiled.training import compiled_training

        run = compiled_training(model, X, y, loss_fn, l2, opt, params)

    rule = _accuracy_rule(y, loss_name) if "accuracy" in metrics else None
    start_steps = min(math.ceil(n / batch_size), _MOST_START_STEPS)  # see the module docstring
    start_loss = None
    rng = random.Random(0 if seed is None else int(seed))
    batches = _batches(n, batch_size, rng)
    history = History()
    bar = _progress_bar(total, progress)
    started = time.perf_counter()
    try:
        for step in range(total):
            if lr_at is not None:
                opt.lr = lr_at(step)
            indices = next(batches)
            y_batch = [y[i] for i in indices]
            if run is None:
                opt.zero_grad()
                X_batch = [X[i] for i in indices]
                loss_value, predictions = _loss_and_backward(model, X_batch, y_batch, loss_fn, l2, params)
            else:
                loss_value, predictions = run.loss_and_backward(indices, predictions=rule is not None)
            if _blown_up(loss_value, start_loss, max_loss_growth):
                history.seconds = time.perf_counter() - started
                raise TrainingDiverged(step, loss_value, opt.lr, history, start_loss, max_loss_growth)
            history.step.append(step)
            history.loss.append(loss_value)
            if step + 1 == start_steps:
                start_loss = max(history.loss)
            history.lr.append(opt.lr)
            if rule is not None:
                history.accuracy.append(_accuracy(rule, predictions, y_batch))
            if run is None:
                opt.step()
            else:
                run.step()
            if on_step is not None:
                if run is not None:
                    run.sync()  # the callback reads the model, as a user's would
                on_step(step, history)
            if bar is not None:
                shown = {"loss": f"{loss_value:.4g}"}
                if rule is not None:
                    shown["acc"] = f"{history.accuracy[-1]:.0%}"
                bar.set_postfix(shown, refresh=False)
                bar.update(1)
    except KeyboardInterrupt:
        history.seconds = time.perf_counter() - started
        raise TrainingInterrupted(history) from None
    finally:
        if run is not None:
            run.sync()  # the model's Values (and the optimizer's buffers) show where training got to
        if bar is not None:
            bar.close()
    history.seconds = time.perf_counter() - started
    return history
