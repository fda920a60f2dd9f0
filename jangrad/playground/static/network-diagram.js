// The network diagram, a picture of the weights: every unit drawn as a small heatmap of its output over the input
// plane (the hidden units' view of the problem), every weight as a line whose width grows with |w| and whose colour
// gives its sign. Hovering a unit enlarges its heatmap and shows all of its weights; hovering a weight shows its
// value and gradient; clicking a weight (or a neuron, for its bias) puts its optimizer state on screen. Past
// LINK_BUDGET weights the lines would be a hairball: it then draws each neuron's strongest incoming weights and
// says so. It owns its element and draws a frame it is handed.

import {NEGATIVE, POSITIVE, paintDiverging, rgb, signedBytes} from "./colours.js";
import {formatNumber, numberText} from "./format.js";

const LINK_BUDGET = 160;
const PAD = {left: 64, right: 86, top: 30, bottom: 12};
const ENLARGED = 132;

export class NetworkDiagram {
  constructor({container, note, tooltip}, {onSelect}) {
    this.container = container;
    this.note = note;
    this.tooltip = tooltip;
    this.onSelect = onSelect;
    this.frame = null;
    this.hoverUnit = null;
    this.hoverLink = null;
    this.selected = null;
    container.addEventListener("mousemove", (event) => this.hover(event));
    container.addEventListener("mouseleave", () => this.leave());
    container.addEventListener("click", (event) => this.click(event));
  }

  // ---- layout, once per run ----------------------------------------------------------------------------------------
  setup(summary) {
    this.summary = summary;
    this.frame = null;
    this.selected = null;
    const sizes = summary.sizes;
    const container = this.container;
    container.textContent = "";
    const width = Math.max(360, container.clientWidth || 560);
    const most = Math.max(...sizes);
    const height = Math.max(260, Math.min(600, PAD.top + PAD.bottom + most * 34));
    container.style.height = `${height}px`;
    this.width = width;
    this.height = height;
    const unitSize = Math.max(9, Math.min(40, Math.floor((height - PAD.top - PAD.bottom) / most * 0.78)));
    this.unitSize = unitSize;

    this.links = document.createElement("canvas");
    this.links.className = "links";
    const ratio = window.devicePixelRatio || 1;
    this.links.width = Math.round(width * ratio);
    this.links.height = Math.round(height * ratio);
    this.links.style.width = `${width}px`;
    this.links.style.height = `${height}px`;
    container.appendChild(this.links);

    // units[l][j] = {x, y, element, name}; parameter index of layer l's neuron j, input i: offsets[l] + j*(n+1) + i
    this.units = [];
    this.offsets = [0];
    const columns = sizes.length;
    const columnX = (l) => PAD.left + (width - PAD.left - PAD.right) * l / Math.max(1, columns - 1);
    for (let l = 0; l < columns; l++) {
      const n = sizes[l];
      const column = [];
      for (let j = 0; j < n; j++) {
        const y = PAD.top + (height - PAD.top - PAD.bottom) * (j + 0.5) / n;
        const element = document.createElement(summary.heat ? "canvas" : "div");
        element.className = summary.heat ? "unit" : "unit plain";
        if (summary.heat) { element.width = summary.heat; element.height = summary.heat; }
        element.style.left = `${columnX(l) - unitSize / 2}px`;
        element.style.top = `${y - unitSize / 2}px`;
        element.style.width = `${unitSize}px`;
        element.style.height = `${unitSize}px`;
        const name = l === 0 ? summary.inputs[j] : `layers.${l - 1}.neurons.${j}`;
        element.dataset.unit = `${l},${j}`;
        element.setAttribute("aria-label", name);
        container.appendChild(element);
        column.push({x: columnX(l), y, element, name});
      }
      this.units.push(column);
      if (l > 0) this.offsets.push(this.offsets[l - 1] + sizes[l] * (sizes[l - 1] + 1));
    }
    this.offsets.pop();
    this.labels(summary, columnX);
    this.enlarged = document.createElement("div");
    this.enlarged.className = "enlarged";
    this.enlarged.hidden = true;
    const big = document.createElement("canvas");
    big.width = summary.heat || 1;
    big.height = summary.heat || 1;
    const caption = document.createElement("div");
    this.enlarged.append(big, caption);
    container.appendChild(this.enlarged);
    this.weightCount = sizes.slice(1).reduce((sum, n, l) => sum + n * sizes[l], 0);
    container.dataset.weights = String(this.weightCount);
  }

  labels(summary, columnX) {
    const sizes = summary.sizes;
    const add = (text, x, y, align, className = "diagram-label") => {
      const label = document.createElement("div");
      label.className = `${className} ${align}`;
      label.textContent = text;
      label.style.left = `${x}px`;
      label.style.top = `${y}px`;
      this.container.appendChild(label);
    };
    const last = sizes.length - 1;
    for (let l = 0; l < sizes.length; l++) {
      let text;
      if (l === 0) text = `${sizes[0]} inputs`;
      else if (l === last) text = `output (${summary.activations[l - 1]})`;
      else text = `layer ${l}: ${sizes[l]} ${summary.activations[l - 1]}`;
      add(text, l === last ? this.width - 4 : columnX(l), 6, l === last ? "end" : "center", "diagram-caption");
    }
    const half = this.unitSize / 2 + 4;
    this.units[0].forEach((unit) => add(unit.name, unit.x - half, unit.y, "right"));
    this.units[last].forEach((unit, j) => {
      let words = "out";
      if (sizes[last] > 1) words = `class ${j}`;
      else if (summary.classification) words = "out\n> 0: class 1";
      add(words, unit.x + half, unit.y, "left");
    });
  }

  parameterIndex(layer, neuron, input) {
    return this.offsets[layer - 1] + neuron * (this.summary.sizes[layer - 1] + 1) + input;
  }

  // ---- drawing a frame -------------------------------------------------------------------------------------------
  draw(frame) {
    if (!this.summary || !frame || !frame.weights) return;
    this.frame = frame;
    if (frame.heat && this.summary.heat) this.paintUnits(frame);
    this.drawLinks();
    if (this.hoverUnit) this.showEnlarged(this.hoverUnit);
    if (this.hoverLink) this.showLinkTip(this.hoverLink);
  }

  paintUnits(frame) {
    const values = signedBytes(frame.heat);
    const n = this.summary.heat;
    let offset = 0;
    for (const column of this.units) {
      for (const unit of column) {
        const context = unit.element.getContext("2d");
        const image = context.createImageData(n, n);
        paintDiverging(image, values, offset);
        context.putImageData(image, 0, 0);
        unit.offset = offset;
        offset += n * n;
      }
    }
    this.heatValues = values;
  }

  // The weights drawn: all of them, or past the budget each neuron's strongest incoming ones.
  visibleLinks() {
    const weights = this.frame.weights;
    const neurons = weights.reduce((sum, layer) => sum + layer.length, 0);
    const all = this.weightCount <= LINK_BUDGET;
    const perNeuron = all ? Infinity : Math.max(1, Math.floor(LINK_BUDGET / neurons));
    const links = [];
    weights.forEach((layer, l) => layer.forEach((row, j) => {
      let inputs = row.map((w, i) => i);
      if (!all) inputs = inputs.sort((a, b) => Math.abs(row[b]) - Math.abs(row[a])).slice(0, perNeuron);
      for (const i of inputs) links.push([l + 1, j, i]);
    }));
    this.note.textContent = all ? "" :
      `${this.weightCount} weights would be a hairball: drawn are the ${perNeuron} strongest into each neuron ` +
      `(${links.length} lines). Hover a neuron to see all of its weights.`;
    this.container.dataset.drawnLinks = String(links.length);
    return links;
  }

  linkEnds(layer, neuron, input) {
    const from = this.units[layer - 1][input];
    const to = this.units[layer][neuron];
    const half = this.unitSize / 2;
    return [from.x + half, from.y, to.x - half, to.y];
  }

  drawLinks() {
    const canvas = this.links;
    const ratio = window.devicePixelRatio || 1;
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, this.width, this.height);
    const weights = this.frame.weights;
    let largest = 1e-9;
    for (const layer of weights) for (const row of layer) for (const w of row) largest = Math.max(largest, Math.abs(w));
    this.largest = largest;
    const scale = Math.max(1, largest);  // widths grow with |w| up to 1, and relative to the largest beyond it
    const stroke = ([l, j, i], emphasis) => {
      const w = weights[l - 1][j][i];
      const [x1, y1, x2, y2] = this.linkEnds(l, j, i);
      context.strokeStyle = rgb(w >= 0 ? POSITIVE : NEGATIVE);
      context.globalAlpha = emphasis ? 1 : 0.75;
      context.lineWidth = 0.4 + 5 * Math.abs(w) / scale + (emphasis ? 1 : 0);
      context.beginPath();
      context.moveTo(x1, y1);
      context.bezierCurveTo((x1 + x2) / 2, y1, (x1 + x2) / 2, y2, x2, y2);
      context.stroke();
    };
    this.shown = this.visibleLinks();
    for (const link of this.shown) stroke(link, false);
    for (const link of this.emphasised()) stroke(link, true);
    context.globalAlpha = 1;
    if (this.selected) this.markSelected(context);
  }

  // The links of the hovered unit (all of them) and the hovered or selected weight, drawn on top.
  emphasised() {
    const links = [];
    const sizes = this.summary.sizes;
    if (this.hoverUnit) {
      const [l, j] = this.hoverUnit;
      if (l > 0) for (let i = 0; i < sizes[l - 1]; i++) links.push([l, j, i]);
      if (l < sizes.length - 1) for (let k = 0; k < sizes[l + 1]; k++) links.push([l + 1, k, j]);
    }
    if (this.hoverLink) links.push(this.hoverLink);
    return links;
  }

  markSelected(context) {
    const [l, j, i] = this.selected;
    if (i === this.summary.sizes[l - 1]) return;  // a bias: its neuron's outline shows it
    const [x1, y1, x2, y2] = this.linkEnds(l, j, i);
    context.strokeStyle = "#000";
    context.setLineDash([4, 3]);
    context.lineWidth = 1.5;
    context.beginPath();
    context.moveTo(x1, y1);
    context.bezierCurveTo((x1 + x2) / 2, y1, (x1 + x2) / 2, y2, x2, y2);
    context.stroke();
    context.setLineDash([]);
  }

  // ---- hover and click ------------------------------------------------------------------------------------------------
  position(event) {
    const box = this.container.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  unitAt(x, y) {
    const half = this.unitSize / 2 + 2;
    for (let l = 0; l < this.units.length; l++) {
      for (let j = 0; j < this.units[l].length; j++) {
        const unit = this.units[l][j];
        if (Math.abs(unit.x - x) <= half && Math.abs(unit.y - y) <= half) return [l, j];
      }
    }
    return null;
  }

  linkAt(x, y) {
    let best = null;
    let bestDistance = 5;
    const candidates = this.shown ? this.shown.concat(this.emphasised()) : [];
    for (const link of candidates) {
      const [x1, y1, x2, y2] = this.linkEnds(...link);
      if (x < Math.min(x1, x2) - 5 || x > Math.max(x1, x2) + 5) continue;
      // the bezier from (x1, y1) to (x2, y2) with both handles at mid-x: sample it and take the closest point
      for (let k = 0; k <= 24; k++) {
        const t = k / 24;
        const mt = 1 - t;
        const bx = mt ** 3 * x1 + 3 * mt * mt * t * (x1 + x2) / 2 + 3 * mt * t * t * (x1 + x2) / 2 + t ** 3 * x2;
        const by = mt ** 3 * y1 + 3 * mt * mt * t * y1 + 3 * mt * t * t * y2 + t ** 3 * y2;
        const distance = Math.hypot(bx - x, by - y);
        if (distance < bestDistance) { best = link; bestDistance = distance; }
      }
    }
    return best;
  }

  hover(event) {
    if (!this.summary || !this.frame) return;
    const [x, y] = this.position(event);
    const unit = this.unitAt(x, y);
    const link = unit ? null : this.linkAt(x, y);
    const changed = JSON.stringify([unit, link]) !== JSON.stringify([this.hoverUnit, this.hoverLink]);
    this.hoverUnit = unit;
    this.hoverLink = link;
    if (unit) this.showEnlarged(unit); else this.enlarged.hidden = true;
    if (link) this.showLinkTip(link, x, y); else this.tooltip.hidden = true;
    this.container.style.cursor = (unit && unit[0] > 0) || link ? "pointer" : "default";
    if (changed) this.drawLinks();
  }

  leave() {
    this.hoverUnit = null;
    this.hoverLink = null;
    this.enlarged.hidden = true;
    this.tooltip.hidden = true;
    if (this.frame) this.drawLinks();
  }

  click(event) {
    if (!this.summary) return;
    const [x, y] = this.position(event);
    const unit = this.unitAt(x, y);
    let chosen = null;
    if (unit && unit[0] > 0) chosen = [unit[0], unit[1], this.summary.sizes[unit[0] - 1]];  // the neuron's bias
    else if (!unit) chosen = this.linkAt(x, y);
    if (!chosen) return;
    this.selected = chosen;
    for (const element of this.container.querySelectorAll(".unit.selected")) element.classList.remove("selected");
    if (chosen[2] === this.summary.sizes[chosen[0] - 1]) {
      this.units[chosen[0]][chosen[1]].element.classList.add("selected");
    }
    if (this.frame) this.drawLinks();
    this.onSelect(this.parameterIndex(...chosen));
  }

  showEnlarged([l, j]) {
    const unit = this.units[l][j];
    const box = this.enlarged;
    const [big, caption] = box.children;
    const summary = this.summary;
    let range = "";
    if (summary.heat && this.heatValues && unit.offset !== undefined) {
      const context = big.getContext("2d");
      const n = summary.heat;
      const image = context.createImageData(n, n);
      paintDiverging(image, this.heatValues, unit.offset);
      context.putImageData(image, 0, 0);
      const scale = this.frame.heat_scale[this.unitNumber(l, j)];
      let low = Infinity;
      let high = -Infinity;
      for (let i = 0; i < n * n; i++) {
        const v = this.heatValues[unit.offset + i] / 127 * scale;
        low = Math.min(low, v);
        high = Math.max(high, v);
      }
      range = `its output over the plane: from ${numberText(low)} to ${numberText(high)}`;
    }
    big.hidden = !summary.heat;
    let bias = "";
    if (l > 0) bias = ` · bias ${formatNumber(this.frame.biases[l - 1][j])}`;
    caption.textContent = `${unit.name}${bias}${range ? `\n${range}` : ""}`;
    const left = unit.x + this.unitSize / 2 + 8;
    box.style.left = `${Math.min(left, this.width - ENLARGED - 8)}px`;
    box.style.top = `${Math.max(0, Math.min(unit.y - ENLARGED / 2, this.height - ENLARGED - 40))}px`;
    box.hidden = false;
  }

  unitNumber(l, j) {
    let k = 0;
    for (let m = 0; m < l; m++) k += this.summary.sizes[m];
    return k + j;
  }

  showLinkTip([l, j, i], x, y) {
    const frame = this.frame;
    const w = frame.weights[l - 1][j][i];
    const g = frame.weight_grads[l - 1][j][i];
    const name = this.summary.parameters[this.parameterIndex(l, j, i)];
    const from = this.units[l - 1][i].name;
    const to = this.units[l][j].name;
    this.tooltip.textContent = `${name}\nfrom ${from} into ${to}\nw = ${formatNumber(w)}, grad = ${formatNumber(g)}` +
      "\n(click to follow its optimizer state)";
    if (x !== undefined) {
      this.tooltip.style.left = `${Math.min(x + 14, this.width - 220)}px`;
      this.tooltip.style.top = `${y + 12}px`;
    }
    this.tooltip.hidden = false;
  }
}
