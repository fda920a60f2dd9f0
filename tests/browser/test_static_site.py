"""The static site (``jangrad site``) in Chromium: the folder is built once, served by ``python -m http.server`` on
127.0.0.1 as a learner would serve it, and driven like a visitor: the expression lab and its stepper, jangrad.run
against CPython's numbers, the check tab (a correct engine, a wrong tanh, a backward() that never returns), and
the network lab's note. Every request the page makes must go to the folder's own origin.

One page serves the tests of the labs and one the check tab's (each start of Pyodide costs seconds), so the tests
of a group run in file order on the same page.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import json
import math
import re
import shutil
import sys
from pathlib import Path

import pytest
from harness import ROOT, expect
from site_harness import OpenSite, StaticServer, build_or_skip

import jangrad
from jangrad.io.expr import evaluate

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
    yield opened
    opened.close()
    elsewhere = [u for u in opened.requests if not u.startswith((static_server.url, "blob:", "data:"))]
    assert elsewhere == [], f"requests left the site's origin: {elsewhere}"
    assert opened.guard.foreign == []
    assert opened.errors == [], f"JavaScript errors: {opened.errors}"


@pytest.fixture(scope="module")
def labs(browser, static_server):
    yield from _open(browser, static_server)


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


def test_run_gives_cpythons_numbers_for_the_lectures_neuron(labs, monkeypatch):
    """Every number of the lecture's neuron, run in the page, equals CPython's run of the same code, bit for bit,
    once both use the same tanh(n). The C libraries differ there: the page's (musl, in Pyodide) gives the correctly
    rounded 0.7071067811865476, glibc one unit in the last place more, so that one value is compared to 1 ulp."""
    source = inspect.getsource(lecture.neuron_nodes).replace("Value(B,", f"Value({lecture.B!r},")
    source = f"import math\nfrom jangrad import Value\n\n{source}\nnodes = neuron_nodes()\nnodes['o'].backward()\n"
    source += "print(repr(nodes['n'].data), repr(math.tanh(nodes['n'].data)))\n"
    source += "for name, node in nodes.items():\n    print(name, repr(node.data), repr(node.grad))\n"
    first, *rest = run(labs.page, source).splitlines()
    n, pages_tanh = (float(x) for x in first.split())
    assert abs(pages_tanh - math.tanh(n)) <= math.ulp(pages_tanh), "the libraries' tanh differ by at most 1 ulp"

    real_tanh = math.tanh
    monkeypatch.setattr(math, "tanh", lambda x: pages_tanh if x == n else real_tanh(x))
    nodes = lecture.neuron_nodes()
    nodes["o"].backward()
    assert rest == [f"{name} {node.data!r} {node.grad!r}" for name, node in nodes.items()]
    shown = {line.split()[0]: f"{float(line.split()[2]):.4f}" for line in rest}  # as the lecture's draw_dot shows them
    assert (shown["x1"], shown["w1"], shown["x2"], shown["w2"]) == ("-1.5000", "1.0000", "0.5000", "0.0000")


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


def test_the_network_lab_says_in_place_that_it_is_coming(labs):
    page = labs.page
    page.click("#tab-network")
    note = page.locator("#panel-network .site-note")
    expect(note).to_be_visible()
    assert "jangrad serve" in note.inner_text()
    page.click("#train-play")
    expect(page.locator("#train-message")).to_contain_text("does not run in the no-install site yet")
    page.click("#tab-expression")
    expect(page.locator("#panel-network")).to_be_hidden()


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
    (ROOT / "docs").mkdir(exist_ok=True)
    shutil.copyfile(shot, ROOT / "docs" / "site-check.png")


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
