// The engine worker: jangrad in Pyodide, answering the page's requests one at a time (worker-client.js sends
// them) with the same Python functions the playground server calls; the network lab's training loop; and
// jangrad.run. Graphviz compiled to WebAssembly (vendor/viz.js) lays out and draws the graphs, as the dot program
// does under `jangrad serve`.
//
// The training loop is this worker's event loop: each turn (Python's `drive`) runs the steps that are due, for at
// most a few tens of milliseconds, and posts a frame when one is due; the next turn is a timer, so a request that
// arrives meanwhile is answered between two turns. The page's own thread only draws the frames it is sent.

import {startPython, reason} from "./boot.js";
import {drawPictures} from "./pictures.js";
import {instance as startGraphviz} from "../vendor/viz.js";

let api = null;
let graphviz = null;
let labMethods = new Set();
let turn = null;  // the timer of the training loop's next turn

const ready = (async () => {
  const started = performance.now();
  const [python, viz] = await Promise.all([startPython(), startGraphviz()]);
  const booted = performance.now();
  graphviz = viz;
  api = python.pyodide.pyimport("jangrad.site.worker");
  api.use_graphviz((dot) => viz.renderString(dot, {format: "svg"}));
  labMethods = new Set(api.LAB_METHODS.toJs());
  return {...python.versions, startup: {python: Math.round(booted - started)}};
})();

// Ready once jangrad can be imported; then the first lab's imports and drawing run at once, so that the page's first
// request (already waiting, as a rule) finds them done.
ready.then(
  (versions) => {
    postMessage({type: "ready", versions});
    api.warm_up();
  },
  (error) => postMessage({type: "failed", error: reason(error)}),
);

function comeBack(seconds) {
  clearTimeout(turn);
  turn = seconds === null || seconds === undefined ? null : setTimeout(drive, Math.max(0, seconds * 1000));
}

// One turn of the training loop: the steps that are due, and the frame, its pictures drawn here from the weights.
function drive() {
  turn = null;
  let next;
  try {
    next = JSON.parse(api.drive());
  } catch (error) {
    console.error(error);
    postMessage({type: "trouble", error: `the training loop stopped: ${reason(error)}`});
    return;
  }
  if (next.frame) {
    if (next.pictures) {
      const started = performance.now();
      Object.assign(next.frame, drawPictures(next.pictures));
      next.frame.cost_ms = Math.round(100 * (next.frame.cost_ms + performance.now() - started)) / 100;
    }
    postMessage({type: "frame", frame: next.frame});
  }
  comeBack(next.wake);
}

function answer(method, params) {
  if (method === "run") return JSON.parse(api.run(String(params.source)));
  if (method === "drawDot") {
    try {
      return {result: graphviz.renderString(String(params.dot), {format: "svg"})};
    } catch (error) {
      return {error: `the drawing could not be made: ${reason(error)}`};
    }
  }
  const reply = JSON.parse(api.handle(String(method), JSON.stringify(params || {})));
  if (labMethods.has(method)) comeBack(0);  // the lab may have something to do now (a run started, Play, a step)
  return reply;
}

self.onmessage = async (event) => {
  const {id, method, params} = event.data;
  try {
    await ready;
  } catch (error) {
    postMessage({id, error: `jangrad did not start in this page: ${reason(error)}`});
    return;
  }
  let reply;
  try {
    reply = answer(method, params);
  } catch (error) {
    console.error(error);
    reply = {error: `internal error: ${reason(error)}`};
  }
  postMessage({id, ...reply});
};
