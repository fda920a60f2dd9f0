"""``jangrad serve``'s driver of the network lab: a thread that ticks the ``api.Lab`` at the page's pace and hands its
frames to every open tab's event stream.

Everything the lab does happens under one lock: a request (``call``) and the driver's tick never overlap, and a
tick runs at most ``api.WORK_SLICE`` seconds of steps, so a request waits no longer than that and one frame. A
frame is made once and shared; each event stream adds the losses it has not sent yet (``api.FrameCursor``).

A page that runs jangrad in a Web Worker has no threads: it drives the same ``Lab`` from its own loop
(``tick``, ``frame_due``, ``frame``, ``wake_in``), with one ``FrameCursor``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from .api import FrameCursor, Lab

__all__ = ["TrainingManager"]

_IDLE_WAIT = 0.5  # seconds the driver sleeps when nothing is due (a request wakes it sooner)


class TrainingManager:
    """The lab, its lock, its driver thread and the latest frame for the event streams."""

    def __init__(self, stopping: threading.Event, lab: Lab | None = None) -> None:
        self.lab = lab or Lab()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.stopping = stopping
        self.latest: dict | None = None
        self.seq = 0
        self.thread = threading.Thread(target=self._drive, name="jangrad-train", daemon=True)
        self.thread.start()

    def call(self, name: str, body: dict[str, Any] | None = None) -> Any:
        """Run one of the lab's requests (``start``, ``control``, ``edit``, ``select``, ...) and wake the driver."""
        method = getattr(self.lab, name)
        with self.lock:
            result = method() if body is None else method(body)
            self.changed.notify_all()
        return result

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:
            self.changed.notify_all()

    def _drive(self) -> None:
        lab = self.lab
        with self.lock:
            while not self.stopping.is_set():
                try:
                    lab.tick(time.monotonic())
                    if lab.frame_due(time.monotonic()):
                        self.latest = lab.frame(time.monotonic())
                        self.seq += 1
                        self.changed.notify_all()
                except Exception as error:  # a bug: say so in one line and keep serving
                    import sys

                    sys.stderr.write(f"jangrad serve: internal error while training: {error!r}\n")
                    lab.playing = False
                wait = lab.wake_in(time.monotonic())
                if wait is None or wait > 0:
                    self.changed.wait(_IDLE_WAIT if wait is None else min(wait, _IDLE_WAIT))

    def frames(self) -> Iterator[bytes]:
        """Server-sent-event chunks: each new frame, with the losses this stream has not sent yet, and pings.

        Yields ``b""`` about twice a second when there is nothing to send, so the caller can notice a closed tab.
        """
        cursor = FrameCursor()
        seen = -1
        last_write = time.monotonic()
        while not self.stopping.is_set():
            payload = None
            with self.lock:
                if self.seq == seen:
                    self.changed.wait(0.5)
                if self.seq != seen and not self.stopping.is_set():
                    seen = self.seq
                    session = self.lab.session
                    if self.latest is not None and session is not None and self.latest["run"] == session.number:
                        payload = cursor.fill(self.latest, session)
            if payload is not None:
                last_write = time.monotonic()
                yield b"data: " + json.dumps(payload, allow_nan=False).encode() + b"\n\n"
            elif time.monotonic() - last_write > 10.0:
                last_write = time.monotonic()
                yield b": ping\n\n"
            else:
                yield b""  # nothing new: the stream may check that its client is still there
