"""The parent's side of ``worker.py``: start one worker process per engine, talk JSON lines, stop them all.

``Pool`` is a context manager: every worker it started is stopped when the ``with`` block ends, also on an
exception or Ctrl-C, so no worker outlives the run. A worker that dies raises ``WorkerDied``, whose message names
the engine and the workload and ends with the worker's stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
STDERR_TAIL = 3000  # characters: enough for a traceback's last frames


def one_thread_env() -> dict[str, str]:
    """The environment for a worker: BLAS and OpenMP on one thread, for NumPy as PyTorch has
    ``torch.set_num_threads(1)``, so every engine computes on one core (and none spins threads on a shared box)."""
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class WorkerDied(RuntimeError):
    """A worker exited or closed its stdout instead of answering."""


class Worker:
    """One worker process serving ``engine`` for the workload named ``label`` (e.g. "W3 n=1000")."""

    def __init__(self, engine: str, label: str, preload: list[str]) -> None:
        self.engine, self.label = engine, label
        # stderr goes to a file, not a pipe: nobody reads a pipe while the worker runs, so a full one would block it.
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (open for the worker's life; close() closes it)
        self.process = subprocess.Popen(
            [sys.executable, WORKER, engine] + [f"--preload={m}" for m in preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            bufsize=1,
            env=one_thread_env(),
        )

    def request(self, **message: object) -> dict:
        """Send one request and return the worker's reply; WorkerDied if it has gone."""
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            raise WorkerDied(self._obituary())
        return json.loads(line)

    def _obituary(self) -> str:
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = "none yet: it closed its stdout"
        self.stderr.seek(0)
        tail = self.stderr.read().decode(errors="replace")[-STDERR_TAIL:]
        return (
            f"the {self.engine} worker for {self.label} died (exit code {code}); its stderr ends with:\n"
            f"{tail or '(nothing)'}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.stderr):
            with contextlib.suppress(OSError):  # stdin's buffer may not flush into a pipe nobody reads any more
                stream.close()


class Pool:
    """Starts workers, records how many objects each one's heap tracks after setup, and stops them all on exit."""

    def __init__(self, preload: list[str]) -> None:
        self.preload = list(preload)
        self.live: list[Worker] = []
        self.gc_objects: dict[str, dict[str, int]] = {}  # engine -> workload label -> len(gc.get_objects())

    def start(self, engine: str, label: str, workload: str, **args: object) -> tuple[Worker | None, dict]:
        """A worker set up for ``workload`` and the setup's reply; (None, {"error": ...}) if the setup failed."""
        worker = Worker(engine, label, self.preload)
        self.live.append(worker)
        reply = worker.request(op="setup", workload=workload, args=args)
        if "error" in reply:
            self.stop(worker)
            return None, reply
        self.gc_objects.setdefault(engine, {})[label] = reply.pop("gc_objects")
        return worker, reply

    def measure(self, engine: str, label: str, workload: str, **args: object) -> dict:
        """One measurement in a fresh worker, stopped right after, so nothing it built stays for the next one."""
        worker, reply = self.start(engine, label, workload, **args)
        if worker is None:
            return reply
        try:
            return worker.request(op="measure")
        finally:
            self.stop(worker)

    def stop(self, worker: Worker) -> None:
        worker.stop()
        self.live.remove(worker)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for worker in list(self.live):
            self.stop(worker)
