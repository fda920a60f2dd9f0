"""The notebook stepper's page side: its style and its script, as text that ``stepper.py`` puts into the HTML.

The script is written to run inside ``<script><!-- ... //--></script>``: a script-capable page runs it (JavaScript
reads ``<!--`` and ``-->`` at a line's start as comments), while a sanitizer that does not run scripts
(``nbconvert --sanitize-html``) sees one HTML comment and drops it whole, instead of printing the code. So the script
must not contain ``--`` (which could end the comment) or ``</`` and ``<script`` (which could end the script), and
the data it carries has every ``<`` and ``>`` escaped (``stepper.py``); ``tests/test_stepper.py`` checks both.

What the script does, and why:

* It finds its own place from ``document.currentScript`` (or, where a notebook runs scripts detached from the
  page, the id of the line it replaces), builds its stepper right there, and touches nothing else on the page:
  several steppers, in one notebook or in several notebooks open side by side, each bind only themselves, and a
  stepper that a sanitizer stripped (an untrusted notebook in another tab) cannot stop another from starting.
* Everything is built from the data: buttons, narration, the drawing (parsed as SVG, never as HTML). Without
  JavaScript only the one line before the script remains, saying what is missing; no markup leaks as text.
* Each frame is a small diff (the nodes to light, the gradient texts to set, each with its text before the step
  so that "back" can undo it), so a graph of hundreds of nodes stays quick to step through and small to store.
* The drawing fits the output's width when its text stays legible there, else it keeps a legible size and
  scrolls, the lit node kept in sight; one button switches between the two.
"""

from __future__ import annotations

__all__ = ["STYLE", "SCRIPT"]

STYLE = """
.jangrad-stepper { font-family: Helvetica, Arial, sans-serif; font-size: 13px; }
.jangrad-stepper .jg-bar button { margin-right: 4px; }
.jangrad-stepper .jg-count { margin: 0 8px; color: #555; }
.jangrad-stepper .jg-lines { font-family: Menlo, Consolas, monospace; white-space: pre-wrap; min-height: 3.6em;
  margin: 6px 0; padding: 4px 8px; background: #f6f8fa; border-left: 3px solid #d33; color: #222; }
.jangrad-stepper .jg-note { color: #555; margin: 4px 0; }
.jangrad-stepper .jg-graph { overflow: auto; max-height: 560px; }
.jangrad-stepper .jg-graph.jg-fit svg { width: 100%; height: auto; }
.jangrad-stepper g.node.jg-lit polygon, .jangrad-stepper g.node.jg-lit ellipse, .jangrad-stepper g.node.jg-lit path
  { stroke: #d33; stroke-width: 3px; fill: #ffd6d6; }
.jangrad-stepper g.node.jg-touched polygon, .jangrad-stepper g.node.jg-touched path
  { stroke: #1a73e8; stroke-width: 2px; fill: #e3efff; }
"""

# Graphviz and the built-in renderer write each node's id in the <title> of its SVG group. No "--" below.
SCRIPT = """
(function (script, data) {
  var anchor = script && script.previousElementSibling;
  if (!anchor || anchor.id !== data.anchor) anchor = document.getElementById(data.anchor);
  if (!anchor || anchor.getAttribute("data-bound")) return;
  anchor.setAttribute("data-bound", "1");
  try { build(); } catch (error) {
    anchor.appendChild(document.createTextNode(" (the stepper could not start: " + error + ")"));
  }
  function element(tag, className, text) {
    var made = document.createElement(tag);
    if (className) made.className = className;
    if (text) made.textContent = text;
    return made;
  }
  function build() {
    var root = element("div", "jangrad-stepper");
    root.appendChild(element("style", "", data.style));
    var bar = element("div", "jg-bar"), moves = [["first", "\\u00ab first"], ["back", "\\u2039 back"],
      ["next", "next \\u203a"], ["last", "last \\u00bb"]];
    moves.forEach(function (move) {
      var button = element("button", "", move[1]);
      button.type = "button";
      button.setAttribute("data-move", move[0]);
      bar.appendChild(button);
    });
    var count = element("span", "jg-count"), zoom = element("button", "jg-zoom");
    zoom.type = "button";
    bar.appendChild(count);
    bar.appendChild(zoom);
    root.appendChild(bar);
    var lines = element("div", "jg-lines");
    root.appendChild(lines);
    if (data.note) root.appendChild(element("div", "jg-note", data.note));
    var view = element("div", "jg-graph"), parts = {}, frames = data.frames, position = 0;
    if (data.svg) {
      var parsed = new DOMParser().parseFromString(data.svg, "image/svg+xml").documentElement;
      if (parsed.nodeName.toLowerCase() === "svg") view.appendChild(document.importNode(parsed, true));
    }
    root.appendChild(view);
    anchor.style.display = "none";
    anchor.parentNode.insertBefore(root, anchor.nextSibling);
    view.querySelectorAll("g.node").forEach(function (g) {
      var title = g.querySelector("title");
      parts[title ? title.textContent : g.id] = g;
    });
    var svg = view.querySelector("svg"), fit = false;
    function setZoom(fitting) {  // inline styles: a notebook's own CSS may shrink every svg to its width
      fit = fitting;
      view.classList.toggle("jg-fit", fit);
      svg.style.maxWidth = fit ? "100%" : "none";
      svg.style.width = fit ? "100%" : wide + "px";
      svg.style.height = fit ? "auto" : high + "px";
      zoom.textContent = fit ? "full size" : "fit width";
    }
    var tries = 0;
    function chooseZoom() {  // fit the output's width when the text stays legible there, else scroll
      var room = view.clientWidth;
      if (!room && tries < 120) { tries += 1; window.requestAnimationFrame(chooseZoom); return; }  // not shown yet
      room = room || 968;
      setZoom(wide > room && room / wide >= data.min_scale);
      zoom.style.display = wide > room ? "" : "none";
    }
    if (svg) {
      var wide = svg.width.baseVal.value, high = svg.height.baseVal.value;
      zoom.style.display = "none";
      zoom.addEventListener("click", function () { setZoom(!fit); });
      chooseZoom();
    } else {
      zoom.style.display = "none";
    }
    function setGrad(id, text) {
      var texts = parts[id] ? parts[id].querySelectorAll("text") : [];
      for (var i = texts.length - 1; i >= 0; i -= 1) {
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
      for (; position < target; position += 1) {
        frames[position].set.forEach(function (change) { setGrad(change[0], change[2]); });
      }
      for (; position > target; position -= 1) {
        var undo = frames[position - 1].set;
        for (var i = undo.length - 1; i >= 0; i -= 1) setGrad(undo[i][0], undo[i][1]);
      }
      var frame = position > 0 ? frames[position - 1] : null;
      if (frame) mark(frame, true);
      lines.textContent = (frame ? frame.lines : data.intro).join("\\n");
      count.textContent = "step " + position + " / " + frames.length;
      root.setAttribute("data-position", String(position));
      var lit = frame && parts[frame.lit[0]];
      if (lit && !fit) {  // keep the lit node in sight when the drawing is larger than its box
        var a = lit.getBoundingClientRect(), b = view.getBoundingClientRect();
        if (a.left < b.left || a.right > b.right) view.scrollLeft += a.left - b.left - (b.width - a.width) / 2;
        if (a.top < b.top || a.bottom > b.bottom) view.scrollTop += a.top - b.top - (b.height - a.height) / 2;
      }
    }
    bar.querySelectorAll("button[data-move]").forEach(function (button) {
      button.addEventListener("click", function () {
        var move = button.getAttribute("data-move");
        go({first: 0, back: position - 1, next: position + 1, last: frames.length}[move]);
      });
    });
    go(0);
  }
})(document.currentScript, DATA);
"""
