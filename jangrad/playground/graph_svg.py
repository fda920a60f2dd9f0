"""The expression lab's drawing: ``jangrad.draw``'s SVG with element ids the page can find.

``draw`` names each node ``n<i>`` (its index in ``topological_order``) and each op node ``n<i>op`` in its DOT
text; Graphviz puts those names in each SVG group's <title> but numbers the groups' ids itself, so the ids are
set here to the names. Without Graphviz, ``draw``'s built-in renderer writes the same structure with the ids
already set, so both pass through here alike. The value node's last <text> is its gradient: it is blanked to "—"
for the page to fill in as its stepper reaches it.
"""

from __future__ import annotations

import re
import shutil

from ..engine import Value

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


def svg_text(drawing) -> str | None:
    """A drawing as inline SVG (the XML prologue cut off), or None when Graphviz was forced and is missing."""
    from ..viz import GraphvizNotFound

    try:
        svg = drawing.pipe("svg").decode("utf-8")
    except GraphvizNotFound:
        return None
    return svg[svg.find("<svg") :]


def render(root: Value) -> dict:
    """``{"dot": ..., "svg": ..., "svg_note": ""}``; the SVG comes from Graphviz, or without it from the built-in
    renderer (the note is for a drawing that still could not be made)."""
    from ..viz import draw

    drawing = draw(root, group=False)
    svg = svg_text(drawing)
    if svg is None:
        return {
            "dot": drawing.source,
            "svg": None,
            "svg_note": "the Graphviz program 'dot' is not installed, so the graph is not drawn; "
            "the numbers and the narration below still work",
        }
    return {"dot": drawing.source, "svg": _with_ids(svg), "svg_note": ""}
