"""The network lab in a real browser: training plays and learns at the chosen pace, pause and single step,
divergence, a link that reproduces a configuration, panels that hide, points added and removed, a clicked sample's
graph live, the optimizer's state, two tabs at once, and the page's run equal to ``jangrad train``'s."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from harness import ROOT, ServerProcess, expect, open_page

from jangrad import nn

FAST = {"net-samples": "40", "net-layers": "4", "net-steps": "400"}  # small enough for a shared 2-core machine
PACES = ["1", "2", "5", "10", "20", "50", "100", "200", "500", "1000", "max"]


def configure(page, **fields: str) -> None:
    """Fill the form; the page then starts a paused run of the new settings (waited for here)."""
    for element, value in fields.items():
        if page.locator(f"select#{element}").count():
            page.select_option(f"#{element}", value)
        else:
            page.fill(f"#{element}", value)
            page.locator(f"#{element}").blur()  # the browser's own change event, as when a learner tabs away
    settle(page)


def settle(page) -> None:
    page.wait_for_selector("body[data-lab='ready']")


def set_pace(page, pace: str) -> None:
    page.eval_on_selector(
        "#net-pace",
        "(slider, at) => { slider.value = at; slider.dispatchEvent(new Event('input')); }",
        str(PACES.index(pace)),
    )


def network_tab(page) -> None:
    page.click("#tab-network")
    expect(page.locator("#panel-network")).to_be_visible()
    expect(page.locator("#train-state")).not_to_have_text("idle")
    settle(page)


def counter(page) -> int:
    return int(page.inner_text("#train-step-counter"))


def wait_for_step(page, at_least: int) -> None:
    page.wait_for_function(f"() => Number(document.getElementById('train-step-counter').textContent) >= {at_least}")


def canvas_point(page, x: float, y: float) -> tuple[float, float]:
    """Where canvas pixel (x, y) of the boundary (320 x 320 pixels, however large it is drawn) is on the page."""
    box = page.locator("#boundary-canvas").bounding_box()
    return box["x"] + x * box["width"] / 320, box["y"] + y * box["height"] / 320


def click_first_point(page) -> None:
    """Click the first data point on the boundary canvas (the page marks where it drew it, in canvas pixels)."""
    x, y = map(float, page.get_attribute("#boundary-canvas", "data-first-point").split(","))
    page.mouse.click(*canvas_point(page, x, y))


def canvas(page) -> str:
    return page.eval_on_selector("#boundary-canvas", "c => c.toDataURL()")


def lab(page, expression: str):
    """Evaluate ``expression`` with ``lab`` bound to the page's network lab (its summary, its frame times)."""
    return page.evaluate(f"() => {{ const lab = window.jangradLab; return {expression}; }}")


def shown_step_and_loss(page) -> tuple[int, float]:
    """The step counter and the loss as one frame shows them (read together, so they belong to the same frame)."""
    step, loss = page.evaluate(
        "() => [document.getElementById('train-step-counter').textContent, "
        "document.getElementById('train-loss').textContent]"
    )
    return int(step), float(loss)


def box_numbers(page) -> dict[str, list[str]]:
    """The data and grad texts of every box of the sample's drawing, by box id."""
    return page.eval_on_selector_all(
        "#sample-graph g.node",
        "groups => Object.fromEntries(groups.map(g => [g.id, [...g.querySelectorAll('text')].slice(1, 3)"
        ".map(t => t.textContent)]))",
    )


def test_moons_plays_learns_pauses_and_steps(page):
    network_tab(page)
    # The run's full step limit, so that it is still playing while the test watches, however fast the machine.
    configure(page, **{"net-data": "moons"}, **{**FAST, "net-steps": "5000"})
    set_pace(page, "200")
    page.click("#train-play")
    wait_for_step(page, 3)
    first_picture = canvas(page)
    first_step, first_loss = shown_step_and_loss(page)
    wait_for_step(page, first_step + 50)
    step, loss = shown_step_and_loss(page)
    assert step > first_step and loss < first_loss, f"the loss falls: {first_loss} at {first_step}, {loss} at {step}"
    assert canvas(page) != first_picture, "the decision boundary changes between frames"

    page.click("#train-pause")
    expect(page.locator("#train-state")).to_have_text("paused")
    held = counter(page)
    time.sleep(0.6)
    assert counter(page) == held, "pause holds the step counter"
    page.click("#train-step")
    expect(page.locator("#train-step-counter")).to_have_text(str(held + 1))
    time.sleep(0.4)
    assert counter(page) == held + 1, "a single step adds exactly one"
    assert page.get_attribute("#net-diagram", "data-drawn-links") == str(2 * 4 + 4 * 1)
    assert page.locator("#net-diagram .unit").count() == 2 + 4 + 1

    # click the first data point: its graph, grouped by neuron, and its backward pass step by step
    click_first_point(page)
    expect(page.locator("#sample-message")).to_contain_text("grouped by neuron")
    assert page.locator("#sample-graph svg").count() == 1
    page.click("#sample-next")
    expect(page.locator("#sample-counter")).to_contain_text("step 1 /")
    page.click("#train-reset")
    expect(page.locator("#train-state")).to_have_text("ready")
    expect(page.locator("#train-step-counter")).to_have_text("0")


def test_the_untrained_network_is_drawn_before_play_with_its_legends_and_labels(page):
    network_tab(page)
    expect(page.locator("#train-state")).to_have_text("ready")
    page.wait_for_function("() => window.jangradLab.diagram.frame !== null")
    colours = page.eval_on_selector(
        "#boundary-canvas",
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const seen = new Set();"
        " for (let i = 0; i < d.length; i += 400) seen.add(d.slice(i, i + 3).join()); return seen.size; }",
    )
    assert colours > 20, "the boundary of the untrained network is painted, not blank"
    painted = page.eval_on_selector_all(
        "#net-diagram canvas.unit",
        "units => units.filter(u => { const d = u.getContext('2d').getImageData(0, 0, u.width, u.height).data;"
        " return d.some((v, i) => i % 4 === 3 && v > 0); }).length",
    )
    assert painted == 2 + 6 + 6 + 1, "every unit's heatmap is drawn"
    legend = page.inner_text("#boundary-legend")
    assert "class 0" in legend and "class 1" in legend and "test" in legend
    labels = page.eval_on_selector_all("#net-diagram .diagram-label", "ls => ls.map(l => l.textContent)")
    assert labels[:2] == ["x0", "x1"] and labels[2].startswith("out")
    assert "layer 1: 6 tanh" in page.inner_text("#net-diagram")


def test_the_pace_control_changes_the_steps_per_second(page):
    network_tab(page)
    configure(page, **{"net-data": "xor", "net-layers": "3", "net-steps": "5000"})
    set_pace(page, "5")
    expect(page.locator("#net-pace-label")).to_have_text("5 steps/s")
    page.click("#train-play")
    wait_for_step(page, 1)
    start = counter(page)
    time.sleep(2.0)
    slow = counter(page) - start
    set_pace(page, "100")
    expect(page.locator("#net-pace-label")).to_have_text("100 steps/s")
    start = counter(page)
    time.sleep(2.0)
    fast = counter(page) - start
    page.click("#train-pause")
    assert 1 <= slow <= 12, f"5 steps/s for 2 s gave {slow} steps"
    assert fast > 2 * slow, f"100 steps/s gave {fast} steps in 2 s, against {slow} at 5 steps/s"
    assert "pace=100" in page.url


def test_a_link_reproduces_a_configuration_and_says_what_it_could_not_read(browser, server):
    query = (
        "?tab=network&data=circles&samples=60&noise=0.2&test=0.2&layers=3,5&activation=relu&loss=hinge"
        "&optimizer=adam&lr=0.05&schedule=cosine&batch=8&steps=120&seed=7&pace=10&log=on&hide=optimizer,command"
    )
    context, page, guard = open_page(browser, server.url + query)
    try:
        expect(page.locator("#train-state")).to_have_text("ready")
        fields = {
            "net-data": "circles",
            "net-samples": "60",
            "net-noise": "0.2",
            "net-test": "0.2",
            "net-layers": "3,5",
            "net-activation": "relu",
            "net-optimizer": "adam",
            "net-lr": "0.05",
            "net-schedule": "cosine",
            "net-batch": "8",
            "net-steps": "120",
            "net-seed": "7",
        }
        for element, value in fields.items():
            assert page.input_value(f"#{element}") == value, element
        expect(page.locator("#net-pace-label")).to_have_text("10 steps/s")
        expect(page.locator("#part-optimizer")).to_be_hidden()
        expect(page.locator("#part-command")).to_be_hidden()
        expect(page.locator("#part-diagram")).to_be_visible()
        assert page.is_checked("#loss-log")
        config = lab(page, "lab.summary.config")
        assert (config["data"], config["layers"], config["lr"], config["batch"], config["seed"]) == (
            "circles",
            "3,5",
            0.05,
            8,
            7,
        )
        assert lab(page, "lab.summary.sizes") == [2, 3, 5, 1] and lab(page, "lab.summary.samples") == 48

        # a value that does not fit is dropped with a one-line reason, and the rest of the link still applies
        page.goto(server.url + "?tab=network&lr=fast&layers=4&data=../../etc")
        page.wait_for_selector("body[data-ready='1']")
        expect(page.locator("#train-message")).to_contain_text("lr")
        message = page.inner_text("#train-message")
        assert "data" in message and "\n" not in message
        assert page.input_value("#net-layers") == "4" and page.input_value("#net-lr") == "0.1"
        context.close()
        assert guard.foreign == []
    finally:
        if not page.is_closed():
            context.close()


def test_reload_restores_the_configuration_from_the_url(page):
    page.fill("#expr-source", "y = tanh(a) * b")
    page.fill("#expr-inputs", "a=0.5, b=2")
    page.click("#expr-run")
    page.wait_for_selector("body[data-expr='ready']")
    network_tab(page)
    configure(
        page,
        **{
            "net-data": "circles",
            "net-layers": "3,5",
            "net-lr": "0.05",
            "net-optimizer": "adam",
            "net-activation": "relu",
            "net-seed": "7",
        },
    )
    set_pace(page, "max")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#panel-network")).to_be_visible()
    assert page.input_value("#net-data") == "circles"
    assert page.input_value("#net-layers") == "3,5"
    assert page.input_value("#net-lr") == "0.05"
    assert page.input_value("#net-optimizer") == "adam"
    assert page.input_value("#net-activation") == "relu"
    assert page.input_value("#net-seed") == "7"
    expect(page.locator("#net-pace-label")).to_have_text("as fast as it goes")
    assert page.input_value("#expr-source") == "y = tanh(a) * b"
    assert page.input_value("#expr-inputs") == "a=0.5, b=2"
    assert page.inner_text("#expr-output").startswith("y = 0.924")


def test_panels_and_controls_hide_for_a_lesson_and_stay_hidden_in_the_link(page):
    network_tab(page)
    page.click("#panels-menu summary")
    for part in ("loss", "training", "sample"):
        page.uncheck(f"#panels-list input[data-part='{part}']")
    expect(page.locator("#part-loss")).to_be_hidden()
    expect(page.locator("#part-training")).to_be_hidden()
    expect(page.locator("#part-sample")).to_be_hidden()
    expect(page.locator("#part-boundary")).to_be_visible()
    hidden = parse_qs(urlsplit(page.url).query)["hide"][0].split(",")
    assert sorted(hidden) == ["loss", "sample", "training"]
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#part-loss")).to_be_hidden()
    expect(page.locator("#part-training")).to_be_hidden()
    page.click("#panels-menu summary")
    page.check("#panels-list input[data-part='loss']")
    expect(page.locator("#part-loss")).to_be_visible()
    expect(page.locator("#part-sample")).to_be_hidden()


def add_a_point(page) -> None:
    """On 40 moons: click a class-0 point far from the moons, and see the run become a CSV run of 41 samples (the
    data-editing steps every transport shares, with ``remove_the_point_mid_run``)."""
    page.wait_for_function("() => window.jangradLab.summary.samples === 40")
    page.click("#class-picker button[data-class='0']")  # choosing a class chooses "add"
    page.mouse.click(*canvas_point(page, 300, 20))  # the top right corner, far from the moons
    page.wait_for_function("() => window.jangradLab.summary.samples === 41")
    assert lab(page, "lab.summary.points.filter(p => p[2] === 0).length") == 21
    expect(page.locator("#net-data")).to_have_value("csv")
    expect(page.locator("#cli-out")).to_have_value(re.compile(r"^cat > data.csv <<'JANGRAD_CSV'\n"))


def remove_the_point_mid_run(page) -> None:
    """Play 20 steps, pause, shift-click the point ``add_a_point`` added: the running session loses it, the copy
    command says from which step, and the run steps on."""
    run = lab(page, "lab.summary.run")
    page.click("#train-play")
    wait_for_step(page, 20)
    page.click("#train-pause")
    x, y = lab(page, "lab.boundary.toCanvas(...lab.summary.points[40].slice(0, 2))")
    page.keyboard.down("Shift")
    page.mouse.click(*canvas_point(page, x, y))  # shift-click: remove the nearest point, the one just added
    page.keyboard.up("Shift")
    page.wait_for_function("() => window.jangradLab.summary.samples === 40")
    assert lab(page, "lab.summary.run") == run, "a change mid-run goes into the running session"
    expect(page.locator("#cli-note")).to_contain_text("changed at step")
    page.click("#train-step")
    expect(page.locator("#train-message")).to_have_text("")


def test_adding_and_removing_points_changes_the_data_the_server_trains_on(page):
    network_tab(page)
    configure(page, **{"net-data": "moons", "net-samples": "40", "net-layers": "4", "net-steps": "2000"})
    expect(page.locator("#train-state")).to_have_text("ready")
    add_a_point(page)
    expect(page.locator("#cli-note")).to_have_text("repeats this run number for number")
    set_pace(page, "max")
    remove_the_point_mid_run(page)
    assert lab(page, "lab.summary.points.length") == 40


def test_the_sample_graph_stays_live_and_steps_only_while_paused(page):
    network_tab(page)
    configure(page, **{"net-data": "moons", "net-samples": "40", "net-layers": "3,3", "net-steps": "5000"})
    expect(page.locator("#train-state")).to_have_text("ready")
    click_first_point(page)
    expect(page.locator("#sample-message")).to_contain_text("grouped by neuron")
    page.wait_for_function("() => document.querySelectorAll('#sample-graph g.node').length > 5")
    before = box_numbers(page)
    assert all(not text.endswith("e-88") for pair in before.values() for text in pair), "the real numbers are in"
    set_pace(page, "20")
    page.click("#train-play")
    wait_for_step(page, 15)
    expect(page.locator("#sample-next")).to_be_disabled()
    after = box_numbers(page)
    assert set(after) == set(before) and after != before, "the boxes' numbers follow training"
    page.hover("#sample-graph g.node[id='g1']")
    expect(page.locator("#sample-tooltip")).to_be_visible()
    assert "over the last" in page.inner_text("#sample-tooltip")
    page.click("#train-pause")
    expect(page.locator("#sample-next")).to_be_enabled()
    for _ in range(3):  # faster than the pass loads: each click still moves one step
        page.click("#sample-next")
    expect(page.locator("#sample-counter")).to_contain_text("step 3 /")


def test_the_sample_steppers_narration_names_the_box_that_is_lit(page):
    network_tab(page)
    configure(page, **{"net-data": "xor", "net-layers": "2", "net-steps": "50"})
    expect(page.locator("#train-state")).to_have_text("ready")
    click_first_point(page)
    expect(page.locator("#sample-message")).to_contain_text("grouped by neuron")
    lit = page.locator("#sample-graph g.node.hl")
    named = 0
    for _ in range(30):
        page.click("#sample-next")
        expect(lit).to_have_count(1)
        first_line = page.inner_text("#sample-narration").split("\n")[0]
        title = lit.locator("text").first.text_content()  # "layers.0.neurons.1 (tanh)"
        if lit.get_attribute("id").startswith("g") and ", in " in first_line:
            where = first_line.split(", in ", 1)[1].rstrip(":")
            assert title.startswith(where), (first_line, title)  # the words name the box that is lit
            named += 1
    assert named >= 20


def test_the_optimizer_table_shows_adams_m_and_v_moving(page):
    network_tab(page)
    configure(
        page,
        **{
            "net-data": "moons",
            "net-samples": "40",
            "net-layers": "4",
            "net-optimizer": "adam",
            "net-lr": "0.05",
            "net-steps": "500",
        },
    )
    expect(page.locator("#train-state")).to_have_text("ready")
    unit = page.locator("#net-diagram .unit[data-unit='1,2']")
    unit.click()  # a neuron: its bias
    page.click("#train-step")
    expect(page.locator("#optimizer-table")).to_be_visible()
    expect(page.locator("#optimizer-name")).to_have_text("layers.0.neurons.2.b")

    def row(name: str) -> str:
        return page.locator(f"#optimizer-table tr[data-row='{name}'] td.value").inner_text()

    expect(page.locator("#optimizer-table tr[data-row='t'] td.value")).to_have_text("1")
    first = (row("m"), row("v"))
    page.click("#train-step")
    expect(page.locator("#optimizer-table tr[data-row='t'] td.value")).to_have_text("2")
    second = (row("m"), row("v"))
    assert first[0] != second[0] and first[1] != second[1], (first, second)
    assert float(row("Δp")) == pytest.approx(
        float(page.locator("#optimizer-table tr[data-row='p moved by'] td.value").inner_text()), rel=1e-4
    )


def test_a_clicked_sample_whose_loss_is_0_says_why_every_gradient_is_0(page):
    network_tab(page)
    configure(page, **{"net-data": "moons", "net-samples": "40", "net-layers": "6", "net-steps": "300"})
    set_pace(page, "max")
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=60_000)
    for index in range(40):
        x, y = lab(page, f"lab.boundary.toCanvas(...lab.summary.points[{index}].slice(0, 2))")
        page.mouse.click(*canvas_point(page, x, y))
        page.wait_for_function(
            f"() => document.getElementById('part-sample').dataset.loss !== undefined && "
            f"document.getElementById('part-sample').dataset.sample === '{index}'"
        )
        if page.get_attribute("#part-sample", "data-loss") == "0.0":
            break
    else:
        pytest.fail("no sample of a trained hinge network has a loss of 0")
    expect(page.locator("#sample-note")).to_contain_text("loss is 0")
    page.click("#sample-next")
    expect(page.locator("#sample-narration")).to_contain_text("loss is 0")


def test_the_cli_command_always_matches_the_settings(page):
    network_tab(page)
    expect(page.locator("#cli-out")).to_have_value(re.compile(r"--lr 0\.1 "))
    configure(page, **{"net-lr": "0.037", "net-layers": "5,2"})
    expect(page.locator("#cli-out")).to_have_value(re.compile(r"--hidden 5,2 .*--lr 0\.037 "))
    configure(page, **{"net-layers": ""})
    expect(page.locator("#cli-note")).to_contain_text("needs at least one hidden layer")
    page.click("#copy-cli")
    expect(page.locator("#cli-out")).to_have_value(re.compile(r"--lr 0\.037 "))


def test_presets_fill_the_form_and_say_what_to_watch(page):
    network_tab(page)
    page.select_option("#net-preset", "xor-linear")
    expect(page.locator("#preset-note")).to_contain_text("no line separates xor")
    assert page.input_value("#net-data") == "xor" and page.input_value("#net-layers") == ""
    expect(page.locator("#cli-note")).to_contain_text("needs at least one hidden layer")
    set_pace(page, "max")
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=60_000)
    assert int(page.inner_text("#train-accuracy").rstrip("%")) <= 75
    page.select_option("#net-preset", "lecture")
    expect(page.locator("#net-pace-label")).to_have_text("10 steps/s")
    assert page.input_value("#net-data") == "seed4" and page.input_value("#net-layers") == "4,4"
    assert "data=seed4" in page.url


def test_the_page_asks_for_nothing_that_is_not_there(browser, server):
    missing = []
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.on("response", lambda response: missing.append(response.url) if response.status >= 400 else None)
    page.goto(server.url + "?tab=network")
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#train-state")).to_have_text("ready")
    icon = page.evaluate("() => fetch('/favicon.ico').then(r => [r.status, r.headers.get('content-type')])")
    context.close()
    assert missing == [] and icon == [200, "image/svg+xml"]


def test_a_large_rate_with_sse_stops_with_the_divergence_message(page):
    network_tab(page)
    configure(page, **{"net-data": "moons", "net-loss": "sse", "net-lr": "10"}, **FAST)
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("diverged", timeout=60_000)
    message = page.inner_text("#train-message")
    # fit stops on a loss that blew up, finite (1000 times where it started) or not
    assert ("(blew up)" in message or "not a finite number" in message) and "\n" not in message
    assert "try a smaller learning rate" in message


def test_a_large_networks_sample_graph_is_refused_and_the_page_stays_responsive(page):
    network_tab(page)
    configure(page, **{"net-data": "xor", "net-layers": "32,32,32", "net-steps": "1"})
    page.click("#train-step")
    expect(page.locator("#train-state")).to_have_text(re.compile("paused|done"), timeout=60_000)
    assert page.get_attribute("#net-diagram", "data-weights") == str(2 * 32 + 32 * 32 * 2 + 32)
    assert int(page.get_attribute("#net-diagram", "data-drawn-links")) <= 160
    expect(page.locator("#diagram-note")).to_contain_text("hairball")
    click_first_point(page)
    expect(page.locator("#sample-message")).to_contain_text("try a smaller network")
    page.click("#tab-expression")
    page.select_option("#expr-preset", "reused")
    expect(page.locator("#expr-output")).to_have_text("y = -4.0")


def test_two_tabs_at_once_both_follow_the_run(browser, server, page):
    other_context, other, guard = open_page(browser, server.url)
    try:
        network_tab(page)
        network_tab(other)
        small = {"net-data": "xor", "net-layers": "3", "net-steps": "40"}
        configure(page, **small)
        configure(other, **small, **{"net-seed": "1"})
        time.sleep(0.5)
        page.click("#train-play")  # the first tab's run replaces the second tab's paused one
        expect(page.locator("#train-state")).to_have_text("done", timeout=60_000)
        expect(other.locator("#train-message")).to_contain_text("another tab")
        other.click("#train-play")  # the second tab starts its own run again
        expect(other.locator("#train-state")).to_have_text("done", timeout=60_000)
        assert guard.foreign == []
    finally:
        other_context.close()


def test_fifty_steps_in_the_page_equal_jangrad_train(page, tmp_path):
    network_tab(page)
    # seed4 (3 inputs) keeps the command line from drawing a decision boundary, which takes a while
    configure(
        page,
        **{
            "net-data": "seed4",
            "net-layers": "4,4",
            "net-steps": "50",
            "net-optimizer": "adam",
            "net-lr": "0.05",
            "net-batch": "2",
            "net-seed": "3",
            "net-schedule": "cosine",
            "net-loss": "sse",
            "net-output": "tanh",
        },
    )
    set_pace(page, "max")
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=90_000)
    page.click("#copy-cli")
    expect(page.locator("#cli-out")).to_have_value(re.compile("^jangrad train .*--batch-size 2"))
    command = page.input_value("#cli-out")
    expect(page.locator("#cli-note")).to_have_text("repeats this run number for number")
    with page.expect_download() as download:
        page.click("#download-history")
    page_history = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    args = command.split()[1:]
    out = tmp_path / "cli"
    args[args.index("--out") + 1] = str(out)
    finished = subprocess.run(
        [sys.executable, "-m", "jangrad", *args, "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    cli_history = list(csv.DictReader((out / "history.csv").read_text(encoding="utf-8").splitlines()))
    assert len(page_history) == len(cli_history) == 50
    for ours, theirs in zip(page_history, cli_history, strict=True):
        assert abs(float(ours["loss"]) - float(theirs["loss"])) <= 1e-12
    with page.expect_download() as download:
        page.click("#download-model")
    ours, theirs = nn.load(download.value.path()), nn.load(str(out / "model.json"))
    pairs = list(zip(ours.parameters(), theirs.parameters(), strict=True))
    assert len(pairs) == ours.num_parameters() == 3 * 4 + 4 + 4 * 4 + 4 + 4 + 1
    assert all(abs(p.data - q.data) <= 1e-12 for p, q in pairs)


def test_a_csv_upload_with_a_test_split_trains_and_is_drawn_where_the_file_puts_it(page, tmp_path):
    rows = ["height,weight,label"] + [
        f"{i % 7 - 3 + 10},{(i * 5) % 11 - 5},{int((i % 7 - 3) * ((i * 5) % 11 - 5) > 0)}" for i in range(40)
    ]
    path = tmp_path / "points.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    network_tab(page)
    configure(
        page, **{"net-data": "csv", "net-layers": "4", "net-steps": "20", "net-test": "0.25", "net-target": "label"}
    )
    page.set_input_files("#net-csv", str(path))
    page.wait_for_function("() => window.jangradLab.summary && window.jangradLab.summary.config.data === 'csv'")
    assert lab(page, "lab.summary.inputs") == ["height", "weight"]
    xs = lab(page, "lab.summary.points.map(p => p[0])")
    assert min(xs) == 7 and max(xs) == 13, "the points are where the file puts them, not standardised"
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=60_000)
    assert float(page.inner_text("#train-test-loss")) > 0
    assert page.inner_text("#train-message") == "finished: 20 steps"


def test_the_test_loss_is_a_second_curve_in_the_legend_only_with_a_test_split(page):
    network_tab(page)
    configure(page, **{"net-data": "moons", "net-test": "0.25"}, **{**FAST, "net-steps": "60"})
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=60_000)
    expect(page.locator("#loss-legend-test")).to_be_visible()
    points = int(page.get_attribute("#loss-canvas", "data-test-points"))
    step, loss = page.get_attribute("#loss-canvas", "data-last-test").split(",")
    assert points == 61 and int(step) == 60, "a test point at every step, up to the weights after the last"
    assert float(page.inner_text("#train-test-loss")) == pytest.approx(float(loss), rel=1e-5)
    assert float(page.inner_text("#loss-test-value")) == pytest.approx(float(loss), rel=1e-5)
    assert page.get_attribute("#loss-canvas", "data-y-ticks"), "the y axis has ticks"

    configure(page, **{"net-test": "0", "net-steps": "50"})  # another step count tells the two runs' ends apart
    page.click("#train-play")
    expect(page.locator("#train-message")).to_have_text("finished: 50 steps", timeout=60_000)
    expect(page.locator("#loss-legend-test")).to_be_hidden()
    assert page.get_attribute("#loss-canvas", "data-test-points") == "0"


def test_the_loss_chart_switches_to_a_log_scale_when_the_loss_spans_100_times(page):
    network_tab(page)
    configure(
        page,
        **{
            "net-data": "xor",
            "net-layers": "4",
            "net-loss": "mse",
            "net-optimizer": "adam",
            "net-lr": "0.1",
            "net-steps": "400",
        },
    )
    set_pace(page, "max")
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=60_000)
    assert page.get_attribute("#loss-canvas", "data-log") == "true"
    expect(page.locator("#loss-log")).to_be_checked()
    page.uncheck("#loss-log")
    assert page.get_attribute("#loss-canvas", "data-log") == "false" and "log=off" in page.url


def test_the_sample_graph_highlights_the_current_steps_box(page):
    network_tab(page)
    configure(page, **{"net-data": "xor", "net-layers": "2", "net-steps": "1"})
    page.click("#train-step")
    expect(page.locator("#train-state")).to_have_text(re.compile("paused|done"), timeout=60_000)
    click_first_point(page)
    expect(page.locator("#sample-message")).to_contain_text("grouped by neuron")
    highlighted = page.locator("#sample-graph g.node.hl")
    expect(highlighted).to_have_count(0)  # position 0: no step has run yet
    page.click("#sample-next")  # the seed: the loss, inside the output's box
    expect(highlighted).to_have_count(1)
    seen = set()
    for _ in range(40):  # backward walks from the output's box through both hidden neurons' boxes
        seen.add(highlighted.get_attribute("id"))
        page.click("#sample-next")
        expect(highlighted).to_have_count(1)
    assert len(seen) >= 3, seen
    assert page.locator("#sample-graph g.node.hl path, #sample-graph g.node.hl polygon").count() >= 1
    page.click("#sample-first")
    expect(highlighted).to_have_count(0)


def test_frames_that_arrive_before_the_start_reply_all_reach_the_curve(page):
    """Frames stream on their own connection, so several can arrive before the start request's reply; each carries
    only the losses the previous ones did not, so the page must keep every one of them, not just the last."""

    def slow_reply(route) -> None:
        response = route.fetch()  # the server starts the run now; its frames flow while the reply waits
        time.sleep(1.5)
        route.fulfill(response=response)

    network_tab(page)
    configure(page, **{"net-data": "moons"}, **{**FAST, "net-steps": "150"})
    set_pace(page, "max")
    expect(page.locator("#train-state")).to_have_text("ready")
    page.route("**/api/train/start", slow_reply)
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=60_000)
    page.unroute("**/api/train/start")
    expect(page.locator("#loss-canvas")).to_have_attribute("data-loss-points", "150")


def test_hovering_the_diagram_enlarges_a_unit_and_reads_a_weight(page):
    network_tab(page)
    page.click("#train-step")
    expect(page.locator("#train-step-counter")).to_have_text("1")
    page.hover("#net-diagram .unit[data-unit='1,2']")
    enlarged = page.locator("#net-diagram .enlarged")
    expect(enlarged).to_be_visible()
    assert (
        enlarged.locator("canvas").bounding_box()["width"]
        > 3 * page.locator("#net-diagram .unit[data-unit='1,2']").bounding_box()["width"]
    )
    expect(enlarged).to_contain_text("layers.0.neurons.2")
    expect(enlarged).to_contain_text("its output over the plane: from")
    # the output's weight from layer 2's unit 2: the only line leaving that unit, read a quarter of the way along
    x1, y1, x2, y2 = lab(page, "lab.diagram.linkEnds(3, 0, 2)")
    t, mid = 0.25, (x1 + x2) / 2
    x = (1 - t) ** 3 * x1 + 3 * (1 - t) ** 2 * t * mid + 3 * (1 - t) * t * t * mid + t**3 * x2
    y = (1 - t) ** 3 * y1 + 3 * (1 - t) ** 2 * t * y1 + 3 * (1 - t) * t * t * y2 + t**3 * y2
    box = page.locator("#net-diagram").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    tooltip = page.locator("#diagram-tooltip")
    expect(tooltip).to_be_visible()
    text = tooltip.inner_text()
    assert text.startswith("layers.2.neurons.0.w.2\nfrom layers.1.neurons.2 into layers.2.neurons.0")
    weight, grad = lab(page, "[lab.diagram.frame.weights[2][0][2], lab.diagram.frame.weight_grads[2][0][2]]")
    shown = re.search(r"w = (\S+), grad = (\S+)", text)
    assert float(shown.group(1)) == pytest.approx(weight, rel=1e-5)
    assert float(shown.group(2)) == pytest.approx(grad, rel=1e-5, abs=1e-12)


def test_without_graphviz_a_samples_graph_is_drawn_by_jangrad_and_stays_live(browser, tmp_path):
    server = ServerProcess(path_variable=str(tmp_path))  # a PATH with no 'dot' on it
    try:
        context, page, guard = open_page(browser, server.url + "?tab=network&samples=40&layers=3&steps=2000&pace=20")
        settle(page)
        click_first_point(page)
        expect(page.locator("#sample-message")).to_contain_text("grouped by neuron")
        page.wait_for_function("() => document.querySelectorAll('#sample-graph g.node').length > 3")
        assert "Generated by graphviz" not in page.inner_html("#sample-graph")
        before = box_numbers(page)
        page.click("#train-play")
        wait_for_step(page, 10)
        page.click("#train-pause")
        assert box_numbers(page) != before
        context.close()
        assert guard.foreign == []
    finally:
        server.stop()
