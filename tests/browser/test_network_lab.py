"""The network lab in a real browser: training plays and learns, pause and single step, divergence, the URL,
a clicked sample's graph, two tabs at once, and the page's run equal to ``jangrad train``'s."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import ROOT, expect, open_page

from jangrad import nn

FAST = {"net-samples": "40", "net-layers": "4", "net-steps": "400"}  # small enough for a shared 2-core machine


def configure(page, **fields: str) -> None:
    for element, value in fields.items():
        if page.locator(f"select#{element}").count():
            page.select_option(f"#{element}", value)
        else:
            page.fill(f"#{element}", value)
            page.dispatch_event(f"#{element}", "change")


def network_tab(page) -> None:
    page.click("#tab-network")
    expect(page.locator("#panel-network")).to_be_visible()


def counter(page) -> int:
    return int(page.inner_text("#train-step-counter"))


def wait_for_step(page, at_least: int) -> None:
    page.wait_for_function(f"() => Number(document.getElementById('train-step-counter').textContent) >= {at_least}")


def click_first_point(page) -> None:
    """Click the first data point on the boundary canvas (the page marks where it drew it, in canvas pixels)."""
    box = page.locator("#boundary-canvas").bounding_box()
    x, y = map(float, page.get_attribute("#boundary-canvas", "data-first-point").split(","))
    page.mouse.click(box["x"] + x * box["width"] / 320, box["y"] + y * box["height"] / 320)


def canvas(page) -> str:
    return page.eval_on_selector("#boundary-canvas", "c => c.toDataURL()")


def shown_step_and_loss(page) -> tuple[int, float]:
    """The step counter and the loss as one frame shows them (read together, so they belong to the same frame)."""
    step, loss = page.evaluate(
        "() => [document.getElementById('train-step-counter').textContent, "
        "document.getElementById('train-loss').textContent]"
    )
    return int(step), float(loss)


def test_moons_plays_learns_pauses_and_steps(page):
    network_tab(page)
    # The run's full step limit, so that it is still playing while the test watches, however fast the machine.
    configure(page, **{"net-data": "moons"}, **{**FAST, "net-steps": "5000"})
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
    assert page.locator("#net-diagram line").count() == 2 * 4 + 4 * 1

    # click the first data point: its graph, grouped by neuron, and its backward pass step by step
    click_first_point(page)
    expect(page.locator("#sample-message")).to_contain_text("grouped by neuron")
    assert page.locator("#sample-graph svg").count() == 1
    page.click("#sample-next")
    expect(page.locator("#sample-counter")).to_contain_text("step 1 /")
    page.click("#train-reset")
    expect(page.locator("#train-state")).to_have_text("idle")


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
    click_first_point(page)
    expect(page.locator("#sample-message")).to_contain_text("try a smaller network")
    page.click("#tab-expression")
    page.select_option("#expr-preset", "reused")
    expect(page.locator("#expr-output")).to_have_text("y = -4.0")


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
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#panel-network")).to_be_visible()
    assert page.input_value("#net-data") == "circles"
    assert page.input_value("#net-layers") == "3,5"
    assert page.input_value("#net-lr") == "0.05"
    assert page.input_value("#net-optimizer") == "adam"
    assert page.input_value("#net-activation") == "relu"
    assert page.input_value("#net-seed") == "7"
    assert page.input_value("#expr-source") == "y = tanh(a) * b"
    assert page.input_value("#expr-inputs") == "a=0.5, b=2"
    assert page.inner_text("#expr-output").startswith("y = 0.924")


def test_two_tabs_at_once_both_follow_the_run(browser, server, page):
    other_context, other, guard = open_page(browser, server.url)
    try:
        network_tab(page)
        network_tab(other)
        small = {"net-data": "xor", "net-layers": "3", "net-steps": "40"}
        configure(page, **small)
        configure(other, **small, **{"net-seed": "1"})
        page.click("#train-play")
        expect(page.locator("#train-state")).to_have_text("done", timeout=60_000)
        other.click("#train-play")  # the second tab starts its own run: the first one's is replaced
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
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=90_000)
    page.click("#copy-cli")
    expect(page.locator("#cli-out")).to_have_value(re.compile("^jangrad train"))
    command = page.input_value("#cli-out")
    assert "# note" not in command, command
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


def test_a_csv_upload_with_a_test_split_trains(page, tmp_path):
    rows = ["x1,x2,label"] + [
        f"{i % 7 - 3},{(i * 5) % 11 - 5},{int((i % 7 - 3) * ((i * 5) % 11 - 5) > 0)}" for i in range(40)
    ]
    path = tmp_path / "points.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    network_tab(page)
    configure(
        page, **{"net-data": "csv", "net-layers": "4", "net-steps": "20", "net-test": "0.25", "net-target": "label"}
    )
    page.set_input_files("#net-csv", str(path))
    page.wait_for_timeout(200)
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=60_000)
    assert float(page.inner_text("#train-test-loss")) > 0
    assert page.inner_text("#train-message") == "finished: 20 steps"


def test_the_test_loss_is_a_second_curve_with_a_legend_only_with_a_test_split(page):
    network_tab(page)
    configure(page, **{"net-data": "moons", "net-test": "0.25"}, **{**FAST, "net-steps": "60"})
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=60_000)
    expect(page.locator("#loss-legend")).to_be_visible()
    expect(page.locator("#loss-legend")).to_contain_text("test loss")
    points = int(page.get_attribute("#loss-canvas", "data-test-points"))
    step, loss = page.get_attribute("#loss-canvas", "data-last-test").split(",")
    assert points >= 2 and int(step) == 60, "the series reaches the weights after the last step"
    assert float(page.inner_text("#train-test-loss")) == pytest.approx(float(loss), rel=1e-5)

    configure(page, **{"net-test": "0", "net-steps": "50"})  # another step count tells the two runs' ends apart
    page.click("#train-play")
    expect(page.locator("#train-message")).to_have_text("finished: 50 steps", timeout=60_000)
    expect(page.locator("#loss-legend")).to_be_hidden()
    assert page.get_attribute("#loss-canvas", "data-test-points") == "0"


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
    page.route("**/api/train/start", slow_reply)
    page.click("#train-play")
    expect(page.locator("#train-state")).to_have_text("done", timeout=60_000)
    page.unroute("**/api/train/start")
    expect(page.locator("#loss-canvas")).to_have_attribute("data-loss-points", "150")
