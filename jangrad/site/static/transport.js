// The only module that knows how the page talks to its engine. This is the static site's transport: jangrad runs
// in Pyodide in a Web Worker (engine-worker.js), so the page never blocks, and the requests go to the same Python
// functions the playground server routes them to (jangrad/playground/api.py, through jangrad/site/worker.py). It
// has the interface of the server's transport.js, method for method (that file says what each returns):
//
//   expression(source, inputs), check(source, inputs)                        the expression lab
//   command(config, editedAt), startTraining(config, paused, pace), control(action, options), edit(change),
//   sampleGraph(index), selectParameter(index), sampleSteps(), download(name),
//   subscribe(onFrame, onTrouble) -> unsubscribe                            the network lab (its frames come from
//                                                                           the worker's training loop)
//
// and the static site's own: ready (a promise of the versions when the engine can take work), run(source) (what
// Python source printed), drawDot(dot) (SVG text), checkEngine(...) / stopCheck() / prepareChecker() (check-client.js).

import {WorkerClient} from "./worker-client.js";
import {checkEngine, prepareChecker, stopCheck} from "./check-client.js";

const engine = new WorkerClient(new URL("./engine-worker.js", import.meta.url));

// What the network lab does differently here than under `jangrad serve`; the page shows it in the lab's panel.
export const NETWORK_LAB_NOTE = "Training runs in this tab: Python compiled to WebAssembly, without NumPy, so every "
  + "step runs on jangrad's eager engine (the numbers are jangrad train's, the speed lower than under jangrad "
  + "serve), and a step may take at most 40,000 samples × parameters. Each tab trains its own run.";

export const transport = {
  expression: (source, inputs) => engine.request("expression", {source, inputs}),
  check: (source, inputs) => engine.request("check", {source, inputs}),
  command: (config, editedAt) => engine.request("command", {config, edited_at: editedAt}),
  startTraining: (config, paused, pace) => engine.request("startTraining", {config, paused, pace}),
  control: (action, options = {}) => engine.request("control", {...options, action}),
  edit: (change) => engine.request("edit", change),
  sampleGraph: (index) => engine.request("sampleGraph", {index}),
  selectParameter: (index) => engine.request("selectParameter", {index}),
  sampleSteps: () => engine.request("sampleSteps", {}),
  download: (name) => engine.request("download", {name}),
  subscribe: (onFrame, onTrouble) => engine.listen(onFrame, onTrouble),

  ready: engine.ready,
  run: (source) => engine.request("run", {source: String(source)}),
  drawDot: (dot) => engine.request("drawDot", {dot}),
  checkEngine,
  stopCheck,
  prepareChecker,
};
