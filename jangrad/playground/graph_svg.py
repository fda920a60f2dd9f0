"""The expression lab's drawing: the graph as SVG with stable element ids, or a one-line note when it cannot be drawn.

Ids, which the page uses to update gradients and highlight a step: the value node ``v<i>`` (its index in
``topological_order``) and its op node ``op-v<i>``. The value node's last ``<text>`` is its gradient, drawn as
"—": the page fills it in as the backward pass reaches it. (Graphviz gives a table cell no id of its own.)
"""

from __future__ import annotations

import html

from ..engine import Value


def _dot(order: list[Value], ids: dict[int, str], names: dict[int, str]):
    import graphviz

    graph = graphviz.Digraph(graph_attr={"rankdir": "LR", "bgcolor": "transparent"},
                             node_attr={"fontname": "Helvetica", "fontsize": "11"})
    for node in order:
        nid = ids[id(node)]
        name = html.escape(names[id(node)])
        label = (f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4"><TR>'
                 f'<TD><B>{name}</B></TD><TD>data {node.data:.4g}</TD>'
                 f'<TD WIDTH="84">grad —</TD></TR></TABLE>>')
        graph.node(nid, label=label, shape="plain", id=nid)
        if node._op is not None:
            graph.node(f"op-{nid}", label=html.escape(node._op.symbol), shape="circle", id=f"op-{nid}",
                       width="0.3", margin="0.02")
            graph.edge(f"op-{nid}", nid, id=f"edge-op-{nid}")
            for k, parent in enumerate(node._prev):
                graph.edge(ids[id(parent)], f"op-{nid}", id=f"edge-{ids[id(parent)]}-{nid}-{k}")
    return graph


def render(order: list[Value], ids: dict[int, str], names: dict[int, str]) -> dict:
    """``{"dot": ..., "svg": ... or None, "svg_note": ""}``; without the Graphviz program, a note instead of SVG."""
    try:
        graph = _dot(order, ids, names)
    except ImportError:
        return {"dot": "", "svg": None, "svg_note": "the graphviz Python package is not installed: no drawing"}
    try:
        svg = graph.pipe(format="svg", encoding="utf-8")
    except Exception:  # graphviz.ExecutableNotFound, or dot failing: the page still shows numbers and narration
        return {"dot": graph.source, "svg": None,
                "svg_note": "the Graphviz program 'dot' is not available, so the graph is not drawn"}
    start = svg.find("<svg")
    return {"dot": graph.source, "svg": svg[start:] if start >= 0 else svg, "svg_note": ""}


def graphviz_available() -> bool:
    """Whether the Graphviz ``dot`` program can be run (the page says so in one line when it cannot)."""
    import shutil
    return shutil.which("dot") is not None
