"""Every request the playground's page makes, as plain functions from JSON to JSON, whatever carries them.

``jangrad serve`` routes its HTTP requests here (``server.py``) and drives training from a thread
(``training.py``); a page that runs jangrad inside a Web Worker calls the same functions and drives the same
``Lab`` from its own loop. So nothing here knows about sockets, threads or clocks: time comes in as an argument.

Stateless requests: ``expression``, ``expression_check``, ``command``.

The network lab (``Lab``) holds one training session at a time and the page's play state:

* requests: ``start``, ``control`` (play, pause, step, reset, pace), ``edit`` (add or remove a point),
  ``select`` (the sample whose graph, or the parameter whose optimizer state, is on screen), ``sample_steps``,
  ``model_json``, ``history_csv``;
* driving: ``tick(now)`` runs the steps that are due at the chosen pace (never more than ``WORK_SLICE`` seconds of
  them), ``frame_due(now)`` says when to publish, ``frame(now)`` makes a frame and ``wake_in(now)`` says when to
  tick next. A frame is expensive (the pictures); the loss series are cheap and go to each listener from its own
  ``FrameCursor``, which sends every loss once.

Errors are ``ValueError`` with one line for the page (the server answers them with status 400).
"""

from __future__ import annotations

import contextlib
import math
import time

from . import expression as expression_lab
from . import limits
from .config import CSV_NAME, cli_command, parse_config, shell_command
from .session import FINISHED, Session

__all__ = ["expression", "expression_check", "command", "Lab", "FrameCursor", "PACES", "DEFAULT_PACE"]

PACES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)  # steps per second the page offers, and None: as fast as it goes
DEFAULT_PACE = 50  # a default run (300 steps) takes six seconds: slow enough to watch the boundary move
FRAME_INTERVAL = 0.1  # seconds between frames while playing (every step gets its own frame at 10 steps/s or less)
WORK_SLICE = 0.04  # seconds of steps per tick at most, so that a request never waits long for the session


# ---- the expression lab --------------------------------------------------------------------------------------------
def expression(body: dict) -> dict:
    """``{"source", "inputs"}`` -> the program's graph, its stepped backward pass, SVG, DOT and Python."""
    return expression_lab.build_lab(body.get("source"), body.get("inputs", ""))


def expression_check(body: dict) -> dict:
    """``{"source", "inputs"}`` -> each node's gradient against a central difference."""
    return expression_lab.check_lab(body.get("source"), body.get("inputs", ""))


# ---- the network lab -----------------------------------------------------------------------------------------------
def command(body: dict) -> dict:
    """``{"config", "edited_at"?}`` -> the ``jangrad train`` command that repeats the run (as a shell snippet that
    first writes the page's data to data.csv, when the data is the page's own), and a note on what it cannot
    repeat ('' when it repeats the run exactly)."""
    config = parse_config(body.get("config"))
    command_line, note = cli_command(config)
    notes = [note] if note else []
    if config.recipe.data == CSV_NAME:
        command_line = shell_command(config.csv, command_line)
        notes = [n for n in notes if CSV_NAME not in n]
    edited_at = body.get("edited_at")
    if isinstance(edited_at, int) and not isinstance(edited_at, bool) and edited_at > 0:
        notes.append(
            f"this run's data changed at step {edited_at}, while it trained: the command trains on the changed "
            f"data from the start, so its numbers differ from this run's (Reset, then Play, to train so here too)"
        )
    return {"command": command_line, "note": "; ".join(notes)}


def _whole(body: dict, key: str, low: int, high: int) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key} must be a whole number from {low} to {high}, got {str(value)[:40]!r}")
    return value


def _real(body: dict, key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number, got {str(value)[:40]!r}")
    return float(value)


def parse_pace(value: object) -> float | None:
    """Steps per second from 0.1 to 10000, or None ("max": as fast as it goes)."""
    if value is None or value == "max":
        return None
    if isinstance(value, str):
        try:
            pace = float(value)
        except ValueError:
            raise ValueError(f"pace must be steps per second or 'max', got {value[:40]!r}") from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        pace = float(value)
    else:
        pace = math.nan
    if not 0.1 <= pace <= 10_000:
        raise ValueError(f"pace must be from 0.1 to 10000 steps per second, or 'max', got {str(value)[:40]!r}")
    return pace


class Lab:
    """The network lab: one session at a time, and whether and how fast it plays."""

    def __init__(
        self,
        *,
        backend: str | None = None,
        compiled: bool | None = None,
        outside_pictures: bool = False,
        max_step_work: int = limits.MAX_STEP_WORK,
    ) -> None:
        self.backend = backend
        self.compiled = compiled
        self.outside_pictures = outside_pictures  # see Session: the static site's worker draws the pictures
        self.max_step_work = max_step_work
        self.session: Session | None = None
        self.runs_started = 0
        self.playing = False
        self.pace: float | None = DEFAULT_PACE
        self.tokens = 0  # single steps asked for and not yet run
        self._fields: dict = {}  # the current run's configuration, with its data as it is now
        self._origin = (0.0, 0)  # (time, step) from which the pace counts the steps that are due
        self._wanted = True  # something changed that the page should see now
        self._last_frame = -math.inf
        self._stepped = False  # steps ran since the last frame

    # ---- requests ---------------------------------------------------------------------------------------------------
    def start(self, body: dict) -> dict:
        """``{"config", "paused"?, "pace"?}`` -> a new session (replacing the current one once it is built) and its
        summary. The pictures of the untrained network are in the first frame."""
        config = parse_config(body.get("config"))
        pace = parse_pace(body["pace"]) if "pace" in body else self.pace
        session = Session(
            config,
            self.runs_started + 1,
            backend=self.backend,
            compiled=self.compiled,
            outside_pictures=self.outside_pictures,
            max_step_work=self.max_step_work,
        )
        self.runs_started += 1
        self._carry_selection(self.session, session)
        self.session = session
        self._fields = config.public() | {"csv": config.csv}  # what a reset starts again from
        self.pace = pace
        self.playing = not bool(body.get("paused", False))
        self.tokens = 0
        self._origin = (-1.0, 0)
        self._changed()
        return self.summary()

    def _carry_selection(self, old: Session | None, new: Session) -> None:
        """A new run of the same network on the same data keeps the sample and the parameter on screen."""
        if old is None:
            return
        if old.parameter is not None and old.param_names == new.param_names:
            new.select_parameter(old.parameter)
        if old.sample is not None and old.points() == new.points() and old.problem.X == new.problem.X:
            with contextlib.suppress(ValueError):  # the new network's graph may be too big to draw
                new.select_sample(old.sample.index)

    def summary(self) -> dict:
        session = self._current()
        return {**session.summary(), "state": self.state(), "pace": self.pace}

    def control(self, body: dict) -> dict:
        """``{"action": "play" | "pause" | "step" | "reset" | "pace", "pace"?}``."""
        action = body.get("action")
        if action not in ("play", "pause", "step", "reset", "pace"):
            raise ValueError(f"action must be play, pause, step, reset or pace, got {str(action)[:20]!r}")
        if action == "pace":
            self.pace = parse_pace(body.get("pace"))
            self._origin = (-1.0, 0)
            self._changed()
            return {"pace": self.pace}
        session = self._current()
        if action == "reset":  # the same settings and the data as it is now (with the learner's points)
            return self.start({"config": self._fields, "paused": True})
        if action == "play":
            self.playing = session.state not in FINISHED
            self._origin = (-1.0, 0)
        elif action == "pause":
            self.playing = False
        else:
            self.playing = False
            self.tokens += 1
        self._changed()
        return {"run": session.number, "state": self.state(), "step": session.step}

    def edit(self, body: dict) -> dict:
        """``{"action": "add", "x", "y", "class"}`` or ``{"action": "remove", "index"}``: change the data.

        Before the first step, the run starts again on the changed data (saved as CSV, so that ``jangrad train``
        repeats it exactly); once it has trained, the change goes into the running session at once. Either way the
        answer holds the new summary and the data as CSV text (``csv``, ``target``) for the page's configuration.
        """
        session = self._current()
        action = body.get("action")
        if action == "add":
            classes = max(session.problem.classes - 1, 1)
            session.add_point(_real(body, "x"), _real(body, "y"), _whole(body, "class", 0, classes))
        elif action == "remove":
            total = len(session.problem.X) + len(session.problem.X_test)
            session.remove_point(_whole(body, "index", 0, max(total - 1, 0)))
        else:
            raise ValueError(f"action must be add or remove, got {str(action)[:20]!r}")
        csv, target = session.data_csv()
        fields = session.config.public() | {"data": "csv", "csv": csv, "target": target}
        if session.step == 0:
            self.start({"config": fields, "paused": not self.playing})
        else:
            self._fields = fields
            self._changed()
        return {"summary": self.summary(), "csv": csv, "target": target, "edited_at": self._current().edited_at}

    def select(self, body: dict) -> dict:
        """``{"sample": index | None}`` (its drawing comes back) or ``{"parameter": index | None}``."""
        session = self._current()
        if "sample" in body:
            index = body["sample"]
            if index is not None:
                index = _whole(body, "sample", 0, limits.MAX_SAMPLES)
            result = session.select_sample(index)
        elif "parameter" in body:
            index = body["parameter"]
            if index is not None:
                index = _whole(body, "parameter", 0, len(session.params) - 1)
            session.select_parameter(index)
            result = {"parameter": index}
        else:
            raise ValueError("select needs a sample or a parameter")
        self._changed()
        return result

    def sample_steps(self, body: dict) -> dict:
        """The backward pass of the sample on screen, step by step, at the weights now (the page asks while paused)."""
        session = self._current()
        if session.sample is None:
            raise ValueError("no sample is on screen: click a point first")
        return session.sample.steps()

    def model_json(self) -> str:
        return self._current().model_json()

    def history_csv(self) -> str:
        return self._current().history_csv()

    def _current(self) -> Session:
        if self.session is None:
            raise ValueError("no training run yet: press play")
        return self.session

    def state(self) -> str:
        """What the page shows: ready (untrained, waiting), running, paused, done, diverged or error."""
        session = self.session
        if session is None:
            return "idle"
        if session.state in FINISHED:
            return session.state
        if self.playing:
            return "running"
        return "ready" if session.step == 0 else "paused"

    def _changed(self) -> None:
        self._wanted = True

    # ---- driving ----------------------------------------------------------------------------------------------------
    def tick(self, now: float) -> int:
        """Run the steps that are due at ``now`` (seconds on the driver's clock), never more than ``WORK_SLICE``
        seconds of them; return how many ran."""
        session = self.session
        if session is None or session.state in FINISHED:
            return 0
        if self.tokens:
            self.tokens -= 1
            ran = session.advance(1)
            self._after(ran, session)
            return ran
        if not self.playing:
            return 0
        if self._origin[0] < 0:
            self._origin = (now, session.step)
        if self.pace is None:
            due = limits.MAX_TRAIN_STEPS
        else:
            due = int((now - self._origin[0]) * self.pace) - (session.step - self._origin[1])
        started = time.perf_counter()  # the work budget is measured, whatever clock ``now`` is on
        ran = 0
        while ran < due and session.advance(1):
            ran += 1
            if time.perf_counter() - started > WORK_SLICE:
                break
        if self.pace is not None and due - ran > max(1.0, self.pace * WORK_SLICE * 4):
            self._origin = (now, session.step)  # fallen behind (a slow machine): carry on from here, no catching up
        self._after(ran, session)
        return ran

    def _after(self, ran: int, session: Session) -> None:
        if ran:
            self._stepped = True
        if session.state in FINISHED:
            self.playing = False
            self._wanted = True

    def frame_due(self, now: float) -> bool:
        if self.session is None:
            return False
        return self._wanted or (self._stepped and now - self._last_frame >= FRAME_INTERVAL)

    def frame(self, now: float) -> dict:
        """The session's frame now (without its loss series: see ``FrameCursor``)."""
        session = self._current()
        started = time.perf_counter()
        frame = session.frame()
        cost = round(1000 * (time.perf_counter() - started), 2)  # the server's work for this frame, in ms
        frame.update(state=self.state(), pace=self.pace, edited_at=session.edited_at, cost_ms=cost)
        self._wanted = False
        self._stepped = False
        self._last_frame = now
        return frame

    def wake_in(self, now: float) -> float | None:
        """Seconds until the next tick has something to do, or None to wait for a request."""
        session = self.session
        if session is None:
            return None
        if self._wanted or self.tokens:
            return 0.0
        if self._stepped:
            return max(0.0, FRAME_INTERVAL - (now - self._last_frame))
        if not self.playing or session.state in FINISHED:
            return None
        if self.pace is None or self._origin[0] < 0:
            return 0.0
        next_step = self._origin[0] + (session.step - self._origin[1] + 1) / self.pace
        return max(0.0, next_step - now)


class FrameCursor:
    """One listener's place in the current run's series: each frame it gets carries the training losses and test
    points it has not had yet (all of them for a new listener, or a new run), and the points when the data changed.
    """

    def __init__(self) -> None:
        self.run: int | None = None
        self.losses = 0
        self.tests = 0
        self.data_version: int | None = None

    def fill(self, frame: dict, session: Session) -> dict:
        """``frame`` plus ``from``/``losses`` and ``test_from``/``test_losses`` (and ``points``) for this listener."""
        payload = dict(frame)
        if session.number != self.run:
            self.run, self.losses, self.tests, self.data_version = session.number, 0, 0, None
        payload["from"] = self.losses
        payload["losses"] = session.losses[self.losses : frame["step"]]
        self.losses += len(payload["losses"])
        payload["test_from"] = self.tests
        payload["test_losses"] = [list(point) for point in session.test_losses[self.tests :]]
        self.tests += len(payload["test_losses"])
        if frame.get("data_version") != self.data_version:
            payload["points"] = session.points()
            self.data_version = frame.get("data_version")
        return payload
