// The network lab: a configuration form, play/pause/step/reset, and the live loss curve, decision boundary and
// network diagram drawn from the server's training frames.

import {transport} from "./transport.js";
import {Stepper, formatNumber} from "./stepper.js";

const FIELDS = {
  data: "net-data", samples: "net-samples", noise: "net-noise", seed: "net-seed", test: "net-test",
  layers: "net-layers", activation: "net-activation", output: "net-output", loss: "net-loss", optimizer: "net-optimizer", lr: "net-lr",
  schedule: "net-schedule", batch: "net-batch", steps: "net-steps", target: "net-target",
};
// jangrad train's sample count and noise for each generated data set, so a default run can be repeated exactly.
const DATA_DEFAULTS = {moons: [100, 0.1], circles: [100, 0.05], spiral: [40, 0.2]};
const NUMBERS = ["samples", "noise", "seed", "test", "lr", "batch", "steps"];
// The loss canvas's two curves; index.html's legend swatches use the same colours.
const LOSS_COLOURS = {training: "#1565c0", test: "#e65100"};
const CLASS_COLOURS = [[230, 126, 34], [41, 128, 185], [39, 174, 96], [142, 68, 173], [192, 57, 43]];

const $ = (id) => document.getElementById(id);

export class NetworkLab {
  constructor(onChange) {
    this.onChange = onChange;
    this.summary = null;      // what the server said when the current run started
    this.losses = [];
    this.testLosses = [];     // [step, loss on the held-out samples] points, when the run has a test split
    this.pending = [];        // frames, in order, of a run whose start reply has not arrived yet
    this.dirty = true;        // the form changed since the run started: play starts a new run
    this.csvText = "";
    $("net-data").addEventListener("change", () => {
      const defaults = DATA_DEFAULTS[$("net-data").value];
      if (defaults) { $("net-samples").value = defaults[0]; $("net-noise").value = defaults[1]; }
    });
    for (const id of Object.values(FIELDS)) {
      $(id).addEventListener("change", () => { this.dirty = true; this.showCsvBox(); this.onChange(); });
    }
    $("net-csv").addEventListener("change", () => this.readCsv());
    $("train-play").addEventListener("click", () => this.act(() => this.play()));
    $("train-pause").addEventListener("click", () => this.act(() => transport.control("pause")));
    $("train-step").addEventListener("click", () => this.act(() => this.singleStep()));
    $("train-reset").addEventListener("click", () => this.act(() => this.reset()));
    $("copy-cli").addEventListener("click", () => this.act(() => this.copyCommand()));
    $("boundary-canvas").addEventListener("click", (event) => this.act(() => this.pickPoint(event)));
    for (const move of ["first", "back", "next", "last"]) {
      $(`sample-${move}`).addEventListener("click", () => this.sampleStepper && this.sampleStepper[move]());
    }
    transport.subscribe((frame) => this.onFrame(frame),
                        () => this.message("no live updates: the server refused them (too many open tabs?)"));
    this.drawLoss();
  }

  state() {
    const values = {};
    for (const [key, id] of Object.entries(FIELDS)) values[key] = $(id).value;
    return values;
  }

  restore(params) {
    for (const [key, id] of Object.entries(FIELDS)) if (params.has(key)) $(id).value = params.get(key);
    this.showCsvBox();
  }

  config() {
    const config = this.state();
    for (const key of NUMBERS) config[key] = Number(config[key]);
    if (config.data === "csv") config.csv = this.csvText;
    return config;
  }

  showCsvBox() { $("csv-box").hidden = $("net-data").value !== "csv"; }

  readCsv() {
    const file = $("net-csv").files[0];
    if (!file) return;
    file.text().then((text) => { this.csvText = text; this.dirty = true; });
  }

  message(text, kind = "error") {
    $("train-message").textContent = text ? String(text).split("\n")[0] : "";
    $("train-message").className = kind;
  }

  async act(action) {
    try {
      await action();
    } catch (error) {
      this.message(error.message);
    }
  }

  async start(paused) {
    this.message("");
    this.summary = null;
    this.losses = [];
    this.testLosses = [];
    const summary = await transport.startTraining(this.config(), paused);
    this.summary = summary;
    this.dirty = false;
    this.setupDiagram(summary.sizes);
    // Every early frame, not just the last: each carries only the losses its predecessors did not.
    const early = this.pending.filter((frame) => frame.run === summary.run);
    this.pending = [];
    early.forEach((frame) => this.onFrame(frame));
    this.drawBoundary(null);
    return summary;
  }

  // Play and step start a new run when the form changed, none exists, or the last one has ended.
  needsNewRun() {
    return this.dirty || !this.summary || ["done", "diverged", "stopped", "error"].includes(this.lastState);
  }

  async play() {
    if (this.needsNewRun()) {
      await this.start(false);
    } else {
      await transport.control("play");
    }
  }

  async singleStep() {
    if (this.needsNewRun()) {
      await this.start(true);
    }
    await transport.control("step");
  }

  async reset() {
    await transport.control("reset");
    this.summary = null;
    this.losses = [];
    this.testLosses = [];
    this.dirty = true;
    this.lastState = "idle";
    $("train-step-counter").textContent = "0";
    $("train-loss").textContent = "—";
    $("train-accuracy").textContent = "—";
    $("train-test-loss").textContent = "—";
    $("train-state").textContent = "idle";
    this.message("");
    this.drawLoss();
    this.drawBoundary(null);
  }

  onFrame(frame) {
    if (frame.run === null) return;
    if (!this.summary || frame.run !== this.summary.run) {
      if (!this.summary || frame.run > this.summary.run) {
        if (this.pending.length && this.pending[0].run !== frame.run) this.pending = [];  // a newer run
        this.pending.push(frame);
      }
      return;
    }
    this.losses.length = frame.from;
    this.losses.push(...frame.losses);
    this.testLosses.length = frame.test_from;
    this.testLosses.push(...frame.test_losses);
    this.lastState = frame.state;
    $("train-step-counter").textContent = String(frame.step);
    $("train-loss").textContent = frame.loss === null ? "—" : formatNumber(frame.loss);
    $("train-test-loss").textContent = frame.test_loss === null ? "—" : formatNumber(frame.test_loss);
    $("train-accuracy").textContent = frame.accuracy === null ? "—" : `${Math.round(frame.accuracy * 100)}%`;
    $("train-state").textContent = frame.state;
    if (frame.message) this.message(frame.message, frame.state === "done" ? "info" : "error");
    this.drawLoss();
    if (frame.boundary) this.drawBoundary(frame.boundary);
    this.drawWeights(frame.weights);
  }

  // ---- the decision boundary ---------------------------------------------------------------------------------------
  drawBoundary(scores) {
    const canvas = $("boundary-canvas");
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    const summary = this.summary;
    if (!summary) return;
    if (!summary.extent) {
      context.fillStyle = "#666";
      context.fillText(`no decision boundary: the data has ${summary.sizes[0]} features, not 2`, 10, 20);
      return;
    }
    const n = summary.grid;
    if (scores) {
      const cell = canvas.width / n;
      for (let row = 0; row < n; row++) {
        for (let col = 0; col < n; col++) {
          context.fillStyle = this.cellColour(scores[row * n + col]);
          context.fillRect(Math.floor(col * cell), Math.floor(row * cell), Math.ceil(cell) + 1, Math.ceil(cell) + 1);
        }
      }
    }
    summary.points.forEach(([x, y, label, test], index) => {
      const [px, py] = this.toCanvas(x, y);
      if (index === 0) canvas.dataset.firstPoint = `${px.toFixed(1)},${py.toFixed(1)}`;  // for tests
      context.beginPath();
      context.arc(px, py, 4, 0, 2 * Math.PI);
      const [r, g, b] = this.classColour(label);
      context.strokeStyle = "#222";
      context.fillStyle = `rgb(${r},${g},${b})`;
      if (!test) context.fill();
      context.stroke();
    });
  }

  classColour(label) {
    if (this.summary.classes <= 2 && this.summary.config.loss !== "ce") {
      return label > 0 && !(this.summary.config.loss === "bce" && label < 0.5) ? CLASS_COLOURS[1] : CLASS_COLOURS[0];
    }
    return CLASS_COLOURS[Math.round(label) % CLASS_COLOURS.length];
  }

  // Opaque colours (a class colour mixed with white), so neighbouring cells never show seams.
  cellColour(score) {
    let colour;
    let strength;
    if (this.summary.config.loss === "ce") {
      colour = CLASS_COLOURS[Math.round(score) % CLASS_COLOURS.length];
      strength = 0.35;
    } else {
      colour = score >= 0 ? CLASS_COLOURS[1] : CLASS_COLOURS[0];
      strength = 0.1 + 0.5 * Math.abs(score);
    }
    const [r, g, b] = colour.map((c) => Math.round(255 + (c - 255) * strength));
    return `rgb(${r},${g},${b})`;
  }

  toCanvas(x, y) {
    const [x0, x1, y0, y1] = this.summary.extent;
    const canvas = $("boundary-canvas");
    return [(x - x0) / (x1 - x0) * canvas.width, (y1 - y) / (y1 - y0) * canvas.height];
  }

  async pickPoint(event) {
    if (!this.summary || !this.summary.points.length) return;
    const canvas = $("boundary-canvas");
    const box = canvas.getBoundingClientRect();
    const cx = (event.clientX - box.left) * canvas.width / box.width;
    const cy = (event.clientY - box.top) * canvas.height / box.height;
    let best = -1;
    let bestDistance = 64;  // within 8 canvas pixels
    this.summary.points.forEach(([x, y], index) => {
      const [px, py] = this.toCanvas(x, y);
      const distance = (px - cx) ** 2 + (py - cy) ** 2;
      if (distance < bestDistance) { best = index; bestDistance = distance; }
    });
    if (best < 0) return;
    await this.showSample(best);
  }

  async showSample(index) {
    $("sample-box").hidden = false;
    $("sample-index").textContent = String(index);
    $("sample-message").textContent = "building the graph…";
    $("sample-graph").textContent = "";
    try {
      const result = await transport.sampleGraph(index);
      $("sample-message").textContent = result.note || "";
      $("sample-graph").innerHTML = result.svg || "";
      this.sampleStepper = new Stepper(result, {
        showGrad: () => {},
        highlight: (id) => this.highlightSampleNode(result.boxes, id),
        narrate: (lines) => { $("sample-narration").textContent = lines.join("\n"); },
        counter: (k, n) => { $("sample-counter").textContent = `step ${k} / ${n}`; },
      });
      this.sampleStepper.first();
    } catch (error) {
      $("sample-message").textContent = error.message;
    }
  }

  // The stepper's current node: its box in the drawing (a neuron's box when the node is inside one), or none.
  highlightSampleNode(boxes, id) {
    const graph = $("sample-graph");
    for (const element of graph.querySelectorAll(".hl")) element.classList.remove("hl");
    const box = id && boxes ? boxes[id] : null;
    // Scoped to this drawing: the expression lab's SVG uses the same n<i> ids.
    const element = box ? graph.querySelector(`g.node[id="${box}"]`) : null;
    if (element) element.classList.add("hl");
  }

  // ---- the loss curve ------------------------------------------------------------------------------------------------
  // The training loss at every step, and the test loss at the steps where the server measured it (the frames it
  // published), on the same axes: x is the step, y spans both series.
  drawLoss() {
    const canvas = $("loss-canvas");
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    const losses = this.losses;
    const tests = this.testLosses;
    this.showLossLegend(tests);
    if (losses.length < 1 && tests.length < 1) return;
    const values = losses.concat(tests.map(([, loss]) => loss));
    const top = Math.max(...values);
    const bottom = Math.min(0, ...values);
    // The last test point can sit one step past the last training loss: it measures the weights after that step.
    const lastStep = Math.max(losses.length - 1, tests.length ? tests[tests.length - 1][0] : 0,
                              this.summary ? this.summary.config.steps - 1 : 0);
    const toCanvas = (step, loss) => [
      4 + (canvas.width - 8) * step / Math.max(1, lastStep),
      canvas.height - 4 - (canvas.height - 8) * (loss - bottom) / ((top - bottom) || 1),
    ];
    this.drawPolyline(context, losses.map((loss, step) => toCanvas(step, loss)), LOSS_COLOURS.training);
    this.drawPolyline(context, tests.map(([step, loss]) => toCanvas(step, loss)), LOSS_COLOURS.test);
    context.fillStyle = "#333";
    context.fillText(formatNumber(Number(top.toPrecision(3))), 4, 12);
  }

  drawPolyline(context, points, colour) {
    if (!points.length) return;
    context.strokeStyle = colour;
    context.fillStyle = colour;
    context.lineWidth = 1.5;
    if (points.length === 1) {  // a single measurement: a dot, since a one-point line draws nothing
      context.beginPath();
      context.arc(points[0][0], points[0][1], 2, 0, 2 * Math.PI);
      context.fill();
      return;
    }
    context.beginPath();
    points.forEach(([x, y], i) => { if (i === 0) context.moveTo(x, y); else context.lineTo(x, y); });
    context.stroke();
  }

  // The legend only matters when there are two curves to tell apart. The data attributes are for tests.
  showLossLegend(tests) {
    $("loss-legend").hidden = tests.length === 0;
    const canvas = $("loss-canvas");
    canvas.dataset.lossPoints = String(this.losses.filter(Number.isFinite).length);
    canvas.dataset.testPoints = String(tests.length);
    canvas.dataset.lastTest = tests.length ? tests[tests.length - 1].join(",") : "";
  }

  // ---- the network diagram -------------------------------------------------------------------------------------------
  setupDiagram(sizes) {
    const svg = $("net-diagram");
    svg.textContent = "";
    this.edges = [];
    const ns = "http://www.w3.org/2000/svg";
    const width = 360;
    const height = 320;
    const position = (layer, j) => {
      const count = sizes[layer];
      const x = 20 + (width - 40) * layer / Math.max(1, sizes.length - 1);
      const y = count === 1 ? height / 2 : 16 + (height - 32) * j / (count - 1);
      return [x, y];
    };
    for (let layer = 1; layer < sizes.length; layer++) {
      const rows = [];
      for (let j = 0; j < sizes[layer]; j++) {
        const row = [];
        for (let i = 0; i < sizes[layer - 1]; i++) {
          const [x1, y1] = position(layer - 1, i);
          const [x2, y2] = position(layer, j);
          const line = document.createElementNS(ns, "line");
          line.setAttribute("x1", x1); line.setAttribute("y1", y1);
          line.setAttribute("x2", x2); line.setAttribute("y2", y2);
          svg.appendChild(line);
          row.push(line);
        }
        rows.push(row);
      }
      this.edges.push(rows);
    }
    sizes.forEach((count, layer) => {
      for (let j = 0; j < count; j++) {
        const [x, y] = position(layer, j);
        const circle = document.createElementNS(ns, "circle");
        circle.setAttribute("cx", x); circle.setAttribute("cy", y); circle.setAttribute("r", 5);
        circle.setAttribute("fill", "#fff"); circle.setAttribute("stroke", "#333");
        svg.appendChild(circle);
      }
    });
  }

  drawWeights(weights) {
    if (!this.edges || !weights) return;
    let largest = 1e-9;
    for (const layer of weights) for (const row of layer) for (const w of row) largest = Math.max(largest, Math.abs(w));
    weights.forEach((layer, l) => layer.forEach((row, j) => row.forEach((w, i) => {
      const line = this.edges[l] && this.edges[l][j] && this.edges[l][j][i];
      if (!line) return;
      line.setAttribute("stroke", w >= 0 ? "#1e88e5" : "#fb8c00");
      line.setAttribute("stroke-width", (0.3 + 3.5 * Math.abs(w) / largest).toFixed(2));
      line.setAttribute("stroke-opacity", "0.7");
    })));
  }

  async copyCommand() {
    const {command, note} = await transport.command(this.config());
    const box = $("cli-out");
    box.value = note ? `${command}\n# note: ${note}` : command;
    box.hidden = false;
    box.select();
    try { await navigator.clipboard.writeText(command); } catch (error) { /* the text stays selected */ }
  }
}
