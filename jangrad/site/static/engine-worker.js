// The engine worker: jangrad in Pyodide, answering the page's requests one at a time (worker-client.js sends
// them) with the same Python functions the playground server calls; and jangrad.run. Graphviz compiled to
// WebAssembly (vendor/viz.js) lays out and draws the graphs, as the dot program does under `jangrad serve`.

import {startPython, reason} from "./boot.js";
import {instance as startGraphviz} from "../vendor/viz.js";

let api = null;
let graphviz = null;

const ready = (async () => {
  const started = performance.now();
  const [python, viz] = await Promise.all([startPython(), startGraphviz()]);
  const booted = performance.now();
  graphviz = viz;
  api = python.pyodide.pyimport("jangrad.site.worker");
  api.use_graphviz((dot) => viz.renderString(dot, {format: "svg"}));
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

function answer(method, params) {
  if (method === "run") return JSON.parse(api.run(String(params.source)));
  if (method === "drawDot") {
    try {
      return {result: graphviz.renderString(String(params.dot), {format: "svg"})};
    } catch (error) {
      return {error: `the drawing could not be made: ${reason(error)}`};
    }
  }
  return JSON.parse(api.handle(String(method), JSON.stringify(params || {})));
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
