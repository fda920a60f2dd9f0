"""The playground: ``jangrad serve``, a local web page to step through backpropagation and watch a network train.

``serve(port)`` runs the server until Ctrl-C or SIGTERM; ``make_server(port)`` gives the server object for tests
and notebooks. The page itself (HTML, CSS, one ES module per panel) is package data under ``static/``; it talks to
its engine only through ``static/transport.js``. Every request it makes is a plain function from JSON to JSON in
``api.py`` (the network lab's ``api.Lab`` holds the training ``session.Session``), which ``server.py`` routes to and
``training.py`` drives from a thread: a page that runs jangrad in a Web Worker calls the same functions.

The server and its command are loaded when first used, not on import: the static site's worker imports the labs'
modules (``expression``, ``api``) in the browser, where the HTTP server would only cost start-up time.
"""

from __future__ import annotations

import importlib

__all__ = ["serve", "make_server", "PlaygroundServer", "add_serve_command"]

_LAZY = {"serve": ".cli", "add_serve_command": ".cli", "make_server": ".server", "PlaygroundServer": ".server"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'jangrad.playground' has no attribute {name!r}")
