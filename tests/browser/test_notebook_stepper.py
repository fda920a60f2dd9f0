"""``jangrad.stepper`` in a real browser, as a notebook saved as HTML shows it: no kernel, no server, no network.

Each page is a file opened from disk; a test fails if the page asks for anything but that file (or data: URLs), or
if its script raises. Skipped, with the reason, when playwright or /usr/bin/chromium is missing (conftest.py).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import jangrad
from jangrad import Value
from jangrad.viz.graph import fmt
from jangrad.viz.names import term_of

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "02_neural_network_from_scratch.ipynb"
sys.path.insert(0, str(ROOT / "tests"))  # the lecture's neuron, shared with the other tests
from lecture import lecture_neuron  # noqa: E402


class Opened:
    """A page opened from a file, with every request and script error it caused."""

    def __init__(self, browser, path: Path) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", self._request)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(path.as_uri())

    def _request(self, request) -> None:
        if urlsplit(request.url).scheme not in ("file", "data", "about", "blob"):
            self.foreign.append(request.url)

    def close(self) -> None:
        self.context.close()
        assert self.foreign == [], f"the page fetched from the network: {self.foreign}"
        assert self.errors == [], f"JavaScript errors: {self.errors}"


@pytest.fixture
def opened(browser):
    pages: list[Opened] = []

    def open_file(path: Path) -> Opened:
        pages.append(Opened(browser, path))
        return pages[-1]

    yield open_file
    for page in pages:
        page.close()


def state(stepper) -> dict:
    """What the page shows now: position, lit and touched node names, narration, every record's grad text."""
    return stepper.evaluate("""root => {
        const names = (cls) => [...root.querySelectorAll('g.node.' + cls)]
            .map(g => g.querySelector('title').textContent);
        const grads = {};
        for (const g of root.querySelectorAll('g.node')) {
            const texts = [...g.querySelectorAll('text')].map(t => t.textContent);
            const grad = texts.filter(t => t.startsWith('grad'));
            if (grad.length)
                grads[g.querySelector('title').textContent] = {label: texts[0], grad: grad[grad.length - 1]};
        }
        return {position: Number(root.getAttribute('data-position')), lit: names('jg-lit'),
                touched: names('jg-touched'), lines: root.querySelector('.jg-lines').textContent.split('\\n'),
                records: grads, count: root.querySelector('.jg-count').textContent};
    }""")


def click(stepper, move: str) -> None:
    stepper.locator(f'button[data-move="{move}"]').click()


def require_drawing(st) -> None:
    if st.svg is None:
        pytest.skip("jangrad.draw makes no SVG on this machine, so there is nothing to light")


def test_each_click_lights_the_node_the_narration_is_about(opened, tmp_path):
    o = lecture_neuron()
    st = jangrad.stepper(o)
    require_drawing(st)
    o.backward()  # the stepper changed nothing; its last step is what backward() now gives
    final = {f"n{i}": f"grad {fmt(node.grad)}" for i, node in enumerate(jangrad.topological_order(o))}
    page = opened(st.save(tmp_path / "neuron.html")).page
    stepper = page.locator("div.jangrad-stepper")
    shown = state(stepper)
    assert shown["position"] == 0 and shown["lit"] == [] and shown["count"] == "step 0 / 6"
    assert {r["grad"] for r in shown["records"].values()} == {"grad —"}  # nothing reached before the first step
    assert page.locator(".jg-static").is_hidden()  # the script ran and put the stepper in its line's place

    seen_lines = []
    for k in range(1, len(st.frames) + 1):
        click(stepper, "next")
        shown = state(stepper)
        assert shown["position"] == k and shown["count"] == f"step {k} / 6"
        assert shown["lines"] == st.frames[k - 1]["lines"]
        records = [name for name in shown["lit"] if not name.endswith("op")]
        assert len(records) == 1
        label = shown["records"][records[0]]["label"]
        # The seed says "o.grad = 1.0"; every op step starts with the formula "<node> = ...".
        assert shown["lines"][0].startswith(f"{term_of(label)}.grad = 1.0" if k == 1 else f"{label} = ")
        if k > 1:
            assert sorted(shown["lit"]) == [records[0], records[0] + "op"]
        for part in shown["touched"]:  # every node this step sent a gradient to now shows it
            assert shown["records"][part]["grad"] == final[part]
            assert f"{term_of(shown['records'][part]['label'])}.grad += " in "\n".join(shown["lines"])
        seen_lines.append(shown["lines"][0])
    assert seen_lines[1] == "o = tanh(n)  (tanh; o.grad = 1.0)"
    assert {name: r["grad"] for name, r in state(stepper)["records"].items()} == final

    click(stepper, "back")
    shown = state(stepper)
    assert shown["position"] == 5 and shown["records"]["n0"]["grad"] == "grad —"  # x1 is reached by the last step
    assert shown["records"]["n3"]["grad"] == final["n3"]
    click(stepper, "first")
    shown = state(stepper)
    assert (
        shown["position"] == 0 and shown["lit"] == [] and {r["grad"] for r in shown["records"].values()} == {"grad —"}
    )
    click(stepper, "back")  # nothing before the start
    assert state(stepper)["position"] == 0
    click(stepper, "last")
    shown = state(stepper)
    assert shown["position"] == 6 and {name: r["grad"] for name, r in shown["records"].items()} == final
    click(stepper, "next")  # nothing after the end
    assert state(stepper)["position"] == 6


def test_a_node_used_twice_shows_its_running_sum_and_back_undoes_it(opened, tmp_path):
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    y = a * b + a
    y.label = "y"
    st = jangrad.stepper(y)
    require_drawing(st)
    page = opened(st.save(tmp_path / "reused.html")).page
    stepper = page.locator("div.jangrad-stepper")
    a_box = "n0"
    click(stepper, "next")
    click(stepper, "next")  # y = v1 + a: a receives 1.0
    assert state(stepper)["records"][a_box]["grad"] == "grad 1"
    click(stepper, "next")  # v1 = a * b: a receives b = -3, so its running sum is -2
    shown = state(stepper)
    assert shown["records"][a_box]["grad"] == "grad -2" and "running sum of its 2 contributions" in shown["lines"][-1]
    click(stepper, "back")
    assert state(stepper)["records"][a_box]["grad"] == "grad 1"


def test_two_steppers_on_one_page_step_on_their_own(opened, tmp_path):
    first, second = jangrad.stepper(lecture_neuron()), jangrad.stepper(lecture_neuron())
    require_drawing(first)
    page_text = f"<!DOCTYPE html><html><body>{first.html()}<p>between</p>{second.html()}</body></html>"
    path = tmp_path / "two.html"
    path.write_text(page_text, encoding="utf-8")
    page = opened(path).page
    steppers = page.locator("div.jangrad-stepper")
    assert steppers.count() == 2
    click(steppers.nth(1), "last")
    assert state(steppers.nth(0))["position"] == 0 and state(steppers.nth(1))["position"] == 6


def test_the_notebook_saved_as_html_steps_with_no_kernel(opened, tmp_path):
    """The stepper cell's stored output, put in a page as a notebook exported to HTML puts it: it steps."""
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    outputs = [
        out
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for out in cell.get("outputs", [])
        if "jangrad-stepper" in "".join(out.get("data", {}).get("text/html", ""))
    ]
    assert len(outputs) == 1, "notebook 02 stores one stepper output"
    fragment = "".join(outputs[0]["data"]["text/html"])
    from jangrad.viz.stepper_client import SCRIPT

    code = SCRIPT.split("DATA")[0]
    assert code in fragment, "the stored output is older than the stepper: run scripts/run_notebooks.py"
    if "\\u003csvg" not in fragment:
        pytest.skip("the stored output was made on a machine that drew no graph")
    path = tmp_path / "notebook.html"
    path.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><div class="jp-Cell">'
        f'<div class="jp-OutputArea-output">{fragment}</div></div></body></html>',
        encoding="utf-8",
    )
    page = opened(path).page
    stepper = page.locator("div.jangrad-stepper")
    before = state(stepper)
    click(stepper, "next")
    click(stepper, "next")
    after = state(stepper)
    assert before["position"] == 0 and after["position"] == 2
    assert after["lit"] != before["lit"] and after["lines"] != before["lines"]
    assert after["lines"][0] == "o = tanh(n)  (tanh; o.grad = 1.0)"


def test_a_graph_of_a_few_hundred_nodes_steps_end_to_end(opened, tmp_path):
    from jangrad.nn import MLP

    model = MLP(3, [10, 10, 1], seed=0)
    loss = (model([2.0, 3.0, -1.0]) - 1.0) ** 2
    loss.label = "loss"
    order = jangrad.topological_order(loss)
    assert 400 <= len(order) <= 500  # drawn node by node (the stepper groups above 500)
    st = jangrad.stepper(loss)
    require_drawing(st)
    loss.backward()  # the stepper changed nothing; its last step is what backward() now gives
    final = {f"n{i}": f"grad {fmt(node.grad)}" for i, node in enumerate(order)}
    page = opened(st.save(tmp_path / "mlp.html")).page
    stepper = page.locator("div.jangrad-stepper")
    started = time.perf_counter()
    click(stepper, "last")
    shown = state(stepper)
    took = time.perf_counter() - started
    print(f"{len(order)} nodes, {len(st.frames)} steps: 'last' and reading the page back took {took * 1000:.0f} ms")
    assert shown["position"] == len(st.frames)
    for name, record in shown["records"].items():
        assert record["grad"] == final[name], name
    for _ in range(3):
        click(stepper, "back")
    assert state(stepper)["position"] == len(st.frames) - 3


def stripped(fragment: str) -> str:
    """A stepper as an untrusted notebook (JupyterLab's sanitizer), GitHub or any page without scripts has it:
    scripts and comments dropped, the rest kept."""
    import re

    return re.sub(r"<script\b.*?</script>|<!--.*?-->", "", fragment, flags=re.S)


def test_a_stripped_stepper_harms_no_other_and_steppers_side_by_side_each_step_on_their_own(opened, tmp_path):
    """Issue 24: a trusted stepper beside a stripped one (an untrusted notebook in another tab) still wires up."""
    from jangrad.viz.stepper import Stepper

    first, second = jangrad.stepper(lecture_neuron()), jangrad.stepper(Value(2.0) * Value(3.0) + 1)
    require_drawing(first)
    old_stripped = '<div class="jangrad-stepper"><div class="jg-bar"><button data-move="next">next</button></div></div>'
    page_text = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f'<div class="untrusted">{stripped(first.html())}{old_stripped}</div>'
        f'<div class="trusted-1">{first.html()}</div><p>between</p><div class="trusted-2">{second.html()}</div>'
        f'<div class="twice">{first.html()}</div></body></html>'
    )
    path = tmp_path / "side-by-side.html"
    path.write_text(page_text, encoding="utf-8")
    page = opened(path).page
    untrusted = page.locator("div.untrusted")
    assert untrusted.locator("b.jg-static").inner_text() == Stepper.static_line(first)
    assert untrusted.inner_text().strip().startswith("jangrad.stepper: backward from o, 6 steps.")
    assert "n2op" not in untrusted.inner_text() and "data 2" not in untrusted.inner_text()  # no leaked drawing
    trusted = [page.locator(f"div.{name} div.jangrad-stepper") for name in ("trusted-1", "trusted-2", "twice")]
    assert [t.count() for t in trusted] == [1, 1, 1]
    click(trusted[0], "next")
    click(trusted[0], "next")
    click(trusted[1], "last")
    shown = [state(t) for t in trusted]
    assert [s["position"] for s in shown] == [2, 3, 0]
    assert shown[0]["lines"][0] == "o = tanh(n)  (tanh; o.grad = 1.0)"
    assert shown[1]["lines"][0] == "v3 = v1 * v2  (mul; v3.grad = 1.0)"  # the learner's Values are variables
    assert page.locator("div.trusted-1 b.jg-static").is_hidden()


def _rendered_width_and_text_px(page, selector: str) -> tuple[float, float]:
    """An element's rendered width, and the height of 14 pt text in it (rendered width / drawn width * 14 pt)."""
    return page.evaluate(
        """selector => {
            const element = document.querySelector(selector);
            const box = element.getBoundingClientRect();
            let drawn = element.naturalWidth;  // an <img>: the SVG's own width attribute, in px
            if (element.tagName.toLowerCase() === 'svg') drawn = element.viewBox.baseVal.width * 4 / 3;
            else drawn = element.getAttribute('data-viewbox-width') * 4 / 3;
            return [box.width, box.width / drawn * 14 * 4 / 3];
        }""",
        selector,
    )


def test_the_lectures_graph_fits_a_968_px_output_area(opened, tmp_path):
    """Issue 24: in JupyterLab's 968 px output area the neuron must fit and its text stay legible, as draw shows it
    (an <img> of the SVG, as JupyterLab does), inline (as nbconvert's HTML does) and in the stepper."""
    import base64
    import re

    o = lecture_neuron()
    o.backward()
    svg = jangrad.draw(o)._repr_svg_()
    if svg is None:
        pytest.skip("no drawing on this machine")
    viewbox_width = float(re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+)', svg).group(1))
    as_image = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    inline = svg[svg.find("<svg") :].replace("<svg", '<svg style="max-width: 100%; height: auto"', 1)
    page_text = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin: 0">'
        f'<div style="width: 968px"><img id="lab" data-viewbox-width="{viewbox_width}" '
        f'src="data:image/svg+xml;base64,{as_image}"></div>'
        f'<div style="width: 968px" id="inline">{inline}</div>'
        f'<div style="width: 968px" id="stepper">{jangrad.stepper(o).html()}</div></body></html>'
    )
    path = tmp_path / "widths.html"
    path.write_text(page_text, encoding="utf-8")
    page = opened(path).page
    page.wait_for_function("document.querySelector('#lab').complete")
    for selector in ("#lab", "#inline svg", "#stepper div.jangrad-stepper svg"):
        width, text_px = _rendered_width_and_text_px(page, selector)
        print(f"{selector}: {width:.0f} px wide, 14 pt text at {text_px:.1f} px")
        assert width <= 968.5, selector
        assert text_px >= 10, selector
    assert page.evaluate("document.querySelector('#stepper .jg-graph').scrollWidth") <= 968
