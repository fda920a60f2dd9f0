"""``check_engine``: the whole check of a learner's engine, from its arguments to the report card.

It reads the arguments, chooses where the learner's code runs (a worker process with a time limit per probe, or
this process where ``fork`` does not exist) and hands that runner to ``plan.run_checks``, which does the checking.
"""

from __future__ import annotations

import inspect
import math
import os
import time

from .loading import EngineError, parse_target
from .plan import DEPTHS, run_checks
from .report import Report
from .session import InProcess, Session, can_isolate

__all__ = ["check_engine", "DEPTHS"]


def check_engine(engine: type | str | os.PathLike, *, timeout: float = 10.0, examples: int = 200) -> Report:
    """Check a micrograd-style ``Value`` class: every op it supports alone, a leaf used twice, the walk in its
    ``backward()``, and ``examples`` generated graphs (shrunk to the smallest failing one), against jangrad's op
    table and central differences, the root cause of a failure first. Returns a ``Report``; print it, or let
    Jupyter display it.

    ``engine`` is the class, or a file name ``'my_engine.py'`` / ``'my_engine.py:Scalar'`` (the file is imported
    as a module, so its ``if __name__ == "__main__":`` block does not run). The learner's code runs in a worker
    process and each check gets ``timeout`` seconds (a ``backward()`` that never returns costs it once). Raises
    EngineError (a ValueError) when the engine cannot be checked at all, FileNotFoundError for a missing file.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ValueError(f"examples must be a positive whole number, got {examples!r}")
    if isinstance(engine, (str, os.PathLike)):
        path, class_name = parse_target(os.fspath(engine))
        source: type | tuple = (path, class_name)
        label = f"class {class_name} from {path}"
    elif inspect.isclass(engine):
        module = getattr(engine, "__module__", "__main__")
        source = engine
        label = f"class {engine.__qualname__}" + (f" from module {module}" if module != "__main__" else "")
    else:
        raise EngineError(
            f"expected a class like micrograd's Value or a file name, got {engine!r} (a {type(engine).__name__})"
        )
    try:  # load it before the worker starts, so that every (re)started worker has it already
        import hypothesis  # noqa: F401

        have_hypothesis = True
    except ImportError:
        have_hypothesis = False

    started = time.perf_counter()
    report = Report(label)
    runner = Session(source, timeout) if can_isolate() else InProcess(source)
    with runner:
        runner.start()
        if not runner.isolated:
            report.notes.append(
                "this platform cannot fork a worker process, so the checks ran without a time limit in this process"
            )
        run_checks(runner, report, examples, have_hypothesis)
    report.seconds = time.perf_counter() - started
    return report
