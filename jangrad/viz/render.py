"""The built-in renderer: a laid-out scene (``layout.py``) written as SVG text, or painted to PNG by matplotlib.

The SVG follows Graphviz's structure where pages rely on it: each box is ``<g id="n3" class="node">`` with a
``<title>`` of its id, its outline a ``<polygon>`` (an op node an ``<ellipse>``) and its fields ``<text>`` in
order (a record's last text is its gradient); each arrow is ``<g class="edge">`` titled ``tail->head``. The PNG
paints the very same shapes with matplotlib's Agg canvas, so it needs no system library.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..extras import require
from .layout import Layout, Shape, layout
from .scene import Scene

__all__ = ["svg_text", "png_bytes"]

FONT_FAMILY = "DejaVu Sans,Verdana,Helvetica,Arial,sans-serif"
PNG_SCALE = 1.5  # PNG pixels per SVG unit, so text stays sharp
MAX_PNG_PIXELS = 20_000_000  # a bigger graph is drawn smaller: encoding a huge PNG takes minutes


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.2f},{y:.2f}" for x, y in points)


def _svg_shape(shape: Shape) -> str:
    paint = f"fill={quoteattr(shape.fill)} stroke={quoteattr(shape.stroke)}"
    if shape.width != 1.0:
        paint += f' stroke-width="{shape.width:g}"'
    if shape.kind == "polygon" or shape.kind == "arrowhead":
        return f'<polygon {paint} points="{_points(shape.points)}"/>'
    if shape.kind == "line":
        return f'<polyline {paint} points="{_points(shape.points)}"/>'
    if shape.kind == "ellipse":
        (cx, cy), (rx, ry) = shape.points
        return f'<ellipse {paint} cx="{cx:.2f}" cy="{cy:.2f}" rx="{rx:.2f}" ry="{ry:.2f}"/>'
    if shape.kind == "path":
        start, rest = shape.points[0], shape.points[1:]
        curves = " ".join(_points(rest[i : i + 3]) for i in range(0, len(rest), 3))
        return f'<path {paint} d="M{start[0]:.2f},{start[1]:.2f} C{curves}"/>'
    ((x, y),) = shape.points
    return (
        f'<text text-anchor="middle" x="{x:.2f}" y="{y:.2f}" font-family="{FONT_FAMILY}" '
        f'font-size="{shape.size:.2f}">{escape(shape.text)}</text>'
    )


def svg_text(scene: Scene) -> str:
    """The scene as a standalone SVG document."""
    drawn = layout(scene)
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{drawn.width:.0f}pt" height="{drawn.height:.0f}pt" '
        f'viewBox="0.00 0.00 {drawn.width:.2f} {drawn.height:.2f}">',
        '<g id="graph0" class="graph">',
        f'<polygon fill="white" stroke="none" points="{_points(_corners(drawn))}"/>',
    ]
    for number, (tail, head, shapes) in enumerate(drawn.edges, start=1):
        lines.append(f'<g id="edge{number}" class="edge">')
        lines.append(f"<title>{escape(tail + '->' + head)}</title>")
        lines += [_svg_shape(shape) for shape in shapes]
        lines.append("</g>")
    for placed in drawn.boxes:
        lines.append(f'<g id={quoteattr(placed.box.id)} class="node">')
        lines.append(f"<title>{escape(placed.box.id)}</title>")
        lines += [_svg_shape(shape) for shape in placed.shapes]
        lines.append("</g>")
    lines += ["</g>", "</svg>", ""]
    return "\n".join(lines)


def _corners(drawn: Layout) -> list[tuple[float, float]]:
    return [(0.0, 0.0), (drawn.width, 0.0), (drawn.width, drawn.height), (0.0, drawn.height)]


def png_bytes(scene: Scene) -> bytes:
    """The scene painted to PNG by matplotlib (no pyplot, so no window and no global figure state)."""
    require("matplotlib", "drawing a PNG")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, PathPatch, Polygon
    from matplotlib.path import Path

    drawn = layout(scene)
    # One SVG unit is one point (1/72 inch), as in Graphviz; the dpi sets how many pixels that makes.
    dpi = 72 * min(PNG_SCALE, (MAX_PNG_PIXELS / max(drawn.width * drawn.height, 1.0)) ** 0.5)
    figure = Figure(figsize=(drawn.width / 72, drawn.height / 72), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, drawn.width)
    axes.set_ylim(drawn.height, 0)  # y grows downwards, as in SVG
    axes.axis("off")

    shapes = [s for _, _, edge in drawn.edges for s in edge] + [s for p in drawn.boxes for s in p.shapes]
    for depth, shape in enumerate(shapes):  # later shapes on top, as in the SVG
        paint: dict[str, Any] = {
            "facecolor": shape.fill,
            "edgecolor": shape.stroke,
            "linewidth": shape.width,
            "zorder": depth,
        }
        if shape.kind in ("polygon", "arrowhead"):
            axes.add_patch(Polygon(shape.points, closed=True, **paint))
        elif shape.kind == "line":
            axes.plot(*zip(*shape.points, strict=True), color=shape.stroke, linewidth=shape.width, zorder=depth)
        elif shape.kind == "ellipse":
            (cx, cy), (rx, ry) = shape.points
            axes.add_patch(Ellipse((cx, cy), 2 * rx, 2 * ry, **paint))
        elif shape.kind == "path":
            codes = [Path.MOVETO] + [Path.CURVE4] * (len(shape.points) - 1)
            axes.add_patch(PathPatch(Path(shape.points, codes), **{**paint, "facecolor": "none"}))
        else:
            ((x, y),) = shape.points
            axes.text(
                x, y, shape.text, ha="center", va="baseline", fontsize=shape.size, family="DejaVu Sans", zorder=depth
            )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()
