// The optimizer's state for the parameter a learner chose in the network diagram: its value and gradient, the
// optimizer's own buffers (Adam's m and v, SGD's momentum buffer) and the step it took, with the formula of each
// row. It owns its table and draws a frame's `parameter` part.

import {formatNumber} from "./format.js";

export class OptimizerTable {
  constructor({table, hint, title}) {
    this.table = table;
    this.hint = hint;
    this.title = title;
  }

  draw(state) {
    const body = this.table.querySelector("tbody");
    body.textContent = "";
    this.table.hidden = !state;
    this.hint.hidden = !!state;
    this.title.textContent = state ? state.name : "";
    if (!state) return;
    const rows = [
      ["value", "p", state.value, "the parameter now"],
      ["gradient", "g", state.grad, "d(batch loss)/dp at the last step"],
      ["learning rate", "lr", state.lr, "the schedule's rate at the last step"],
      ["steps taken", "t", String(state.t), "the optimizer's step count"],
    ];
    if (state.optimizer === "SGD") {
      if (state.momentum) {
        rows.push(["momentum buffer", "buf", state.velocity, `buf = ${state.momentum}·buf + g`]);
        rows.push(["the step it took", "Δp", state.update, "−lr·buf"]);
      } else {
        rows.push(["momentum buffer", "", null, "none: plain SGD (momentum 0) keeps no state"]);
        rows.push(["the step it took", "Δp", state.update, "−lr·g"]);
      }
    } else {
      const [beta1, beta2] = state.betas;
      rows.push(["first moment", "m", state.m, `m = ${beta1}·m + ${Number((1 - beta1).toPrecision(6))}·g`]);
      rows.push(["second moment", "v", state.v, `v = ${beta2}·v + ${Number((1 - beta2).toPrecision(6))}·g²`]);
      rows.push(["m, bias-corrected", "m̂", state.m_hat, `m / (1 − ${beta1}^t)`]);
      rows.push(["v, bias-corrected", "v̂", state.v_hat, `v / (1 − ${beta2}^t)`]);
      rows.push(["the step it took", "Δp", state.update, `−lr·m̂ / (√v̂ + ${state.eps})`]);
      if (state.weight_decay && state.optimizer === "AdamW") {
        rows.push(["weight decay", "", state.weight_decay, "AdamW also takes −lr·wd·p each step"]);
      }
    }
    rows.push(["p moved by", "", state.moved, "measured: p now − p before the last step"]);
    for (const [what, symbol, value, how] of rows) {
      const row = document.createElement("tr");
      row.dataset.row = symbol || what;
      for (const [text, className] of [[what, "what"], [symbol, "symbol"],
        [value === null || value === undefined ? "—" : formatNumber(value), "value"], [how, "how"]]) {
        const cell = document.createElement("td");
        cell.className = className;
        cell.textContent = text;
        row.appendChild(cell);
      }
      body.appendChild(row);
    }
  }
}
