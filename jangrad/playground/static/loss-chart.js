// The loss chart: the training loss of every step and the test loss where it was measured, on axes with ticks and
// step numbers, in a linear or a logarithmic scale ("auto" switches to log when the losses span 100 times), with a
// legend that gives each curve's current value. The step axis grows with the run (so a long run is a curve from
// its first steps on), and mini-batch losses, which jump from batch to batch, are drawn faintly under their running
// mean over an epoch. It owns its canvas and legend and draws the series it is handed.

import {formatNumber} from "./format.js";

export const LOSS_COLOURS = {training: "#1565c0", test: "#e65100"};  // style.css's legend swatches use the same
const MARGIN = {left: 46, right: 10, top: 10, bottom: 26};
const AUTO_LOG_SPAN = 100;

// About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [low, high].
export function niceTicks(low, high, count = 5) {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function logTicks(low, high) {
  const first = Math.floor(Math.log10(low));
  const last = Math.ceil(Math.log10(high));
  const ticks = [];
  const steps = last - first <= 2 ? [1, 2, 5] : [1];
  for (let e = first; e <= last; e++) {
    for (const m of steps) {
      const t = m * 10 ** e;
      if (t >= low * 0.999 && t <= high * 1.001) ticks.push(Number(t.toPrecision(12)));
    }
  }
  return ticks;
}

// The smallest of 1, 2 or 5 times a power of ten that is at least `value`.
function niceCeil(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= value * (1 - 1e-12));
}

// The mean of each loss and the (window - 1) before it: an epoch's worth of mini-batch losses.
function runningMean(values, window) {
  const means = [];
  let sum = 0;
  values.forEach((v, i) => {
    sum += v;
    if (i >= window) sum -= values[i - window];
    means.push(sum / Math.min(i + 1, window));
  });
  return means;
}

function tickText(value) {
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size >= 1e4 || size < 1e-3) return value.toExponential(0).replace("e+", "e");
  return String(Number(value.toPrecision(3)));
}

export class LossChart {
  constructor(canvas, {legend, trainingLabel, trainingValue, testValue, testEntry, logBox, logNote}) {
    this.canvas = canvas;
    this.trainingLabel = trainingLabel;
    this.legend = legend;
    this.trainingValue = trainingValue;
    this.testValue = testValue;
    this.testEntry = testEntry;
    this.logBox = logBox;
    this.logNote = logNote;
    this.mode = "auto";   // "auto", "on" or "off"
    this.steps = 0;
    this.reset(0);
  }

  // `steps`: the run's step limit; `epoch`: the steps in one pass over the data (1 when every step sees all of it).
  reset(steps, epoch = 1) {
    this.steps = steps;
    this.epoch = Math.max(1, Math.min(50, epoch));
    this.losses = [];
    this.tests = [];      // [step, loss]
    this.draw();
  }

  setMode(mode) {
    this.mode = ["auto", "on", "off"].includes(mode) ? mode : "auto";
    this.draw();
  }

  // Losses from index `from` on, test points from index `testFrom` on (each frame brings only what is new).
  append(from, losses, testFrom, tests) {
    this.losses.length = Math.min(this.losses.length, from);
    this.losses.push(...losses);
    this.tests.length = Math.min(this.tests.length, testFrom);
    this.tests.push(...tests);
  }

  usesLog() {
    if (this.mode !== "auto") return this.mode === "on";
    const values = this.shownTraining().concat(this.tests.map(([, loss]) => loss)).filter((v) => v > 0);
    if (values.length < 2) return false;
    return Math.max(...values) / Math.min(...values) >= AUTO_LOG_SPAN;
  }

  values() {
    return this.losses.concat(this.tests.map(([, loss]) => loss)).filter(Number.isFinite);
  }

  // The training curve as drawn in full colour: each step's loss, or with mini-batches their running mean.
  shownTraining() {
    return this.epoch > 1 ? runningMean(this.losses, this.epoch) : this.losses;
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 340;
    const height = canvas.clientHeight || 200;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = "#fff";
    context.fillRect(0, 0, width, height);
    const log = this.usesLog();
    this.showLegend(log);

    const values = log ? this.shownTraining().concat(this.tests.map(([, loss]) => loss)).filter(Number.isFinite)
      : this.values();
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = height - MARGIN.top - MARGIN.bottom;
    const reached = Math.max(this.losses.length, ...this.tests.map(([step]) => step), 0);
    const lastStep = Math.min(Math.max(1, this.steps), Math.max(50, niceCeil(1.2 * reached)));
    let low;
    let high;
    if (log) {
      const positive = values.filter((v) => v > 0);
      low = positive.length ? Math.min(...positive) : 1e-3;
      high = positive.length ? Math.max(...positive) : 1;
      low = 10 ** Math.floor(Math.log10(low));
      high = 10 ** Math.ceil(Math.log10(high));
    } else {
      low = Math.min(0, ...values);
      high = values.length ? Math.max(...values) : 1;
      if (!(high > low)) high = low + 1;
      const ticks = niceTicks(low, high);
      high = Math.max(high, ticks[ticks.length - 1]);
    }
    const y = (v) => {
      if (log && !(v > 0)) return NaN;  // a loss of 0 has no place on a log scale: the line breaks there
      const t = log ? (Math.log10(Math.max(v, low)) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))
                    : (v - low) / (high - low);
      return MARGIN.top + plotH * (1 - t);
    };
    const x = (step) => MARGIN.left + plotW * step / lastStep;

    // axes, ticks and their numbers
    context.strokeStyle = "#999";
    context.lineWidth = 1;
    context.font = "11px system-ui, sans-serif";
    context.fillStyle = "#555";
    context.beginPath();
    context.moveTo(MARGIN.left, MARGIN.top);
    context.lineTo(MARGIN.left, MARGIN.top + plotH);
    context.lineTo(MARGIN.left + plotW, MARGIN.top + plotH);
    context.stroke();
    context.textAlign = "right";
    context.textBaseline = "middle";
    const yTicks = log ? logTicks(low, high) : niceTicks(low, high);
    for (const tick of yTicks) {
      const ty = y(tick);
      context.strokeStyle = "#eee";
      context.beginPath(); context.moveTo(MARGIN.left + 1, ty); context.lineTo(MARGIN.left + plotW, ty); context.stroke();
      context.strokeStyle = "#999";
      context.beginPath(); context.moveTo(MARGIN.left - 4, ty); context.lineTo(MARGIN.left, ty); context.stroke();
      context.fillText(tickText(tick), MARGIN.left - 6, ty);
    }
    context.textAlign = "center";
    context.textBaseline = "top";
    for (const tick of niceTicks(0, lastStep, 5)) {
      const tx = x(tick);
      context.beginPath(); context.moveTo(tx, MARGIN.top + plotH); context.lineTo(tx, MARGIN.top + plotH + 4); context.stroke();
      context.fillText(String(tick), tx, MARGIN.top + plotH + 6);
    }
    context.textAlign = "right";
    context.fillText("step", MARGIN.left - 6, MARGIN.top + plotH + 6);

    context.save();
    context.beginPath();
    context.rect(MARGIN.left, MARGIN.top - 2, plotW + 2, plotH + 4);
    context.clip();
    if (this.epoch > 1 && !log) {  // each batch's own loss, faintly (on a log scale its zeros would be spikes)
      context.globalAlpha = 0.25;
      this.curve(context, this.losses.map((loss, step) => [x(step), y(loss)]), LOSS_COLOURS.training);
      context.globalAlpha = 1;
    }
    this.curve(context, this.shownTraining().map((loss, step) => [x(step), y(loss)]), LOSS_COLOURS.training);
    this.curve(context, this.tests.map(([step, loss]) => [x(step), y(loss)]), LOSS_COLOURS.test);
    context.restore();

    canvas.dataset.lossPoints = String(this.losses.filter(Number.isFinite).length);
    canvas.dataset.testPoints = String(this.tests.length);
    canvas.dataset.lastTest = this.tests.length ? this.tests[this.tests.length - 1].join(",") : "";
    canvas.dataset.log = String(log);
    canvas.dataset.yTicks = yTicks.map(tickText).join(" ");
  }

  // A line through the points, broken where a point cannot be drawn (y is not a number).
  curve(context, points, colour) {
    const finite = points.filter(([, py]) => Number.isFinite(py));
    if (!finite.length) return;
    context.strokeStyle = colour;
    context.fillStyle = colour;
    context.lineWidth = 1.5;
    if (finite.length === 1) {  // a single measurement: a dot, since a one-point line draws nothing
      context.beginPath();
      context.arc(finite[0][0], finite[0][1], 2.5, 0, 2 * Math.PI);
      context.fill();
      return;
    }
    context.beginPath();
    let drawing = false;
    for (const [px, py] of points) {
      if (!Number.isFinite(py)) { drawing = false; continue; }
      if (drawing) context.lineTo(px, py); else context.moveTo(px, py);
      drawing = true;
    }
    context.stroke();
  }

  showLegend(log) {
    const training = this.shownTraining();
    const last = training.length ? training[training.length - 1] : null;
    this.trainingLabel.textContent = this.epoch > 1 ? "training (epoch mean)" : "training";
    this.trainingValue.textContent = last === null ? "—" : formatNumber(last);
    const test = this.tests.length ? this.tests[this.tests.length - 1][1] : null;
    this.testEntry.hidden = this.tests.length === 0;
    this.testValue.textContent = test === null ? "—" : formatNumber(test);
    this.logBox.checked = log;
    this.logNote.textContent = this.mode === "auto" ? "auto" : "";
    this.logNote.title = this.mode === "auto" ? "on by itself when the losses span 100 times or more" : "";
  }
}
