// The "Check your engine" tab of the static site: an editor pre-filled with a lecture-style Value, a Check button,
// and `jangrad check`'s report with each failing graph drawn. The learner's code runs in a worker of its own
// (check-client.js), ended at the time limit; everything it sends back is shown as text, and each drawing as an
// image, never as HTML. The tab adds itself to the page's tab bar: index.html needs no change for it.

import {transport} from "./transport.js";

const SKELETON = `import math


class Value:
    """A scalar and its gradient, as in the lecture. Fill in each _backward, then press Check."""

    def __init__(self, data, _children=(), _op="", label=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"Value(data={self.data})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            pass  # how much do self.grad and other.grad change when out changes?

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            pass  # the chain rule: out.grad times d(out)/d(self), and the same for other

        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only supporting int/float powers for now"
        out = Value(self.data**other, (self,), f"**{other}")

        def _backward():
            pass

        out._backward = _backward
        return out

    def __rmul__(self, other):  # other * self
        return self * other

    def __truediv__(self, other):  # self / other
        return self * other**-1

    def __neg__(self):  # -self
        return self * -1

    def __sub__(self, other):  # self - other
        return self + (-other)

    def __radd__(self, other):  # other + self
        return self + other

    def tanh(self):
        x = self.data
        t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
        out = Value(t, (self,), "tanh")

        def _backward():
            pass

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            pass

        out._backward = _backward
        return out

    def backward(self):
        topo = []
        visited = set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
`;

// The lecture's finished rules, one per skeleton gap, in the skeleton's order.
const RULES = [
  "self.grad += 1.0 * out.grad\n            other.grad += 1.0 * out.grad",
  "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
  "self.grad += other * (self.data ** (other - 1)) * out.grad",
  "self.grad += (1 - t**2) * out.grad",
  "self.grad += out.data * out.grad",
];

function lectureValue() {
  let index = 0;
  return SKELETON
    .replace("Fill in each _backward, then press Check.", "The lecture's, finished.")
    .replace(/pass(  #[^\n]*)?\n/g, () => `${RULES[index++]}\n`);
}

export const STARTS = {skeleton: SKELETON, lecture: lectureValue()};

// What each of the checker's probes does, for the progress line.
const PROBE_WORDS = {
  "loading your code": "loading your code",
  discover: "finding what your class supports",
  op_points: "checking one op alone",
  run_program: "checking a graph where rules work together",
  random_graphs: "checking random graphs (hypothesis)",
  depth: "trying a deep chain",
  backward_twice: "calling backward() twice",
  exp_overflow: "trying exp(1000)",
};

// A parameter of the URL the page was opened with (app.js rewrites the URL as it starts, before this module runs).
function openedWith(name) {
  const navigation = performance.getEntriesByType("navigation")[0];
  return new URL(navigation ? navigation.name : location.href).searchParams.get(name);
}

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

export class CheckTab {
  constructor() {
    this.button = element("button", {role: "tab", id: "tab-check", "data-tab": "check", "aria-selected": "false"},
                          "Check your engine");
    this.panel = element("section", {id: "panel-check", class: "panel", role: "tabpanel", hidden: ""});
    this.build();
    const nav = document.querySelector("nav[role=tablist]");
    (nav || document.querySelector("header") || document.body).appendChild(this.button);
    (document.querySelector("main") || document.body).appendChild(this.panel);
    this.button.addEventListener("click", () => this.show(true));
    // The page's own tabs hide this one; app.js shows theirs.
    for (const other of document.querySelectorAll("[role=tab]")) {
      if (other !== this.button) other.addEventListener("click", () => this.show(false));
    }
    if (openedWith("tab") === "check") this.show(true);
  }

  build() {
    const intro = element("p", {class: "muted"},
      "Write or paste your own micrograd-style Value class and press Check: jangrad checks every op it supports "
      + "alone, then graphs where the rules must work together, against its own rules and finite differences, "
      + "and says which rule is wrong. Your code runs in this tab only, in a worker that is stopped at the time "
      + "limit.");
    const start = element("select", {id: "check-start"});
    start.append(element("option", {value: "skeleton"}, "a skeleton to fill in"),
                 element("option", {value: "lecture"}, "the lecture's Value"),
                 element("option", {value: "custom"}, "(your own)"));
    this.source = element("textarea", {id: "check-source", rows: "26", spellcheck: "false",
                                       "aria-label": "your Value class"});
    this.source.value = SKELETON;
    this.className = element("input", {id: "check-class", type: "text", value: "Value", size: "10"});
    this.timeout = element("input", {id: "check-timeout", type: "number", min: "1", max: "120", step: "any",
                                     value: "10"});
    this.checkButton = element("button", {id: "check-run"}, "Check");
    this.stopButton = element("button", {id: "check-stop", disabled: ""}, "Stop");
    this.status = element("div", {id: "check-status", class: "muted", role: "status"});
    this.report = element("pre", {id: "check-report", class: "check-report"});
    this.drawings = element("div", {id: "check-drawings", class: "check-drawings"});

    start.addEventListener("change", () => {
      if (STARTS[start.value]) this.source.value = STARTS[start.value];
    });
    this.source.addEventListener("input", () => { start.value = "custom"; });
    this.checkButton.addEventListener("click", () => this.check());
    this.stopButton.addEventListener("click", () => transport.stopCheck());

    const label = (text, control) => { const l = element("label", {}, text); l.appendChild(control); return l; };
    const controls = element("div", {class: "buttons"});
    controls.append(label("Start from ", start), label("Class ", this.className),
                    label("Time limit per check, s ", this.timeout), this.checkButton, this.stopButton);
    const editor = element("div", {class: "check-editor"});
    editor.append(controls, this.source);
    const results = element("div", {class: "check-results"});
    results.append(this.status, this.report, this.drawings);
    const row = element("div", {class: "check-columns"});
    row.append(editor, results);
    this.panel.append(intro, row);
  }

  show(visible) {
    this.panel.hidden = !visible;
    this.button.setAttribute("aria-selected", String(visible));
    if (!visible) return;
    for (const panel of document.querySelectorAll("[role=tabpanel]")) if (panel !== this.panel) panel.hidden = true;
    for (const tab of document.querySelectorAll("[role=tab]")) {
      if (tab !== this.button) tab.setAttribute("aria-selected", "false");
    }
    const params = new URLSearchParams(location.search);
    params.set("tab", "check");
    history.replaceState(null, "", `${location.pathname}?${params}`);
    transport.prepareChecker();
  }

  progress(step) {
    const words = PROBE_WORDS[step.name] || step.name;
    const what = step.detail ? `${words}: ${step.detail}` : words;
    this.status.textContent = step.restarting
      ? `${what} ran past the time limit: the worker running your code was ended; starting a fresh one to go on`
      : `checking… ${what}`;
  }

  async check() {
    const timeout = Number(this.timeout.value);
    if (!(timeout > 0 && timeout <= 120)) {
      this.status.textContent = `the time limit must be a number of seconds from 1 to 120, got "${this.timeout.value}"`;
      return;
    }
    document.body.dataset.check = "busy";
    this.checkButton.disabled = true;
    this.stopButton.disabled = false;
    this.report.textContent = "";
    this.report.classList.remove("error");
    this.drawings.textContent = "";
    this.status.textContent = "starting the checker…";
    let result = null;
    let outcome = "error";
    try {
      result = await transport.checkEngine(
        {source: this.source.value, className: this.className.value.trim(), timeout, examples: 200},
        (step) => this.progress(step));
      outcome = result.passed ? "passed" : "failed";
    } catch (error) {
      outcome = error.stopped ? "stopped" : "error";
      this.status.textContent = error.stopped ? error.message : "your engine could not be checked";
      if (!error.stopped) {
        this.report.textContent = error.message;
        this.report.classList.add("error");
      }
    }
    if (result) {
      this.report.textContent = result.text;
      const limits = result.hung.length === 1
        ? "; one check ran past the time limit, so the page ended the worker running your code and went on"
        : result.hung.length ? `; ${result.hung.length} checks ran past the time limit (the page ended the worker `
                               + "running your code each time)" : "";
      this.status.textContent = result.verdict + limits;
      await this.draw(result.drawings);
    }
    this.checkButton.disabled = false;
    this.stopButton.disabled = true;
    document.body.dataset.check = outcome;
  }

  // Each failing graph: DOT text from the checker, drawn by Graphviz in the engine worker, shown as an image.
  async draw(drawings) {
    for (const {name, dot} of drawings) {
      const figure = element("figure");
      const caption = element("figcaption", {}, `${name}: your numbers beside the right ones, the node to look at in red`);
      figure.appendChild(caption);
      try {
        const svg = await transport.drawDot(dot);
        const image = element("img", {alt: `the failing graph of ${name}`});
        image.src = URL.createObjectURL(new Blob([svg], {type: "image/svg+xml"}));
        image.addEventListener("load", () => URL.revokeObjectURL(image.src), {once: true});
        figure.appendChild(image);
      } catch (error) {
        figure.appendChild(element("div", {class: "error"}, error.message));
      }
      this.drawings.appendChild(figure);
    }
  }
}
