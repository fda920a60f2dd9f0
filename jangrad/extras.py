"""The optional packages and the extras that install them: a feature whose package is missing says, in one line,
which extra to install, instead of a traceback ending in ``ModuleNotFoundError: No module named 'sklearn'``.

``pip install jangrad`` gives the engine, ``nn``, the losses and optimizers, ``fit`` and the compiled tape (NumPy
at most). Everything else is an extra: ``jangrad[viz]`` (drawings, plots, the progress bar), ``jangrad[data]``
(scikit-learn's data sets), ``jangrad[check]`` (hypothesis, for ``jangrad check``'s random graphs) and
``jangrad[all]``. A function that needs one calls ``require`` on the line before its import::

    require("sklearn", "the blobs data set")
    from sklearn.datasets import make_blobs

and a learner without scikit-learn reads ``the blobs data set needs scikit-learn, which jangrad's [data] extra
installs: pip install "jangrad[data]"``. The command line prints that same line and exits with status 2.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtraError", "require"]

# top-level module -> (what pip calls it, the extra that installs it)
EXTRAS: dict[str, tuple[str, str]] = {
    "matplotlib": ("matplotlib", "viz"),
    "graphviz": ("the graphviz Python package", "viz"),
    "igraph": ("igraph", "viz"),
    "tqdm": ("tqdm", "viz"),
    "sklearn": ("scikit-learn", "data"),
    "hypothesis": ("hypothesis", "check"),
    "torch": ("PyTorch", "torch"),
}


class MissingExtraError(ImportError):
    """A feature needs an optional package that is not installed; the message is one line naming the extra."""

    def __init__(self, module: str, feature: str) -> None:
        top = module.partition(".")[0]
        if top not in EXTRAS:
            raise ValueError(f"no extra installs {module!r}; known: {', '.join(sorted(EXTRAS))}")
        package, extra = EXTRAS[top]
        super().__init__(
            f'{feature} needs {package}, which jangrad\'s [{extra}] extra installs: pip install "jangrad[{extra}]"',
            name=top,
        )
        self.extra = extra


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` and return it, or raise ``MissingExtraError`` naming the extra that installs it.

    Only a missing package becomes that one line: an installed package that fails inside its own import (a broken
    install, a missing system library) raises its own error, which says more than "install it" would.

    >>> require("math", "arithmetic").sqrt(4.0)
    2.0
    >>> print(MissingExtraError("sklearn.datasets", "the blobs data set"))
    the blobs data set needs scikit-learn, which jangrad's [data] extra installs: pip install "jangrad[data]"
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if module == missing or module.startswith(missing + "."):
            raise MissingExtraError(module, feature) from None
        raise
