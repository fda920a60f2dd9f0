"""The static site (``jangrad site``) in Chromium: the folder is built once, served by ``python -m http.server`` on
127.0.0.1 as a learner would serve it, and driven like a visitor: the expression lab and its stepper, jangrad.run
against CPython's numbers, the network lab (training, pause, step and reset, a clicked sample's graph and stepper,
the optimizer's state, points added and removed, a link's configuration, 100 steps equal to CPython's), and the
check tab (a correct engine, a wrong tanh, a backward() that never returns). Every request the page makes must go
to the folder's own origin.

One page serves the expression lab's tests, one the network lab's and one the check tab's (each start of Pyodide
costs seconds), so the tests of a group run in file order on the same page. Speed is measured and printed, never
asserted (benchmarks/site.py measures it on purpose).
"""

from __future__ import annotations

import ast
import contextlib
import csv
import inspect
import io
import json
import random
import re
import sys
from pathlib import Path

import pytest
from harness import ROOT, expect, keep_screenshot
from site_harness import OpenSite, StaticServer, build_or_skip
from test_network_lab import (
    add_a_point,
    box_numbers,
    canvas,
    click_first_point,
    configure,
    counter,
    lab,
    remove_the_point_mid_run,
    settle,
    shown_step_and_loss,
    wait_for_step,
)

import jangrad
from jangrad import train
from jangrad.io.expr import evaluate
from jangrad.playground.config import parse_config
from jangrad.portable_math import tanh as portable_tanh
from jangrad.recipe import build

sys.path.insert(0, str(ROOT / "tests"))  # the lecture's neuron, shared with the other tests
import lecture

FIXTURES = ROOT / "tests" / "fixtures" / "engines"
MAX_SITE_BYTES = 25 * 1024 * 1024


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_or_skip(tmp_path_factory.mktemp("site") / "site")


@pytest.fixture(scope="module")
def static_server(site):
    server = StaticServer(site)
    yield server
    server.stop()


def _open(browser, static_server, url_tail: str = ""):
    opened = OpenSite(browser, static_server.url + url_tail)
    try:
        yield opened
    finally:
        opened.close()
    elsewhere = [u for u in opened.requests if not u.startswith((static_server.url, "blob:", "data:"))]
    assert elsewhere == [], f"requests left the site's origin: {elsewhere}"
    assert opened.guard.foreign == []
    assert opened.errors == [], f"JavaScript errors: {opened.errors}"


opened_site = contextlib.contextmanager(_open)  # a page of a test's own


@pytest.fixture(scope="module")
def labs(browser, static_server):
    yield from _open(browser, static_server)


@pytest.fixture(scope="module")
def network(browser, static_server):
    yield from _open(browser, static_server, "?tab=network&data=moons&samples=40&layers=4&steps=5000&pace=200")


@pytest.fixture(scope="module")
def checker(browser, static_server):
    yield from _open(browser, static_server, "?tab=check")


def run(page, source: str) -> str:
    return page.evaluate("source => window.jangrad.run(source)", source)


# ---- the folder ---------------------------------------------------------------------------------------------------
def test_the_folder_is_small_and_names_only_its_own_files(site):
    files = [p for p in site.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    print(f"site folder: {len(files)} files, {total / 1e6:.1f} MB")
    assert total <= MAX_SITE_BYTES
    manifest = json.loads((site / "jangrad-site.json").read_text())
    for archive in manifest["python"]:
        assert (site / archive["path"]).is_file()
    page = (site / "index.html").read_text()
    assert "Content-Security-Policy" in page and 'src="/static/' not in page
    # the page's own files name no other site (the request guard below checks what is actually fetched)
    allowed = {"http://www.w3.org/2000/svg", "http://127.0.0.1:8000/"}  # a namespace, and a hint to the learner
    for path in [site / "index.html", *sorted((site / "static").iterdir())]:
        addresses = set(re.findall(r"https?://[^\s\"'`)<]+", path.read_text()))
        assert addresses <= allowed, f"{path.name} names {addresses - allowed}"


# ---- the labs -----------------------------------------------------------------------------------------------------
def grads(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "#expr-table tbody tr",
        "rows => Object.fromEntries(rows.map(r => [r.dataset.name, r.querySelector('td.grad').textContent]))",
    )


def test_the_engine_starts_in_the_page(labs):
    versions = labs.page.evaluate("window.jangrad.ready")
    print(f"engine start-up in the worker: {versions['startup']}")
    assert versions["jangrad"] == jangrad.__version__ and versions["python"].startswith("3.")
    fetched = [u.split("?")[0].rsplit("/", 2)[-2:] for u in labs.requests]
    archive = f"jangrad-{jangrad.__version__}.zip"
    for part in (["pyodide", "pyodide.asm.wasm"], ["vendor", "viz.js"], ["python", archive]):
        assert part in fetched, f"{part} was not fetched from the site"


def test_the_expression_lab_steps_through_the_lectures_L(labs):
    page = labs.page
    assert page.inner_text("#expr-output") == "L = -8.0"
    assert page.locator("#expr-graph svg").count() == 1  # drawn by Graphviz in the worker
    assert set(grads(page).values()) == {"—"}
    page.click("#step-last")
    assert page.inner_text("#step-counter") == "step 4 / 4"
    shown = {name: float(text) for name, text in grads(page).items()}
    root, names = evaluate("e = a*b\nd = e + c\nL = d*f", {"a": 2, "b": -3, "c": 10, "f": -2})
    root.backward()
    assert shown == {name: value.grad for name, value in names.items()}
    last_text = "g => [...g.querySelectorAll('text')].pop().textContent"
    svg_grad = page.eval_on_selector("#expr-graph svg [id='n0']", last_text)
    assert svg_grad == "grad 6.0"
    page.click("#step-back")
    assert page.inner_text("#step-counter") == "step 3 / 4"
    assert grads(page)["a"] == "—"
    page.click("#step-first")
    assert set(grads(page).values()) == {"—"}


def test_a_new_program_and_the_gradient_check(labs):
    page = labs.page
    page.fill("#expr-source", "y = a*b + a")
    page.fill("#expr-inputs", "a=2, b=-3")
    page.click("#expr-run")
    page.wait_for_selector("body[data-expr='ready']", state="attached")
    expect(page.locator("#expr-output")).to_have_text("y = -4.0")
    page.click("#expr-check")
    expect(page.locator("td.check.ok")).to_have_count(page.locator("#expr-table tbody tr").count())
    page.fill("#expr-source", "y = a*b +")
    page.click("#expr-run")
    page.wait_for_selector("body[data-expr='error']", state="attached")
    assert page.inner_text("#expr-error").strip(), "a program that does not parse gets its one-line reason"


def test_run_gives_cpythons_numbers_for_the_lectures_neuron(labs):
    """Every number of the lecture's neuron, run in the page, equals CPython's bit for bit: jangrad's tanh is musl's
    algorithm in Python (portable_math), so the page's C library (musl) and this machine's (glibc) no longer decide
    its last bit. The page's own math.tanh is musl's: jangrad's tanh equals it there."""
    source = inspect.getsource(lecture.neuron_nodes).replace("Value(B,", f"Value({lecture.B!r},")
    source = f"from jangrad import Value\n\n{source}\nnodes = neuron_nodes()\nnodes['o'].backward()\n"
    source += "for name, node in nodes.items():\n    print(name, repr(node.data), repr(node.grad))\n"
    nodes = lecture.neuron_nodes()
    nodes["o"].backward()
    assert run(labs.page, source).splitlines() == [
        f"{name} {node.data!r} {node.grad!r}" for name, node in nodes.items()
    ]
    assert nodes["o"].data == 0.7071067811865476 and nodes["x1"].grad == -1.4999999999999996
    shown = {name: f"{node.grad:.4f}" for name, node in nodes.items()}  # as the lecture's draw_dot shows them
    assert (shown["x1"], shown["w1"], shown["x2"], shown["w2"]) == ("-1.5000", "1.0000", "0.5000", "0.0000")

    rng = random.Random(4)
    inputs = [rng.uniform(-25.0, 25.0) for _ in range(2000)] + [i / 997 - 1.0 for i in range(1994)]
    compared = (
        f"import math\nfrom jangrad.portable_math import tanh\nxs = {inputs!r}\n"
        "print(sum(tanh(x) == math.tanh(x) for x in xs), repr([tanh(x) for x in xs[::97]]))\n"
    )
    same, sample = run(labs.page, compared).split(" ", 1)
    assert int(same) == len(inputs), "jangrad's tanh is the page's own math.tanh (musl's), bit for bit"
    assert ast.literal_eval(sample) == [portable_tanh(x) for x in inputs[::97]], "and CPython's jangrad tanh"


def test_code_run_in_the_page_cannot_reach_another_site(labs):
    """jangrad.run's worker keeps the page's Content-Security-Policy too: the request never leaves."""
    fetched = "import js\nreply = js.fetch('http://127.0.0.1:9/?run=copied')\nprint('asked')\n"
    assert run(labs.page, fetched) == "asked\n"
    labs.page.wait_for_timeout(500)
    assert not [u for u in labs.requests if "run=copied" in u]


def test_run_rejects_with_the_error_and_what_was_printed(labs):
    with pytest.raises(Exception, match=r"ZeroDivisionError: division by zero \(line 2\)"):
        run(labs.page, "print('before')\n1 / 0\n")
    outcome = labs.page.evaluate(
        "source => window.jangrad.run(source).catch(error => [error.message, error.output])", "print('before')\n1 / 0"
    )
    assert outcome == ["ZeroDivisionError: division by zero (line 2)", "before\n"]


def test_a_hundred_training_steps_equal_cpythons_losses(labs):
    X, y = jangrad.data.moons(n=100, noise=0.1, seed=0, signed=True)
    source = (
        f"import jangrad\nX = {X!r}\ny = {y!r}\n"
        "model = jangrad.nn.MLP(2, [16, 16, 1], seed=0)\n"
        "history = jangrad.fit(model, X, y, loss='hinge', optimizer='sgd', lr=0.05, steps=100, batch_size=20,\n"
        "                      compiled=False, progress=False, seed=0)\n"
        "print(repr(history.loss))\n"
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "<cpython>", "exec"), {"__name__": "__main__"})
    here = ast.literal_eval(printed.getvalue())
    there = ast.literal_eval(run(labs.page, source))
    assert len(here) == len(there) == 100
    worst = max(abs(a - b) for a, b in zip(here, there, strict=True))
    print(f"100 eager steps of MLP(2, [16, 16, 1]) on moons: largest loss difference from CPython {worst:.3g}")
    assert worst <= 1e-12


# ---- the network lab ----------------------------------------------------------------------------------------------
LONG_TASKS = """() => { window.siteLongTasks = [];
  new PerformanceObserver((list) => { for (const task of list.getEntries()) window.siteLongTasks.push(task.duration); })
    .observe({type: 'longtask', buffered: true}); }"""


def finished(page, timeout: int = 120_000) -> None:
    page.wait_for_function(
        "() => ['done', 'diverged', 'error'].includes(document.getElementById('train-state').textContent)",
        timeout=timeout,
    )


def test_the_network_lab_draws_the_untrained_network_and_says_what_differs_here(network):
    page = network.page
    settle(page)
    expect(page.locator("#train-state")).to_have_text("ready")
    note = page.locator("#panel-network .site-note")
    expect(note).to_be_visible()
    assert "in this tab" in note.inner_text() and "eager engine" in note.inner_text()
    page.wait_for_function("() => window.jangradLab.diagram.frame !== null")
    colours = page.eval_on_selector(
        "#boundary-canvas",
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const seen = new Set();"
        " for (let i = 0; i < d.length; i += 400) seen.add(d.slice(i, i + 3).join()); return seen.size; }",
    )
    assert colours > 20, "the boundary the worker drew for the untrained network is painted"
    painted = page.eval_on_selector_all(
        "#net-diagram canvas.unit",
        "units => units.filter(u => { const d = u.getContext('2d').getImageData(0, 0, u.width, u.height).data;"
        " return d.some((v, i) => i % 4 === 3 && v > 0); }).length",
    )
    assert painted == 2 + 4 + 1, "every unit's heatmap is drawn"
    summary = lab(page, "lab.summary")
    assert (summary["backend"], summary["compiled"], summary["grid"]) == ("python", False, 48)


def test_the_network_lab_trains_pauses_steps_and_resets_in_the_page(network):
    page = network.page
    page.click("#train-play")
    wait_for_step(page, 3)
    first_picture = canvas(page)
    first_step, first_loss = shown_step_and_loss(page)
    wait_for_step(page, first_step + 50)
    step, loss = shown_step_and_loss(page)
    assert loss < first_loss, f"the loss falls: {first_loss} at {first_step}, {loss} at {step}"
    assert canvas(page) != first_picture, "the decision boundary changes between frames"
    frames = lab(page, "lab.frameTimes.length")
    assert frames >= 5, "frames arrive from the worker"
    page.click("#train-pause")
    expect(page.locator("#train-state")).to_have_text("paused")
    held = counter(page)
    page.wait_for_timeout(600)
    assert counter(page) == held, "pause holds the step counter"
    page.click("#train-step")
    expect(page.locator("#train-step-counter")).to_have_text(str(held + 1), timeout=30_000)
    page.wait_for_timeout(400)
    assert counter(page) == held + 1, "a single step adds exactly one"
    assert page.get_attribute("#net-diagram", "data-drawn-links") == str(2 * 4 + 4 * 1)
    page.click("#train-reset")
    expect(page.locator("#train-state")).to_have_text("ready", timeout=30_000)
    expect(page.locator("#train-step-counter")).to_have_text("0")


def test_a_clicked_samples_graph_is_drawn_follows_training_and_steps_while_paused(network):
    page = network.page
    configure(page, **{"net-layers": "3,3"})
    expect(page.locator("#train-state")).to_have_text("ready")
    click_first_point(page)
    expect(page.locator("#sample-message")).to_contain_text("grouped by neuron", timeout=60_000)
    assert page.locator("#sample-graph svg").count() == 1, "drawn by Graphviz in the worker"
    page.wait_for_function("() => document.querySelectorAll('#sample-graph g.node').length > 5")
    before = box_numbers(page)
    page.click("#train-play")
    wait_for_step(page, 15)
    expect(page.locator("#sample-next")).to_be_disabled()
    after = box_numbers(page)
    assert set(after) == set(before) and after != before, "the boxes' numbers follow training"
    page.click("#train-pause")
    expect(page.locator("#sample-next")).to_be_enabled()
    for _ in range(3):
        page.click("#sample-next")
    expect(page.locator("#sample-counter")).to_contain_text("step 3 /", timeout=30_000)
    assert page.locator("#sample-graph g.node.hl").count() == 1, "the step's box is lit"


def test_the_optimizer_table_shows_adams_m_and_v_moving(network):
    page = network.page
    configure(page, **{"net-layers": "4", "net-optimizer": "adam", "net-lr": "0.05"})
    expect(page.locator("#train-state")).to_have_text("ready")
    page.locator("#net-diagram .unit[data-unit='1,2']").click()  # a neuron: its bias
    page.click("#train-step")
    expect(page.locator("#optimizer-name")).to_have_text("layers.0.neurons.2.b", timeout=30_000)

    def row(name: str) -> str:
        return page.locator(f"#optimizer-table tr[data-row='{name}'] td.value").inner_text()

    expect(page.locator("#optimizer-table tr[data-row='t'] td.value")).to_have_text("1", timeout=30_000)
    first = (row("m"), row("v"))
    page.click("#train-step")
    expect(page.locator("#optimizer-table tr[data-row='t'] td.value")).to_have_text("2", timeout=30_000)
    second = (row("m"), row("v"))
    assert first[0] != second[0] and first[1] != second[1], (first, second)


def test_adding_and_removing_points_changes_the_data_the_page_trains_on(network):
    page = network.page
    configure(page, **{"net-data": "moons", "net-samples": "40", "net-optimizer": "sgd", "net-lr": "0.1"})
    add_a_point(page)
    remove_the_point_mid_run(page)


def test_a_link_configures_the_network_lab(browser, static_server):
    query = (
        "?tab=network&data=circles&samples=60&noise=0.2&test=0.2&layers=3,5&activation=relu&loss=hinge"
        "&optimizer=adam&lr=0.05&schedule=cosine&batch=8&steps=120&seed=7&pace=10&log=on&hide=optimizer,command"
    )
    with opened_site(browser, static_server, query) as opened:
        page = opened.page
        expect(page.locator("#train-state")).to_have_text("ready", timeout=60_000)
        fields = {"net-data": "circles", "net-samples": "60", "net-test": "0.2", "net-layers": "3,5",
                  "net-activation": "relu", "net-optimizer": "adam", "net-batch": "8", "net-seed": "7"}  # fmt: skip
        for element, value in fields.items():
            assert page.input_value(f"#{element}") == value, element
        expect(page.locator("#net-pace-label")).to_have_text("10 steps/s")
        expect(page.locator("#part-optimizer")).to_be_hidden()
        expect(page.locator("#part-diagram")).to_be_visible()
        assert lab(page, "lab.summary.sizes") == [2, 3, 5, 1] and lab(page, "lab.summary.samples") == 48
        assert lab(page, "lab.summary.config.lr") == 0.05 and page.is_checked("#loss-log")


def test_a_hundred_steps_of_the_network_lab_equal_cpythons_losses(browser, static_server, tmp_path):
    """MLP(2, [16, 16, 1]) on moons in batches of 20, trained by the page's own path (the moons from jangrad's
    twin of scikit-learn's generator, in the worker), against CPython's eager fit on scikit-learn's moons. Also
    measured (printed, not asserted): steps per second at this size and how long the page's main thread was held."""
    config = {"data": "moons", "samples": 100, "noise": 0.1, "layers": "16,16", "batch": 20, "steps": 100,
              "lr": 0.1, "seed": 0}  # fmt: skip
    query = "?tab=network&pace=max&" + "&".join(f"{key}={value}" for key, value in config.items())
    with opened_site(browser, static_server, query) as opened:
        page = opened.page
        page.evaluate(LONG_TASKS)
        expect(page.locator("#train-state")).to_have_text("ready", timeout=60_000)
        page.wait_for_function("() => window.jangradLab.diagram.frame !== null")
        started = page.evaluate("performance.now()")
        page.click("#train-play")
        finished(page)
        seconds = (page.evaluate("performance.now()") - started) / 1000
        longest_frame = lab(page, "Math.max(...lab.frameTimes)")
        long_tasks = page.evaluate("window.siteLongTasks")
        with page.expect_download() as download:
            page.click("#download-history")
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    there = [float(row["loss"]) for row in rows]
    recipe = parse_config(config).recipe
    problem = build(recipe)
    here = train.fit(
        problem.model, problem.X, problem.y, loss=problem.loss, progress=False, compiled=False, **recipe.fit_options()
    ).loss
    worst = max(abs(a - b) for a, b in zip(here, there, strict=True))
    print(
        f"network lab in the page, MLP(2, [16, 16, 1]) on 100 moons, batches of 20: 100 steps in {seconds:.1f} s "
        f"({100 / seconds:.0f} steps/s with its frames); largest loss difference from CPython {worst:.3g}; longest "
        f"frame handler {longest_frame:.0f} ms; main-thread tasks over 50 ms: {long_tasks}"
    )
    assert len(here) == len(there) == 100 and worst <= 1e-12


def test_screenshot_of_the_network_lab_in_the_page(browser, static_server, tmp_path):
    """docs/site-network.png, for the README: moons learnt by MLP(2, [16, 16, 1]) in the page."""
    query = "?tab=network&data=moons&layers=16,16&batch=20&steps=300&pace=max"
    with opened_site(browser, static_server, query) as opened:
        page = opened.page
        expect(page.locator("#train-state")).to_have_text("ready", timeout=60_000)
        page.click("#train-play")
        finished(page)
        expect(page.locator("#train-state")).to_have_text("done")
        shot = tmp_path / "site-network.png"
        page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    keep_screenshot(shot, "site-network.png")


# ---- the check tab ------------------------------------------------------------------------------------------------
def correct_engine() -> str:
    return (FIXTURES / "correct.py").read_text()


def check(page, source: str, class_name: str = "Value", limit: str = "10") -> str:
    page.fill("#check-source", source)
    page.fill("#check-class", class_name)
    page.fill("#check-timeout", limit)
    page.evaluate("delete document.body.dataset.check")  # so that only this check's outcome can match below
    page.click("#check-run")
    page.wait_for_selector("body[data-check]:not([data-check='busy'])", state="attached")
    return page.get_attribute("body", "data-check")


def test_the_check_tab_opens_with_a_skeleton_to_fill_in(checker):
    page = checker.page
    expect(page.locator("#panel-check")).to_be_visible()
    assert page.locator("#panel-expression").is_hidden()
    assert "def _backward():" in page.input_value("#check-source")


def test_a_correct_engine_passes(checker):
    page = checker.page
    assert check(page, correct_engine()) == "passed"
    report = page.inner_text("#check-report")
    assert "jangrad check: class Value from my_engine.py" in report
    assert "random graphs" in report and "all passed" in report
    assert page.locator("#check-drawings img").count() == 0


def test_a_wrong_tanh_is_named_and_its_graph_drawn(checker):
    page = checker.page
    wrong = correct_engine().replace("self.grad += (1 - t**2) * out.grad", "self.grad += (1 - self.data**2) * out.grad")
    assert wrong != correct_engine()
    assert check(page, wrong) == "failed"
    report = page.inner_text("#check-report")
    first_failure = next(line for line in report.splitlines() if line.startswith("FAIL"))
    assert "tanh" in first_failure
    expect(page.locator("#check-drawings img")).to_have_count(1)
    width = page.eval_on_selector("#check-drawings img", "img => img.decode().then(() => img.naturalWidth)")
    assert width > 100, "the failing graph is drawn (an SVG image from Graphviz in the engine worker)"


def test_screenshot_of_the_check_tab(checker, tmp_path):
    """docs/site-check.png, for the README: the lecture's Value with tanh's rule written as a learner might."""
    page = checker.page
    page.select_option("#check-start", "lecture")
    lecture_value = page.input_value("#check-source")
    wrong = lecture_value.replace("self.grad += (1 - t**2) * out.grad", "self.grad += (1 - x**2) * out.grad")
    assert wrong != lecture_value
    assert check(page, wrong) == "failed"
    page.eval_on_selector("#check-drawings img", "img => img.decode()")
    page.set_viewport_size({"width": 1280, "height": 1000})
    show_tanh = "ta => { const lines = ta.value.split('\\n'); const at = lines.findIndex(l => l.includes('def tanh'));"
    show_tanh += " ta.scrollTop = ta.scrollHeight * at / lines.length - 40; }"
    page.eval_on_selector("#check-source", show_tanh)
    shot = tmp_path / "site-check.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    keep_screenshot(shot, "site-check.png")


def test_a_backward_that_never_returns_is_stopped_at_the_time_limit(checker):
    page = checker.page
    endless = "\n\nclass Hanging(Value):\n    def backward(self):\n        while True:\n            pass\n"
    hanging = correct_engine() + endless
    assert check(page, hanging, "Hanging", limit="2") == "failed"
    assert "one check ran past the time limit" in page.inner_text("#check-status")
    report = page.inner_text("#check-report")
    assert "no answer within 2 s" in report and "the page stopped it" in report
    # the page kept answering throughout, and the next check runs in a fresh worker
    assert check(page, correct_engine()) == "passed"


def test_the_learners_code_cannot_reach_another_site(checker):
    """The check's worker keeps the page's Content-Security-Policy: a request to another origin (here another port
    of this machine) is refused in the browser, before it leaves; the fixture's teardown checks none was made."""
    page = checker.page
    phoning = correct_engine() + "\nimport js\nreply = js.fetch('http://127.0.0.1:9/?engine=copied')\n"
    assert check(page, phoning) == "passed"
    assert not [u for u in checker.requests if "engine=copied" in u]


def test_code_that_cannot_be_checked_gets_one_line(checker):
    page = checker.page
    no_backward = "class Value:\n    def __init__(self, data):\n        self.data = data\n        self.grad = 0.0\n"
    assert check(page, no_backward) == "error"
    assert "no backward() method" in page.inner_text("#check-report")
    assert check(page, "def broken(:\n") == "error"
    assert "SyntaxError" in page.inner_text("#check-report")
