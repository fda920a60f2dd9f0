// Boots the page: the two tabs, the configuration kept in the URL (so a reload or a shared link restores it),
// and the keyboard.

import {ExpressionLab, PRESETS} from "./expression-lab.js";
import {NetworkLab} from "./network-lab.js";

const tabs = ["expression", "network"];
let current = "expression";

function showTab(name) {
  current = tabs.includes(name) ? name : "expression";
  for (const tab of tabs) {
    document.getElementById(`panel-${tab}`).hidden = tab !== current;
    document.getElementById(`tab-${tab}`).setAttribute("aria-selected", String(tab === current));
  }
}

const MAX_URL_PROGRAM = 2000;  // a longer program is left out of the URL rather than making it huge

function saveUrl() {
  const program = expression.state();
  const kept = program.src.length + program.inputs.length <= MAX_URL_PROGRAM ? program : {};
  const params = new URLSearchParams({tab: current, ...kept, ...network.state()});
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

const expression = new ExpressionLab(() => saveUrl());
const network = new NetworkLab(() => saveUrl());

for (const tab of tabs) {
  document.getElementById(`tab-${tab}`).addEventListener("click", () => { showTab(tab); saveUrl(); });
}
document.addEventListener("keydown", (event) => { if (current === "expression") expression.onKey(event); });

const params = new URLSearchParams(location.search);
showTab(params.get("tab") || "expression");
network.restore(params);
const preset = PRESETS.lecture;
expression.load(params.has("src") ? params.get("src") : preset.source,
                params.has("inputs") ? params.get("inputs") : preset.inputs)
  .then(() => { document.body.dataset.ready = "1"; });
