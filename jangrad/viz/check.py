"""Which node broke a gradient? Draws a failing function with the node that ``jangrad.gradcheck`` names (the
first whose op's local rule disagrees with its own numeric slope, ``autodiff.first_disagreeing_node``)
highlighted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..autodiff import first_disagreeing_node, input_names
from ..engine import Value

if TYPE_CHECKING:
    from .graph import Drawing, GroupRule

__all__ = ["first_disagreeing_node", "draw_gradcheck"]


def draw_gradcheck(
    f: Callable[..., Value],
    *args: float,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    names: Sequence[str] | None = None,
    rankdir: str = "LR",
    group: GroupRule = None,
    max_nodes: int = 150,
    renderer: str = "auto",
) -> tuple[Drawing, Value | None]:
    """Build f's graph at ``args`` (inputs labelled as gradcheck names them: ``names``, else f's parameter names,
    else x0, x1, ...), run backward, and draw it with the first node whose local rule is wrong highlighted.
    Returns ``(drawing, node)``; node is None when every rule agrees. ``rankdir``, ``group``, ``max_nodes`` and
    ``renderer`` are ``draw``'s.

    Use it after ``jangrad.gradcheck(f, *args)`` raised ``GradcheckError``, to see where the error comes from.
    """
    from .graph import draw

    labels = input_names(f, len(args)) if names is None else list(names)
    inputs = [Value(a, label=label) for a, label in zip(args, labels, strict=True)]
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"the function must return a Value, got {out!r} of type {type(out).__name__}")
    out.backward()
    culprit = first_disagreeing_node(out, eps, atol, rtol)
    drawing = draw(out, rankdir, highlight=culprit, group=group, max_nodes=max_nodes, renderer=renderer)
    return drawing, culprit
