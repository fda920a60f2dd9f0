"""One engine's worker process: the parent (``run.py``, through ``pool.py``) sends requests as JSON lines.

    python benchmarks/worker.py ENGINE [--preload MODULE ...]

Each engine runs in a process of its own because CPython's cyclic garbage collector rescans every tracked object
in the process: jangrad's or micrograd's graph nodes would pay for rescanning PyTorch's heap if they shared one.
So a worker imports its engine only (``engines.py``), after the ``--preload`` modules, which reproduce a heap
such as a notebook's that has PyTorch imported next to jangrad. One request per line, one reply per line:

    {"op": "setup", "workload": "W2", "args": {...}}  ->  the setup's info and "gc_objects", the tracked objects
    {"op": "run", "calls": n}                         ->  {"seconds": s}: the next n steps, timed as a block
    {"op": "measure"}                                 ->  the measurement's result (W3-W5)

End of input ends the worker. Failures an engine is expected to have (micrograd's RecursionError on a deep graph,
MemoryError, an engine that is not installed) come back as {"error": "..."}; any other exception is a bug: its
traceback goes to stderr and the worker exits 1, which the parent reports. The garbage collector stays on.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import TextIO

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # the jangrad checkout this file belongs to, before any installed copy


def run_block(step: Callable[[], object], calls: int) -> float:
    """Seconds per call of the next ``calls`` steps of this worker's training loop.

    No collection is forced between blocks: users do not collect between training steps, so each step pays for
    the collections its own allocations set off, and micrograd's steps for collecting the reference cycles earlier
    steps left behind, as in training. (A forced collection before each block would spare micrograd's first step
    in every block that work: it measured about 40 % faster than the steps after it.) The worker holds this engine
    alone, so no engine pays for another's garbage.
    """
    start = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - start) / calls


def expected_error(error: BaseException) -> str | None:
    """The cell text for a failure that belongs in the table, or None for a bug."""
    if isinstance(error, RecursionError):
        return "RecursionError (recursive topological sort)"
    if isinstance(error, MemoryError):
        return "MemoryError"
    if isinstance(error, ModuleNotFoundError):
        return f"{error.name} not installed"
    return None


def serve(engine: str, requests: TextIO, replies: TextIO) -> None:
    import engines  # after the preloads, so they come first in the heap, as in the session being reproduced

    job: Callable[[], object] | None = None
    for line in iter(requests.readline, ""):
        request = json.loads(line)
        try:
            if request["op"] == "setup":
                job, info = engines.SETUPS[request["workload"]](engine, **request["args"])
                gc.collect()  # count what the timed steps run beside, not the setup's garbage
                reply = {**info, "gc_objects": len(gc.get_objects())}
            elif request["op"] == "run":
                reply = {"seconds": run_block(job, request["calls"])}
            elif request["op"] == "measure":
                reply = job()
            else:
                raise ValueError(f"unknown request {request!r}")
        except Exception as error:
            message = expected_error(error)
            if message is None:
                raise
            reply = {"error": message}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=("micrograd", "eager", "compiled", "torch"))
    parser.add_argument("--preload", action="append", default=[], metavar="MODULE")
    args = parser.parse_args()
    # Ctrl-C reaches the whole process group; the parent stops its workers itself, so a worker ignores it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in args.preload:
        importlib.import_module(module)
    # Replies own stdout: anything an engine prints goes to stderr instead of into the protocol.
    replies, sys.stdout = sys.stdout, sys.stderr
    serve(args.engine, sys.stdin, replies)


if __name__ == "__main__":
    main()
