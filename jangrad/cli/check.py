"""``jangrad check FILE.py[:ClassName]``: check a learner's own Value class and print the report card.

Exit status 0 when every check passes (notes allowed), 1 when a value or gradient is wrong or an ordinary graph
crashes, 2 when the engine cannot be checked at all (no such file, no such class, not Value-like).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

__all__ = ["run", "HELP", "EXAMPLE"]

HELP = (
    "test your own micrograd-style Value class: every op it supports alone, a leaf used twice, the walk in its "
    "backward() and random graphs, against jangrad and finite differences; says which rule, or what in the "
    "walk, is wrong, the root cause first"
)

EXAMPLE = (
    "examples:\n  jangrad check my_engine.py            # the file defines a class Value\n"
    "  jangrad check my_engine.py:Scalar     # another class name\n"
    "  jangrad check my_engine.py --out check-out   # also draw each failing graph\n\n"
    "The file is imported as a module, as 'import my_engine' would from its folder: its code runs, but\n"
    '__name__ is not "__main__", so an  if __name__ == "__main__":  block does not. It runs in a separate\n'
    "process, with a time limit per check.\n\n"
    "exit status: 0 every check passed (notes are allowed), 1 a value or gradient is wrong or a graph\n"
    "crashed, 2 the engine cannot be checked (no such file or class, not Value-like)"
)


def add_arguments(
    parser: argparse.ArgumentParser, positive_float: Callable[[str], float], positive_int: Callable[[str], int]
) -> None:
    parser.add_argument("engine", metavar="FILE.py[:CLASS]", help="the file defining your class (default name Value)")
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="write report.txt and a drawing of each failing graph (yours beside the right "
        "numbers, the wrong node in red) into DIR",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=10.0,
        metavar="SECONDS",
        help="time limit per check (default 10); a backward() that never returns costs it once",
    )
    parser.add_argument(
        "--examples", type=positive_int, default=200, help="how many random graphs to try (default 200)"
    )


def run(args: argparse.Namespace) -> int:
    from ..check import check_engine
    from ..viz.graph import graphviz_installed

    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        raise ValueError(f"--out {args.out!r}: expected a folder, and that is a file")
    report = check_engine(args.engine, timeout=args.timeout, examples=args.examples)
    print(report.text())
    if args.out is not None:
        written = report.save(args.out)
        print(f"wrote {', '.join(str(path) for path in written)}")
        if len(written) > 1 and not graphviz_installed():
            print("(drawn by jangrad's built-in renderer: the Graphviz 'dot' program is not installed)")
    return report.exit_code
