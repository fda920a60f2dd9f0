// The only module that knows how the page talks to its engine: JSON over fetch, and server-sent events for
// training. A Jupyter widget or an in-browser engine would replace this file and nothing else.

async function post(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new Error("the playground server is not answering (was `jangrad serve` stopped?)");
  }
  let payload = null;
  try { payload = await response.json(); } catch (error) { payload = null; }
  if (!response.ok) {
    const message = payload && payload.error ? payload.error : `the server answered ${response.status}`;
    const failure = new Error(message);
    failure.status = response.status;
    throw failure;
  }
  return payload;
}

export const transport = {
  expression: (source, inputs) => post("/api/expr", {source, inputs}),
  check: (source, inputs) => post("/api/expr/check", {source, inputs}),
  startTraining: (config, paused) => post("/api/train/start", {config, paused}),
  control: (action) => post("/api/train/control", {action}),
  sampleGraph: (index) => post("/api/train/sample", {index}),
  command: (config) => post("/api/train/command", {config}),
  downloadUrl: (name) => `/api/train/${name}`,

  // Calls onFrame(frame) for every training frame until the returned function is called.
  subscribe(onFrame, onTrouble) {
    const source = new EventSource("/api/train/events");
    source.onmessage = (event) => onFrame(JSON.parse(event.data));
    // EventSource reconnects by itself after a dropped connection; CLOSED means the server refused it.
    source.onerror = () => { if (onTrouble && source.readyState === EventSource.CLOSED) onTrouble(); };
    return () => source.close();
  },
};
