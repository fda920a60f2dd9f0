"""The expression lab's drawing: ``jangrad.draw``'s SVG with element ids the page can find.

``draw`` names each node ``n<i>`` (its index in ``topological_order``) and each op node ``n<i>op`` in its DOT
text; Graphviz puts those names in each SVG group's <title> but numbers the groups' ids itself, so the ids are
set here to the names. Without Graphviz, ``draw``'s built-in renderer writes the same structure with the ids
already set, so both pass through here alike. The value node's last <text> is its gradient: it is blanked to "—"
for the page to fill in as its stepper reaches it, and its box is laid out wide enough for every number the
stepper will write there (``render``'s ``widest``), so a filled-in gradient never spills over the box.
"""

from __future__ import annotations

import re
import shutil
from typing import TYPE_CHECKING

from ..engine import Value

if TYPE_CHECKING:
    from ..viz.graph import Drawing

__all__ = ["render", "svg_text", "with_node_ids", "graphviz_available"]

_GROUP = re.compile(r'<g id="[^"]*" class="(node|edge)">\s*<title>([^<]*)</title>')
_GRAD_TEXT = re.compile(r"(<text[^>]*>)grad [^<]*(</text>)")


def graphviz_available() -> bool:
    """Whether the Graphviz ``dot`` program can be run (the page says so in one line when it cannot)."""
    return shutil.which("dot") is not None


def with_node_ids(svg: str) -> str:
    """The SVG with each node group's id set to its DOT name (``n3``, ``n3op``, ``g0``), so a page can find it."""

    def rename(match: re.Match) -> str:
        kind, title = match.group(1), match.group(2)
        if kind == "edge":
            return match.group(0)
        return f'<g id="{title}" class="node">\n<title>{title}</title>'

    return _GROUP.sub(rename, svg)


def _with_ids(svg: str) -> str:
    return _GRAD_TEXT.sub(lambda m: f"{m.group(1)}grad —{m.group(2)}", with_node_ids(svg))


def svg_text(drawing: Drawing) -> str | None:
    """A drawing as inline SVG (the XML prologue cut off), or None when Graphviz was forced and is missing."""
    from ..viz import GraphvizNotFound

    try:
        svg = drawing.pipe("svg").decode("utf-8")
    except GraphvizNotFound:
        return None
    return svg[svg.find("<svg") :]


# Numbers whose 4-significant-digit text ("%.4g", what a drawing writes) is 1, 2, ... characters long.
_WIDTHS = [8.0, -8.0, 8.5, -8.5, -8.25, -8.125, 8.5e10, -8.5e10, -8.25e10, -8.125e10, -8.125e-100]


def as_wide_as(text: str) -> float:
    """A number that a drawing writes at least as wide as ``text`` (so a box laid out for it holds ``text``)."""
    return _WIDTHS[min(len(text), len(_WIDTHS)) - 1]


def render(root: Value, widest: dict[int, str] | None = None) -> dict:
    """``{"dot": ..., "svg": ..., "svg_note": ""}``; the SVG comes from Graphviz, or without it from the built-in
    renderer (the note is for a drawing that still could not be made).

    Each value box's gradient is blanked to "grad —" for the page's stepper to fill in; ``widest`` gives, by node
    ``id``, the widest gradient text the page will write there, and the box is laid out to hold it.
    """
    from ..engine import topological_order
    from ..viz import draw

    source = draw(root, group=False).source  # the DOT text with the gradients the graph holds
    held = {}
    if widest:
        for node in topological_order(root):
            if id(node) in widest:
                held[id(node)] = (node, node.grad)
                node.grad = as_wide_as(widest[id(node)])
    try:
        svg = svg_text(draw(root, group=False))
    finally:
        for node, grad in held.values():
            node.grad = grad
    if svg is None:
        return {
            "dot": source,
            "svg": None,
            "svg_note": "the Graphviz program 'dot' is not installed, so the graph is not drawn; "
            "the numbers and the narration below still work",
        }
    return {"dot": source, "svg": _with_ids(svg), "svg_note": ""}
