"""The network lab's training: one run at a time, in a thread, that the page can play, pause, step and reset.

The run is ``jangrad.fit`` itself, on its compiled tape with the built-in loss, so the page trains exactly as
``jangrad train`` does, at the same speed. Pausing works through fit's ``on_step``: after each step, ``_after_step``
records the step's numbers and waits for the next step's turn (play, or one single step); every tenth of a second,
or when it is about to wait, it publishes a frame (step, losses, accuracy, the decision boundary, the weights) for
the event streams of every open tab.

A run's work per step is bounded (``limits.MAX_STEP_WORK``: samples per step times parameters), so that no step
holds the machine for long: the compiled tape for one batch is built once, from a graph of about two nodes per
sample and parameter, and a stop, a reset or another tab's request never waits for more than a step.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterator

from ..train import csv_text
from . import boundary, limits
from .config import RunConfig, cli_command, parse_config

__all__ = ["TrainingManager"]

_FRAME_INTERVAL = 0.1  # seconds between published frames while playing


class _Stopped(Exception):
    """Raised from fit's on_step to end a run that was reset, replaced or shut down."""


class _Run:
    """One training run: its problem, its thread and its play/pause gate."""

    def __init__(self, number: int, config: RunConfig, manager: TrainingManager, paused: bool, problem) -> None:
        from .. import losses
        from ..optim import make_optimizer

        self.number = number
        self.config = config
        self.manager = manager
        self.problem = problem
        self.recipe = config.recipe
        self.base_loss = losses.get(self.problem.loss)
        self.optimizer = make_optimizer(self.recipe.optimizer, self.problem.model.parameters(), self.recipe.lr)
        self.two_d = len(self.problem.X[0]) == 2
        self.box = boundary.extent(self.problem.X + self.problem.X_test) if self.two_d else None
        self.losses: list[float] = []
        self.lrs: list[float] = []
        self.accuracies: list[float] = []
        self.state = "paused" if paused else "running"
        self.message = ""
        self.test_loss: float | None = None
        self.test_losses: list[tuple[int, float]] = []  # (step, loss on the held-out samples): the test curve
        self.playing = not paused
        self.tokens = 0
        self.stopped = False
        self.last_publish = 0.0
        self.thread = threading.Thread(target=self._train, name=f"jangrad-train-{number}", daemon=True)

    # ---- what the page sees at the start -------------------------------------------------------------------------
    def summary(self) -> dict:
        points = []
        if self.two_d:
            points = [[x[0], x[1], float(t), 0] for x, t in zip(self.problem.X, self.problem.y, strict=True)]
            points += [[x[0], x[1], float(t), 1] for x, t in zip(self.problem.X_test, self.problem.y_test, strict=True)]
        return {
            "run": self.number,
            "config": self.config.public(),
            "points": points,
            "extent": self.box,
            "classes": self.problem.classes,
            "sizes": [self.problem.model.nin] + self.problem.model.nouts,
            "grid": limits.GRID_SIZE,
            "samples": len(self.problem.X),
            "state": self.state,
        }

    # ---- the thread ------------------------------------------------------------------------------------------------
    def _train(self) -> None:
        from ..train import TrainingDiverged, fit

        try:
            self._wait_turn()
            # the built-in loss by name, so fit replays its compiled tape; the optimizer is the one frames show
            fit(
                self.problem.model,
                self.problem.X,
                self.problem.y,
                loss=self.problem.loss,
                progress=False,
                metrics=("loss", "accuracy"),
                on_step=self._after_step,
                **self.recipe.fit_options(self.optimizer),
            )
            self._finish("done", f"finished: {self.recipe.steps} steps")
        except TrainingDiverged as error:
            if math.isfinite(error.loss):
                why = f"grew from {error.start_loss:.4g} to {error.loss:.4g} (blew up)"
            else:
                why = f"became {error.loss!r} (not a finite number)"
            self._finish(
                "diverged", f"training stopped at step {error.step}: the loss {why}; try a smaller learning rate"
            )
        except _Stopped:
            self._finish("stopped", "")
        except Exception as error:  # a model or data problem: one line for the page
            self._finish("error", " ".join(f"training failed: {error}".split())[:300])

    def _finish(self, state: str, message: str) -> None:
        with self.manager.lock:
            self.state, self.message = state, message
        self.manager.publish(self, force=True)

    def _after_step(self, step: int, history) -> None:
        """fit's ``on_step``: keep the step's numbers, then wait for the next step's turn (if there is one)."""
        with self.manager.lock:
            self.losses.append(history.loss[-1])
            self.lrs.append(history.lr[-1])
            if history.accuracy:
                self.accuracies.append(history.accuracy[-1])
        if step + 1 < self.recipe.steps:
            self._wait_turn()

    def _wait_turn(self) -> None:
        """Return when this step may run; while paused, publish one frame (so every tab shows it) and wait."""
        manager = self.manager
        manager.publish(self, force=not self.losses)  # throttled while playing
        announced = False
        while True:
            with manager.lock:
                if self.stopped:
                    raise _Stopped
                if self.playing or self.tokens:
                    if not self.playing:
                        self.tokens -= 1
                    self.state = "running"
                    return
                self.state = "paused"
                if announced:
                    manager.changed.wait(0.25)
                    continue
            manager.publish(self, force=True)
            announced = True

    # ---- the frame -------------------------------------------------------------------------------------------------
    def frame(self) -> dict:
        """The latest numbers (called under the manager's lock)."""
        model = self.problem.model
        frame = {
            "run": self.number,
            "step": len(self.losses),
            "steps": self.recipe.steps,
            "state": self.state,
            "message": self.message,
            "loss": self.losses[-1] if self.losses else None,
            "accuracy": self.accuracies[-1] if self.accuracies else None,
            "lr": self.lrs[-1] if self.lrs else self.optimizer.lr,
            "test_loss": self.test_loss,
            "weights": boundary.weights(model),
        }
        if self.two_d:
            frame["boundary"] = boundary.grid_scores(model, self.box, self.problem.loss)
        return frame

    def update_test_loss(self) -> None:
        """Measure the model on the held-out samples: ``test_loss``, and a point of the test curve for this step.

        Called by the training thread only (the model does not move meanwhile); the point is added under the
        manager's lock because event streams read the series from other threads.
        """
        if not self.problem.X_test:
            return
        from ..engine import Value

        out = boundary.numpy_forward(self.problem.model, self.problem.X_test)
        if out.shape[1] == 1:
            predictions = [Value(float(row[0])) for row in out]
        else:
            predictions = [[Value(float(v)) for v in row] for row in out]
        value = self.base_loss(predictions, self.problem.y_test).data
        self.test_loss = value if math.isfinite(value) else None
        with self.manager.lock:
            self._add_test_point(len(self.losses), self.test_loss)

    def _add_test_point(self, step: int, value: float | None) -> None:
        """Extend the test curve, once per step: a paused run publishes the same step several times."""
        if value is None or (self.test_losses and self.test_losses[-1][0] == step):
            return
        self.test_losses.append((step, value))


def _check_work(config: RunConfig, problem) -> None:
    """Refuse a run whose steps would each do more than ``limits.MAX_STEP_WORK`` (see the module docstring)."""
    samples = min(config.recipe.batch_size or len(problem.X), len(problem.X))
    parameters = problem.model.num_parameters()
    if samples * parameters > limits.MAX_STEP_WORK:
        largest = max(limits.MAX_STEP_WORK // parameters, 1)
        raise ValueError(
            f"each step would run {samples} samples through {parameters} parameters "
            f"({samples * parameters:,} per step; the playground allows {limits.MAX_STEP_WORK:,}): "
            f"set a batch size of at most {largest}, or use a smaller network"
        )


class TrainingManager:
    """Holds the one current run, hands out frames to event streams and answers the page's controls."""

    def __init__(self, stopping: threading.Event) -> None:
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self._starting = threading.Lock()
        self.stopping = stopping
        self.run: _Run | None = None
        self._leaving: _Run | None = None  # a stopped run whose thread has not ended yet
        self.runs_started = 0
        self.seq = 0
        self.latest: dict | None = None

    # ---- controls ----------------------------------------------------------------------------------------------------
    def start(self, body: dict) -> dict:
        from .problem import build_problem

        config = parse_config(body.get("config"))
        paused = bool(body.get("paused", False))
        # The data and model are built first, outside every lock (it takes a moment): a refused run leaves the
        # current one alone.
        problem = build_problem(config)
        _check_work(config, problem)
        with self._starting:  # two tabs pressing play at once still give one run, the later one
            self._end_current()
            with self.lock:
                self.runs_started += 1
                number = self.runs_started
            run = _Run(number, config, self, paused, problem)
            with self.lock:
                self.run = run
                self.latest = None
            run.thread.start()
        return run.summary()

    def _end_current(self) -> None:
        with self.lock:
            run = self.run
            if run is None:
                return
            run.stopped = True
            self.changed.notify_all()
        run.thread.join(timeout=1.0)
        if run.thread.is_alive():
            # Still building its first tape (see limits.MAX_STEP_WORK): it ends at its first step, and from now on
            # its frames are ignored. One such run at a time, so that their memory stays bounded.
            if self._leaving is not None and self._leaving.thread.is_alive():
                raise ValueError("the previous run is still stopping; try again in a moment")
            self._leaving = run

    def control(self, body: dict) -> dict:
        action = body.get("action")
        if action not in ("play", "pause", "step", "reset"):
            raise ValueError(f"action must be play, pause, step or reset, got {str(action)[:20]!r}")
        if action == "reset":
            with self._starting:
                self._end_current()
                with self.lock:
                    self.run = None
                    self.latest = None
                    self.seq += 1
                    self.changed.notify_all()
            return {"state": "idle"}
        with self.lock:
            run = self.run
            if run is None:
                raise ValueError("no training run yet: press play")
            if action == "play":
                run.playing = True
            elif action == "pause":
                run.playing = False
            else:
                run.playing = False
                run.tokens += 1
            self.changed.notify_all()
            return {"run": run.number, "state": run.state, "step": len(run.losses)}

    def stop(self) -> None:
        with self.lock:
            if self.run is not None:
                self.run.stopped = True
            self.changed.notify_all()

    # ---- frames ------------------------------------------------------------------------------------------------------
    def publish(self, run: _Run, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - run.last_publish < _FRAME_INTERVAL:
            return
        run.last_publish = now
        run.update_test_loss()
        with self.lock:
            if run is not self.run:
                return
            self.latest = run.frame()
            self.seq += 1
            self.changed.notify_all()

    def frames(self) -> Iterator[bytes]:
        """Server-sent-event chunks: each new frame (with the losses the stream has not sent yet), and pings.

        Both curves go out incrementally: ``from``/``losses`` carry the training losses from index ``from`` on,
        ``test_from``/``test_losses`` the (step, test loss) points from index ``test_from`` on. A new stream (a
        late or reconnecting tab) starts both at 0, so it gets the whole of each series once.

        Yields ``b""`` about twice a second when there is nothing to send, so the caller can notice a closed tab.
        """
        sent_run, sent_losses, sent_tests, seen = None, 0, 0, -1
        last_write = time.monotonic()
        while not self.stopping.is_set():
            with self.lock:
                if self.seq == seen:
                    self.changed.wait(0.5)
                if self.seq == seen or self.stopping.is_set():
                    payload = None
                else:
                    seen = self.seq
                    run = self.run
                    if run is None or self.latest is None:
                        payload = {"run": None, "state": "idle"} if run is None else None
                        sent_run = None if run is None else sent_run
                    else:
                        if run.number != sent_run:
                            sent_run, sent_losses, sent_tests = run.number, 0, 0
                        payload = dict(self.latest)
                        payload["from"] = sent_losses
                        payload["losses"] = run.losses[sent_losses : payload["step"]]
                        sent_losses += len(payload["losses"])
                        payload["test_from"] = sent_tests
                        payload["test_losses"] = [list(point) for point in run.test_losses[sent_tests:]]
                        sent_tests += len(payload["test_losses"])
            if payload is not None:
                last_write = time.monotonic()
                yield b"data: " + json.dumps(payload, allow_nan=False).encode() + b"\n\n"
            elif time.monotonic() - last_write > 10.0:
                last_write = time.monotonic()
                yield b": ping\n\n"
            else:
                yield b""  # nothing new: the stream may check that its client is still there

    # ---- downloads and the sample graph ----------------------------------------------------------------------------
    def _current(self) -> _Run:
        run = self.run
        if run is None:
            raise ValueError("no training run yet: press play first")
        return run

    def model_json(self) -> str:
        run = self._current()
        with tempfile.TemporaryDirectory(prefix="jangrad-") as folder:
            path = os.path.join(folder, "model.json")
            with self.lock:
                run.problem.model.save(path)
            with open(path, encoding="utf-8") as f:
                return f.read()

    def history_csv(self) -> str:
        """``jangrad train``'s history.csv for the current run, plus a ``test_loss`` column when there is a test split.

        Row ``k`` holds the loss measured before step ``k``'s update; a test loss measured at step ``k`` (on the same
        weights) goes in that row, and the other rows leave it empty: the page measures it on published frames only.
        The measurement after the last step has no row of its own, so it is not in the file (the page shows it).
        """
        from ..train import History

        run = self._current()
        history = History()
        with self.lock:
            history.step = list(range(len(run.losses)))
            history.loss = list(run.losses)
            history.lr = list(run.lrs)
            history.accuracy = list(run.accuracies)
            tests = dict(run.test_losses)
        columns = history.columns()
        if run.problem.X_test:
            columns["test_loss"] = [tests.get(step) for step in history.step]
        return csv_text(columns)

    def command(self, body: dict) -> dict:
        command, note = cli_command(parse_config(body.get("config")))
        return {"command": command, "note": note}

    def sample_graph(self, body: dict) -> dict:
        from .sample_graph import sample_graph

        run = self._current()
        index = body.get("index")
        total = len(run.problem.X) + len(run.problem.X_test)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < total:
            raise ValueError(f"index must be a sample number from 0 to {total - 1}")
        with self.lock:
            state = run.problem.model.state_dict()
        return sample_graph(run, state, index)
