"""``jangrad.stepper(root)``: the backward pass, one step at a time, inside a notebook (first / back / next / last).

Each step lights the node being processed, shows that step's chain-rule lines (``jangrad.explain``'s narration,
laid out by ``viz/steps.py`` as the playground's labs show it) and fills in the gradients reached so far. The
picture is ``jangrad.draw``'s SVG, so it draws wherever ``draw`` does, Graphviz or not.

Looking changes nothing: the steps are worked out on the side (``sidepass.py``), never by running ``backward()``.
Before ``root.backward()`` they are the pass that call would make: each leaf starts from what it holds now (0 on a
fresh graph) and each node's gradient fills in at the step that reaches it. After it, they replay the pass that left
the gradients the Values hold: each leaf starts from what it held before that pass, and the last step shows exactly
what the Values hold. Step 0 never shows a gradient the pass has not reached yet.

The output is one HTML fragment: a line that says what the stepper needs, and a script that replaces that line
with the stepper (``stepper_client.py``), carrying its drawing and its steps as data. Nothing is fetched and no
kernel is needed, so it works in JupyterLab, VS Code, Colab and in a notebook saved as HTML. Where scripts do not
run (an untrusted notebook, a notebook on GitHub, ``nbconvert --sanitize-html``) the line is all that shows: one
sentence saying to trust the notebook, and no leaked markup.

It is named ``stepper`` rather than ``step``: ``optimizer.step()`` is what every training loop calls to change the
weights, and ``jangrad.step(root)`` would read like it; this returns a thing to look at and changes no weight.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from pathlib import Path
from typing import Any

from ..engine import Value, topological_order
from ..io.files import write_text
from .sizing import MIN_SCALE
from .stepper_client import SCRIPT, STYLE

__all__ = ["stepper", "Stepper"]

_UNREACHED = "—"  # a gradient the backward pass has not reached yet


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
            if target is None:
                continue  # a constant folded into its op node: not drawn
            if target not in lit and target not in touched:
                touched.append(target)
            if target == update["id"]:
                text = _grad_text(update["grad"])
                changes.append([target, shown.get(target, _UNREACHED), text])
                shown[target] = text
        frames.append({"lit": lit, "touched": touched, "lines": step["lines"], "set": changes})
    return frames


def _script_data(payload: dict[str, Any]) -> str:
    """The payload as a JavaScript literal that can sit inside ``<script><!-- ... //--></script>``: JSON, with
    every ``<`` and ``>`` escaped, so that no label can end the script or the comment around it."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


class Stepper:
    """A backward pass to step through. Shows itself in a notebook; ``.save('steps.html')`` writes a page.

    ``frames`` holds one entry per step (the seed first): ``lit`` and ``touched`` name drawn nodes, ``lines`` is
    the narration, ``set`` the gradient texts the step changes. ``initial`` is each drawn gradient's text before
    the first step. ``svg`` is the drawing (None when there is none; ``note`` then says why). ``ran`` says the
    Values already held this pass (``backward()`` had run), so the last frame shows what they hold.
    """

    def __init__(
        self,
        output_name: str,
        node_count: int,
        frames: list[dict],
        initial: dict[str, str],
        svg: str | None,
        note: str = "",
        ran: bool = False,
    ) -> None:
        self.output_name = output_name
        self.node_count = node_count
        self.frames = frames
        self.initial = initial
        self.svg = svg
        self.note = note
        self.ran = ran

    def __repr__(self) -> str:
        return (
            f"Stepper({len(self.frames)} steps over {self.node_count} nodes of {self.output_name}; shown in a "
            f"notebook, or .save('steps.html') for a page)"
        )

    def static_line(self) -> str:
        """What shows where scripts do not run: one sentence, no markup."""
        return (
            f"jangrad.stepper: backward from {self.output_name}, {len(self.frames)} steps. Stepping through them "
            f"needs JavaScript, which does not run here: trust this notebook (in JupyterLab's command palette, "
            f"Ctrl+Shift+C: Trust Notebook) or run this cell again."
        )

    def html(self) -> str:
        """The HTML fragment a notebook shows: the line for pages without scripts, then the script that puts the
        stepper in its place."""
        intro = [f"backward from {self.output_name}: {len(self.frames)} steps, the output's seed first. Press next."]
        if self.ran:
            intro.append(f"{self.output_name}.backward() has run: the last step shows the gradients the Values hold.")
        else:
            intro.append(f"Worked out on the side: no .grad changes until you call {self.output_name}.backward().")
        payload = {
            "frames": self.frames,
            "initial": self.initial,
            "intro": intro,
            "note": self.note,
            "svg": self.svg or "",
            "style": STYLE,
            "min_scale": MIN_SCALE,
        }
        # The id is only a fallback for a page that runs the script away from its place (the classic notebook);
        # from its content, so that the same stepper gives the same HTML in every run.
        digest = hashlib.sha1(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:16]
        payload["anchor"] = anchor = f"jangrad-stepper-{digest}"
        script = SCRIPT.replace("DATA", _script_data(payload))
        return (
            f'<b class="jg-static" id="{anchor}">{html.escape(self.static_line())}</b>'
            f"<script><!--{script}//--></script>"
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
    """The steps of ``root.backward()`` to click through, drawn on ``root``'s graph; changes no ``.grad``.

    Before ``root.backward()`` the steps are those that call would make (leaves start from what they hold); after
    it, those that left the gradients the Values hold. ``rankdir`` is as in ``draw``. Up to ``max_nodes`` nodes
    every node is drawn on its own and fills in its gradient; above it the drawing groups nodes by neuron (as
    ``draw`` does), the steps light the box that holds each node, and the narration names that box.
    """
    if not isinstance(root, Value):
        raise TypeError(f"stepper expects a Value, got {root!r} of type {type(root).__name__}")
    if not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    from .graph import drawing_of
    from .sidepass import side_pass
    from .steps import backward_steps

    order = topological_order(root)
    passed = side_pass(root, order)
    drawing = drawing_of(
        root, rankdir, group=len(order) > max_nodes, max_nodes=max_nodes, grad_of=passed.after
    )  # the pass's final gradients: what the picture shows where scripts do not run
    laid_out = backward_steps(root, drawing=drawing, order=order)
    reached = {update["id"] for step in laid_out.steps for update in step["updates"]}
    starts = {node["id"]: node["before"] for node in laid_out.nodes if node["leaf"]}
    initial = {
        node: _grad_text(starts[node]) if starts.get(node) else _UNREACHED
        for node in sorted(reached, key=lambda n: int(n[1:]))
        if drawing.boxes.get(node) == node
    }
    ops = {f"n{index}op" for index, node in enumerate(order) if node.parents}
    frames = _frames(laid_out.steps, drawing.boxes, ops, initial)
    svg, reason = drawing.notebook_svg(fit=False)  # the page fits it to its width itself, or lets it scroll
    if svg is not None:
        svg = svg[svg.find("<svg") :]  # inline in the page: no XML prologue
    note = "" if svg is not None else f"no drawing here ({reason}); the steps and their narration still work"
    return Stepper(laid_out.output_name, len(order), frames, initial, svg, note, laid_out.ran)
