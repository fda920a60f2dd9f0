"""The expression lab in a real browser: the lecture's L, stepping forwards and back, a reused node, check."""

from __future__ import annotations

import re
from pathlib import Path

from harness import ServerProcess, expect, open_page

from jangrad.io.expr import evaluate


def grad_of(page, name: str) -> str:
    return page.locator(f"#expr-table tr[data-name='{name}'] td.grad").inner_text()


def grads(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "#expr-table tbody tr",
        "rows => Object.fromEntries(rows.map(r => [r.dataset.name, r.querySelector('td.grad').textContent]))",
    )


def load(page, source: str, inputs: str) -> None:
    page.fill("#expr-source", source)
    page.fill("#expr-inputs", inputs)
    page.click("#expr-run")
    page.wait_for_selector("body[data-expr='ready']")


def test_lecture_L_forward_and_last_step_match_the_engine(page):
    assert page.inner_text("#expr-output") == "L = -8.0"
    assert page.locator("#expr-graph svg").count() == 1
    assert set(grads(page).values()) == {"—"}, "no gradient is known before backward reaches it"
    page.click("#step-last")
    assert page.inner_text("#step-counter") == "step 4 / 4"
    shown = {name: float(text) for name, text in grads(page).items()}
    assert (shown["a"], shown["b"], shown["c"], shown["f"]) == (6.0, -4.0, -2.0, 4.0)
    # and they equal what Python's own backward gives, node for node
    root, names = evaluate("e = a*b\nd = e + c\nL = d*f", {"a": 2, "b": -3, "c": 10, "f": -2})
    root.backward()
    assert shown == {name: value.grad for name, value in names.items()}
    # the drawing shows them too
    svg_grad = page.eval_on_selector(
        "#expr-graph svg [id='n0']", "g => [...g.querySelectorAll('text')].pop().textContent"
    )
    assert svg_grad == "grad 6.0"


def test_each_step_highlights_one_op_and_back_restores(page):
    seen = []
    for k in range(5):
        seen.append(grads(page))
        highlighted = page.locator("#expr-graph svg g.hl")
        assert highlighted.count() == (0 if k == 0 else 1)
        if k > 1:  # after the seed step, the highlighted group is an op node
            assert highlighted.first.get_attribute("id").endswith("op")
        page.click("#step-next")
    assert seen[1]["L"] == "1.0" and seen[1]["d"] == "—"
    assert seen[2]["d"] == "-2.0" and seen[2]["e"] == "—"
    assert grads(page) == seen[4], "next at the last step stays there"
    for k in range(3, -1, -1):
        page.click("#step-back")
        assert grads(page) == seen[k]
    page.keyboard.press("ArrowRight")  # the arrow keys step too
    assert page.inner_text("#step-counter") == "step 1 / 4"
    page.keyboard.press("End")
    assert page.inner_text("#step-counter") == "step 4 / 4"


def test_reused_node_shows_each_contribution_and_the_running_sum(page):
    load(page, "y = a*b + a", "a=2, b=-3")
    assert page.inner_text("#expr-output") == "y = -4.0"
    page.click("#step-next")  # the seed
    assert grad_of(page, "a") == "—"
    page.click("#step-next")  # y = v1 + a: the first contribution to a
    assert float(grad_of(page, "a")) == 1.0
    page.click("#step-next")  # v1 = a * b: the second one
    assert float(grad_of(page, "a")) == -2.0
    narration = page.inner_text("#narration")
    assert "a.grad += b.data * v1.grad" in narration and "running sum" in narration


def test_editing_an_input_recomputes_and_check_marks_every_gradient(page):
    page.click("#step-last")
    page.fill("#expr-inputs", "a=3, b=-3, c=10, f=-2")
    page.press("#expr-inputs", "Enter")
    page.wait_for_selector("body[data-expr='ready']")
    assert page.inner_text("#expr-output") == "L = -2.0"
    assert page.inner_text("#step-counter") == "step 0 / 4", "a new forward pass resets the stepper"
    page.click("#expr-check")
    expect(page.locator("#expr-table td.check.ok")).to_have_count(7)
    marks = page.eval_on_selector_all("#expr-table td.check", "cells => cells.map(c => c.textContent)")
    assert len(marks) == 7 and set(marks) == {"✔"}


def test_presets_and_copy_as_python(page):
    page.select_option("#expr-preset", "neuron")
    expect(page.locator("#expr-output")).to_have_text(re.compile(r"^o = "))
    assert abs(float(page.inner_text("#expr-output").split("=")[1]) - 0.7071) < 1e-4
    page.click("#step-last")
    assert abs(float(grad_of(page, "n")) - 0.5) < 1e-6
    page.click("#copy-python")
    code = page.input_value("#python-out")
    assert "o.backward()" in code and "Value(" in code
    for kind in ("svg", "dot"):
        with page.expect_download() as download:
            page.click(f"#download-{kind}")
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert ("<svg" in text) if kind == "svg" else text.startswith("digraph")


def test_without_graphviz_the_builtin_drawing_steps_like_graphviz(browser, tmp_path):
    server = ServerProcess(path_variable=str(tmp_path))  # a PATH with no 'dot' on it
    try:
        context, page, guard = open_page(browser, server.url)
        page.wait_for_selector("body[data-expr='ready']")
        assert page.locator("#expr-graph svg").count() == 1
        assert page.inner_text("#expr-graph-note") == ""
        assert "Generated by graphviz" not in page.inner_html("#expr-graph")  # the built-in renderer drew it
        page.click("#step-next")
        page.click("#step-next")
        highlighted = page.locator("#expr-graph svg g.hl")
        assert highlighted.count() == 1 and highlighted.first.get_attribute("id").endswith("op")
        page.click("#step-last")
        assert float(grad_of(page, "a")) == 6.0
        svg_grad = page.eval_on_selector(
            "#expr-graph svg [id='n0']", "g => [...g.querySelectorAll('text')].pop().textContent"
        )
        assert svg_grad == "grad 6.0"
        assert "a.grad += b.data * e.grad" in page.inner_text("#narration")
        context.close()
        assert guard.foreign == []
    finally:
        server.stop()


def test_every_view_of_a_node_calls_it_by_one_name(page):
    """The table, the drawing's box and the narration: ``v1`` everywhere for the unnamed a*b, never ``mul``."""
    load(page, "y = a*b + a*c", "a=2, b=-3, c=0.5")
    names = page.eval_on_selector_all("#expr-table tbody tr", "rows => rows.map(r => [r.dataset.id, r.dataset.name])")
    assert [name for _, name in names] == ["a", "b", "v1", "c", "v2", "y"]
    for node_id, name in names:
        title = page.eval_on_selector(f"#expr-graph svg [id='{node_id}']", "g => g.querySelector('text').textContent")
        assert title == name
    assert "mul" not in [
        t.strip() for t in page.eval_on_selector_all("#expr-graph svg text", "ts => ts.map(t => t.textContent)")
    ]
    told = []
    for _ in range(4):
        page.click("#step-next")
        told.append(page.inner_text("#narration"))
    narration = "\n".join(told)
    assert "v2 = a * c" in narration and "a.grad += c.data * v2.grad" in narration and "v1 = a * b" in narration


def test_a_filled_in_gradient_stays_inside_its_box(page):
    """Each box is laid out for the widest number its stepper writes there: here a's running sum passes through
    0.1235 on its way to 1.0."""
    load(page, "y = a*b + a*c", "a=1, b=0.123456, c=0.876544")
    overflow = []
    for _ in range(6):
        page.click("#step-next")
        overflow += page.eval_on_selector_all(
            "#expr-graph svg g.node",
            """groups => groups.flatMap(g => {
                 const texts = [...g.querySelectorAll('text')];
                 const shape = g.querySelector('polygon, path, rect');
                 if (!shape || texts.length < 3) return [];
                 const box = shape.getBBox();
                 return texts.filter(t => { const b = t.getBBox();
                   return b.x < box.x - 0.5 || b.x + b.width > box.x + box.width + 0.5; })
                   .map(t => g.id + ': ' + t.textContent);
               })""",
        )
    assert overflow == []
    assert float(grad_of(page, "a")) == 1.0


def test_an_expression_error_takes_the_old_graph_off_the_screen(page):
    assert page.locator("#expr-graph svg").count() == 1
    page.fill("#expr-source", "L = a *")
    page.click("#expr-run")
    page.wait_for_selector("body[data-expr='error']")
    assert page.inner_text("#expr-error")
    assert page.locator("#expr-graph svg").count() == 0
    assert page.locator("#expr-table tbody tr").count() == 0
    assert page.inner_text("#expr-output") == "" and page.inner_text("#narration") == ""
    page.fill("#expr-source", "L = a * b")
    page.click("#expr-run")
    page.wait_for_selector("body[data-expr='ready']")
    assert page.locator("#expr-graph svg").count() == 1 and page.inner_text("#expr-error") == ""
