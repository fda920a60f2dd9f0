// The expression lab: run a small program on the server, draw its graph and step through its backward pass.

import {transport} from "./transport.js";
import {Stepper} from "./stepper.js";
import {formatNumber, numberText} from "./format.js";

export const PRESETS = {
  lecture: {source: "e = a*b\nd = e + c\nL = d*f", inputs: "a=2, b=-3, c=10, f=-2"},
  neuron: {source: "x1w1 = x1*w1\nx2w2 = x2*w2\nx1w1x2w2 = x1w1 + x2w2\nn = x1w1x2w2 + b\no = tanh(n)",
           inputs: "x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432"},
  reused: {source: "y = a*b + a", inputs: "a=2, b=-3"},
};

const $ = (id) => document.getElementById(id);

// Finds an element of an inline SVG by its Graphviz id without touching ids elsewhere on the page.
export function svgPart(container, id) {
  return container.querySelector(`[id="${CSS.escape(id)}"]`);
}

export function svgGradText(container, id) {
  const group = svgPart(container, id);
  if (!group) return null;
  const texts = group.querySelectorAll("text");
  return texts.length ? texts[texts.length - 1] : null;
}

export class ExpressionLab {
  constructor(onChange) {
    this.onChange = onChange;
    this.lab = null;
    this.shown = null;
    this.stepper = null;
    this.ticket = 0;
    $("expr-preset").addEventListener("change", () => {
      const preset = PRESETS[$("expr-preset").value];
      if (preset) this.load(preset.source, preset.inputs);
    });
    $("expr-run").addEventListener("click", () => this.run());
    $("expr-inputs").addEventListener("change", () => this.run());
    $("expr-inputs").addEventListener("keydown", (event) => { if (event.key === "Enter") this.run(); });
    $("expr-source").addEventListener("input", () => { $("expr-preset").value = "custom"; });
    $("expr-check").addEventListener("click", () => this.check());
    $("copy-python").addEventListener("click", () => this.copyPython());
    $("download-svg").addEventListener("click", () => this.download("svg"));
    $("download-dot").addEventListener("click", () => this.download("dot"));
    $("step-first").addEventListener("click", () => this.stepper && this.stepper.first());
    $("step-back").addEventListener("click", () => this.stepper && this.stepper.back());
    $("step-next").addEventListener("click", () => this.stepper && this.stepper.next());
    $("step-last").addEventListener("click", () => this.stepper && this.stepper.last());
  }

  tableRow(id) {
    return $("expr-table").querySelector(`tr[data-id="${id}"]`);
  }

  state() {
    return {src: $("expr-source").value, inputs: $("expr-inputs").value};
  }

  // Arrow keys step while the lab is shown and no text field has the focus.
  onKey(event) {
    const tag = document.activeElement ? document.activeElement.tagName : "";
    if (!this.stepper || tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT") return;
    const moves = {ArrowRight: "next", ArrowLeft: "back", Home: "first", End: "last"};
    if (moves[event.key]) { event.preventDefault(); this.stepper[moves[event.key]](); }
  }

  load(source, inputs) {
    $("expr-source").value = source;
    $("expr-inputs").value = inputs;
    const match = Object.entries(PRESETS).find(([, p]) => p.source === source && p.inputs === inputs);
    $("expr-preset").value = match ? match[0] : "custom";
    return this.run();
  }

  showError(message) {
    $("expr-error").textContent = message ? String(message).split("\n")[0] : "";
  }

  // Only the latest request's answer is shown; body[data-expr] is "busy" while one is on its way.
  async run() {
    const {src, inputs} = this.state();
    this.onChange();
    const ticket = ++this.ticket;
    document.body.dataset.expr = "busy";
    let lab = null;
    let failure = "";
    try {
      lab = await transport.expression(src, inputs);
    } catch (error) {
      failure = error.message;
    }
    if (ticket !== this.ticket) return;
    this.showError(failure);
    if (lab) {
      this.lab = lab;
      this.shown = {src, inputs};  // what Check must check: the drawn program, not text edited since
      this.render(lab);
    } else {
      this.clear();  // the old graph would answer a program that is no longer there
    }
    document.body.dataset.expr = failure ? "error" : "ready";
  }

  clear() {
    this.lab = null;
    this.shown = null;
    this.stepper = null;
    $("expr-graph").textContent = "";
    $("expr-graph-note").textContent = "";
    $("expr-table").querySelector("tbody").textContent = "";
    $("narration").textContent = "";
    $("expr-output").textContent = "";
    $("step-counter").textContent = "step 0 / 0";
    $("python-out").hidden = true;
  }

  render(lab) {
    const graph = $("expr-graph");
    graph.innerHTML = lab.svg || "";
    $("expr-graph-note").textContent = lab.svg_note || "";
    const body = $("expr-table").querySelector("tbody");
    body.textContent = "";
    for (const node of lab.nodes) {
      if (node.constant) continue;
      const row = document.createElement("tr");
      row.dataset.id = node.id;
      row.dataset.name = node.name;
      const cells = [node.name, node.symbol || (node.leaf ? "input" : node.op), formatNumber(node.data), "—", ""];
      const classes = ["name", "op", "data", "grad", "check"];
      cells.forEach((text, i) => {
        const cell = document.createElement("td");
        cell.className = classes[i];
        cell.textContent = text;
        row.appendChild(cell);
      });
      body.appendChild(row);
    }
    const out = lab.nodes.find((n) => n.id === lab.output);
    $("expr-output").textContent = `${lab.output_name} = ${formatNumber(out.data)}`;
    $("python-out").hidden = true;
    this.stepper = new Stepper(lab, {
      showGrad: (id, value) => this.showGrad(id, value),
      highlight: (id, step) => this.highlight(id, step),
      narrate: (lines) => {
        const box = $("narration");
        box.textContent = "";
        for (const line of lines) {
          const div = document.createElement("div");
          div.textContent = line;
          box.appendChild(div);
        }
      },
      counter: (k, n) => { $("step-counter").textContent = `step ${k} / ${n}`; },
    });
    this.stepper.first();
  }

  showGrad(id, value) {
    const text = value === null ? "—" : formatNumber(value);
    const row = this.tableRow(id);
    if (row) {
      const cell = row.querySelector("td.grad");
      cell.textContent = text;
      cell.dataset.value = value === null ? "" : String(value);
    }
    const svgText = svgGradText($("expr-graph"), id);
    if (svgText) svgText.textContent = `grad ${value === null ? "—" : numberText(value)}`;
  }

  highlight(id, step) {
    const graph = $("expr-graph");
    for (const el of document.querySelectorAll("#panel-expression .hl, #panel-expression .touched")) {
      el.classList.remove("hl", "touched");
    }
    if (id === null) return;
    const target = svgPart(graph, step.op ? `${id}op` : id);
    if (target) target.classList.add("hl");
    const row = this.tableRow(id);
    if (row) row.classList.add("hl");
    for (const update of step.updates) {
      if (update.id === id) continue;
      const part = svgPart(graph, update.id);
      if (part) part.classList.add("touched");
      const touched = this.tableRow(update.id);
      if (touched) touched.classList.add("touched");
    }
  }

  // Marks the rows of the drawn program; an answer that arrives after another program was drawn is dropped.
  async check() {
    if (!this.shown) return;
    const {src, inputs} = this.shown;
    const ticket = this.ticket;
    let result;
    try {
      result = await transport.check(src, inputs);
    } catch (error) {
      if (ticket === this.ticket) this.showError(error.message);
      return;
    }
    if (ticket !== this.ticket) return;
    this.showError("");
    for (const item of result.checks) {
      const row = this.tableRow(item.id);
      if (!row) continue;
      const cell = row.querySelector("td.check");
      cell.textContent = item.ok ? "✔" : "✘";
      cell.title = `backward ${formatNumber(item.analytic)}, central difference ${formatNumber(item.numeric)}`;
      cell.className = item.ok ? "check ok" : "check bad";
    }
  }

  async copyPython() {
    if (!this.lab) return;
    const box = $("python-out");
    box.value = this.lab.python;
    box.hidden = false;
    box.select();
    try { await navigator.clipboard.writeText(this.lab.python); } catch (error) { /* the text stays selected */ }
  }

  download(kind) {
    if (!this.lab) return;
    const text = kind === "svg" ? this.lab.svg : this.lab.dot;
    if (!text) { this.showError(`no ${kind.toUpperCase()} to download: ${this.lab.svg_note}`); return; }
    const type = kind === "svg" ? "image/svg+xml" : "text/vnd.graphviz";
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], {type}));
    link.download = `graph.${kind}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }
}
