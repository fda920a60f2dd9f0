"""``jangrad.stepper``: the backward pass rendered ahead as frames (small diffs) over ``draw``'s SVG.

The frames are replayed here the way the page's script replays them (set each ``[id, before, after]`` forwards,
undo it backwards), so these tests check what a learner sees without a browser; tests/browser/ clicks the
buttons in Chromium. The stepper only looks: it never runs backward() and changes no gradient.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from lecture import lecture_neuron
from strategies import SETTINGS, expression_dags

import jangrad
from jangrad import Value
from jangrad.engine import apply_op
from jangrad.viz.graph import fmt

pytest.importorskip("graphviz", reason="the stepper draws with jangrad.draw, which needs the graphviz package")


def replay(st, position: int) -> dict[str, str]:
    """The gradient texts the page shows after ``position`` steps: the initial texts, then the frames' diffs."""
    shown = dict(st.initial)
    for frame in st.frames[:position]:
        for node, before, after in frame["set"]:
            assert shown[node] == before, f"frame says {node} showed {before!r}, the page shows {shown[node]!r}"
            shown[node] = after
    return shown


def undo(st, shown: dict[str, str], position: int) -> dict[str, str]:
    shown = dict(shown)
    for frame in reversed(st.frames[:position]):
        for node, before, after in reversed(frame["set"]):
            assert shown[node] == after
            shown[node] = before
    return shown


def test_the_lecture_neurons_frames_are_the_golden_walk():
    st = jangrad.stepper(lecture_neuron())
    # Nodes are n<i> by topological order: x1 w1 x1*w1 x2 w2 x2*w2 x1*w1+x2*w2 b n o.
    assert [(f["lit"], f["touched"], f["set"]) for f in st.frames] == [
        (["n9"], [], [["n9", "—", "1"]]),
        (["n9", "n9op"], ["n8"], [["n8", "—", "0.5"]]),
        (["n8", "n8op"], ["n6", "n7"], [["n6", "—", "0.5"], ["n7", "—", "0.5"]]),
        (["n6", "n6op"], ["n2", "n5"], [["n2", "—", "0.5"], ["n5", "—", "0.5"]]),
        (["n5", "n5op"], ["n3", "n4"], [["n3", "—", "0.5"], ["n4", "—", "0"]]),
        (["n2", "n2op"], ["n0", "n1"], [["n0", "—", "-1.5"], ["n1", "—", "1"]]),
    ]
    assert st.frames[0]["lines"] == ["o.grad = 1.0  (do/do = 1: backward starts at the output)"]
    assert st.frames[1]["lines"] == [
        "o = tanh(n)  (tanh; o.grad = 1.0)",
        "n.grad += (1 - o.data**2) * o.grad = 0.5 * 1.0 = 0.5",
    ]
    assert st.initial == {f"n{i}": "—" for i in range(10)}


def test_each_frames_narration_is_explains_for_that_node():
    o = lecture_neuron()
    st = jangrad.stepper(o)
    told = jangrad.explain(o, quiet=True)
    assert [frame["lines"] for frame in st.frames[1:]] == [[line.strip() for line in s.lines] for s in told]


def _build(program):
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(program.inputs)]
    return program.run(leaves, apply_op)


@SETTINGS
@given(program=expression_dags())
def test_replaying_every_frame_ends_at_the_engines_gradients_and_undoing_them_starts_again(program):
    nodes = _build(program)
    out = nodes[-1]
    st = jangrad.stepper(out)  # changes nothing ...
    order = jangrad.topological_order(out)
    assert all(node.grad == 0.0 for node in order)
    out.backward()  # ... and its last frame is what backward() then gives
    final = replay(st, len(st.frames))
    for i, node in enumerate(order):
        if f"n{i}" in final:
            assert final[f"n{i}"] == fmt(node.grad), f"n{i}"
    reached = {f"n{i}" for i, node in enumerate(order) if node.label or node.parents}  # all but constants
    assert set(final) == reached
    assert undo(st, final, len(st.frames)) == st.initial  # "first" after "last": each undo checked inside
    # Every op step lights its own record and its op node; the seed lights the output alone.
    assert st.frames[0]["lit"] == [f"n{len(order) - 1}"]
    for frame in st.frames[1:]:
        record, op_node = frame["lit"]
        assert op_node == record + "op"


def test_frames_are_small_diffs_not_pictures():
    from jangrad.nn import MLP

    model = MLP(3, [10, 10, 1], seed=0)
    loss = (model([2.0, 3.0, -1.0]) - 1.0) ** 2
    st = jangrad.stepper(loss)
    frames = json.dumps(st.frames)
    assert "<svg" not in frames and "<g" not in frames
    edges = sum(len(node.parents) for node in jangrad.topological_order(loss))
    changes = sum(len(frame["set"]) for frame in st.frames)
    assert changes <= edges + 1  # one gradient text per edge walked, plus the seed
    page = st.html()
    assert page.count("<svg") == 0 and page.count("<script>") == 1  # the drawing travels as data, not markup


def test_unlabelled_leaves_fill_in_at_the_step_that_reaches_them_and_are_named_as_everywhere():
    a, b = Value(2.0), Value(3.0)
    e = a * b + a  # names: v1 = a, v2 = b, v3 = a * b, v4 = e
    st = jangrad.stepper(e)
    assert st.initial == {"n0": "—", "n1": "—", "n2": "—", "n3": "—"}  # step 0 shows no final value
    assert replay(st, 2)["n0"] == "1"  # e = v3 + v1: the first share
    assert replay(st, 3) == {"n0": "4", "n1": "2", "n2": "1", "n3": "1"}  # v3 = v1 * v2: the second, summed
    assert st.frames[2]["lines"][0] == "v3 = v1 * v2  (mul; v3.grad = 1.0)"
    assert "v1.grad is now 4: the running sum of its 2 contributions so far" in st.frames[2]["lines"]
    assert (a.grad, b.grad, e.grad) == (0.0, 0.0, 0.0)


def test_after_the_learners_backward_it_replays_that_pass_and_ends_at_what_the_values_hold():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    e = a * b
    e.label = "e"
    e.backward()
    st = jangrad.stepper(e)
    assert st.ran and st.initial == {"n0": "—", "n1": "—", "n2": "—"}  # not the final values at step 0
    assert replay(st, len(st.frames)) == {"n0": "3", "n1": "2", "n2": "1"}
    assert (a.grad, b.grad) == (3.0, 2.0)
    e.backward()  # a second pass: the leaves hold 6 and 4, 3 and 2 of it from before the last pass
    st = jangrad.stepper(e)
    assert st.initial == {"n0": "3", "n1": "2", "n2": "—"}
    assert replay(st, len(st.frames)) == {"n0": "6", "n1": "4", "n2": "1"}
    assert any("plus the 3 it held before this pass" in line for line in st.frames[1]["lines"])
    assert (a.grad, b.grad) == (6.0, 4.0)


def test_a_leaf_holding_a_gradient_from_another_graph_starts_from_it():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    (a * b).backward()  # a.grad = 3, b.grad = 2
    e = a * b
    e.label = "e"
    st = jangrad.stepper(e)
    assert not st.ran and st.initial == {"n0": "3", "n1": "2", "n2": "—"}
    assert replay(st, len(st.frames)) == {"n0": "6", "n1": "4", "n2": "1"}  # what e.backward() would leave
    assert (a.grad, b.grad, e.grad) == (3.0, 2.0, 0.0)


def test_a_graph_above_max_nodes_lights_neuron_boxes():
    from jangrad.nn import MLP

    model = MLP(2, [3, 1], seed=0)
    loss = (model([1.0, -1.0]) - 0.5) ** 2
    st = jangrad.stepper(loss, max_nodes=10)
    lit = {name for frame in st.frames for name in frame["lit"]}
    assert lit and all(name.startswith("g") for name in lit)  # group boxes, not single records
    # The narration names the box it lights: "v7, in layers.0.neurons.1:" above the step's formula.
    heads = [frame["lines"][0] for frame in st.frames[1:]]
    # (A neuron's own output is named after its box, so its step needs no such line.)
    for head in heads:
        assert re.fullmatch(r"v\d+, in (layers\.\d\.neurons\.\d|output):", head) or re.match(
            r"layers\.\d\.neurons\.\d = ", head
        ), head
    assert sum("in layers.0.neurons.1:" in head for head in heads) >= 2
    # A neuron's box keeps its final numbers; only nodes drawn on their own (here the inputs) fill in.
    assert {node for frame in st.frames for node, _, _ in frame["set"]} == {"n2", "n5"}
    assert len(st.frames) == len([n for n in jangrad.topological_order(loss) if n.parents]) + 1


def script_data(page: str) -> dict:
    """The data the page's script carries (JSON, with < and > escaped)."""
    return json.loads(re.search(r"\}\)\(document\.currentScript, (.*)\);\n//-->", page, re.S).group(1))


def test_the_html_fetches_nothing_and_a_label_cannot_end_its_script_or_its_comment():
    a = Value(1.0, label="</script><script>alert(1)</script>-->")
    out = a * 2
    out.label = "out"
    page = jangrad.stepper(out).html()
    assert "<script>alert(1)" not in page and page.count("-->") == 1 and page.count("</script>") == 1
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # no URL the browser would fetch
    assert "fetch(" not in page and "import(" not in page
    assert script_data(page)["frames"][1]["lines"][0].startswith("out = (</script>")


def test_the_script_can_sit_in_a_comment_that_sanitizers_drop_whole():
    from jangrad.viz.stepper_client import SCRIPT

    assert "--" not in SCRIPT and "</" not in SCRIPT and "<script" not in SCRIPT.lower() and "<!" not in SCRIPT
    page = jangrad.stepper(lecture_neuron()).html()
    # one line of text, then the script inside an HTML comment, and nothing else
    assert re.match(r'<b class="jg-static" id="jangrad-stepper-[0-9a-f]{16}">[^<>]*</b><script><!--\n', page)
    assert page.endswith("\n//--></script>") and page.count("<!--") == 1
    data = re.search(r"\}\)\(document\.currentScript, (.*)\);\n//-->", page, re.S).group(1)
    assert "<" not in data and ">" not in data and "<svg" in script_data(page)["svg"]


def test_without_the_dot_program_it_still_steps(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no Graphviz 'dot' to find
    st = jangrad.stepper(lecture_neuron())
    assert len(st.frames) == 6 and st.frames[1]["lines"][0] == "o = tanh(n)  (tanh; o.grad = 1.0)"
    if st.svg is None:  # draw made no picture here: the page says so in one line and the steps still work
        assert "'dot' is not installed" in st.html()
    else:  # draw's own renderer drew it: every node the frames name is in the picture
        titles = set(re.findall(r"<title>([^<]*)</title>", st.svg)) | set(re.findall(r'id="([^"]+)"', st.svg))
        assert {name for frame in st.frames for name in frame["lit"] + frame["touched"]} <= titles


def test_save_writes_a_page_and_refuses_other_suffixes(tmp_path):
    st = jangrad.stepper(lecture_neuron())
    path = st.save(tmp_path / "steps.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'class="jg-static"' in text and st.html() in text
    with pytest.raises(ValueError, match="expected a name ending in .html"):
        st.save(tmp_path / "steps.svg")
    assert "6 steps over 10 nodes of o" in repr(st)
    assert st._repr_html_() == st.html() == jangrad.stepper(lecture_neuron()).html()  # the same every run


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="stepper expects a Value, got 2 of type int"):
        jangrad.stepper(2)
    with pytest.raises(ValueError, match="max_nodes must be a positive int, got 0"):
        jangrad.stepper(lecture_neuron(), max_nodes=0)
    o = lecture_neuron()
    with pytest.raises(ValueError, match="rankdir must be 'LR', 'RL', 'TB' or 'BT', got 'sideways'"):
        jangrad.stepper(o, rankdir="sideways")
    assert o.grad == 0.0  # refused before backward ran


def test_an_op_built_by_hand_steps_with_the_learners_own_backward():
    x = Value(0.5, label="x")
    cube = Value(x.data**3, (x,), "cube", label="c")

    def _backward():
        x.grad += 3 * x.data**2 * cube.grad

    cube._backward = _backward
    y = cube * 2
    y.label = "y"
    st = jangrad.stepper(y)
    assert st.frames[2]["lines"] == ["c = cube(x)  (cube; c.grad = 2.0)", "x.grad += dc/dx * c.grad = 0.75 * 2.0 = 1.5"]
    assert st.frames[2]["lit"] == ["n1", "n1op"] and replay(st, 3)["n0"] == "1.5"
    assert x.grad == 0.0
    y.backward()
    assert fmt(x.grad) == "1.5"


def test_when_no_drawing_can_be_made_it_still_steps_and_says_why_in_one_line(monkeypatch):
    from jangrad.viz import graph, render

    def broken(scene):
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(graph, "graphviz_installed", lambda: False)
    monkeypatch.setattr(render, "svg_text", broken)
    st = jangrad.stepper(lecture_neuron())
    assert st.svg is None and len(st.frames) == 6
    assert st.note == (
        "no drawing here (the drawing failed (RuntimeError: the renderer broke)); the steps and their narration "
        "still work"
    )
    assert script_data(st.html())["note"] == st.note
