// Runs `jangrad check` on a learner's code in a worker of its own (check-worker.js) and keeps its time limit.
//
// The worker says when each probe starts. A probe that runs past the limit cannot be stopped from inside (it may
// be a backward() that never returns), so the page ends the worker, starts a fresh one and asks again with that
// probe named as hung: the fresh worker answers "timed out" for it and goes on (jangrad/site/checking.py). The
// same for a worker that crashed. At most MAX_HANGS probes cost their limit; later ones are not run.

const WORKER_URL = new URL("./check-worker.js", import.meta.url);
export const MAX_HANGS = 2;

let spare = null;    // a started worker waiting for the next check
let running = null;  // {worker, stop()} of the check in progress

// The worker starts from a blob that imports check-worker.js: a worker made from a blob: URL keeps the page's
// Content-Security-Policy, so the learner's code can reach nothing but the site's own origin either.
function startWorker() {
  const loader = new Blob([`import ${JSON.stringify(WORKER_URL.href)};`], {type: "text/javascript"});
  const worker = new Worker(URL.createObjectURL(loader), {type: "module"});
  const ready = new Promise((resolve, reject) => {
    worker.onmessage = (event) => {
      if (event.data.type === "ready") resolve();
      if (event.data.type === "failed") reject(new Error(event.data.error));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message || "the checker's worker script could not be loaded"));
    };
  });
  ready.catch(() => {});
  return {worker, ready};
}

// Starts a worker ahead of time (the check tab calls this when it is first shown), so Check answers sooner.
export function prepareChecker() {
  if (!spare && location.protocol !== "file:") spare = startWorker();
}

function takeWorker() {
  const taken = spare || startWorker();
  spare = null;
  return taken;
}

// One run of the worker: resolves {kind: "done", reply} | {kind: "hung", probe: [index, name, how]} |
// {kind: "stopped"}.
function runOnce(checker, params, onProgress) {
  return new Promise((resolve) => {
    let timer = null;
    let probe = null;
    const finish = (outcome) => {
      clearTimeout(timer);
      running = null;
      resolve(outcome);
    };
    running = {worker: checker.worker, stop: () => finish({kind: "stopped"})};
    checker.worker.onmessage = (event) => {
      const message = event.data;
      if (message.progress) {
        probe = [message.progress.index, String(message.progress.name)];
        onProgress({index: probe[0], name: probe[1], detail: String(message.progress.detail || ""),
                    hung: params.hung.length});
        clearTimeout(timer);
        timer = setTimeout(() => finish({kind: "hung", probe: [...probe, "timed out"]}), params.timeout * 1000);
      } else if ("crashed" in message) {
        finish(probe ? {kind: "hung", probe: [...probe, "crashed"]}
                     : {kind: "done", reply: {error: `the checker crashed: ${message.crashed}`}});
      } else if ("result" in message || "error" in message) {
        finish({kind: "done", reply: message});
      }
    };
    checker.worker.onerror = (event) => {
      event.preventDefault();
      finish(probe ? {kind: "hung", probe: [...probe, "crashed"]}
                   : {kind: "done", reply: {error: `the checker's worker failed: ${event.message}`}});
    };
    checker.worker.postMessage({id: 1, params});
  });
}

// Check the learner's `source`; resolves the worker's result ({text, passed, lines, drawings, hung}) or rejects
// with the one-line reason the engine cannot be checked (or "stopped" when stopCheck was called).
export async function checkEngine({source, className, timeout, examples}, onProgress = () => {}) {
  if (running) stopCheck();
  const params = {source, class_name: className, timeout, examples, hung: [], max_hangs: MAX_HANGS, spent: 0};
  const started = performance.now();
  for (;;) {
    const checker = takeWorker();
    try {
      await checker.ready;
    } catch (error) {
      checker.worker.terminate();
      throw error;
    }
    params.spent = (performance.now() - started) / 1000;  // the report's total counts the workers ended before
    const outcome = await runOnce(checker, params, onProgress);
    if (outcome.kind === "done") {
      spare = spare || checker;  // a worker that answered can take the next check
      if (spare !== checker) checker.worker.terminate();
      if ("error" in outcome.reply) throw new Error(outcome.reply.error);
      return {...outcome.reply.result, hung: params.hung};
    }
    checker.worker.terminate();  // the only way to stop Python that is stuck in the learner's code
    if (outcome.kind === "stopped") {
      prepareChecker();
      const stopped = new Error("stopped: the worker running your code was ended");
      stopped.stopped = true;
      throw stopped;
    }
    params.hung = [...params.hung, outcome.probe];
    onProgress({index: outcome.probe[0], name: outcome.probe[1], restarting: true, hung: params.hung.length});
    prepareChecker();
  }
}

export function stopCheck() {
  if (running) running.stop();
}
