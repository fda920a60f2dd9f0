// The page's end of the engine worker: numbered requests, each answered by a promise, the worker's start as one
// more promise (`ready`), and the training frames it sends unasked, to every listener (`listen`). A worker that
// fails to start rejects every request with the reason, in one line.

export class WorkerClient {
  constructor(url) {
    this.pending = new Map();
    this.listeners = new Set();  // {onFrame, onTrouble}
    this.next = 1;
    this.failure = null;
    this.ready = new Promise((resolve, reject) => { this.settle = {resolve, reject}; });
    this.ready.catch(() => {});  // a page that never asks must not log an unhandled rejection
    if (location.protocol === "file:") {
      this.fail("this page was opened as a file: browsers run its workers only from a web server "
                + "(run `python3 -m http.server` in the site's folder and open http://127.0.0.1:8000/)");
      return;
    }
    // Started from a blob that imports the worker's module: a blob: worker keeps the page's Content-Security-Policy,
    // so code run in it (jangrad.run's) can reach nothing but the site's own origin either.
    const loader = new Blob([`import ${JSON.stringify(String(url))};`], {type: "text/javascript"});
    this.worker = new Worker(URL.createObjectURL(loader), {type: "module"});
    this.worker.onmessage = (event) => this.receive(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.fail(event.message || "the engine's worker script could not be loaded");
    };
  }

  receive(message) {
    if (message.type === "ready") { this.settle.resolve(message.versions); return; }
    if (message.type === "failed") { this.fail(message.error); return; }
    if (message.type === "frame") {
      for (const listener of this.listeners) listener.onFrame(message.frame);
      return;
    }
    if (message.type === "trouble") {
      for (const listener of this.listeners) listener.onTrouble?.(message.error);
      return;
    }
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    if ("error" in message) {
      const error = new Error(message.error);
      if ("output" in message) error.output = message.output;
      if ("traceback" in message) error.traceback = message.traceback;
      waiting.reject(error);
    } else {
      waiting.resolve("result" in message ? message.result : message.output);
    }
  }

  fail(reason) {
    this.failure = reason;
    this.settle.reject(new Error(reason));
    for (const waiting of this.pending.values()) waiting.reject(new Error(reason));
    this.pending.clear();
  }

  listen(onFrame, onTrouble) {
    const listener = {onFrame, onTrouble};
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  request(method, params) {
    if (this.failure) return Promise.reject(new Error(this.failure));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject});
      this.worker.postMessage({id, method, params});
    });
  }
}
