"""One network-lab run as an object a caller steps: ``advance(n)`` runs up to n optimizer steps, ``frame()`` reads
what the page draws. No threads and no clock: ``jangrad serve`` drives it from a thread at the page's pace
(``training.py``), and a page running jangrad in a Web Worker can drive it from a loop.

A step is ``jangrad.fit``'s step, the same operations in the same order (``fit``'s own helpers choose the batches,
the schedule's rate, the accuracy rule and when the loss has blown up), so a run on the page equals ``jangrad
train``'s number for number: on the compiled tape when NumPy is there (``compiled/training.py``, as ``fit``), on
the eager engine otherwise (or with ``compiled=False``).

Besides the step, the session keeps what the page shows live: the training loss of every step; the test loss,
measured often enough to be a curve at any pace (every ``test_every`` steps and after the last); the data, which
the learner may change between steps (``add_point``, ``remove_point``); the sample whose graph is on screen
(``sample_graph.LiveSample``) and the parameter whose optimizer state is on screen.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
from typing import TYPE_CHECKING, Any

from .. import losses
from ..engine import Value
from ..optim import make_optimizer
from ..train import (
    _MOST_START_STEPS,
    MAX_LOSS_GROWTH,
    History,
    _accuracy,
    _accuracy_rule,
    _batches,
    _blown_up,
    _loss_and_backward,
    _resolve_schedule,
    csv_text,
)
from . import limits, pictures
from .config import RunConfig
from .problem import LabData, build_problem, class_of, coded_label, csv_of, is_classification

if TYPE_CHECKING:
    from .sample_graph import LiveSample

__all__ = ["Session", "check_work", "FINISHED"]

TEST_POINTS = 400  # the test curve gets about this many points, whatever the run's length
FINISHED = ("done", "diverged", "error")


def check_work(samples: int, batch_size: int | None, parameters: int, limit: int = limits.MAX_STEP_WORK) -> None:
    """Refuse a run whose steps would each do more than ``limit`` (samples per step times parameters), so that no
    step holds the machine for long. A page running jangrad in the browser passes a lower limit than the server's
    ``limits.MAX_STEP_WORK``: its steps all run on the eager engine, in WebAssembly."""
    per_step = min(batch_size or samples, samples)
    if per_step * parameters > limit:
        largest = max(limit // parameters, 1)
        where = "the playground allows" if limit >= limits.MAX_STEP_WORK else "the playground in a browser allows"
        raise ValueError(
            f"each step would run {per_step} samples through {parameters} parameters "
            f"({per_step * parameters:,} per step; {where} {limit:,}): "
            f"set a batch size of at most {largest}, or use a smaller network"
        )


class Session:
    """A run: its data, model and optimizer, what it measured so far, and what the page looks at.

    ``state`` is "ready" (no step yet), "training", or one of ``FINISHED``; ``message`` says why a run ended.
    ``backend`` is how pictures are computed ("numpy" or "python", see ``pictures``); ``compiled`` whether steps
    replay the compiled tape (it needs NumPy). ``outside_pictures`` leaves a frame's boundary and heatmaps to the
    caller, which draws them from ``picture_inputs()`` (the static site's worker does, in JavaScript, on the fine
    grid); ``max_step_work`` is the limit ``check_work`` holds each step to.
    """

    def __init__(
        self,
        config: RunConfig,
        number: int,
        *,
        backend: str | None = None,
        compiled: bool | None = None,
        outside_pictures: bool = False,
        max_step_work: int = limits.MAX_STEP_WORK,
    ) -> None:
        self.config = config
        self.recipe = config.recipe
        self.number = number
        self.backend = backend or pictures.default_backend()
        if self.backend not in pictures.BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(pictures.BACKENDS)}, got {self.backend!r}")
        self.use_compiled = self.backend == "numpy" if compiled is None else compiled
        self.lab_data: LabData = build_problem(config)
        problem = self.lab_data.problem
        self.problem = problem
        self.model = problem.model
        self.params = self.model.parameters()
        self.max_step_work = max_step_work
        check_work(len(problem.X), self.recipe.batch_size, len(self.params), max_step_work)
        self.param_names = [name for name, _ in self.model.named_parameters()]
        self.base_loss = losses.get(problem.loss)
        self.optimizer = make_optimizer(self.recipe.optimizer, self.params, self.recipe.lr)
        schedule = None if self.recipe.schedule == "none" else self.recipe.schedule
        self.lr_at = _resolve_schedule(schedule, self.optimizer.lr, self.recipe.steps)
        self.total = self.recipe.steps
        self.two_d = len(problem.X[0]) == 2
        self.box = pictures.extent(self.lab_data.shown + self.lab_data.shown_test) if self.two_d else None
        self.outside_pictures = outside_pictures
        self.grid = pictures.FINE_GRID if outside_pictures else pictures.grid_size(self.backend)
        self.heat = pictures.heat_size(self.model.nin + sum(self.model.nouts))
        self.test_every = max(1, math.ceil(self.total / TEST_POINTS))

        self.losses: list[float] = []
        self.lrs: list[float] = []
        self.accuracies: list[float] = []
        self.test_losses: list[tuple[int, float]] = []  # (step, loss on the held-out samples): the test curve
        self.test_loss: float | None = None
        self.state = "ready"
        self.message = ""
        self.data_version = 0
        self.edited_at: int | None = None  # the step at which the learner first changed the data mid-run
        self.sample: LiveSample | None = None  # while a sample's graph is on screen
        self.parameter: int | None = None  # the parameter whose optimizer state is on screen
        self._before: float | None = None  # that parameter's value before the last step
        self._prepare_data()
        self._measure_test()

    # ---- data -------------------------------------------------------------------------------------------------------
    def _prepare_data(self) -> None:
        """(Re)start the batches and the compiled run on the current data (after a change too)."""
        from ..compiled.training import compiled_training

        problem = self.problem
        n = len(problem.X)
        self.batch_size = min(self.recipe.batch_size or n, n)
        self.start_steps = min(math.ceil(n / self.batch_size), _MOST_START_STEPS)
        if not self.losses:
            self.rng = random.Random(self.recipe.seed)
            self.start_loss: float | None = None
        self.batches = _batches(n, self.batch_size, self.rng)
        self.rule = _accuracy_rule(problem.y, problem.loss)
        self.run = None
        if self.use_compiled:
            self.run = compiled_training(
                self.model, problem.X, problem.y, self.base_loss, 0.0, self.optimizer, self.params
            )
        self._synced = True

    @property
    def step(self) -> int:
        """Steps taken so far."""
        return len(self.losses)

    def sync(self) -> None:
        """Bring the model's Values (and the optimizer's buffers) up to date with the compiled run, if stale."""
        if not self._synced and self.run is not None:
            self.run.sync()
        self._synced = True

    def _value(self, index: int) -> float:
        if self.run is not None and not self._synced:
            return float(self.run.theta[index])
        return self.params[index].data

    # ---- stepping ---------------------------------------------------------------------------------------------------
    def advance(self, steps: int = 1) -> int:
        """Run up to ``steps`` optimizer steps (fewer when the run ends); return how many ran."""
        ran = 0
        while ran < steps and self.state in ("ready", "training"):
            if self.step >= self.total:
                self._finish("done", f"finished: {self.total} steps")
                break
            try:
                self._one_step()
            except Exception as error:  # a model or data problem: one line for the page
                self._finish("error", " ".join(f"training failed: {error}".split())[:300])
                break
            if self.state != "training":  # the step found the loss blown up, and took no step
                break
            ran += 1
            if self.state == "training" and self.step >= self.total:
                self._finish("done", f"finished: {self.total} steps")
        return ran

    def _one_step(self) -> None:
        """``fit``'s loop body, for step ``self.step``."""
        step = self.step
        opt = self.optimizer
        if self.lr_at is not None:
            opt.lr = self.lr_at(step)
        indices = next(self.batches)
        y_batch = [self.problem.y[i] for i in indices]
        if self.run is None:
            opt.zero_grad()
            X_batch = [self.problem.X[i] for i in indices]
            predictions: list[Any] | None
            loss, predictions = _loss_and_backward(self.model, X_batch, y_batch, self.base_loss, 0.0, self.params)
        else:
            loss, predictions = self.run.loss_and_backward(indices)
        if _blown_up(loss, self.start_loss, MAX_LOSS_GROWTH):
            if math.isfinite(loss):
                why = f"grew from {self.start_loss:.4g} to {loss:.4g} (blew up)"
            else:
                why = f"became {loss!r} (not a finite number)"
            self._finish("diverged", f"training stopped at step {step}: the loss {why}; try a smaller learning rate")
            return
        self.state = "training"
        self.losses.append(loss)
        if step + 1 == self.start_steps:
            self.start_loss = max(self.losses)
        self.lrs.append(opt.lr)
        if self.rule is not None and predictions is not None:
            self.accuracies.append(_accuracy(self.rule, predictions, y_batch))
        if self.parameter is not None:
            self._before = self._value(self.parameter)
        if self.run is None:
            opt.step()
        else:
            self.run.step()
            self._synced = False
        if self.step % self.test_every == 0 or self.step == self.total:
            self._measure_test()

    def _finish(self, state: str, message: str) -> None:
        self.state, self.message = state, message
        self._measure_test()

    # ---- the test curve ---------------------------------------------------------------------------------------------
    def _measure_test(self) -> None:
        """The model on the held-out samples: ``test_loss``, and the test curve's point for this step (once)."""
        problem = self.problem
        if not problem.X_test or (self.test_losses and self.test_losses[-1][0] == self.step):
            return
        self.sync()
        outputs = pictures.forward(self.model, problem.X_test, self.backend)
        predictions = [row[0] if len(row) == 1 else row for row in outputs]
        try:
            value = self.base_loss(predictions, problem.y_test).data
        except (OverflowError, ValueError):
            value = math.nan
        self.test_loss = value if math.isfinite(value) else None
        if self.test_loss is not None:
            self.test_losses.append((self.step, self.test_loss))

    # ---- what the page sees -----------------------------------------------------------------------------------------
    def points(self) -> list[list[float]]:
        """Every sample as the page shows it: ``[x, y, class, held_out]`` (training samples first); [] unless 2-D.

        ``class`` is the class index (0, 1, ...), or the target itself when the targets are numbers.
        """
        if not self.two_d:
            return []
        problem, data = self.problem, self.lab_data
        classification = self.classes_known()
        shown = data.shown + data.shown_test
        targets = problem.y + problem.y_test
        held_out = [0] * len(data.shown) + [1] * len(data.shown_test)
        return [
            [p[0], p[1], class_of(t, problem.loss) if classification else float(t), h]
            for p, t, h in zip(shown, targets, held_out, strict=True)
        ]

    def classes_known(self) -> bool:
        return is_classification(self.problem)

    def summary(self) -> dict:
        """What the page needs once per run (and after the data changes): the data, the shapes, the names."""
        problem = self.problem
        return {
            "run": self.number,
            "config": self.config.public(),
            "points": self.points(),
            "data_version": self.data_version,
            "extent": self.box,
            "classes": problem.classes,
            "classification": self.classes_known(),
            "loss": problem.loss,
            "sizes": [self.model.nin] + self.model.nouts,
            "activations": [layer.activation for layer in self.model.layers],
            "inputs": self.lab_data.columns,
            "parameters": self.param_names,
            "grid": self.grid,
            "heat": self.heat if self.two_d else 0,
            "samples": len(problem.X),
            "steps": self.total,
            "state": self.state,
            "backend": self.backend,
            "compiled": self.run is not None,
            "editable": self.edit_refusal(),
            "sample": None if self.sample is None else self.sample.index,
            "parameter": self.parameter,
        }

    def edit_refusal(self) -> str:
        """Why the learner cannot place points on this data ('' when they can)."""
        if not self.two_d:
            return f"the data has {self.model.nin} inputs, not 2: there is no plane to place points on"
        if not self.classes_known():
            return "the targets are numbers, not classes: there is no class to give a new point"
        return ""

    def frame(self) -> dict:
        """The latest numbers and pictures (the loss series travel apart, see ``api.FrameCursor``)."""
        self.sync()
        frame = {
            "run": self.number,
            "step": self.step,
            "steps": self.total,
            "state": self.state,
            "message": self.message,
            "loss": self.losses[-1] if self.losses else None,
            "accuracy": self.accuracies[-1] if self.accuracies else None,
            "lr": self.lrs[-1] if self.lrs else self.optimizer.lr,
            "test_loss": self.test_loss,
            "data_version": self.data_version,
            **self._weights(),
        }
        if self.box is not None and not self.outside_pictures:
            frame.update(
                pictures.pictures(
                    self.model,
                    self.lab_data.standardize,
                    self.box,
                    self.grid,
                    self.heat,
                    self.problem.loss,
                    self.backend,
                )
            )
        if self.sample is not None:
            frame["sample"] = self.sample.values()
        if self.parameter is not None:
            frame["parameter"] = self.parameter_state()
        return frame

    def picture_inputs(self) -> dict | None:
        """What a frame's pictures are drawn from, for a caller that draws them itself (``outside_pictures``): the
        plane (``box``), the sizes (``grid``, ``heat``), the loss, the map to the model's inputs (``standardize``:
        ``{"mean", "scale"}`` or None) and every layer's weights, biases and activation at full precision (a number
        that is not finite as its ``repr`` text, JSON having none). None when the data has no plane."""
        from ..ops import LEAKY_SLOPE

        if self.box is None:
            return None
        self.sync()
        standardize = self.lab_data.standardize
        layers = [
            {
                "weights": [[_json(w) for w in row] for row in layer.weight_rows()],
                "biases": [_json(b) for b in layer.biases()],
                "activation": layer.activation,
            }
            for layer in self.model.layers
        ]
        return {
            "box": self.box,
            "grid": self.grid,
            "heat": self.heat,
            "loss": self.problem.loss,
            "standardize": None if standardize is None else {"mean": standardize.mean, "scale": standardize.scale},
            "leaky_slope": LEAKY_SLOPE,
            "layers": layers,
        }

    def _weights(self) -> dict:
        """Per layer: each neuron's weights and bias, and their gradients from the last step (for the diagram)."""
        weights, biases, weight_grads, bias_grads = [], [], [], []
        k = 0
        for layer in self.model.layers:
            rows, row_grads, bs, b_grads = [], [], [], []
            for neuron in layer.neurons:
                n = len(neuron.w)
                values = self.params[k : k + n + 1]
                rows.append([_short(p.data) for p in values[:n]])
                row_grads.append([_short(_number(p.grad)) for p in values[:n]])
                bs.append(_short(values[n].data))
                b_grads.append(_short(_number(values[n].grad)))
                k += n + 1
            weights.append(rows)
            weight_grads.append(row_grads)
            biases.append(bs)
            bias_grads.append(b_grads)
        return {"weights": weights, "biases": biases, "weight_grads": weight_grads, "bias_grads": bias_grads}

    # ---- the optimizer table ----------------------------------------------------------------------------------------
    def select_parameter(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.params):
            raise ValueError(f"parameter must be a number from 0 to {len(self.params) - 1}, got {index}")
        self.parameter = index
        self._before = None

    def parameter_state(self) -> dict:
        """The chosen parameter's value and gradient, and its optimizer's state with the step it took last."""
        from ..optim import SGD, Adam

        if self.parameter is None:
            raise ValueError("no parameter is on screen: click a weight or a neuron first")
        self.sync()
        k = self.parameter
        p = self.params[k]
        opt = self.optimizer
        value, grad = p.data, _number(p.grad)
        state: dict[str, object] = {
            "index": k,
            "name": self.param_names[k],
            "optimizer": type(opt).__name__,
            "value": _json(value),
            "grad": _json(grad) if self.step else None,
            "lr": _json(opt.lr),
            "t": opt.steps,
            "moved": None if self._before is None else _json(value - self._before),
        }
        if isinstance(opt, Adam):
            beta1, beta2 = opt.betas
            m, v = opt.m[k], opt.v[k]
            state.update(betas=[beta1, beta2], eps=opt.eps, weight_decay=opt.weight_decay, m=_json(m), v=_json(v))
            if opt.steps:
                m_hat = m / (1.0 - beta1**opt.steps)
                v_hat = v / (1.0 - beta2**opt.steps)
                state.update(
                    m_hat=_json(m_hat),
                    v_hat=_json(v_hat),
                    update=_json(-opt.lr * m_hat / (math.sqrt(v_hat) + opt.eps)),
                )
        elif isinstance(opt, SGD):
            state.update(momentum=opt.momentum, velocity=_json(opt.velocity[k]) if opt.momentum else None)
            if self.step:
                state["update"] = _json(-opt.lr * (opt.velocity[k] if opt.momentum else grad))
        return state

    # ---- the learner's own points -----------------------------------------------------------------------------------
    def add_point(self, x: float, y: float, cls: int) -> None:
        """Add a training sample at (x, y) on the page's plane, of class ``cls``; the next step trains on it."""
        refusal = self.edit_refusal()
        if refusal:
            raise ValueError(refusal)
        for name, v in (("x", x), ("y", y)):
            if not math.isfinite(v) or abs(v) > 1e6:
                raise ValueError(f"{name} must be a finite number of at most 1e6 in size, got {v!r}")
        if not 0 <= cls < self.problem.classes:
            raise ValueError(f"class must be a number from 0 to {self.problem.classes - 1}, got {cls}")
        if len(self.problem.X) + len(self.problem.X_test) >= limits.MAX_SAMPLES:
            raise ValueError(f"the playground holds at most {limits.MAX_SAMPLES} samples")
        check_work(len(self.problem.X) + 1, self.recipe.batch_size, len(self.params), self.max_step_work)
        standardize = self.lab_data.standardize
        self.sync()
        self.problem.X.append(standardize([x, y]) if standardize else [x, y])
        self.problem.y.append(coded_label(cls, self.problem.loss))
        self.lab_data.shown.append([x, y])
        self._data_changed()

    def remove_point(self, index: int) -> None:
        """Remove sample ``index`` (in ``points()`` order: training samples first, then held-out ones)."""
        refusal = self.edit_refusal()
        if refusal:
            raise ValueError(refusal)
        problem, data = self.problem, self.lab_data
        total = len(problem.X) + len(problem.X_test)
        if not 0 <= index < total:
            raise ValueError(f"index must be a sample number from 0 to {total - 1}, got {index}")
        self.sync()
        if index < len(problem.X):
            if len(problem.X) == 1:
                raise ValueError("this is the last training sample: there would be nothing to train on")
            del problem.X[index], problem.y[index], data.shown[index]
        else:
            k = index - len(problem.X)
            del problem.X_test[k], problem.y_test[k], data.shown_test[k]
        if self.sample is not None and self.sample.index == index:
            self.sample = None
        elif self.sample is not None and self.sample.index > index:
            self.sample.index -= 1
        self._data_changed()

    def _data_changed(self) -> None:
        self.data_version += 1
        if self.step and self.edited_at is None:
            self.edited_at = self.step
        self._prepare_data()
        if self.test_losses and self.test_losses[-1][0] == self.step:
            self.test_losses.pop()  # measured on the old held-out samples
        self._measure_test()

    def data_csv(self) -> tuple[str, str]:
        """Every sample (training and held-out) as the page shows it, as CSV text, and its target column."""
        if self.edit_refusal():
            raise ValueError(self.edit_refusal())
        rows = self.points()
        return csv_of([r[:2] for r in rows], [int(r[2]) for r in rows], self.lab_data.columns)

    # ---- the sample on screen ---------------------------------------------------------------------------------------
    def select_sample(self, index: int | None) -> dict:
        """Put sample ``index``'s graph on screen (its drawing, returned) or take it off (None)."""
        from .sample_graph import LiveSample

        if index is None:
            self.sample = None
            return {"index": None}
        total = len(self.problem.X) + len(self.problem.X_test)
        if not 0 <= index < total:
            raise ValueError(f"index must be a sample number from 0 to {total - 1}, got {index}")
        self.sync()
        sample = LiveSample(self, index)
        self.sample = sample
        return sample.drawing()

    def sample_input(self, index: int) -> tuple[list[float], object]:
        """Sample ``index``'s inputs as the model sees them, and its target."""
        problem = self.problem
        X, y = problem.X + problem.X_test, problem.y + problem.y_test
        return X[index], y[index]

    # ---- downloads --------------------------------------------------------------------------------------------------
    def model_json(self) -> str:
        self.sync()
        with tempfile.TemporaryDirectory(prefix="jangrad-") as folder:
            path = os.path.join(folder, "model.json")
            self.model.save(path)
            with open(path, encoding="utf-8") as f:
                return f.read()

    def history_csv(self) -> str:
        """``jangrad train``'s history.csv for this run, plus a ``test_loss`` column when there is a test split.

        Row ``k`` holds the loss measured before step ``k``'s update; a test loss measured at step ``k`` (on the same
        weights) goes in that row, and the other rows leave it empty. The measurement after the last step has no
        row of its own, so it is not in the file (the page shows it).
        """
        history = History()
        history.step = list(range(len(self.losses)))
        history.loss = list(self.losses)
        history.lr = list(self.lrs)
        history.accuracy = list(self.accuracies)
        columns = history.columns()
        if self.problem.X_test:
            tests = dict(self.test_losses)
            columns["test_loss"] = [tests.get(step) for step in history.step]
        return csv_text(columns)


def _number(grad: float | Value) -> float:
    return grad.data if isinstance(grad, Value) else float(grad)


def _json(x: float) -> float | str:
    """JSON has no inf or nan: those travel as text."""
    return x if math.isfinite(x) else repr(x)


def _short(x: float) -> float:
    """A number for a picture: 4 significant digits (and 0 for inf or nan, which a picture cannot show)."""
    return float(f"{x:.4g}") if math.isfinite(x) else 0.0
