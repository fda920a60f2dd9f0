"""Memory measurements for the engine tests, with tracemalloc: what a graph holds, and whether dropping it frees it.

Run these with the cycle collector disabled (the ``gc_disabled`` pattern in the tests), so that only reference
counting can free anything: a graph with reference cycles then stays allocated and the check fails.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

FREELIST_SLACK = 256 * 1024
"""CPython keeps up to 2000 freed tuples of each small size for reuse; tracemalloc still counts them as allocated."""


def bytes_held(build: Callable[[], object]) -> tuple[int, object]:
    """Bytes still allocated when ``build()`` returns, and its result (kept alive while measuring)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = build()
        return tracemalloc.get_traced_memory()[0] - before, result
    finally:
        tracemalloc.stop()


def assert_freed(build_and_use: Callable[[], object]) -> None:
    """Run ``build_and_use()`` and drop what it returns: all but the interpreter's free lists must come back."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build_and_use()
        peak = tracemalloc.get_traced_memory()[1] - before
        del kept
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert peak > 4 * FREELIST_SLACK, f"only {peak} bytes were allocated: too small a graph to judge"
    assert left < FREELIST_SLACK + 0.01 * peak, f"{left} of {peak} bytes still allocated after dropping the graph"
    assert gc.collect() == 0, "dropping the graph left objects in reference cycles"
