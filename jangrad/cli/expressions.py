"""The expression commands: ``jangrad graph``, ``jangrad explain`` and ``jangrad gradcheck``.

Each reads an expression with the safe parser in ``expr.py`` (never ``eval``), with the inputs given by ``--set``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..autodiff import GradcheckError, gradcheck, local_kink
from ..engine import Value, topological_order
from ..io.expr import ExpressionError, evaluate, parse_assignments
from .errors import UsageError
from .outputs import check_file_folder, made_folder

if TYPE_CHECKING:
    from ..viz.graph import Drawing

__all__ = ["run", "save_drawing"]


_NO_GRAPHVIZ = (
    "--renderer graphviz needs Graphviz's 'dot' program, which is not installed: use --renderer builtin (or "
    "auto), which draws without it, or install Graphviz (apt-get install graphviz | brew install graphviz | "
    "conda install graphviz)"
)


def save_drawing(drawing: Drawing, path: Path) -> Path:
    """Save to ``path``, making its missing folders. A forced Graphviz renderer without its ``dot`` program is a
    usage error (nothing is written): the built-in renderer is the way to draw without Graphviz."""
    from ..viz.graph import GraphvizNotFound

    with made_folder(path.parent):
        try:
            return drawing.save(path)
        except GraphvizNotFound:
            raise UsageError(_NO_GRAPHVIZ) from None


def _set_values(args: argparse.Namespace) -> dict[str, float]:
    """The --set inputs as numbers; a name or number the expression reader refuses is reported naming --set."""
    try:
        return parse_assignments(args.variables)
    except ExpressionError as error:
        message = str(error)
        raise ExpressionError(message if message.startswith("--set") else f"--set: {message}") from None


def _check_out(path_text: str) -> Path:
    path = Path(path_text)
    if path.suffix.lower() not in (".svg", ".png", ".dot", ".gv"):
        raise UsageError(f"--out {path_text!r}: expected a file name ending in .svg, .png or .dot")
    check_file_folder(path)
    return path


def _check_renderer(renderer: str, path: Path) -> None:
    """Refuse ``--renderer graphviz`` without the ``dot`` program before any work, when the file needs it."""
    from ..viz.graph import graphviz_installed

    if renderer == "graphviz" and path.suffix.lower() in (".svg", ".png") and not graphviz_installed():
        raise UsageError(_NO_GRAPHVIZ)


def _graph(args: argparse.Namespace) -> int:
    from ..viz import ascii, draw

    path = _check_out(args.out)
    _check_renderer(args.renderer, path)
    out, _ = evaluate(args.expression, _set_values(args))
    out.backward()
    print(ascii(out))
    written = save_drawing(draw(out, rankdir=args.rankdir, renderer=args.renderer), path)
    print(f"wrote {written}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from ..viz import explain

    out, _ = evaluate(args.expression, _set_values(args))
    explain(out)
    return 0


def _gradcheck(args: argparse.Namespace) -> int:
    path = _check_out(args.out) if args.out else None
    variables = _set_values(args)
    names = list(variables)
    out, leaves = evaluate(args.expression, variables)  # rejects a bad expression before any differentiation

    def f(*inputs: Value) -> Value:
        return evaluate(args.expression, dict(zip(names, inputs, strict=True)))[0]

    try:
        gradcheck(f, *variables.values(), eps=args.eps, order=args.order, names=names)
    except GradcheckError as failure:
        sys.stderr.write(f"jangrad gradcheck: FAILED: {' '.join(str(failure).split())}\n")
        if path is not None:
            _draw_failure(out, path)
        return 1
    out.backward()
    gradients = ", ".join(f"d/d{name} = {leaves[name].grad:.6g}" for name in names)
    print(f"gradcheck passed (order {args.order}, eps {args.eps:g}): {gradients or 'no inputs'}")
    kinks = [kink for kink in map(local_kink, topological_order(out)) if kink is not None]
    if kinks:  # abs at 0: the central difference happens to match, but there is no derivative to confirm
        print(
            f"note: a kink, where the derivative is not defined and the rule's value is the one PyTorch takes: "
            f"{', '.join(kinks)}"
        )
    return 0


def _draw_failure(out: Value, path: Path) -> None:
    """Draw the failing graph with the node to look at in red: the first whose rule is wrong, else the first at a
    kink (where no rule can match the central difference)."""
    from ..viz import draw, first_disagreeing_node

    out.backward()
    culprit = first_disagreeing_node(out)
    blamed = f"the '{culprit.op}' node, whose rule is wrong, is highlighted" if culprit is not None else ""
    if culprit is None:
        culprit = next((node for node in topological_order(out) if local_kink(node) is not None), None)
        blamed = f"the '{culprit.op}' node at the kink is highlighted" if culprit is not None else ""
    written = save_drawing(draw(out, highlight=culprit), path)
    print(f"wrote {written} ({blamed or 'no single node is to blame'})")


def run(args: argparse.Namespace) -> int:
    return {"graph": _graph, "explain": _explain, "gradcheck": _gradcheck}[args.command](args)
