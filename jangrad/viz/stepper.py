"""``jangrad.stepper(root)``: the backward pass, one step at a time, inside a notebook (first / back / next / last).

Each step lights the node being processed, shows that step's chain-rule lines (``jangrad.explain``'s narration,
laid out by ``viz/steps.py`` exactly as the playground's expression lab shows it) and fills in the gradients
reached so far. The picture is ``jangrad.draw``'s SVG, so it draws wherever ``draw`` does.

Why it is built this way:

* Everything is rendered ahead, in Python: one SVG and, per step, only what changes (the nodes to light and the
  gradient texts to set, each with its text before the step so "back" can undo it). A step is a few dozen bytes,
  not a picture, so a graph of a few hundred nodes stays quick to step through and small to store.
* The output is one HTML fragment: the SVG, the steps as JSON in a ``<script type="application/json">`` block and
  a short inline script that wires the buttons. Nothing is fetched, and no kernel is needed, so it works in
  Jupyter, VS Code, Colab and in a notebook saved as HTML. The script looks for its elements by class inside its
  own ``<div>`` (never by a page-wide id), so several steppers, or the same one shown twice, never mix.
* Without JavaScript (an untrusted notebook) the drawing shows the final gradients, as ``draw`` would.

It is named ``stepper`` rather than ``step``: ``optimizer.step()`` is what every training loop calls to change the
weights, and ``jangrad.step(root)`` would read like it; this returns a thing to look at and changes no weight.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from ..engine import Value, topological_order
from ..io.files import write_text

__all__ = ["stepper", "Stepper"]

_UNREACHED = "—"  # a gradient the backward pass has not reached yet

_STYLE = """
.jangrad-stepper { font-family: Helvetica, Arial, sans-serif; font-size: 13px; }
.jangrad-stepper .jg-bar button { margin-right: 4px; }
.jangrad-stepper .jg-count { margin-left: 8px; color: #555; }
.jangrad-stepper .jg-lines { font-family: Menlo, Consolas, monospace; white-space: pre-wrap; min-height: 3.6em;
  margin: 6px 0; padding: 4px 8px; background: #f6f8fa; border-left: 3px solid #d33; color: #222; }
.jangrad-stepper .jg-graph { overflow: auto; max-height: 520px; }
.jangrad-stepper g.node.jg-lit polygon, .jangrad-stepper g.node.jg-lit ellipse, .jangrad-stepper g.node.jg-lit path
  { stroke: #d33; stroke-width: 3px; fill: #ffd6d6; }
.jangrad-stepper g.node.jg-touched polygon, .jangrad-stepper g.node.jg-touched path
  { stroke: #1a73e8; stroke-width: 2px; fill: #e3efff; }
"""

# The whole client: bind every stepper on the page that is not bound yet (the page may hold several), then let
# the buttons replay the frames. Graphviz writes each node's DOT name in the <title> of its SVG group.
_SCRIPT = """
(function () {
  function bind(root) {
    if (root.getAttribute("data-bound")) return;
    root.setAttribute("data-bound", "1");
    var data = JSON.parse(root.querySelector("script.jg-frames").textContent);
    var frames = data.frames, parts = {}, position = 0;
    root.querySelectorAll("g.node").forEach(function (g) {
      var title = g.querySelector("title");
      parts[title ? title.textContent : g.id] = g;
    });
    function setGrad(id, text) {
      var texts = parts[id] ? parts[id].querySelectorAll("text") : [];
      for (var i = texts.length - 1; i >= 0; i--) {
        if (texts[i].textContent.indexOf("grad") === 0) { texts[i].textContent = "grad " + text; return; }
      }
    }
    function mark(frame, on) {
      frame.lit.forEach(function (id) { if (parts[id]) parts[id].classList.toggle("jg-lit", on); });
      frame.touched.forEach(function (id) { if (parts[id]) parts[id].classList.toggle("jg-touched", on); });
    }
    function go(target) {
      target = Math.max(0, Math.min(frames.length, target));
      if (position > 0) mark(frames[position - 1], false);
      if (target === 0) {
        Object.keys(data.initial).forEach(function (id) { setGrad(id, data.initial[id]); });
        position = 0;
      }
      for (; position < target; position++) frames[position].set.forEach(function (s) { setGrad(s[0], s[2]); });
      for (; position > target; position--) {
        var undo = frames[position - 1].set;
        for (var i = undo.length - 1; i >= 0; i--) setGrad(undo[i][0], undo[i][1]);
      }
      var frame = position > 0 ? frames[position - 1] : null;
      if (frame) mark(frame, true);
      root.querySelector(".jg-lines").textContent = (frame ? frame.lines : data.intro).join("\\n");
      root.querySelector(".jg-count").textContent = "step " + position + " / " + frames.length;
      root.setAttribute("data-position", String(position));
      var lit = frame && parts[frame.lit[0]], view = root.querySelector(".jg-graph");
      if (lit && view) {  // keep the lit node in sight when the drawing is larger than its box
        var a = lit.getBoundingClientRect(), b = view.getBoundingClientRect();
        if (a.left < b.left || a.right > b.right) view.scrollLeft += a.left - b.left - (b.width - a.width) / 2;
        if (a.top < b.top || a.bottom > b.bottom) view.scrollTop += a.top - b.top - (b.height - a.height) / 2;
      }
    }
    root.querySelectorAll("button[data-move]").forEach(function (button) {
      button.addEventListener("click", function () {
        var move = button.getAttribute("data-move");
        go({first: 0, back: position - 1, next: position + 1, last: frames.length}[move]);
      });
    });
    var hint = root.querySelector(".jg-nojs");
    if (hint) hint.remove();
    go(0);
  }
  function bindAll() { document.querySelectorAll("div.jangrad-stepper").forEach(bind); }
  bindAll();
  setTimeout(bindAll, 100);  // the classic notebook may run this script before it puts the output on the page
})();
"""


def _grad_text(grad: float | str) -> str:
    """A gradient as ``draw`` writes it in a record (4 significant digits); 'inf' and 'nan' as they are."""
    from .graph import fmt

    return grad if isinstance(grad, str) else fmt(grad)


def _frames(steps: list[dict], boxes: dict[str, str], ops: set[str], initial: dict[str, str]) -> list[dict]:
    """Per step: the boxes to light and to mark as reached, its lines, and ``[id, text before, text after]`` for
    each gradient it sets. Only nodes drawn as their own record get their gradient set: a neuron's box in a grouped
    drawing shows several numbers and keeps the final ones."""
    shown = dict(initial)
    frames = []
    for step in steps:
        node = step["node"]
        box = boxes.get(node)
        lit = [box] if box else []
        if box == node and step["op"] and node + "op" in ops:
            lit.append(node + "op")
        touched: list[str] = []
        changes = []
        for update in step["updates"]:
            target = boxes.get(update["id"])
            if target and target not in lit and target not in touched:
                touched.append(target)
            if target == update["id"]:
                text = _grad_text(update["grad"])
                changes.append([target, shown.get(target, _UNREACHED), text])
                shown[target] = text
        frames.append({"lit": lit, "touched": touched, "lines": step["lines"], "set": changes})
    return frames


def _svg_of(drawing) -> str | None:
    """The drawing as inline SVG: whatever ``draw`` renders for a notebook, the XML prologue cut off."""
    svg = drawing._repr_svg_()  # the notebook protocol: None when draw can make no picture on this machine
    if not svg:
        return None
    return svg[svg.find("<svg") :]


class Stepper:
    """A backward pass to step through. Shows itself in a notebook; ``.save('steps.html')`` writes a page.

    ``frames`` holds one entry per step (the seed first): ``lit`` and ``touched`` name drawn nodes, ``lines`` is
    the narration, ``set`` the gradient texts the step changes. ``svg`` is the drawing (None when there is none).
    """

    def __init__(
        self,
        output_name: str,
        node_count: int,
        frames: list[dict],
        initial: dict[str, str],
        svg: str | None,
        note: str = "",
    ) -> None:
        self.output_name = output_name
        self.node_count = node_count
        self.frames = frames
        self.initial = initial
        self.svg = svg
        self.note = note

    def __repr__(self) -> str:
        return (
            f"Stepper({len(self.frames)} steps over {self.node_count} nodes of {self.output_name}; shown in a "
            f"notebook, or .save('steps.html') for a page)"
        )

    def html(self) -> str:
        """The HTML fragment a notebook shows: buttons, narration, drawing, the frames and the script."""
        intro = [f"backward from {self.output_name}: {len(self.frames)} steps, the output's seed first. Press next."]
        payload = {"frames": self.frames, "initial": self.initial, "intro": intro}
        # '<' as \\u003c keeps "</script>" in a label from ending the block early; JSON reads it back the same.
        data = json.dumps(payload, ensure_ascii=False).replace("<", "\\u003c")
        buttons = "".join(
            f'<button type="button" data-move="{move}">{text}</button>'
            for move, text in (("first", "« first"), ("back", "‹ back"), ("next", "next ›"), ("last", "last »"))
        )
        note = f'<div class="jg-note">{html.escape(self.note, quote=False)}</div>' if self.note else ""
        return (
            f'<div class="jangrad-stepper"><style>{_STYLE}</style>'
            f'<div class="jg-bar">{buttons}<span class="jg-count">step {len(self.frames)} / '
            f'{len(self.frames)}</span> <span class="jg-nojs">(the buttons need JavaScript: trust the '
            f"notebook to step)</span></div>"
            f'<div class="jg-lines">{html.escape(chr(10).join(intro))}</div>{note}'
            f'<div class="jg-graph">{self.svg or ""}</div>'
            f'<script type="application/json" class="jg-frames">{data}</script>'
            f"<script>{_SCRIPT}</script></div>"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def save(self, path: str | os.PathLike) -> Path:
        """Write a standalone HTML page (opens in any browser, offline) and return its path."""
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"cannot save a stepper as {str(path)!r}: expected a name ending in .html")
        page = (
            f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>backward from '
            f"{html.escape(self.output_name)}</title></head>\n<body>\n{self.html()}\n</body></html>\n"
        )
        write_text(path, page)
        return path


def stepper(root: Value, rankdir: str = "LR", *, max_nodes: int = 500) -> Stepper:
    """Run ``root.backward()`` and return its steps to click through, drawn on ``root``'s graph.

    Like ``explain``, this runs backward: leaves add this pass's gradient to what they held (the first frame
    shows what they held; call ``root.zero_grad()`` first to start from 0). ``rankdir`` is as in ``draw``. Up to
    ``max_nodes`` nodes every node is drawn on its own and fills in its gradient; above it the drawing groups
    nodes by neuron (as ``draw`` does) and the steps light the box that holds each node.
    """
    if not isinstance(root, Value):
        raise TypeError(f"stepper expects a Value, got {root!r} of type {type(root).__name__}")
    if not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    if rankdir not in ("LR", "RL", "TB", "BT"):  # checked here too, so a bad one is refused before backward runs
        raise ValueError(f"rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    from .explain import leaf_gradients_before
    from .graph import draw
    from .steps import walk_steps

    order = topological_order(root)
    ids = {id(node): f"n{index}" for index, node in enumerate(order)}
    held = {ids[key]: _grad_text(grad) for key, grad in leaf_gradients_before(order).items()}
    steps, names = walk_steps(root, order)  # runs backward, so the drawing below shows the final gradients
    drawing = draw(root, rankdir, group=len(order) > max_nodes, max_nodes=max_nodes)
    reached = {update["id"] for step in steps for update in step["updates"]}
    initial = {
        node: held.get(node, _UNREACHED)
        for node in sorted(reached, key=lambda n: int(n[1:]))
        if drawing.boxes.get(node) == node
    }
    ops = {f"{ids[id(node)]}op" for node in order if node.parents}
    frames = _frames(steps, drawing.boxes, ops, initial)
    svg = _svg_of(drawing)
    note = (
        ""
        if svg is not None
        else (
            "no drawing on this machine (the Graphviz program 'dot' is not installed); "
            "the steps and their narration still work"
        )
    )
    return Stepper(names[id(root)], len(order), frames, initial, svg, note)
