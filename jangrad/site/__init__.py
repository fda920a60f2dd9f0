"""``jangrad site OUT_DIR``: the playground as a static folder that any static web host can serve, with jangrad
running in the visitor's browser (Pyodide, CPython compiled to WebAssembly) instead of on a server.

The builder (``build.py``) puts together the playground's own page with its worker transport (``static/``), the
Pyodide runtime and Graphviz for the web from the npm registry, jangrad as an archive and the pure-Python wheels
the page imports, all taken at build time (``inputs.py``) so that the page never fetches anything from another
origin. ``worker.py``, ``lab.py`` and ``checking.py`` are what the page's Web Workers run inside Pyodide: the labs'
requests, the network lab's training loop and ``jangrad.run``, and the check of a learner's own engine.

The builder is loaded when first used, not on import: the workers import this package in the browser, where the
builder's modules (subprocess, tarfile, ...) would only cost start-up time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded on first use by __getattr__
    from .build import SiteError, SiteSummary, build_site

__all__ = ["build_site", "SiteError", "SiteSummary"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import build

        return getattr(build, name)
    raise AttributeError(f"module 'jangrad.site' has no attribute {name!r}")
