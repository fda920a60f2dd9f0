"""How big a drawing shows in a notebook: as wide as the output area at most, with its text still legible.

JupyterLab shows an SVG output as an image at the size its ``width`` and ``height`` say, with nothing to shrink it
to the output area (968 px wide in JupyterLab's default layout): a wide graph is cut off at the edge or needs
scrolling. So the SVG a notebook gets (``draw``, ``draw_dot``, the stepper) is given a display size: scaled down to
fit ``NOTEBOOK_WIDTH``, but never below ``MIN_SCALE``, where a box's 14 pt text is still about 10 px tall. A graph
too wide for that keeps the legible size and scrolls in its output. Files (``.save``, ``.render``) keep the
drawing's own size: a viewer zooms them.
"""

from __future__ import annotations

import re

__all__ = ["NOTEBOOK_WIDTH", "MIN_SCALE", "display_scale", "fit_svg", "svg_size"]

NOTEBOOK_WIDTH = 968.0  # px: JupyterLab's default output area
MIN_SCALE = 0.55  # 14 pt at 96 dpi is 18.7 px; at this scale 10.3 px
PX_PER_PT = 96.0 / 72.0  # Graphviz and the built-in renderer size their SVG in points

_ROOT = re.compile(r"<svg\b[^>]*>", re.S)
_LENGTH = re.compile(r'\s(width|height)="([\d.]+)(pt|px)?"')


def svg_size(svg: str) -> tuple[float, float] | None:
    """The width and height in CSS px that an SVG document asks for, or None if it gives none."""
    root = _ROOT.search(svg)
    if root is None:
        return None
    found = {
        name: float(number) * (PX_PER_PT if unit == "pt" else 1.0)
        for name, number, unit in _LENGTH.findall(root.group(0))
    }
    if "width" not in found or "height" not in found:
        return None
    return found["width"], found["height"]


def display_scale(width_px: float) -> float:
    """How much to shrink a drawing ``width_px`` wide for a notebook: to fit, but not below ``MIN_SCALE``."""
    if width_px <= NOTEBOOK_WIDTH:
        return 1.0
    return max(NOTEBOOK_WIDTH / width_px, MIN_SCALE)


def fit_svg(svg: str) -> str:
    """The SVG with a display size for a notebook (see the module docstring); unchanged if it has no size or no
    ``viewBox`` to scale by."""
    root = _ROOT.search(svg)
    size = svg_size(svg)
    if root is None or size is None or "viewBox" not in root.group(0):
        return svg
    scale = display_scale(size[0])
    if scale == 1.0:
        return svg
    width, height = size[0] * scale, size[1] * scale

    def resize(match: re.Match) -> str:
        return f' {match.group(1)}="{(width if match.group(1) == "width" else height):.0f}px"'

    return svg[: root.start()] + _LENGTH.sub(resize, root.group(0)) + svg[root.end() :]
