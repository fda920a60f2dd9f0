// The only module that knows how the page talks to its engine. This is the static site's transport: jangrad runs
// in Pyodide in a Web Worker (engine-worker.js), so the page never blocks, and the requests go to the same Python
// functions the playground server routes them to. It has the interface of the server's transport.js:
//
//   expression(source, inputs) -> the expression lab       check(source, inputs) -> gradients against differences
//   startTraining(config, paused), control(action), sampleGraph(index), command(config), downloadUrl(name),
//   subscribe(onFrame, onTrouble) -> unsubscribe           (the network lab: not in the static site yet)
//
// and the static site's own: ready (a promise of the versions when the engine can take work), run(source) (what
// Python source printed), drawDot(dot) (SVG text), checkEngine(...) / stopCheck() / prepareChecker() (check-client.js).

import {WorkerClient} from "./worker-client.js";
import {checkEngine, prepareChecker, stopCheck} from "./check-client.js";

const engine = new WorkerClient(new URL("./engine-worker.js", import.meta.url));

export const NETWORK_LAB_NOTE = "The network lab does not run in the no-install site yet: it is coming. To train a "
  + "network now, install jangrad (pip install jangrad) and run `jangrad serve`.";

const notYet = async () => { throw new Error(NETWORK_LAB_NOTE); };

export const transport = {
  expression: (source, inputs) => engine.request("expression", {source, inputs}),
  check: (source, inputs) => engine.request("check", {source, inputs}),
  startTraining: notYet,
  control: notYet,
  sampleGraph: notYet,
  command: notYet,
  downloadUrl: () => "#",
  subscribe: () => () => {},

  ready: engine.ready,
  run: (source) => engine.request("run", {source: String(source)}),
  drawDot: (dot) => engine.request("drawDot", {dot}),
  checkEngine,
  stopCheck,
  prepareChecker,
};
