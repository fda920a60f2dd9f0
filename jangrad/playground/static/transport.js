// The only module that knows how the page talks to its engine. Everything else calls `transport`, whose methods
// take and return plain JSON objects (Promises of them), plus one subscription for training frames. Under
// `jangrad serve` they are HTTP requests and server-sent events to the local server; a page that runs jangrad in a
// Web Worker swaps this file for one that posts the same objects to the worker, which calls the same Python
// functions (jangrad/playground/api.py) and nothing else on the page changes.
//
// The interface (every method returns a Promise; a refusal rejects with an Error whose message is one line):
//
//   expression({source, inputs})          -> {output, output_name, nodes, steps, python, svg, dot, svg_note}
//   checkExpression({source, inputs})     -> {checks: [{id, analytic, numeric, ok}], all_ok}
//   command({config, edited_at})          -> {command, note}     the `jangrad train` command for a configuration
//   start({config, paused, pace})         -> summary             a new run (replacing the current one)
//   control({action, pace})               -> {...}               action: play | pause | step | reset | pace
//                                                                (reset answers with the new run's summary)
//   edit({action: "add", x, y, class})    -> {summary, csv, target, edited_at}
//   edit({action: "remove", index})       -> the same
//   select({sample: index | null})        -> the sample's drawing {index, svg, boxes, titles, note, values}
//   select({parameter: index | null})     -> {parameter}
//   sampleSteps({})                       -> {index, steps, boxes}  the sample's backward pass, step by step
//   download(name)                        -> {text, type}        name: "model.json" | "history.csv"
//   subscribe(onFrame, onTrouble)         -> unsubscribe()       onFrame(frame) for every training frame
//
// A summary is {run, config, points, data_version, extent, classes, classification, loss, sizes, activations,
// inputs, parameters, grid, heat, samples, steps, state, pace, backend, compiled, editable}; a frame is
// {run, step, steps, state, message, loss, accuracy, lr, test_loss, pace, edited_at, data_version, weights, biases,
// weight_grads, bias_grads, boundary?, heat?, heat_scale?, sample?, parameter?, from, losses, test_from,
// test_losses, points?} (see api.py and session.py for each field).

async function request(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new Error("the playground server is not answering (was `jangrad serve` stopped?)");
  }
  if (!response.ok) {
    let payload = null;
    try { payload = await response.json(); } catch (error) { payload = null; }
    const message = payload && payload.error ? payload.error : `the server answered ${response.status}`;
    const failure = new Error(message);
    failure.status = response.status;
    throw failure;
  }
  return response;
}

async function post(path, body) {
  const response = await request(path, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify(body),
  });
  return response.json();
}

const DOWNLOADS = {"model.json": "application/json", "history.csv": "text/csv"};

export const transport = {
  expression: (body) => post("/api/expr", body),
  checkExpression: (body) => post("/api/expr/check", body),
  command: (body) => post("/api/train/command", body),
  start: (body) => post("/api/train/start", body),
  control: (body) => post("/api/train/control", body),
  edit: (body) => post("/api/train/edit", body),
  select: (body) => post("/api/train/select", body),
  sampleSteps: (body) => post("/api/train/steps", body),

  async download(name) {
    if (!(name in DOWNLOADS)) throw new Error(`no such download: ${name}`);
    const response = await request(`/api/train/${name}`, {method: "GET"});
    return {text: await response.text(), type: DOWNLOADS[name]};
  },

  subscribe(onFrame, onTrouble) {
    const source = new EventSource("/api/train/events");
    source.onmessage = (event) => onFrame(JSON.parse(event.data));
    // EventSource reconnects by itself after a dropped connection; CLOSED means the server refused it.
    source.onerror = () => { if (onTrouble && source.readyState === EventSource.CLOSED) onTrouble(); };
    return () => source.close();
  },
};
