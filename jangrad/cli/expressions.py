"""The expression commands: ``jangrad graph``, ``jangrad explain`` and ``jangrad gradcheck``.

Each reads an expression with the safe parser in ``expr.py`` (never ``eval``), with the inputs given by ``--set``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..autodiff import GradcheckError, gradcheck
from ..engine import Value
from ..io.expr import evaluate, parse_assignments

__all__ = ["run", "save_drawing"]


def save_drawing(drawing, path: Path) -> tuple[Path, str | None]:
    """Save to ``path``. Only when Graphviz was forced (``--renderer graphviz``) and its ``dot`` program is missing,
    write DOT next to it instead. Returns (path written, hint or None)."""
    from ..viz.graph import GraphvizNotFound

    try:
        return drawing.save(path), None
    except GraphvizNotFound as missing:
        return drawing.save(path.with_suffix(".dot")), str(missing)


def _check_out(path_text: str) -> Path:
    path = Path(path_text)
    if path.suffix.lower() not in (".svg", ".png", ".dot", ".gv"):
        raise ValueError(f"--out {path_text!r}: expected a file name ending in .svg, .png or .dot")
    if not path.parent.is_dir():
        raise FileNotFoundError(2, "folder does not exist", str(path.parent))
    return path


def _graph(args: argparse.Namespace) -> int:
    from ..viz import ascii, draw

    path = _check_out(args.out)
    out, _ = evaluate(args.expression, parse_assignments(args.variables))
    out.backward()
    print(ascii(out))
    written, hint = save_drawing(draw(out, rankdir=args.rankdir, renderer=args.renderer), path)
    if hint:
        sys.stderr.write(f"jangrad graph: {hint}\n")
    print(f"wrote {written}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from ..viz import explain

    out, _ = evaluate(args.expression, parse_assignments(args.variables))
    explain(out)
    return 0


def _gradcheck(args: argparse.Namespace) -> int:
    path = _check_out(args.out) if args.out else None
    variables = parse_assignments(args.variables)
    names = list(variables)
    out, leaves = evaluate(args.expression, variables)  # rejects a bad expression before any differentiation

    def f(*inputs: Value) -> Value:
        return evaluate(args.expression, dict(zip(names, inputs, strict=True)))[0]

    try:
        gradcheck(f, *variables.values(), eps=args.eps, order=args.order)
    except GradcheckError as failure:
        sys.stderr.write(f"jangrad gradcheck: FAILED: {' '.join(str(failure).split())}\n")
        if path is not None:
            _draw_failure(out, path)
        return 1
    out.backward()
    gradients = ", ".join(f"d/d{name} = {leaves[name].grad:.6g}" for name in names)
    print(f"gradcheck passed (order {args.order}, eps {args.eps:g}): {gradients or 'no inputs'}")
    return 0


def _draw_failure(out: Value, path: Path) -> None:
    from ..viz import draw, first_disagreeing_node

    out.backward()
    culprit = first_disagreeing_node(out)
    written, hint = save_drawing(draw(out, highlight=culprit), path)
    blamed = f"the '{culprit.op}' node is highlighted" if culprit is not None else "no single node is to blame"
    print(f"wrote {written} ({blamed})")
    if hint:
        sys.stderr.write(f"jangrad gradcheck: {hint}\n")


def run(args: argparse.Namespace) -> int:
    return {"graph": _graph, "explain": _explain, "gradcheck": _gradcheck}[args.command](args)
