// The data panel: the decision boundary (the network's prediction over the plane, from the frame's picture) with
// the samples on it, training points filled and held-out ones hollow. A click picks the nearest sample (its graph
// opens below), adds a point of the chosen class, or removes the nearest one, by the chosen mode; shift-click always
// removes. It owns its canvas, its tools and its legend.

import {CLASS_COLOURS, diverging, rgb, signedBytes} from "./colours.js";
import {numberText} from "./format.js";

const PICK_RADIUS = 10;  // canvas pixels around a point that still pick it

export class BoundaryView {
  constructor({canvas, tools, classPicker, legend, note, readout}, {onPick, onAdd, onRemove}) {
    this.canvas = canvas;
    this.tools = tools;
    this.classPicker = classPicker;
    this.legend = legend;
    this.note = note;
    this.readout = readout;
    this.handlers = {onPick, onAdd, onRemove};
    this.summary = null;
    this.scores = null;
    this.selected = null;
    this.mode = "pick";
    this.addClass = 1;
    this.offscreen = document.createElement("canvas");
    canvas.addEventListener("click", (event) => this.click(event));
    canvas.addEventListener("mousemove", (event) => this.hover(event));
    canvas.addEventListener("mouseleave", () => { this.readout.textContent = "shift-click removes the nearest point"; });
    for (const input of tools.querySelectorAll("input[name=click-mode]")) {
      input.addEventListener("change", () => { if (input.checked) this.setMode(input.value); });
    }
  }

  setMode(mode) {
    this.mode = mode;
    for (const input of this.tools.querySelectorAll("input[name=click-mode]")) input.checked = input.value === mode;
    this.canvas.dataset.mode = mode;
  }

  setup(summary) {
    this.summary = summary;
    this.scores = null;
    this.selected = null;
    this.buildLegend();
    this.buildClassPicker();
    this.draw(null);
  }

  setPoints(points) {
    if (!this.summary) return;
    this.summary.points = points;
    this.draw(null);
  }

  select(index) {
    this.selected = index;
    this.draw(null);
  }

  classColour(label) {
    if (!this.summary.classification) return diverging(Math.tanh(label), 1);
    return CLASS_COLOURS[Math.round(label) % CLASS_COLOURS.length];
  }

  buildLegend() {
    const legend = this.legend;
    legend.textContent = "";
    const summary = this.summary;
    if (!summary.extent) return;
    const item = (swatchClass, colour, text) => {
      const span = document.createElement("span");
      span.className = "legend-item";
      const swatch = document.createElement("span");
      swatch.className = swatchClass;
      if (colour) swatch.style.setProperty("--colour", rgb(colour));
      span.append(swatch, document.createTextNode(text));
      legend.appendChild(span);
    };
    if (summary.classification) {
      for (let k = 0; k < summary.classes; k++) item("dot", CLASS_COLOURS[k % CLASS_COLOURS.length], `class ${k}`);
    } else {
      item("dot", diverging(-1, 1), "target < 0");
      item("dot", diverging(1, 1), "target > 0");
    }
    item("dot hollow", [120, 120, 120], "test");
    item("area", null, summary.classes > 2 ? "shade: predicted class" : "shade: prediction");
  }

  buildClassPicker() {
    const picker = this.classPicker;
    picker.textContent = "";
    const summary = this.summary;
    const refusal = summary.editable;
    for (const input of this.tools.querySelectorAll("input[value=add], input[value=remove]")) input.disabled = !!refusal;
    this.note.textContent = refusal ? `Adding and removing points is off: ${refusal}.` : "";
    if (refusal) { this.setMode("pick"); return; }
    this.addClass = Math.min(this.addClass, summary.classes - 1);
    for (let k = 0; k < summary.classes; k++) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "class-button";
      button.dataset.class = String(k);
      button.style.setProperty("--colour", rgb(CLASS_COLOURS[k % CLASS_COLOURS.length]));
      button.textContent = String(k);
      button.title = `add points of class ${k}`;
      button.setAttribute("aria-pressed", String(k === this.addClass));
      button.addEventListener("click", () => {
        this.addClass = k;
        for (const other of picker.children) other.setAttribute("aria-pressed", String(other === button));
        this.setMode("add");
      });
      picker.appendChild(button);
    }
  }

  // ---- drawing --------------------------------------------------------------------------------------------------------
  draw(frame) {
    const canvas = this.canvas;
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    const summary = this.summary;
    if (!summary) return;
    if (!summary.extent) {
      context.fillStyle = "#555";
      context.font = "13px system-ui, sans-serif";
      context.fillText("No decision boundary to draw:", 12, 26);
      context.fillText(`the data has ${summary.sizes[0]} inputs, not 2.`, 12, 46);
      context.fillText("Pick a sample by its number below.", 12, 66);
      return;
    }
    if (frame && frame.boundary) this.scores = signedBytes(frame.boundary);
    if (this.scores) this.paintScores(context);
    this.drawAxes(context);
    summary.points.forEach(([x, y, label, test], index) => {
      const [px, py] = this.toCanvas(x, y);
      if (index === 0) canvas.dataset.firstPoint = `${px.toFixed(1)},${py.toFixed(1)}`;  // for tests
      const colour = rgb(this.classColour(label));
      context.beginPath();
      context.arc(px, py, test ? 3.5 : 4, 0, 2 * Math.PI);
      context.lineWidth = test ? 2 : 1;
      context.strokeStyle = test ? colour : "#222";
      context.fillStyle = test ? "#fff" : colour;
      context.fill();
      context.stroke();
    });
    if (this.selected !== null && summary.points[this.selected]) {
      const [x, y] = summary.points[this.selected];
      const [px, py] = this.toCanvas(x, y);
      context.beginPath();
      context.arc(px, py, 8, 0, 2 * Math.PI);
      context.lineWidth = 2;
      context.strokeStyle = "#000";
      context.stroke();
    }
    canvas.dataset.points = String(summary.points.length);
  }

  paintScores(context) {
    const summary = this.summary;
    const n = summary.grid;
    const offscreen = this.offscreen;
    offscreen.width = n;
    offscreen.height = n;
    const small = offscreen.getContext("2d");
    const image = small.createImageData(n, n);
    const multi = summary.classes > 2 || summary.loss === "ce";
    for (let i = 0; i < n * n; i++) {
      let colour;
      if (multi) {
        const base = CLASS_COLOURS[this.scores[i] % CLASS_COLOURS.length];
        colour = base.map((c) => Math.round(255 + (c - 255) * 0.4));
      } else {
        colour = diverging(this.scores[i] / 127, 0.6);
      }
      image.data.set([colour[0], colour[1], colour[2], 255], 4 * i);
    }
    small.putImageData(image, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(offscreen, 0, 0, this.canvas.width, this.canvas.height);
  }

  drawAxes(context) {
    // the axes through 0 (where they are inside the picture) and the inputs' names at the edges
    const [x0, x1, y0, y1] = this.summary.extent;
    const [zx, zy] = this.toCanvas(0, 0);
    context.strokeStyle = "rgba(0,0,0,0.18)";
    context.lineWidth = 1;
    context.beginPath();
    if (x0 < 0 && x1 > 0) { context.moveTo(zx, 0); context.lineTo(zx, this.canvas.height); }
    if (y0 < 0 && y1 > 0) { context.moveTo(0, zy); context.lineTo(this.canvas.width, zy); }
    context.stroke();
    const [nameX, nameY] = this.summary.inputs;
    context.fillStyle = "rgba(0,0,0,0.55)";
    context.font = "11px system-ui, sans-serif";
    context.textAlign = "right";
    context.textBaseline = "bottom";
    context.fillText(`${nameX} →`, this.canvas.width - 4, this.canvas.height - 3);
    context.textAlign = "left";
    context.textBaseline = "top";
    context.fillText(`${nameY} ↑`, 4, 3);
  }

  toCanvas(x, y) {
    const [x0, x1, y0, y1] = this.summary.extent;
    return [(x - x0) / (x1 - x0) * this.canvas.width, (y1 - y) / (y1 - y0) * this.canvas.height];
  }

  toPlane(cx, cy) {
    const [x0, x1, y0, y1] = this.summary.extent;
    return [x0 + cx / this.canvas.width * (x1 - x0), y1 - cy / this.canvas.height * (y1 - y0)];
  }

  eventPoint(event) {
    const box = this.canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * this.canvas.width / box.width,
            (event.clientY - box.top) * this.canvas.height / box.height];
  }

  nearest(cx, cy, radius) {
    let best = -1;
    let bestDistance = radius * radius;
    this.summary.points.forEach(([x, y], index) => {
      const [px, py] = this.toCanvas(x, y);
      const distance = (px - cx) ** 2 + (py - cy) ** 2;
      if (distance < bestDistance) { best = index; bestDistance = distance; }
    });
    return best;
  }

  click(event) {
    if (!this.summary || !this.summary.extent) return;
    const [cx, cy] = this.eventPoint(event);
    if (event.shiftKey || this.mode === "remove") {
      if (this.summary.editable) return;
      const index = this.nearest(cx, cy, Infinity);
      if (index >= 0) this.handlers.onRemove(index);
    } else if (this.mode === "add") {
      const [x, y] = this.toPlane(cx, cy);
      this.handlers.onAdd(x, y, this.addClass);
    } else {
      const index = this.nearest(cx, cy, PICK_RADIUS);
      if (index >= 0) this.handlers.onPick(index);
    }
  }

  hover(event) {
    if (!this.summary || !this.summary.extent) return;
    const [cx, cy] = this.eventPoint(event);
    const [x, y] = this.toPlane(cx, cy);
    const [nameX, nameY] = this.summary.inputs;
    const index = this.nearest(cx, cy, PICK_RADIUS);
    let text = `${nameX} ${numberText(x)}, ${nameY} ${numberText(y)}`;
    if (index >= 0) {
      const [, , label, test] = this.summary.points[index];
      const kind = this.summary.classification ? `class ${label}` : `target ${numberText(label)}`;
      text = `sample ${index}: ${kind}${test ? ", held out" : ""} (${text})`;
    }
    this.readout.textContent = text;
  }
}
