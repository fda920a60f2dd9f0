"""What the page's engine worker runs inside Pyodide: each request of the page as a plain function, JSON in and
JSON out, as the playground server answers it; the network lab's loop (``drive``); and ``jangrad.run`` for
teachers' pages and tests.

The expression lab's requests go to the very functions ``jangrad serve`` routes them to
(``jangrad.playground.expression``), and the network lab's to the same ``api.Lab`` (``lab.py``), so the page shows
the same numbers, steps and drawings. Drawings need the
Graphviz ``dot`` program, which a browser cannot run; ``use_graphviz`` hands jangrad's drawings to Graphviz
compiled to WebAssembly (viz.js, loaded in the same worker) instead, so they are laid out by the same Graphviz
``jangrad serve`` uses, with the same SVG structure the page finds its nodes by.

This module imports nothing that needs a browser, so the tests run it under CPython too.
"""

from __future__ import annotations

import io
import json
import traceback
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lab import WorkerLab

__all__ = ["handle", "drive", "run", "use_graphviz", "warm_up", "MAX_REQUEST_CHARS", "LAB_METHODS"]

MAX_REQUEST_CHARS = 1024 * 1024  # as the server's MAX_BODY_BYTES: one request of the page is never bigger


def use_graphviz(render_dot: Callable[[str], str]) -> None:
    """Make every jangrad drawing in this interpreter go through ``render_dot`` (DOT text in, SVG text out), as
    it would go through the ``dot`` program on a machine with Graphviz.

    This replaces ``Drawing``'s call of the ``dot`` program and the check for it, in this worker only, for want of
    a hook in ``jangrad.viz.graph`` for a Graphviz that is not a program on PATH: such a hook (a DOT-to-SVG function
    that ``Drawing.pipe`` calls when set) would make this two lines that set it.
    """
    from ..viz import graph

    def graphviz_in_the_page(self: graph.Drawing, format: str) -> bytes:
        if format != "svg":
            raise ValueError(f"in the browser jangrad draws SVG only, not {format!r}")
        return render_dot(self.source).encode("utf-8")

    graph.Drawing._graphviz = graphviz_in_the_page  # type: ignore[method-assign]
    graph.graphviz_installed = lambda: True


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300] or type(error).__name__


def _lab(method: str, params: dict) -> object:
    from ..playground import expression

    source, inputs = params.get("source"), params.get("inputs", "")
    if method == "expression":
        return expression.build_lab(source, inputs)
    return expression.check_lab(source, inputs)


_METHODS: dict[str, Callable[[str, dict], object]] = {"expression": _lab, "check": _lab}
# The network lab's requests, by the names transport.js gives them (lab.py answers them).
LAB_METHODS = (
    "startTraining",
    "control",
    "edit",
    "sampleGraph",
    "selectParameter",
    "sampleSteps",
    "download",
    "command",
)
_network_lab: WorkerLab | None = None  # made at the first request: a page that never opens the lab never imports it


def _worker_lab() -> WorkerLab:
    from .lab import WorkerLab

    global _network_lab
    if _network_lab is None:
        _network_lab = WorkerLab()
    return _network_lab


def _network(method: str, params: dict) -> object:
    return _worker_lab().request(method, params)


_METHODS.update(dict.fromkeys(LAB_METHODS, _network))


def drive() -> str:
    """One turn of the network lab's loop (``WorkerLab.drive``) as JSON text: the frame and its pictures' inputs,
    if one is due, and the seconds until the next turn (null: until the next request)."""
    if _network_lab is None:
        return json.dumps({"frame": None, "pictures": None, "wake": None})
    return json.dumps(_network_lab.drive(), allow_nan=False)


def handle(method: str, params_json: str) -> str:
    """Answer one request of the page: ``{"result": ...}`` or ``{"error": "<one line>"}`` as JSON text.

    A refused request (bad input) gets its one-line reason, as the server's 400; anything else is a bug, said in
    one line with its type, as the server's 500 (the worker's console gets the traceback).
    """
    try:
        if len(params_json) > MAX_REQUEST_CHARS:
            raise ValueError(f"the request is {len(params_json)} characters; the limit is {MAX_REQUEST_CHARS}")
        params = json.loads(params_json)
        if not isinstance(params, dict):
            raise ValueError("the request must be a JSON object")
        if method not in _METHODS:
            raise ValueError(f"no such request: {method[:40]!r}")
        answer: dict = {"result": _METHODS[method](method, params)}
    except (ValueError, TypeError, ImportError) as error:  # LabError and ExpressionError are ValueErrors
        # ImportError: a feature whose optional package is missing names it in one line, as the server says it
        answer = {"error": _one_line(error)}
    except Exception as error:
        traceback.print_exc()
        answer = {"error": f"internal error: {type(error).__name__}"}
    return json.dumps(answer, allow_nan=False)


def run(source: str) -> str:
    """``window.jangrad.run(source)``: run Python source in a fresh namespace and return what it printed, as JSON
    text ``{"output": ...}``, or ``{"error": "Type: message (line n)", "output": ..., "traceback": ...}``.

    This runs code by design: it is the page's programmatic face for a course page's own scripts and for tests,
    never wired to anything a link, a file or a text field brings in.
    """
    printed = io.StringIO()
    namespace = {"__name__": "__main__"}
    try:
        code = compile(source, "<jangrad.run>", "exec")
        with redirect_stdout(printed), redirect_stderr(printed):
            exec(code, namespace)  # the point of jangrad.run: see the docstring
    except BaseException as error:  # even SystemExit: the page must always get an answer
        line = _line_of(error)
        where = f" (line {line})" if line else ""
        return json.dumps(
            {
                "error": f"{type(error).__name__}: {_one_line(error)}{where}",
                "output": printed.getvalue(),
                "traceback": "".join(traceback.format_exception(error)),
            }
        )
    return json.dumps({"output": printed.getvalue()})


def _line_of(error: BaseException) -> int | None:
    if isinstance(error, SyntaxError):
        return error.lineno
    line = None
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<jangrad.run>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def warm_up() -> None:
    """Import and run once what the first request needs, so that it answers at once when the page asks."""
    handle("expression", json.dumps({"source": "y = a*b + a", "inputs": "a=2, b=-3"}))
