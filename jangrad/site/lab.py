"""The network lab in the page's engine worker: the same ``api.Lab`` that ``jangrad serve`` drives from a thread,
driven here by the worker's own event loop, and the page's requests to it under the transport's method names.

A Web Worker has one thread, on which the page's requests are answered too, so the lab never runs long at a time:
``drive()`` runs the steps that are due (at most ``api.WORK_SLICE`` seconds of them, and every step is held to
``BROWSER_STEP_WORK``), makes a frame when one is due, and says when to come back (``wake``); the worker calls it
again after that many seconds, answering any request that arrives meanwhile. There is one listener, the page, so
one ``api.FrameCursor``.

Every step runs on the eager engine (there is no NumPy in the browser). A frame's boundary and heatmaps are drawn by
the worker's JavaScript (``static/pictures.js``) from the weights ``drive()`` hands it (``Session.picture_inputs``):
on the fine grid, in a few milliseconds, where plain Python would take tens.
"""

from __future__ import annotations

import sys
import time

from ..playground import api

__all__ = ["WorkerLab", "BROWSER_STEP_WORK", "DOWNLOADS"]

# Samples per step times parameters (see playground/limits.py). At this bound an eager step takes about 0.1 s in
# Pyodide on a laptop, so a request waits no longer than that for the step in progress.
BROWSER_STEP_WORK = 40_000
DOWNLOADS = {"model.json": "application/json", "history.csv": "text/csv"}


class WorkerLab:
    """The lab, the page's place in the loss series, and the requests of ``transport.js`` that reach them."""

    def __init__(self) -> None:
        self.lab = api.Lab(backend="python", compiled=False, outside_pictures=True, max_step_work=BROWSER_STEP_WORK)
        self.cursor = api.FrameCursor()

    def request(self, method: str, params: dict) -> object:
        """One of the network lab's requests, named as ``transport.js`` names it; ValueError for a refusal."""
        lab = self.lab
        if method == "startTraining":
            return lab.start(params)
        if method == "control":
            return lab.control(params)
        if method == "edit":
            return lab.edit(params)
        if method == "sampleGraph":
            return lab.select({"sample": params.get("index")})
        if method == "selectParameter":
            return lab.select({"parameter": params.get("index")})
        if method == "sampleSteps":
            return lab.sample_steps({})
        if method == "download":
            name = params.get("name")
            if name not in DOWNLOADS:
                raise ValueError(f"no such download: {str(name)[:40]!r}; there are {', '.join(DOWNLOADS)}")
            text = lab.model_json() if name == "model.json" else lab.history_csv()
            return {"text": text, "type": DOWNLOADS[name]}
        if method == "command":
            return api.command(params)
        raise ValueError(f"no such request: {method[:40]!r}")

    def drive(self, now: float | None = None) -> dict:
        """One turn of the worker's loop: ``{"frame": a frame or None, "pictures": what its pictures are drawn from
        or None, "wake": seconds until the next turn, or None to wait for a request}``."""
        lab = self.lab
        now = time.monotonic() if now is None else now
        frame = pictures = None
        try:
            lab.tick(now)
            if lab.frame_due(now) and lab.session is not None:
                frame = self.cursor.fill(lab.frame(now), lab.session)
                pictures = lab.session.picture_inputs()
        except Exception as error:  # a bug: stop playing, say so in the console, keep answering
            print(f"jangrad: internal error while training: {error!r}", file=sys.stderr)
            lab.playing = False
        return {"frame": frame, "pictures": pictures, "wake": lab.wake_in(now)}
