"""What a drawing shows, before any renderer: the boxes (records, op nodes, group boxes) and the arrows.

``draw`` (and ``draw_dot``, for its pictures without Graphviz) builds one ``Scene``; Graphviz gets it as DOT text
(``to_dot``) and the built-in renderer lays it out and writes SVG or PNG from it, so both pictures show the same
boxes with the same ids (``n3``, ``n3op``, ``g0``) and the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..extras import require

__all__ = ["Box", "Scene", "to_dot"]

RECORD, OP, GROUP = "record", "op", "group"

_HIGHLIGHT_STYLE = {"color": "red", "penwidth": "3", "style": "filled", "fillcolor": "#ffd6d6"}


@dataclass
class Box:
    """One drawn node. ``fields`` are its lines of text: a record's ``(label, "data 2", "grad -3")``, an op
    node's ``("*",)``, a group's ``(title, "data ...", "grad ...", "18 nodes")``."""

    id: str
    kind: str
    fields: tuple[str, ...]
    highlighted: bool = False


@dataclass
class Scene:
    """Boxes in the order they are declared and arrows (tail id, head id) in first-seen order.

    ``ordered`` lists runs of box ids that should appear in that order across their layer (a layer's neurons).
    ``stack_records``: a value's record stacks its fields (name over data over grad), which keeps a drawing narrow
    enough for a notebook; False draws them side by side in a left-to-right drawing, as the lecture's ``draw_dot``.
    """

    rankdir: str = "LR"
    boxes: list[Box] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    ordered: list[list[str]] = field(default_factory=list)
    stack_records: bool = True

    def fields_across(self, box: Box) -> bool:
        """Whether a box's fields sit side by side (else stacked), as Graphviz lays out what ``to_dot`` writes."""
        return box.kind == RECORD and not self.stack_records and self.rankdir in ("LR", "RL")


def _escape_record(text: str) -> str:
    """Backslash the characters that structure a DOT record label, so any label draws as plain text."""
    return "".join("\\" + c if c in '\\{}|<>"' else c for c in text)


def to_dot(scene: Scene) -> str:
    """The scene as DOT text for the Graphviz ``dot`` program."""
    require("graphviz", "drawing with Graphviz")
    import graphviz

    dot = graphviz.Digraph(graph_attr={"rankdir": scene.rankdir}, node_attr={"fontname": "Helvetica"})
    for box in scene.boxes:
        if box.kind == OP:
            dot.node(
                box.id,
                label=box.fields[0],
                shape="ellipse",
                fontsize="11",
                **({"color": "red"} if box.highlighted else {}),
            )
            continue
        fields = " | ".join(_escape_record(text) for text in box.fields)
        # A record's fields run across the rank direction (top to bottom in an LR drawing); braces flip them. The
        # lecture's records are always braced: side by side in LR, stacked in TB.
        stacked = box.kind == GROUP or scene.stack_records
        braced = scene.rankdir in ("TB", "BT") or not stacked
        label = "{ " + fields + " }" if braced else fields
        if box.kind == RECORD:
            attrs = {"shape": "record"}
        else:
            attrs = {"shape": "record", "style": "filled,rounded", "fillcolor": "#e8f0fe"}
        if box.highlighted:
            attrs.update(_HIGHLIGHT_STYLE)
        dot.node(box.id, label=label, **attrs)
    edges = scene.edges
    if scene.ordered:
        # ordering=out keeps each node's out-edges in the order written; writing them in box order (neurons
        # sorted) makes dot stack a layer's neurons in order. (Invisible flat edges would do it too, but dot
        # loses flat edges between record nodes.)
        dot.graph_attr["ordering"] = "out"
        position = {box.id: i for i, box in enumerate(scene.boxes)}
        first_seen: dict[str, int] = {}
        for tail, _ in edges:
            first_seen.setdefault(tail, len(first_seen))
        edges = sorted(edges, key=lambda edge: (first_seen[edge[0]], position[edge[1]]))
    for tail, head in edges:
        dot.edge(tail, head)
    return dot.source
