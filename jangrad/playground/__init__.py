"""The playground: ``jangrad serve``, a local web page to step through backpropagation and watch a network train.

``serve(port)`` runs the server until Ctrl-C or SIGTERM; ``make_server(port)`` gives the server object for tests
and notebooks. The page itself (HTML, CSS, plain JavaScript) is package data under ``static/``.

The server and its command are loaded when first used, not on import: the static site's worker imports the labs'
modules (``expression``) in the browser, where the HTTP server would only cost start-up time.
"""

from __future__ import annotations

import importlib

__all__ = ["serve", "make_server", "PlaygroundServer", "add_serve_command"]

_LAZY = {"serve": ".cli", "add_serve_command": ".cli", "make_server": ".server", "PlaygroundServer": ".server"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'jangrad.playground' has no attribute {name!r}")
