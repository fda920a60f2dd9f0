"""Anomaly tracing: what ``detect_anomaly()`` records on a node and the checks that raise ``AnomalyError``.

A node made inside ``detect_anomaly()`` remembers the file and line that created it (``node.site``); the first op
whose output, or whose gradient in the reverse pass, is nan or infinite raises an error naming the op, its operands
and that line. These functions only read ``.data``, ``.parents`` and ``.op`` of the nodes they are given, so this
module imports nothing of jangrad's.
"""

from __future__ import annotations

import math
import os
import sys
from types import FrameType
from typing import Any

from .node import Node

__all__ = ["AnomalyError", "user_site", "check_forward", "check_backward"]


class AnomalyError(ArithmeticError):
    """Raised inside ``detect_anomaly()`` by the first op whose output or gradient is nan or infinite."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_site() -> str:
    """The file and line of the innermost caller outside jangrad's own package (or of jangrad, if none)."""
    first = sys._getframe(1)
    frame: FrameType | None = first
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep):
        frame = frame.f_back
    found = frame or first
    return f"{found.f_code.co_filename}:{found.f_lineno}"


def _number(x: Any) -> float:
    """A gradient's number: it is a float, or a Value under create_graph."""
    number: float = getattr(x, "data", x)
    return number


def _is_finite(x: Any) -> bool:
    value = _number(x)
    return not (math.isinf(value) or math.isnan(value))


def check_forward(out: Node, op_name: str, operands: tuple[Node, ...]) -> None:
    """Raise if the node ``out`` just made by ``op_name`` holds nan or an infinity."""
    if not _is_finite(out.data):
        values = ", ".join(repr(x.data) for x in operands)
        site = getattr(out, "site", "(a line outside detect_anomaly)")
        raise AnomalyError(f"'{op_name}' returned {out.data!r} from operand(s) ({values}); created at {site}")


def check_backward(node: Node, g: Any, contributions: tuple[Any, ...]) -> None:
    """Raise if ``node``'s rule turned the gradient ``g`` into a nan or infinite contribution to an operand."""
    for index, c in enumerate(contributions):
        if not _is_finite(c):
            values = ", ".join(repr(x.data) for x in node.parents)
            site = getattr(node, "site", "(a line outside detect_anomaly)")
            raise AnomalyError(
                f"backward of '{node.op}' gave gradient {_number(c)!r} for operand {index} "
                f"(operands: {values}; incoming gradient {_number(g)!r}); created at {site}"
            )
