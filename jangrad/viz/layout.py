"""Where the built-in renderer puts each box and arrow: a layered (Sugiyama) layout, inputs left, output right.

The layers and the order of boxes inside each layer come from ``igraph``'s ``layout_sugiyama`` (a C library with
wheels for Linux, macOS and Windows, so it needs no system package); this file only turns its grid into points:
box sizes from the text they hold, columns as wide as their widest box, arrows through igraph's bend points.

Why igraph. Measured on jangrad drawings (the lecture's L = (a*b + c)*f: 10 boxes; a 40-box neuron; an MLP's
loss over 4 samples drawn ungrouped: 1,064 boxes, 1,424 arrows), edge crossings counted layer gap by layer gap:

    library                        10 boxes     40 boxes      1,064 boxes
    igraph 1.0, our layers         0.1 ms, 0    0.6 ms, 2     24 ms, 7,697 crossings
    igraph 1.0, its own layers     0.2 ms, 0    1.3 ms, 15    47 ms, 22,302
    grandalf 0.8 (pure Python)     1.3 ms, 0    4.5 ms, 15    906 ms, 19,809
    fast-sugiyama 0.5 (Rust)       0.3 ms, 0    0.6 ms, 2     690 ms, 5,449
    (Graphviz dot, for scale       40 ms        15 ms         213 ms to SVG)

igraph takes the layers we give it, and we give each node the layer just before its first consumer (as ``dot``
does), so an input sits beside the op that reads it instead of in a far-left column: that is where most of the
crossings go. It is the fastest by far, actively released, and its wheels cover every platform a learner has.
grandalf is pure Python but 40x slower and unreleased since 2023; fast-sugiyama crosses less on the hairball (a
size ``draw`` groups anyway) but is 30x slower, has one maintainer, and chooses its own layers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any

from ..extras import require
from .scene import GROUP, OP, RECORD, Box, Scene

__all__ = ["Layout", "Shape", "layout", "text_width"]

FONT_SIZE = 14.0  # Graphviz's default, in px at 72 dpi
OP_FONT_SIZE = 11.0
PAD_X, PAD_Y = 6.0, 4.0  # inside a field, around its text
RANK_GAP = 42.0  # between two columns of boxes
NODE_GAP = 12.0  # between two boxes of one column
MARGIN = 6.0
ARROW = 9.0  # arrowhead length

FILL = {RECORD: "white", OP: "white", GROUP: "#e8f0fe"}
HIGHLIGHT_FILL, HIGHLIGHT_STROKE = "#ffd6d6", "red"


@dataclass
class Shape:
    """One thing to paint: ``kind`` is "polygon" (a box outline), "line" (a field separator), "ellipse" (cx, cy,
    rx, ry in ``points``), "text" (centred at ``points[0]``), "path" (an arrow: start point, then cubic Bezier
    triples) or "arrowhead" (a filled triangle, its tip first)."""

    kind: str
    points: list[tuple[float, float]]
    fill: str = "none"
    stroke: str = "black"
    width: float = 1.0
    text: str = ""
    size: float = FONT_SIZE


@dataclass
class Placed:
    """A box's centre and size, and the shapes that draw it."""

    box: Box
    cx: float
    cy: float
    w: float
    h: float
    shapes: list[Shape] = field(default_factory=list)


@dataclass
class Layout:
    width: float
    height: float
    boxes: list[Placed]
    edges: list[tuple[str, str, list[Shape]]]  # (tail id, head id, [path, arrowhead])


# ---- text sizes ----------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _advances() -> tuple[dict[str, float], float]:
    """Each printable ASCII character's advance at 1 px, in DejaVu Sans (matplotlib's own font, so the PNG's text
    has exactly these widths; browsers that substitute Helvetica or Arial draw narrower)."""
    require("matplotlib", "drawing a graph")
    import matplotlib
    from matplotlib.ft2font import FT2Font

    font = FT2Font(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf"))
    font.set_size(100, 72)
    widths = {}
    for code in range(32, 127):
        glyph = font.load_char(code)
        widths[chr(code)] = glyph.linearHoriAdvance / 65536 / 100
    return widths, widths["M"]


def text_width(text: str, size: float = FONT_SIZE) -> float:
    widths, wide = _advances()
    return size * sum(widths.get(c, wide) for c in text)


def _line_height(size: float) -> float:
    return size * 1.2


# ---- box geometry --------------------------------------------------------------------------------------------------
def _size(box: Box, across: bool) -> tuple[float, float]:
    if box.kind == OP:
        return text_width(box.fields[0], OP_FONT_SIZE) + 24.0, _line_height(OP_FONT_SIZE) + 12.0
    cells = [text_width(text) + 2 * PAD_X for text in box.fields]
    cell_h = _line_height(FONT_SIZE) + 2 * PAD_Y
    if across:
        return sum(cells), cell_h
    return max(cells), cell_h * len(box.fields)


def _box_shapes(placed: Placed, across: bool) -> list[Shape]:
    box = placed.box
    fill = HIGHLIGHT_FILL if box.highlighted and box.kind != OP else FILL[box.kind]
    stroke = HIGHLIGHT_STROKE if box.highlighted else "black"
    width = 3.0 if box.highlighted and box.kind != OP else 1.0
    left, top = placed.cx - placed.w / 2, placed.cy - placed.h / 2
    right, bottom = left + placed.w, top + placed.h
    baseline = FONT_SIZE * 0.35  # from a line's centre down to its baseline
    if box.kind == OP:
        return [
            Shape("ellipse", [(placed.cx, placed.cy), (placed.w / 2, placed.h / 2)], fill, stroke, width),
            Shape("text", [(placed.cx, placed.cy + OP_FONT_SIZE * 0.35)], text=box.fields[0], size=OP_FONT_SIZE),
        ]
    shapes = [Shape("polygon", [(left, top), (right, top), (right, bottom), (left, bottom)], fill, stroke, width)]
    if across:
        x = left
        for i, text in enumerate(box.fields):
            cell = text_width(text) + 2 * PAD_X
            if i:
                shapes.append(Shape("line", [(x, top), (x, bottom)], stroke=stroke, width=width))
            shapes.append(Shape("text", [(x + cell / 2, placed.cy + baseline)], text=text))
            x += cell
    else:
        cell_h = placed.h / len(box.fields)
        for i, text in enumerate(box.fields):
            y = top + i * cell_h
            if i:
                shapes.append(Shape("line", [(left, y), (right, y)], stroke=stroke, width=width))
            shapes.append(Shape("text", [(placed.cx, y + cell_h / 2 + baseline)], text=text))
    return shapes


# ---- layers ----------------------------------------------------------------------------------------------------------
def _layers(count: int, edges: list[tuple[int, int]]) -> list[int]:
    """Each node's layer: the root (no consumers) last, every other node one layer before its earliest consumer.
    Depth-first from each node in order; an edge that closes a cycle (only a user's group rule can make one) is
    ignored for the layering and drawn anyway."""
    consumers: list[list[int]] = [[] for _ in range(count)]
    for tail, head in edges:
        consumers[tail].append(head)
    height = [-1] * count  # longest path to a node without consumers; -1 = not done
    on_stack = [False] * count
    for start in range(count):
        if height[start] >= 0:
            continue
        stack = [(start, 0)]
        on_stack[start] = True
        while stack:
            node, next_child = stack[-1]
            if next_child < len(consumers[node]):
                stack[-1] = (node, next_child + 1)
                child = consumers[node][next_child]
                if height[child] < 0 and not on_stack[child]:
                    on_stack[child] = True
                    stack.append((child, 0))
                continue
            stack.pop()
            on_stack[node] = False
            done = [height[c] for c in consumers[node] if height[c] >= 0]
            height[node] = 1 + max(done) if done else 0
    top = max(height, default=0)
    return [top - h for h in height]


Slot = tuple[Any, ...]  # ("box", index) or ("bend", edge, layer): a thing that takes room in a column


def _spread(items: list[tuple[float, float, Slot]]) -> dict[Slot, float]:
    """Centres along a column for (wanted centre, size, key) items in their order: no two closer than their half
    sizes plus NODE_GAP, the whole column shifted so the typical item sits where it is wanted."""
    placed: list[float] = []
    bottom = float("-inf")
    for wanted, size, _ in items:
        centre = max(wanted, bottom + NODE_GAP + size / 2)
        placed.append(centre)
        bottom = centre + size / 2
    offsets = sorted(p - w for p, (w, _, _) in zip(placed, items, strict=True))
    shift = offsets[len(offsets) // 2] if offsets else 0.0
    return {key: p - shift for p, (_, _, key) in zip(placed, items, strict=True)}


def layout(scene: Scene) -> Layout:
    """Place every box of ``scene`` and route every arrow."""
    require("igraph", "drawing a graph")
    import igraph

    boxes = scene.boxes
    index = {box.id: i for i, box in enumerate(boxes)}
    edges = [(index[tail], index[head]) for tail, head in scene.edges]
    layer_of = _layers(len(boxes), edges)
    graph = igraph.Graph(n=len(boxes), edges=edges, directed=True)
    grid = graph.layout_sugiyama(layers=layer_of)

    order_of = [grid.coords[i][0] for i in range(len(boxes))]
    for run in scene.ordered:  # a layer's neurons take the slots igraph gave them, in their own order
        slots = sorted(order_of[index[b]] for b in run)
        for box_id, slot in zip(run, slots, strict=True):
            order_of[index[box_id]] = slot

    across = [scene.fields_across(box) for box in boxes]
    sizes = [_size(box, a) for box, a in zip(boxes, across, strict=True)]
    flipped = scene.rankdir in ("TB", "BT")  # layers then run down the page instead of across it
    along = [h if flipped else w for w, h in sizes]  # size in the direction the arrows go
    cross = [w if flipped else h for w, h in sizes]

    layer_count = max(layer_of, default=0) + 1
    thickness = [0.0] * layer_count
    for i, layer in enumerate(layer_of):
        thickness[layer] = max(thickness[layer], along[i])
    starts, position = [], MARGIN
    for t in thickness:
        starts.append(position)
        position += t + RANK_GAP
    length = position - RANK_GAP + MARGIN
    centre_of_layer = [s + t / 2 for s, t in zip(starts, thickness, strict=True)]

    unit = sorted(cross)[len(cross) // 2] + NODE_GAP if cross else 1.0
    columns: list[list[tuple[float, float, Slot]]] = [[] for _ in range(layer_count)]
    for i, layer in enumerate(layer_of):
        columns[layer].append((order_of[i] * unit, cross[i], ("box", i)))
    routes = grid.edge_routing if hasattr(grid, "edge_routing") else [[] for _ in edges]
    for e, bends in enumerate(routes):
        for x, y in bends:
            columns[int(round(y))].append((x * unit, 2.0, ("bend", e, int(round(y)))))
    where: dict[Slot, float] = {}
    for column in columns:
        column.sort(key=lambda item: item[0])
        where.update(_spread(column))
    low = min(where[k] - (cross[k[1]] / 2 if k[0] == "box" else 0) for k in where) if where else 0.0
    high = max(where[k] + (cross[k[1]] / 2 if k[0] == "box" else 0) for k in where) if where else 0.0
    breadth = high - low + 2 * MARGIN

    def point(rank_pos: float, cross_pos: float) -> tuple[float, float]:
        """(x, y) on the page from a position along the arrows and one across them."""
        c = cross_pos - low + MARGIN
        r = length - rank_pos if scene.rankdir in ("RL", "BT") else rank_pos
        return (c, r) if flipped else (r, c)

    placed = []
    for i, box in enumerate(boxes):
        cx, cy = point(centre_of_layer[layer_of[i]], where[("box", i)])
        p = Placed(box, cx, cy, sizes[i][0], sizes[i][1])
        p.shapes = _box_shapes(p, across[i])
        placed.append(p)

    routed = []
    for e, (tail, head) in enumerate(edges):
        stops = []  # (rank position, cross position) the arrow passes, from the tail's side to the head's
        t_layer, h_layer = layer_of[tail], layer_of[head]
        forward = 1 if h_layer >= t_layer else -1
        stops.append((centre_of_layer[t_layer] + forward * along[tail] / 2, where[("box", tail)]))
        bends = sorted((int(round(y)) for _, y in routes[e]), key=lambda layer: forward * layer)
        for layer in bends:
            c = where[("bend", e, layer)]
            stops.append((centre_of_layer[layer] - forward * thickness[layer] / 2, c))
            stops.append((centre_of_layer[layer] + forward * thickness[layer] / 2, c))
        tip = centre_of_layer[h_layer] - forward * along[head] / 2
        stops.append((tip - forward * ARROW, where[("box", head)]))
        path = [point(*stops[0])]
        for (r0, c0), (r1, c1) in pairwise(stops):
            middle = (r0 + r1) / 2
            path += [point(middle, c0), point(middle, c1), point(r1, c1)]
        end = stops[-1]
        half = ARROW * 0.4
        arrowhead = [point(tip, end[1]), point(end[0], end[1] - half), point(end[0], end[1] + half)]
        routed.append(
            (boxes[tail].id, boxes[head].id, [Shape("path", path), Shape("arrowhead", arrowhead, fill="black")])
        )

    width, height = (breadth, length) if flipped else (length, breadth)
    return Layout(width, height, placed, routed)
