// The only module that knows how the page talks to its engine. Everything else calls `transport`, whose methods
// take and return plain JSON values (Promises of them), plus one subscription for training frames. Under
// `jangrad serve` they are HTTP requests and server-sent events to the local server; the static site (`jangrad
// site`) swaps this file for one that posts the same values to a Web Worker running jangrad in Pyodide, which calls
// the same Python functions (jangrad/playground/api.py), and nothing else on the page changes.
//
// The interface (every method returns a Promise; a refusal rejects with an Error whose message is one line):
//
//   expression(source, inputs)        -> {output, output_name, nodes, steps, python, svg, dot, svg_note}
//                                        api.expression({source, inputs})
//   check(source, inputs)             -> {checks: [{id, analytic, numeric, ok}], all_ok}   api.expression_check
//   command(config, editedAt)         -> {command, note}   the `jangrad train` command     api.command
//   startTraining(config, paused, pace) -> summary          a new run, replacing the current one   Lab.start
//   control(action, options)          -> {...}              action: play | pause | step | reset | pace (options:
//                                        {pace}); a reset answers with the new run's summary      Lab.control
//   edit(change)                      -> {summary, csv, target, edited_at}                         Lab.edit
//                                        change: {action: "add", x, y, class} or {action: "remove", index}
//   sampleGraph(index)                -> the sample's drawing {index, svg, boxes, titles, note, values}
//                                        (index null: none on screen)                   Lab.select({sample})
//   selectParameter(index)            -> {parameter}        the parameter whose optimizer state frames carry
//                                                                                       Lab.select({parameter})
//   sampleSteps()                     -> {index, steps, boxes}  its backward pass, a step at a time
//                                                                                       Lab.sample_steps
//   download(name)                    -> {text, type}       "model.json" or "history.csv"  Lab.model_json/history_csv
//   subscribe(onFrame, onTrouble)     -> unsubscribe()      onFrame(frame) for every training frame; onTrouble
//                                        (reason?) when they stop coming (a worker drives Lab.tick/frame_due/
//                                        frame and api.FrameCursor.fill: jangrad/site/lab.py)
//
// A summary is {run, config, points, data_version, extent, classes, classification, loss, sizes, activations,
// inputs, parameters, grid, heat, samples, steps, state, pace, backend, compiled, editable, sample, parameter}; a
// frame is {run, step, steps, state, message, loss, accuracy, lr, test_loss, pace, edited_at, data_version,
// cost_ms, weights, biases, weight_grads, bias_grads, boundary?, heat?, heat_scale?, sample?, parameter?, from,
// losses, test_from, test_losses, points?} (api.py and session.py say what each field holds).

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
  expression: (source, inputs) => post("/api/expr", {source, inputs}),
  check: (source, inputs) => post("/api/expr/check", {source, inputs}),
  command: (config, editedAt) => post("/api/train/command", {config, edited_at: editedAt}),
  startTraining: (config, paused, pace) => post("/api/train/start", {config, paused, pace}),
  control: (action, options = {}) => post("/api/train/control", {...options, action}),
  edit: (change) => post("/api/train/edit", change),
  sampleGraph: (index) => post("/api/train/select", {sample: index}),
  selectParameter: (index) => post("/api/train/select", {parameter: index}),
  sampleSteps: () => post("/api/train/steps", {}),

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
