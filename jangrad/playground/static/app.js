// Boots the page: the page state (kept in the URL, so that a reload or a shared link restores it), the two tabs,
// the two labs and the keyboard.

import {ExpressionLab, PRESETS} from "./expression-lab.js";
import {NetworkLab} from "./network-lab.js";
import {PageState, choice, text} from "./state.js";

const tabs = ["expression", "network"];

const state = new PageState({
  tab: choice(tabs, "expression"),
  src: text(PRESETS.lecture.source),
  inputs: text(PRESETS.lecture.inputs),
  ...NetworkLab.schema(),
});
const problems = state.load(location.search);

function save() {
  const program = expression.state();
  state.set("src", program.src);
  state.set("inputs", program.inputs);
  state.save();
}

function showTab(name) {
  state.set("tab", tabs.includes(name) ? name : "expression");
  for (const tab of tabs) {
    const shown = tab === state.get("tab");
    document.getElementById(`panel-${tab}`).hidden = !shown;
    document.getElementById(`tab-${tab}`).setAttribute("aria-selected", String(shown));
  }
  document.getElementById("page-tools").hidden = state.get("tab") !== "network";
  if (state.get("tab") === "network") network.activate();
}

const expression = new ExpressionLab(() => save());
const network = new NetworkLab(state, () => save());

for (const tab of tabs) {
  document.getElementById(`tab-${tab}`).addEventListener("click", () => { showTab(tab); save(); });
}
document.addEventListener("keydown", (event) => {
  if (state.get("tab") === "expression") expression.onKey(event);
});

network.restore();
showTab(state.get("tab"));
if (problems.length) network.message(`${problems.join("; ")}: left at the default`);
expression.load(state.get("src"), state.get("inputs"))
  .then(() => { document.body.dataset.ready = "1"; });
