// One sample's graph, live: the drawing the server made once (a box per neuron), whose data and grad numbers are
// rewritten from every frame as training moves the weights; hovering a box shows the history of both as
// sparklines; while training is paused, a stepper walks the sample's backward pass with the box of each step's
// node lit, and the narration names that box. It owns the sample panel and draws the frame's `sample` part.

import {Stepper} from "./stepper.js";
import {numberText} from "./format.js";

const HISTORY = 600;  // frames of history kept per box for its sparklines

export class SampleGraph {
  constructor(elements, {loadSteps}) {
    this.el = elements;   // {panel, title, message, note, graph, narration, counter, buttons: {first, back, next, last}, tooltip}
    this.loadSteps = loadSteps;
    this.drawing = null;
    this.stepper = null;
    this.stepsAt = null;       // the training step the loaded steps belong to
    this.trainingStep = 0;
    this.running = false;
    this.history = new Map();
    for (const [move, button] of Object.entries(elements.buttons)) {
      button.addEventListener("click", () => this.move(move));
    }
    elements.graph.addEventListener("mouseover", (event) => this.hover(event));
    elements.graph.addEventListener("mouseleave", () => { elements.tooltip.hidden = true; });
  }

  clear() {
    this.drawing = null;
    this.stepper = null;
    this.history.clear();
    this.el.panel.dataset.sample = "";
    this.el.title.textContent = "";
    this.el.graph.textContent = "";
    this.el.narration.textContent = "";
    this.el.note.textContent = "";
    this.el.counter.textContent = "";
    this.el.message.textContent = "Click a point on the data panel to see its graph here, live.";
    this.updateButtons();
  }

  loading(index) {
    this.el.title.textContent = `sample ${index}`;
    this.el.message.textContent = "building the graph…";
  }

  failed(message) {
    this.clear();
    this.el.message.textContent = message;
  }

  // The drawing: an SVG that jangrad drew (text in it is escaped by the renderer), boxes by id.
  show(drawing) {
    this.drawing = drawing;
    this.stepper = null;  // another sample: its pass starts from the beginning
    this.stepsAt = null;
    this.history.clear();
    this.el.panel.dataset.sample = String(drawing.index);
    this.el.title.textContent = `sample ${drawing.index}`;
    this.el.message.textContent = `${drawing.note}. The numbers are this one sample's: its loss and the ` +
      "gradients of that loss alone, updated as the network trains.";
    this.el.graph.innerHTML = drawing.svg || "";
    this.el.narration.textContent = "";
    this.update(drawing.values);
  }

  box(id) {
    return this.el.graph.querySelector(`g.node[id="${CSS.escape(id)}"]`);
  }

  // A frame's numbers for the sample on screen: each box's data and grad, written into the box's own texts.
  update(values) {
    if (!this.drawing || !values || values.index !== this.drawing.index) return;
    for (const [id, [data, grad]] of Object.entries(values.boxes)) {
      const group = this.box(id);
      if (group) {
        const texts = group.querySelectorAll("text");
        if (texts.length >= 3) {
          texts[1].textContent = `data ${data}`;
          texts[2].textContent = `grad ${grad}`;
        }
      }
      let history = this.history.get(id);
      if (!history) { history = {data: [], grad: []}; this.history.set(id, history); }
      history.data.push(Number(data));
      history.grad.push(Number(grad));
      if (history.data.length > HISTORY) { history.data.shift(); history.grad.shift(); }
    }
    this.el.note.textContent = values.note || "";
    this.el.panel.dataset.loss = values.loss;
    if (this.hovered) this.showTip(this.hovered);
  }

  // ---- the stepper, whenever training is not running -----------------------------------------------------------------
  setTraining(running, step) {
    if (step !== this.trainingStep) this.stepsAt = null;  // the steps are another step's: reloaded when used
    this.trainingStep = step;
    if (running && !this.running && this.drawing) {
      this.highlight(null);
      this.el.counter.textContent = "";
      this.el.narration.textContent = "Pause to step through this sample's backward pass.";
    }
    this.running = running;
    this.updateButtons();
  }

  updateButtons() {
    const off = !this.drawing || this.running;
    for (const button of Object.values(this.el.buttons)) button.disabled = off;
  }

  // Clicks come faster than a pass loads: each move waits for the one before it.
  move(move) {
    this.queue = (this.queue || Promise.resolve()).then(() => this.moveNow(move)).catch((error) => {
      this.el.message.textContent = error.message;
    });
    return this.queue;
  }

  async moveNow(move) {
    if (!this.drawing || this.running) return;
    if (!this.stepper || this.stepsAt !== this.trainingStep) {
      const index = this.drawing.index;
      const position = this.stepper ? this.stepper.position : 0;  // the same place in the new weights' pass
      const result = await this.loadSteps();
      if (!this.drawing || this.drawing.index !== index) return;
      this.stepsAt = this.trainingStep;
      this.stepper = new Stepper({steps: result.steps, nodes: []}, {
        showGrad: () => {},
        highlight: (id, step) => this.highlight(step ? step.box : null),
        narrate: (lines) => { this.el.narration.textContent = lines.join("\n"); },
        counter: (k, n) => { this.el.counter.textContent = `step ${k} / ${n}`; },
      });
      this.stepper.go(position);
    }
    this.stepper[move]();
  }

  highlight(boxId) {
    for (const element of this.el.graph.querySelectorAll(".hl")) element.classList.remove("hl");
    const element = boxId ? this.box(boxId) : null;
    if (element) {
      element.classList.add("hl");
      element.scrollIntoView({block: "nearest", inline: "nearest"});
    }
  }

  // ---- the sparkline of a hovered box ------------------------------------------------------------------------------
  hover(event) {
    const group = event.target.closest ? event.target.closest("g.node") : null;
    if (!group || !this.history.has(group.id)) { this.el.tooltip.hidden = true; this.hovered = null; return; }
    this.hovered = group.id;
    this.showTip(group.id, event);
  }

  showTip(id, event) {
    const tip = this.el.tooltip;
    const history = this.history.get(id);
    const title = this.drawing.titles[id] || id;
    const [caption, dataCanvas, gradCanvas] = tip.children;
    const last = (series) => (series.length ? numberText(series[series.length - 1]) : "—");
    caption.textContent = `${title}: data ${last(history.data)}, grad ${last(history.grad)}` +
      `\nover the last ${history.data.length} frames: data (top), grad (bottom)`;
    sparkline(dataCanvas, history.data, "#37474f");
    sparkline(gradCanvas, history.grad, "#c62828");
    if (event) {
      const box = this.el.graph.getBoundingClientRect();
      tip.style.left = `${event.clientX - box.left + this.el.graph.scrollLeft + 16}px`;
      tip.style.top = `${event.clientY - box.top + this.el.graph.scrollTop + 16}px`;
    }
    tip.hidden = false;
  }
}

export function sparkline(canvas, series, colour) {
  const context = canvas.getContext("2d");
  const {width, height} = canvas;
  context.clearRect(0, 0, width, height);
  const finite = series.filter(Number.isFinite);
  if (!finite.length) return;
  let low = Math.min(...finite);
  let high = Math.max(...finite);
  if (high - low < 1e-12) { low -= 1; high += 1; }
  const y = (v) => height - 3 - (height - 6) * (v - low) / (high - low);
  if (low < 0 && high > 0) {
    context.strokeStyle = "#ccc";
    context.beginPath(); context.moveTo(0, y(0)); context.lineTo(width, y(0)); context.stroke();
  }
  context.strokeStyle = colour;
  context.lineWidth = 1.5;
  context.beginPath();
  series.forEach((v, i) => {
    const x = series.length === 1 ? width / 2 : i * (width - 1) / (series.length - 1);
    if (!Number.isFinite(v)) return;
    if (i === 0) context.moveTo(x, y(v)); else context.lineTo(x, y(v));
  });
  context.stroke();
}
