// Walks a backward pass the server laid out as steps (the seed, then one op per step), forwards and back.
// Position k means steps 0..k-1 have run; gradients not reached yet show "—".

import {formatNumber} from "./format.js";

export {formatNumber};

export class Stepper {
  constructor(lab, view) {
    this.steps = lab.steps;
    this.nodes = lab.nodes;
    this.position = 0;
    this.view = view;   // {showGrad(id, value|null), highlight(id|null, step), narrate(lines), counter(k, n)}
  }

  gradsAt(position) {
    const grads = new Map();
    for (const step of this.steps.slice(0, position)) {
      for (const update of step.updates) grads.set(update.id, update.grad);
    }
    return grads;
  }

  go(position) {
    this.position = Math.max(0, Math.min(this.steps.length, position));
    const grads = this.gradsAt(this.position);
    for (const node of this.nodes) this.view.showGrad(node.id, grads.has(node.id) ? grads.get(node.id) : null);
    const step = this.position > 0 ? this.steps[this.position - 1] : null;
    this.view.highlight(step ? step.node : null, step);
    this.view.narrate(step ? step.lines : []);
    this.view.counter(this.position, this.steps.length);
  }

  first() { this.go(0); }
  back() { this.go(this.position - 1); }
  next() { this.go(this.position + 1); }
  last() { this.go(this.steps.length); }
}
