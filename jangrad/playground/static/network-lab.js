// The network lab's wiring: the form and the page state, the toolbar (play, pause, step, reset, pace, presets,
// panels, the link), the training frames handed to each panel, and the data edits. Every panel draws itself: the
// loss chart, the data and boundary, the network diagram, the sample's graph and the optimizer table.

import {transport} from "./transport.js";
import {formatNumber} from "./format.js";
import {CONTROLS, PANELS, choice, number, text} from "./state.js";
import {LossChart} from "./loss-chart.js";
import {BoundaryView} from "./boundary-view.js";
import {NetworkDiagram} from "./network-diagram.js";
import {SampleGraph} from "./sample-graph.js";
import {OptimizerTable} from "./optimizer-table.js";
import {NETWORK_PRESETS} from "./presets.js";

const $ = (id) => document.getElementById(id);

// The configuration's fields: the page state's key, its form element, and what the link may hold.
const FIELDS = {
  data: "net-data", samples: "net-samples", noise: "net-noise", seed: "net-seed", test: "net-test",
  layers: "net-layers", activation: "net-activation", output: "net-output", loss: "net-loss",
  optimizer: "net-optimizer", lr: "net-lr", schedule: "net-schedule", batch: "net-batch", steps: "net-steps",
  target: "net-target",
};
const NUMBERS = ["samples", "noise", "seed", "test", "lr", "batch", "steps"];
// jangrad train's sample count and noise for each generated data set, so a default run can be repeated exactly.
const DATA_DEFAULTS = {moons: [100, 0.1], circles: [100, 0.05], spiral: [40, 0.2]};
export const PACES = ["1", "2", "5", "10", "20", "50", "100", "200", "500", "1000", "max"];
const DEFAULT_PACE = "50";
const FINISHED = ["done", "diverged", "error"];
const PART_NAMES = {
  settings: "settings", diagram: "network diagram", boundary: "data and boundary", loss: "loss chart",
  sample: "sample's graph", optimizer: "optimizer state", data: "data settings", model: "model settings",
  training: "training settings", command: "CLI command", presets: "presets",
};
const FRAME_TIMES = 200;  // the page keeps its last frames' drawing times (window.jangradLab.frameTimes)

function options(id) {
  return [...$(id).options].map((option) => option.value);
}

export class NetworkLab {
  // The page state's fields that belong to this lab.
  static schema() {
    return {
      data: choice(options("net-data"), "moons"),
      samples: number(4, 2000, 100, true),
      noise: number(0, 1, 0.1),
      seed: number(0, 2147483647, 0, true),
      test: number(0, 0.9, 0),
      layers: text("6,6", /^\s*(\d{1,2}\s*(,\s*\d{1,2}\s*)*)?$/, 40),
      activation: choice(options("net-activation"), "tanh"),
      output: choice(options("net-output"), "linear"),
      loss: choice(options("net-loss"), "hinge"),
      optimizer: choice(options("net-optimizer"), "sgd"),
      lr: number(1e-9, 1000, 0.1),
      schedule: choice(options("net-schedule"), "none"),
      batch: number(0, 2000, 0, true),
      steps: number(1, 5000, 300, true),
      target: text("target", null, 100),
      pace: choice(PACES, DEFAULT_PACE),
      log: choice(["auto", "on", "off"], "auto"),
      hide: {default: "", read: (value) => {
        const items = value.split(",").filter((item) => item);
        const known = [...PANELS, ...CONTROLS];
        const unknown = items.filter((item) => !known.includes(item));
        if (unknown.length) throw new Error(`names unknown parts: ${unknown.join(", ").slice(0, 60)}`);
        return items.join(",");
      }},
    };
  }

  constructor(state, onChange) {
    this.state = state;
    this.onChange = onChange;
    this.summary = null;       // the current run's summary (this tab's run)
    this.lastState = "idle";
    this.lastStep = 0;
    this.pending = [];         // frames of a run whose start reply has not arrived yet
    this.starting = 0;         // start requests on their way
    this.restartTimer = null;
    this.commandTimer = null;
    this.csvText = "";
    this.csvSource = "";       // "upload" or "edited": where the CSV text came from
    this.editedAt = null;
    this.frameTimes = [];      // ms of this page's main thread per frame (drawing every panel)
    this.serverTimes = [];     // ms of the server's work per frame
    window.jangradLab = this;  // for tests and the curious: frameTimes, serverTimes, summary

    this.lossChart = new LossChart($("loss-canvas"), {
      legend: $("loss-legend"), trainingLabel: $("loss-training-label"), trainingValue: $("loss-training-value"), testValue: $("loss-test-value"),
      testEntry: $("loss-legend-test"), logBox: $("loss-log"), logNote: $("loss-log-note"),
    });
    this.boundary = new BoundaryView({
      canvas: $("boundary-canvas"), tools: $("boundary-tools"), classPicker: $("class-picker"),
      legend: $("boundary-legend"), note: $("boundary-note"), readout: $("boundary-readout"),
    }, {
      onPick: (index) => this.act(() => this.pickSample(index)),
      onAdd: (x, y, cls) => this.act(() => this.edit({action: "add", x, y, class: cls})),
      onRemove: (index) => this.act(() => this.edit({action: "remove", index})),
    });
    this.diagram = new NetworkDiagram({container: $("net-diagram"), note: $("diagram-note"),
      tooltip: $("diagram-tooltip")}, {onSelect: (index) => this.act(() => this.selectParameter(index))});
    this.sample = new SampleGraph({
      panel: $("part-sample"), title: $("sample-index"), message: $("sample-message"), note: $("sample-note"),
      graph: $("sample-graph"), narration: $("sample-narration"), counter: $("sample-counter"),
      tooltip: $("sample-tooltip"),
      buttons: {first: $("sample-first"), back: $("sample-back"), next: $("sample-next"), last: $("sample-last")},
    }, {loadSteps: () => transport.sampleSteps()});
    this.optimizer = new OptimizerTable({table: $("optimizer-table"), hint: $("optimizer-hint"),
      title: $("optimizer-name")});
    this.sample.clear();

    this.bindForm();
    this.bindToolbar();
    this.buildPresets();
    this.buildPanelsMenu();
    transport.subscribe((frame) => this.onFrame(frame), (reason) => this.message(
      reason || "no live updates: the server refused them (too many open tabs?)"));
  }

  // ---- the form and the page state ----------------------------------------------------------------------------------
  bindForm() {
    $("net-data").addEventListener("change", () => {
      const defaults = DATA_DEFAULTS[$("net-data").value];
      if (defaults) { $("net-samples").value = defaults[0]; $("net-noise").value = defaults[1]; }
    });
    for (const id of Object.values(FIELDS)) {
      $(id).addEventListener("change", () => {
        $("net-preset").value = "";
        $("preset-note").hidden = true;
        this.formChanged();
      });
    }
    $("net-csv").addEventListener("change", () => this.readCsv());
    $("loss-log").addEventListener("change", () => {
      this.state.set("log", $("loss-log").checked ? "on" : "off");
      this.lossChart.setMode(this.state.get("log"));
      this.onChange();
    });
  }

  // Called once the page state is loaded from the URL.
  restore() {
    for (const [key, id] of Object.entries(FIELDS)) $(id).value = this.state.get(key);
    $("net-pace").value = String(PACES.indexOf(this.state.get("pace")));
    this.showPace();
    this.lossChart.setMode(this.state.get("log"));
    this.applyHidden();
    this.showCsvBox();
    this.refreshCommand();
  }

  // The first time the lab is shown it starts a paused run of its settings, so that the untrained network is drawn
  // (a page opened on the expression lab leaves the server's run alone).
  activate() {
    if (this.activated) return;
    this.activated = true;
    this.restart();
  }

  formChanged() {
    for (const [key, id] of Object.entries(FIELDS)) {
      try { this.state.set(key, $(id).value); } catch (error) { /* not a field of the state */ }
    }
    if ($("net-data").value !== "csv") { this.csvText = ""; this.csvSource = ""; }
    this.showCsvBox();
    this.onChange();
    this.refreshCommand();
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => this.restart(), 250);
    this.showBusy();
  }

  // body[data-lab] is "busy" while the settings wait to become a run (tests and screenshots wait for "ready").
  showBusy() {
    document.body.dataset.lab = this.restartTimer !== null || this.starting > 0 ? "busy" : "ready";
  }

  config() {
    const config = {};
    for (const key of Object.keys(FIELDS)) config[key] = this.state.get(key);
    for (const key of NUMBERS) config[key] = Number(config[key]);
    if (config.data === "csv") config.csv = this.csvText;
    return config;
  }

  showCsvBox() {
    const csv = $("net-data").value === "csv";
    $("csv-box").hidden = !csv;
    for (const id of ["net-samples", "net-noise"]) $(id).disabled = !(this.state.get("data") in DATA_DEFAULTS);
    let status = "";
    if (csv && this.csvSource === "edited") {
      status = `your edited points (${this.summary ? this.summary.points.length : "?"} samples); a link cannot ` +
        "carry them, the CLI command below does";
    } else if (csv && !this.csvText) {
      status = "choose a CSV file (a link cannot carry one)";
    }
    $("csv-status").textContent = status;
  }

  readCsv() {
    const file = $("net-csv").files[0];
    if (!file) return;
    file.text().then((csvText) => {
      this.csvText = csvText;
      this.csvSource = "upload";
      this.formChanged();
    });
  }

  // ---- messages -------------------------------------------------------------------------------------------------------
  message(words, kind = "error") {
    $("train-message").textContent = words ? String(words).split("\n")[0] : "";
    $("train-message").className = kind;
  }

  async act(action) {
    try {
      await action();
    } catch (error) {
      this.message(error.message);
    }
  }

  // ---- runs --------------------------------------------------------------------------------------------------------
  // A paused run of the current settings: its pictures show the untrained network before Play.
  async restart() {
    this.restartTimer = null;
    if (this.state.get("data") === "csv" && !this.csvText) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
      this.showCsvBox();
      this.showBusy();
      return;
    }
    await this.act(() => this.start(true));
  }

  async start(paused) {
    clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.message("");
    this.starting += 1;
    this.showBusy();
    let summary;
    try {
      summary = await transport.startTraining(this.config(), paused, this.paceValue());
    } finally {
      this.starting -= 1;
      this.showBusy();
    }
    this.editedAt = null;
    this.adopt(summary);
    this.refreshCommand();
    return summary;
  }

  // A new run's summary (a start, a reset, or an edit before the first step): every panel sets itself up for it.
  adopt(summary) {
    const sameRun = this.summary && this.summary.run === summary.run;
    this.summary = summary;
    this.replaced = false;
    document.body.dataset.run = String(summary.run);
    this.lastState = summary.state;
    if (!sameRun) {
      const batch = summary.config.batch || summary.samples;
      this.lossChart.reset(summary.steps, Math.ceil(summary.samples / Math.min(batch, summary.samples)));
      this.diagram.setup(summary);
      this.boundary.setup(summary);
      if (summary.sample === null || summary.sample === undefined) {
        this.sample.clear();
        this.boundary.select(null);
      } else {
        this.boundary.select(summary.sample);
      }
      if (summary.parameter === null || summary.parameter === undefined) this.optimizer.draw(null);
      $("train-steps-total").textContent = String(summary.steps);
      this.showStatus({step: 0, loss: null, test_loss: null, accuracy: null, state: summary.state});
    } else {
      this.boundary.setPoints(summary.points);
    }
    const early = this.pending.filter((frame) => frame.run === summary.run);
    this.pending = [];
    early.forEach((frame) => this.onFrame(frame));
  }

  needsNewRun() {
    return !this.summary || this.replaced || this.restartTimer !== null || FINISHED.includes(this.lastState);
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
    if (!this.summary || this.replaced) { await this.start(true); return; }
    this.starting += 1;
    let summary;
    try {
      summary = await transport.control("reset");
    } finally {
      this.starting -= 1;
    }
    this.message("");
    this.editedAt = null;
    this.adopt(summary);
    this.refreshCommand();
  }

  paceValue() {
    const pace = this.state.get("pace");
    return pace === "max" ? "max" : Number(pace);
  }

  showPace() {
    const pace = this.state.get("pace");
    $("net-pace-label").textContent = pace === "max" ? "as fast as it goes" : `${pace} step${pace === "1" ? "" : "s"}/s`;
  }

  async setPace() {
    this.state.set("pace", PACES[Number($("net-pace").value)]);
    this.showPace();
    this.onChange();
    if (this.summary && !this.replaced) await transport.control("pace", {pace: this.paceValue()});
  }

  // ---- toolbar --------------------------------------------------------------------------------------------------------
  bindToolbar() {
    $("train-play").addEventListener("click", () => this.act(() => this.play()));
    $("train-pause").addEventListener("click", () => this.act(() => transport.control("pause")));
    $("train-step").addEventListener("click", () => this.act(() => this.singleStep()));
    $("train-reset").addEventListener("click", () => this.act(() => this.reset()));
    $("net-pace").addEventListener("input", () => this.act(() => this.setPace()));
    $("copy-cli").addEventListener("click", () => this.act(() => this.copyCommand()));
    $("share-link").addEventListener("click", () => this.act(() => this.copyLink()));
    $("download-model").addEventListener("click", () => this.act(() => this.download("model.json")));
    $("download-history").addEventListener("click", () => this.act(() => this.download("history.csv")));
    $("net-preset").addEventListener("change", () => this.applyPreset($("net-preset").value));
    // Any sample by its number: the only way to one when the data has no plane to click (the lecture's 3 inputs).
    $("sample-show").addEventListener("click", () => this.act(() => this.pickSample(Number($("sample-pick").value))));
  }

  buildPresets() {
    const select = $("net-preset");
    for (const [key, preset] of Object.entries(NETWORK_PRESETS)) {
      const option = document.createElement("option");
      option.value = key;
      option.textContent = preset.title;
      select.appendChild(option);
    }
  }

  applyPreset(key) {
    const preset = NETWORK_PRESETS[key];
    if (!preset) { $("preset-note").hidden = true; return; }
    for (const [field, value] of Object.entries(preset.fields)) {
      $(FIELDS[field]).value = value;
      this.state.set(field, value);
    }
    this.state.set("pace", preset.pace);
    $("net-pace").value = String(PACES.indexOf(preset.pace));
    this.showPace();
    $("preset-note").textContent = `${preset.title}: ${preset.note}`;
    $("preset-note").hidden = false;
    this.csvText = "";
    this.csvSource = "";
    this.showCsvBox();
    this.onChange();
    this.refreshCommand();
    this.restart();
  }

  buildPanelsMenu() {
    const list = $("panels-list");
    for (const part of [...PANELS, ...CONTROLS]) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.dataset.part = part;
      box.checked = true;
      box.addEventListener("change", () => {
        this.state.setHidden(part, !box.checked);
        this.applyHidden();
        this.onChange();
      });
      label.append(box, document.createTextNode(` ${PART_NAMES[part]}`));
      list.appendChild(label);
    }
  }

  applyHidden() {
    for (const part of [...PANELS, ...CONTROLS]) {
      const hidden = this.state.hidden(part);
      for (const element of document.querySelectorAll(`#panel-network [data-part="${part}"]`)) {
        if (element.tagName !== "INPUT") element.hidden = hidden;
      }
      const box = document.querySelector(`#panels-list input[data-part="${part}"]`);
      if (box) box.checked = !hidden;
    }
    document.querySelector("#panel-network .lab-grid").dataset.hidden = this.state.get("hide");
    $("column-output").hidden = this.state.hidden("boundary") && this.state.hidden("loss");
  }

  // ---- frames ----------------------------------------------------------------------------------------------------------
  onFrame(frame) {
    if (frame.run === null || frame.run === undefined) return;
    if (!this.summary || frame.run !== this.summary.run) {
      if (this.starting > 0 || !this.summary) {
        if (!this.summary || frame.run > this.summary.run) {
          if (this.pending.length && this.pending[0].run !== frame.run) this.pending = [];  // a newer run
          this.pending.push(frame);
        }
      } else if (frame.run > this.summary.run && !this.replaced) {
        this.replaced = true;
        this.message("another tab started its own run (the server trains one at a time): press Play to start " +
                     "yours again");
      }
      return;
    }
    const started = performance.now();
    if (frame.points) this.boundary.setPoints(frame.points);
    this.lossChart.append(frame.from, frame.losses, frame.test_from, frame.test_losses);
    this.lossChart.draw();
    this.boundary.draw(frame);
    this.diagram.draw(frame);
    if (frame.sample) this.sample.update(frame.sample);
    this.sample.setTraining(frame.state === "running", frame.step);
    this.optimizer.draw(frame.parameter || null);
    this.showStatus(frame);
    this.lastState = frame.state;
    this.lastStep = frame.step;
    if (frame.edited_at && frame.edited_at !== this.editedAt) {
      this.editedAt = frame.edited_at;
      this.refreshCommand();
    }
    if (frame.message) this.message(frame.message, frame.state === "done" ? "info" : "error");
    this.frameTimes.push(performance.now() - started);
    this.serverTimes.push(frame.cost_ms);
    if (this.serverTimes.length > FRAME_TIMES) this.serverTimes.shift();
    if (this.frameTimes.length > FRAME_TIMES) this.frameTimes.shift();
  }

  showStatus(frame) {
    $("train-step-counter").textContent = String(frame.step);
    $("train-loss").textContent = frame.loss === null ? "—" : formatNumber(frame.loss);
    $("train-test-loss").textContent = frame.test_loss === null ? "—" : formatNumber(frame.test_loss);
    $("train-accuracy").textContent = frame.accuracy === null ? "—" : `${Math.round(frame.accuracy * 100)}%`;
    $("train-state").textContent = frame.state;
    $("train-state").dataset.state = frame.state;
  }

  // ---- the sample and the parameter on screen ----------------------------------------------------------------------
  async pickSample(index) {
    if (!this.summary) return;
    if (!Number.isInteger(index) || index < 0) {
      this.sample.failed(`a sample is a whole number from 0 to ${this.summary.points.length || this.summary.samples}`);
      return;
    }
    $("sample-pick").value = String(index);
    this.boundary.select(index);
    this.sample.loading(index);
    try {
      const drawing = await transport.sampleGraph(index);
      this.sample.show(drawing);
      this.sample.setTraining(this.lastState === "running", this.lastStep);
    } catch (error) {
      this.sample.failed(error.message);
    }
  }

  async selectParameter(index) {
    await transport.selectParameter(index);
  }

  // ---- the learner's own points ---------------------------------------------------------------------------------------
  async edit(body) {
    if (!this.summary) return;
    this.starting += 1;
    let result;
    try {
      result = await transport.edit(body);
    } finally {
      this.starting -= 1;
    }
    this.csvText = result.csv;
    this.csvSource = "edited";
    this.editedAt = result.edited_at;
    for (const [key, value] of [["data", "csv"], ["target", result.target]]) {
      this.state.set(key, value);
      $(FIELDS[key]).value = value;
    }
    $("net-preset").value = "";
    this.adopt(result.summary);
    this.showCsvBox();
    this.onChange();
    this.refreshCommand();
  }

  // ---- the command, the link and the downloads ---------------------------------------------------------------------
  refreshCommand() {
    clearTimeout(this.commandTimer);
    this.commandTimer = setTimeout(() => this.act(() => this.showCommand()), 120);
  }

  async showCommand() {
    if (this.state.get("data") === "csv" && !this.csvText) {
      $("cli-out").value = "";
      $("cli-note").textContent = "choose a CSV file first";
      return;
    }
    const asked = JSON.stringify(this.config());
    const {command, note} = await transport.command(this.config(), this.editedAt);
    if (JSON.stringify(this.config()) !== asked) return;  // the settings changed meanwhile: a newer answer comes
    $("cli-out").value = command;
    $("cli-note").textContent = note ? `note: ${note}` : "repeats this run number for number";
    $("cli-out").dataset.config = asked;
  }

  async copyCommand() {
    await this.showCommand();
    const box = $("cli-out");
    box.select();
    try { await navigator.clipboard.writeText(box.value); } catch (error) { /* the text stays selected */ }
  }

  async copyLink() {
    const link = this.state.link();
    try {
      await navigator.clipboard.writeText(link);
      this.message("the link is copied: it opens this page with these settings", "info");
    } catch (error) {
      this.message(`copy this link: ${link}`, "info");
    }
  }

  async download(name) {
    const {text: body, type} = await transport.download(name);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([body], {type}));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }
}
