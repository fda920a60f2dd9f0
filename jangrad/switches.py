"""The engine's two switches, ``no_grad`` and ``detect_anomaly``: per-thread state that changes how ops record.

Like PyTorch's, a switch belongs to the thread that sets it (a server may train in one thread and evaluate under
``no_grad`` in another). The engine reads ``unusual_threads`` before it looks at its own thread's state: a plain
module global costs a fraction of a thread-local read, and ops pay it at every node. This module imports nothing
of jangrad's.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "state"]


class _State(threading.local):
    """One thread's switches."""

    grad_enabled: bool = True
    anomaly: bool = False
    unusual: bool = False  # True while no_grad or detect_anomaly is in force on this thread

    def set(self, grad_enabled: bool, anomaly: bool) -> None:
        global unusual_threads
        unusual = not grad_enabled or anomaly
        if unusual != self.unusual:
            with _counting:
                unusual_threads += 1 if unusual else -1
        self.grad_enabled = grad_enabled
        self.anomaly = anomaly
        self.unusual = unusual


state = _State()
# How many threads have a switch on; 0 means every op may take the fast path without reading ``state``.
unusual_threads = 0
_counting = threading.Lock()


class no_grad(contextlib.ContextDecorator):
    """Ops inside record no graph: their results are leaves. For evaluation and parameter updates.

    Use as ``with jangrad.no_grad():`` or as a decorator ``@jangrad.no_grad()``. Like PyTorch's, the switch
    belongs to the thread that sets it.
    """

    def __init__(self, enabled: bool = False) -> None:
        if not isinstance(enabled, bool):  # most often a bare ``@no_grad``, which would silently do nothing
            raise TypeError(
                f"no_grad takes enabled=True or False, got {enabled!r}; as a decorator write "
                f"@no_grad() with the parentheses"
            )
        self._enabled = enabled
        self._saved: list[bool] = []

    def _recreate_cm(self) -> no_grad:
        # ContextDecorator calls this for every call of a decorated function: a fresh instance per call, so that
        # threads running the same decorated function never pop each other's saved switch.
        return no_grad(self._enabled)

    def __enter__(self) -> no_grad:
        self._saved.append(state.grad_enabled)
        state.set(self._enabled, state.anomaly)
        return self

    def __exit__(self, *exc: object) -> None:
        state.set(self._saved.pop(), state.anomaly)


def enable_grad() -> no_grad:
    """The opposite of ``no_grad``: record graphs inside, even within a ``no_grad`` block."""
    return no_grad(enabled=True)


def is_grad_enabled() -> bool:
    return state.grad_enabled


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Inside, the first op whose output or gradient is nan or infinite raises ``AnomalyError``.

    The error names the op, its operand values and the file and line where the node was created. Only nodes
    created inside the block carry that record; outside the block nothing is recorded and nothing is checked.
    """
    outer = state.anomaly
    state.set(state.grad_enabled, True)
    try:
        yield
    finally:
        state.set(state.grad_enabled, outer)
