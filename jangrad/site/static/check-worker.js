// The check worker: runs `jangrad check` on the learner's code, in a worker of its own that the page ends when a
// check runs past its time limit (check-client.js keeps the time). It says when each probe starts, so the page
// knows which one hung.

import {startPython, reason} from "./boot.js";

let api = null;

const ready = startPython().then((python) => {
  api = python.pyodide.pyimport("jangrad.site.checking");
  api.warm_up();
});

ready.then(
  () => postMessage({type: "ready"}),
  (error) => postMessage({type: "failed", error: reason(error)}),
);

self.onmessage = async (event) => {
  const {id, params} = event.data;
  try {
    await ready;
  } catch (error) {
    postMessage({id, error: `the checker did not start in this page: ${reason(error)}`});
    return;
  }
  const announce = (index, name, detail) => postMessage({id, progress: {index, name, detail}});
  let reply;
  try {
    reply = JSON.parse(api.check_source(JSON.stringify(params), announce));
  } catch (error) {  // Python itself failed (a stack overflow deep in the learner's recursion): this worker is done
    reply = {crashed: reason(error)};
  }
  postMessage({id, ...reply});
};
