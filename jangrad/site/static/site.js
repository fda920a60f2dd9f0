// The static site's additions to the playground's page (the builder links this module after app.js): the
// programmatic face window.jangrad, the engine's state in the header, the check tab, and a note in the network lab
// on what differs from `jangrad serve` there.

import {transport, NETWORK_LAB_NOTE} from "./transport.js";
import {CheckTab} from "./check-tab.js";

// For a course page that embeds jangrad, and for tests:
//   await jangrad.ready               -> {jangrad, pyodide, python} versions, once the engine can take work
//   await jangrad.run("print(1 + 1)") -> "2\n" (what the source printed); rejects with its error
window.jangrad = Object.freeze({
  ready: transport.ready,
  run: (source) => transport.run(source),
});

function showState() {
  const state = document.createElement("span");
  state.id = "site-engine";
  state.className = "muted";
  state.textContent = "starting Python in this tab…";
  (document.querySelector("header") || document.body).appendChild(state);
  transport.ready.then(
    (versions) => {
      state.textContent = `jangrad ${versions.jangrad} · Python ${versions.python} in this tab (Pyodide ${versions.pyodide})`;
      document.body.dataset.engine = "ready";
    },
    (error) => {
      state.textContent = `jangrad could not start here: ${error.message}`;
      state.className = "error";
      document.body.dataset.engine = "failed";
    },
  );
}

// In place, at the top of the lab: training runs in this tab, on the eager engine, one run per tab.
function noteTheNetworkLab() {
  const panel = document.getElementById("panel-network");
  if (!panel) return;
  const note = document.createElement("p");
  note.className = "site-note";
  note.setAttribute("role", "note");
  note.textContent = NETWORK_LAB_NOTE;
  panel.prepend(note);
}

document.getElementById("site-needs-server")?.remove();  // this module runs: the page is served
showState();
noteTheNetworkLab();
new CheckTab();
