"""Running the learner's code where it cannot hang or crash the checker: one worker process per engine session.

This is the only file that knows about processes and time limits. The checks themselves (``plan.py``) only call
``run(probe name, *arguments)`` and get an ``Outcome``; ``Session`` answers in a worker process, ``InProcess`` in
this one (no time limit), and a browser can answer from a Web Worker that it terminates at the time limit.

Why a process and not a thread: a ``backward()`` stuck in a loop cannot be stopped from another thread (Python
has no way to kill a thread), so a thread with a timeout would leave it spinning for the rest of the session, or
the notebook's life. A process can be killed. The worker is started with ``fork``, which also works for a class
defined in a notebook cell (the child has a copy of it; nothing needs pickling or a source file) and costs a few
milliseconds. The checker sends one probe at a time and waits at most ``timeout`` seconds for its answer; on a
timeout or a crash (a segfault from a very deep recursion, a learner's ``sys.exit``) it kills the worker, records
the probe's fate, and starts a fresh worker for the next probe.

Where ``fork`` does not exist (Windows), the probes run in the checker's own process (``InProcess``), without a
time limit; the report says so.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import signal
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from .loading import EngineError, load_class, require_value_like
from .probes import PROBES, Outcome
from .program import describe_error

__all__ = ["Session", "InProcess", "can_isolate"]


def can_isolate() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _load(source: type | tuple[Path, str]) -> type:
    cls = source if not isinstance(source, tuple) else load_class(*source)
    require_value_like(cls)
    return cls


def _serve(conn: Connection, source: type | tuple[Path, str]) -> None:
    """The worker's loop: load the class, then answer (probe name, arguments) messages until None."""
    sys.stdout = sys.stderr = io.StringIO()  # the learner's prints must not land in the report
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the checker's to handle: it kills us
    try:
        cls = _load(source)
    except EngineError as error:
        conn.send(("unusable", str(error)))
        return
    conn.send(("ready", None))
    while True:
        message = conn.recv()
        if message is None:
            return
        name, arguments = message
        sys.stdout.seek(0)
        sys.stdout.truncate()
        try:
            result = ("ok", PROBES[name](cls, *arguments))
        except BaseException as error:  # even SystemExit: a probe must always answer
            result = ("raised", describe_error(error))
        conn.send(result)


class Session:
    """Probes the class given by ``source`` (the class, or (path, class name)) in a worker process."""

    isolated = True  # each probe has a time limit, and a crash ends only the worker

    def __init__(self, source: type | tuple[Path, str], timeout: float) -> None:
        self.source = source
        self.timeout = timeout
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def start(self) -> None:
        """Start a worker and wait for it to load the class. Raises EngineError when the class is unusable or
        loading it does not finish in time."""
        context = multiprocessing.get_context("fork")
        parent_end, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(child_end, self.source), daemon=True)
        with _quiet_fork_warning():
            self._process.start()
        child_end.close()
        self._conn = parent_end
        if not parent_end.poll(self.timeout):
            self.close()
            raise EngineError(
                f"loading the engine did not finish in {self.timeout:g} s: does the file train "
                f"something when imported? Put that under if __name__ == '__main__':"
            )
        try:
            status, message = parent_end.recv()
        except EOFError:
            code = self._process.exitcode if self._process is not None else None
            self.close()
            raise EngineError(f"the process loading the engine ended ({_exit_text(code)})") from None
        if status == "unusable":
            self.close()
            raise EngineError(message)

    def run(self, name: str, *arguments: object) -> Outcome:
        if self._process is None:
            self.start()
        assert self._process is not None and self._conn is not None  # start() raised otherwise
        try:
            self._conn.send((name, arguments))
            if not self._conn.poll(self.timeout):
                self.close()
                return Outcome("timed out", f"no answer within {self.timeout:g} s, so it was stopped")
            status, value = self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            self._process.join(1.0)
            code = self._process.exitcode
            self.close()
            return Outcome("crashed", f"the Python process running your engine died ({_exit_text(code)})")
        return Outcome(status, value)

    def close(self) -> None:
        if self._process is not None:
            if self._process.is_alive() and self._conn is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._conn.send(None)
                self._process.join(0.2)
                if self._process.is_alive():
                    self._process.kill()
                self._process.join(1.0)
            self._process = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcess:
    """Probes the class in this very process: no time limit and no protection from a crash. For platforms that
    cannot fork; ``check_engine`` says so in the report."""

    isolated = False

    def __init__(self, source: type | tuple[Path, str]) -> None:
        self.source = source
        self._class: type | None = None

    def start(self) -> None:
        if self._class is None:
            self._class = _load(self.source)

    def run(self, name: str, *arguments: object) -> Outcome:
        self.start()
        try:
            return Outcome("ok", PROBES[name](self._class, *arguments))
        except Exception as error:
            return Outcome("raised", describe_error(error))

    def close(self) -> None:
        self._class = None

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _exit_text(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


@contextlib.contextmanager
def _quiet_fork_warning() -> Iterator[None]:
    """Python 3.12+ warns when forking a process that has threads (a Jupyter kernel has some). The worker only
    runs the learner's pure-Python class and never touches those threads' locks."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        yield
