"""jangrad: a scalar reverse-mode autograd engine and a small neural-network library, for learning backprop.

The engine (``Value``, ``backward``, ``no_grad``, ``detect_anomaly``) and the derivative transforms (``grad``,
``value_and_grad``, ``gradcheck``) load with no third-party package at all.
"""

from typing import Any

from . import data, losses, nn, optim
from ._version import __version__
from .anomaly import AnomalyError
from .autodiff import GradcheckError, grad, gradcheck, value_and_grad
from .compiled import GraphChangedError, Tape, compile
from .engine import Value, topological_order
from .switches import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .train import History, TrainingDiverged, fit

__all__ = [
    "Value",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "AnomalyError",
    "topological_order",
    "grad",
    "value_and_grad",
    "gradcheck",
    "GradcheckError",
    "compile",
    "Tape",
    "GraphChangedError",
    "nn",
    "losses",
    "optim",
    "data",
    "fit",
    "History",
    "TrainingDiverged",
    "__version__",
]

# Tooling loads on first use too; ``jangrad.expr`` was a top-level module before the package had folders.
_TOOLING = {"viz": ".viz", "cli": ".cli", "expr": ".io.expr", "io": ".io", "check": ".check"}

# The pictures load on first use, so `import jangrad` never pulls in graphviz or matplotlib.
_VIZ_EXPORTS = {
    "draw": "graph",
    "ascii": "ascii",
    "print_tree": "ascii",
    "explain": "explain",
    "draw_dot": "lecture",
    "stepper": "stepper",
}


def __getattr__(name: str) -> Any:  # the tools and pictures, loaded on first use
    if name == "check_engine":  # loads hypothesis only when a check runs, not at import
        from .check import check_engine

        return check_engine
    if name in _VIZ_EXPORTS:
        import importlib

        module = importlib.import_module(f".viz.{_VIZ_EXPORTS[name]}", __name__)
        return getattr(module, name)
    if name in _TOOLING:
        import importlib

        return importlib.import_module(_TOOLING[name], __name__)
    raise AttributeError(f"module 'jangrad' has no attribute {name!r}")


__all__ += list(_VIZ_EXPORTS) + ["check_engine"]
