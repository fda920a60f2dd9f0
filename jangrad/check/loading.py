"""Finding the learner's class: ``my_engine.py`` or ``my_engine.py:Scalar`` on the command line, or the class
itself in a notebook, and making sure it is Value-like (``Cls(0.5)`` works and has ``.data``, ``.grad`` and
``backward()``).

The file is imported as a module named after it, as ``import my_engine`` would from its own folder: its
``if __name__ == "__main__":`` block does not run. Importing runs the learner's code, so it only ever happens in
the worker process (``session.py``), never in the checker's own process.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import sys
from pathlib import Path
from typing import Any

__all__ = ["EngineError", "parse_target", "load_class", "require_value_like"]


class EngineError(ValueError):
    """The engine cannot be checked at all: no such class, a file that does not import, a class that is not
    Value-like. The message is one line for the learner (the command line exits with status 2)."""


def parse_target(text: str) -> tuple[Path, str]:
    """``'my_engine.py'`` -> (path, 'Value'); ``'my_engine.py:Scalar'`` -> (path, 'Scalar'). Raises
    FileNotFoundError for a missing file and EngineError for a malformed class name."""
    path_text, class_name = text, "Value"
    head, colon, tail = text.rpartition(":")
    if colon and head and not tail.startswith(("/", "\\")):  # not the drive colon of C:\engine.py
        path_text, class_name = head, tail
        if not class_name.isidentifier():
            raise EngineError(
                f"{text!r}: expected FILE.py or FILE.py:ClassName, and {class_name!r} is not a Python name"
            )
    path = Path(path_text)
    if not path.is_file():
        raise FileNotFoundError(2, "no such file", path_text)
    if path.suffix != ".py":
        raise EngineError(f"{path_text!r}: expected a Python file ending in .py")
    return path, class_name


def load_class(path: Path, class_name: str) -> type:
    """Import ``path`` as a module and return its class ``class_name``. Raises EngineError, in one line, for a
    syntax error, an exception at import or a missing class."""
    path = path.resolve()
    name = path.stem if path.stem.isidentifier() else "learner_engine"
    sys.path.insert(0, str(path.parent))  # as `python my_engine.py` would: its neighbours import
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise EngineError(f"{path.name} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise EngineError(f"{path.name} line {error.lineno}: SyntaxError: {error.msg}") from None
    except BaseException as error:  # anything the file does at import, even sys.exit()
        line = _line_in(error, path)
        where = f" (line {line})" if line else ""
        message = " ".join(str(error).split())
        raise EngineError(f"importing {path.name} raised {type(error).__name__}{where}: {message}") from None
    found = getattr(module, class_name, None)
    if not inspect.isclass(found):
        classes = sorted(n for n, obj in vars(module).items() if inspect.isclass(obj) and obj.__module__ == name)
        others = (
            f" (it defines {', '.join(classes)}: name one with {path.name}:{classes[0]})"
            if classes
            else " (it defines no class)"
        )
        raise EngineError(f"{path.name} has no class {class_name}{others}")
    return found


def _line_in(error: BaseException, path: Path) -> int | None:
    line = None
    trace = error.__traceback__
    while trace is not None:
        if Path(trace.tb_frame.f_code.co_filename).resolve() == path:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def require_value_like(cls: Any) -> None:
    """Raise EngineError unless ``cls(0.5)`` builds a leaf whose ``.data`` is 0.5, whose ``.grad`` is a number,
    and which has a ``backward`` method."""
    if not inspect.isclass(cls):
        raise EngineError(f"expected a class like micrograd's Value, got {cls!r} (a {type(cls).__name__})")
    name = cls.__name__
    build: Any = cls  # any class: what its constructor takes is what this finds out
    try:
        leaf = build(0.5)
    except BaseException as error:
        message = " ".join(str(error).split())
        raise EngineError(
            f"{name}(0.5) raised {type(error).__name__}: {message}; the checker makes every input as "
            f"{name}(number), so the constructor must accept a number alone"
        ) from None
    for attribute in ("data", "grad"):
        try:
            value = getattr(leaf, attribute)
            number = float(value)
        except BaseException:
            raise EngineError(
                f"{name}(0.5) has no number in .{attribute}: the checker reads values from .data "
                f"and gradients from .grad"
            ) from None
        if attribute == "data" and not math.isclose(number, 0.5):
            raise EngineError(f"{name}(0.5).data is {value!r}, expected 0.5")
    if not callable(getattr(leaf, "backward", None)):
        raise EngineError(f"{name} has no backward() method: the checker calls backward() on a graph's output")
