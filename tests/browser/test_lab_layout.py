"""The network lab's frame cost and its layout: a frame of MLP(2, [16, 16, 1]) on 200 points, with a sample's graph
and the optimizer table on screen, measured in Chromium; the page at 1280 x 800 and on a wide screen."""

from __future__ import annotations

import statistics
import time

import pytest
from harness import expect, open_page

BIG = (
    "?tab=network&data=moons&samples=200&noise=0.1&layers=16,16&activation=tanh&loss=hinge&optimizer=adam"
    "&lr=0.01&steps=5000&pace=max"
)
OBSERVE = """() => {
  window.slowTasks = [];
  window.slowFrames = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.slowTasks.push(e.duration); })
    .observe({type: 'longtask', buffered: false});
  if (PerformanceObserver.supportedEntryTypes.includes('long-animation-frame')) {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.slowFrames.push(e.duration); })
      .observe({type: 'long-animation-frame', buffered: false});
  }
}"""


def summary(times: list[float]) -> str:
    times = sorted(times)
    return (
        f"{len(times)} frames: median {statistics.median(times):.1f} ms, "
        f"95th percentile {times[int(0.95 * (len(times) - 1))]:.1f} ms, most {times[-1]:.1f} ms"
    )


def test_a_frame_of_the_16_16_network_on_200_points_costs_the_page_little(browser, server, capsys):
    context, page, guard = open_page(browser, server.url + BIG)
    try:
        page.wait_for_selector("body[data-lab='ready']")
        expect(page.locator("#train-state")).to_have_text("ready")
        x, y = map(float, page.get_attribute("#boundary-canvas", "data-first-point").split(","))
        box = page.locator("#boundary-canvas").bounding_box()
        page.mouse.click(box["x"] + x * box["width"] / 320, box["y"] + y * box["height"] / 320)
        page.wait_for_function("() => document.querySelectorAll('#sample-graph g.node').length > 30")
        page.locator("#net-diagram .unit[data-unit='2,5']").click()
        page.evaluate(OBSERVE)
        page.evaluate("() => { window.jangradLab.frameTimes = []; window.jangradLab.serverTimes = []; }")
        page.click("#train-play")
        time.sleep(5.0)
        page.click("#train-pause")
        handler = page.evaluate("() => window.jangradLab.frameTimes")
        server_work = page.evaluate("() => window.jangradLab.serverTimes")
        slow_tasks = page.evaluate("() => window.slowTasks")
        slow_frames = page.evaluate("() => window.slowFrames")
        steps = int(page.inner_text("#train-step-counter"))
        context.close()
    finally:
        if not page.is_closed():
            context.close()
    assert guard.foreign == []
    assert len(handler) >= 10 and steps > 50
    with capsys.disabled():
        print(
            f"\nframe cost, MLP(2, [16, 16, 1]) on 200 points, a sample's graph and Adam's table on screen, "
            f"{steps} steps in 5 s:"
        )
        print(f"  page main thread per frame: {summary(handler)}")
        print(f"  server's work per frame:    {summary(server_work)}")
        print(f"  long tasks (>50 ms): {len(slow_tasks)}; long animation frames (>50 ms): {len(slow_frames)}")
    # the budget is 50 ms; the bound here is generous, so that a busy shared machine does not fail the test
    assert statistics.median(handler) < 100


@pytest.mark.parametrize("width, height", [(1280, 800), (1920, 1080)])
def test_the_layout_holds_at_1280x800_and_on_a_wide_screen(browser, server, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(server.url + BIG.replace("pace=max", "pace=50"))
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector("body[data-lab='ready']")
        page.wait_for_function("() => window.jangradLab.diagram.frame !== null")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width, "no sideways scrolling"
        cards = page.eval_on_selector_all(
            "#panel-network .card:not([hidden])",
            "cs => cs.map(c => { const b = c.getBoundingClientRect(); "
            "return [c.id, b.left, b.top, b.right, b.bottom]; })",
        )
        for i, (one, *a) in enumerate(cards):
            for two, *b in cards[i + 1 :]:
                overlap_x = min(a[2], b[2]) - max(a[0], b[0])
                overlap_y = min(a[3], b[3]) - max(a[1], b[1])
                assert overlap_x <= 0 or overlap_y <= 0, f"{one} and {two} overlap"
        right = {card: box[2] for card, *box in cards}
        inside = page.eval_on_selector_all(
            "#net-diagram .diagram-label, #net-diagram .diagram-caption",
            "ls => ls.map(l => l.getBoundingClientRect().right)",
        )
        assert max(inside) <= right["part-diagram"], "the diagram's labels stay inside its card"
        bottom = {
            name: page.eval_on_selector(name, "e => e.getBoundingClientRect().bottom")
            for name in ("#boundary-canvas", "#loss-canvas", "#net-toolbar")
        }
        assert all(value <= height for value in bottom.values()), f"the pictures fit on the first screen: {bottom}"
        if width >= 1700:
            sample_top = page.eval_on_selector("#part-sample", "e => e.getBoundingClientRect().top")
            assert sample_top < 200, "on a wide screen the sample's graph sits beside the pictures"
    finally:
        context.close()
