"""The built-in renderer: pictures with no Graphviz program. Its SVG is parsed back and checked box by box:
every node's label, data and grad are there, no two boxes overlap, and every arrow joins the boxes it names."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from lecture import lecture_L
from strategies import SETTINGS, expression_dags

import jangrad
from jangrad import Value
from jangrad.engine import apply_op
from jangrad.viz import GraphvizNotFound, draw
from jangrad.viz.layout import _layers
from jangrad.viz.names import NodeNames

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"
PNG = b"\x89PNG\r\n\x1a\n"


def lecture():
    """Karpathy's first example: L = (a*b + c) * f, every node labelled, after backward."""
    L = lecture_L()
    L.backward()
    return L


def forty():
    """A neuron whose tanh is written out with exp (as in the lecture), then reused: 40 boxes, long arrows."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    e = (2 * n).exp()
    e.label = "e"
    o = (e - 1) / (e + 1)
    o.label = "o"
    y = o * x1 + (o - w2) ** 2 + x2 * b
    y.label = "y"
    y.backward()
    return y


def parse(svg: str) -> tuple[dict[str, dict], list[tuple[str, str, tuple, tuple]]]:
    """Boxes by id (their texts and bounding box) and arrows (tail, head, start point, arrow tip)."""
    root = ET.fromstring(svg.encode("utf-8"))
    boxes, arrows = {}, []
    for group in root.iter(SVG + "g"):
        kind = group.get("class")
        if kind == "node":
            xs, ys = [], []
            for outline in group.findall(SVG + "polygon"):
                points = [tuple(map(float, p.split(","))) for p in outline.get("points").split()]
                xs += [x for x, _ in points]
                ys += [y for _, y in points]
            for ellipse in group.findall(SVG + "ellipse"):
                cx, cy, rx, ry = (float(ellipse.get(k)) for k in ("cx", "cy", "rx", "ry"))
                xs += [cx - rx, cx + rx]
                ys += [cy - ry, cy + ry]
            texts = [t.text for t in group.findall(SVG + "text")]
            assert group.find(SVG + "title").text == group.get("id")
            boxes[group.get("id")] = {"texts": texts, "bbox": (min(xs), min(ys), max(xs), max(ys))}
        elif kind == "edge":
            tail, head = group.find(SVG + "title").text.split("->")
            start = tuple(map(float, re.match(r"M([-\d.]+),([-\d.]+)", group.find(SVG + "path").get("d")).groups()))
            tip = tuple(map(float, group.find(SVG + "polygon").get("points").split()[0].split(",")))
            arrows.append((tail, head, start, tip))
    return boxes, arrows


def on_border(point: tuple, bbox: tuple, tolerance: float = 0.6) -> bool:
    x, y = point
    left, top, right, bottom = bbox
    inside = left - tolerance <= x <= right + tolerance and top - tolerance <= y <= bottom + tolerance
    near_side = min(abs(x - left), abs(x - right), abs(y - top), abs(y - bottom)) <= tolerance
    return inside and near_side


def overlapping(boxes: dict[str, dict]) -> list[tuple[str, str]]:
    found = []
    items = sorted(boxes.items())
    for i, (a, box_a) in enumerate(items):
        for b, box_b in items[i + 1 :]:
            l1, t1, r1, b1 = box_a["bbox"]
            l2, t2, r2, b2 = box_b["bbox"]
            if l1 < r2 and l2 < r1 and t1 < b2 and t2 < b1:
                found.append((a, b))
    return found


def check_drawing(root: Value, **options) -> tuple[dict, list]:
    """Every check the issue asks of the fallback's SVG, against the graph itself."""
    drawing = draw(root, renderer="builtin", **options)
    boxes, arrows = parse(drawing.pipe("svg").decode("utf-8"))
    order = jangrad.topological_order(root)
    names = NodeNames(root)  # the names every view gives
    for i, node in enumerate(order):
        box_id = drawing.boxes.get(f"n{i}")
        if box_id is None:
            continue  # a constant folded into its op node (x ** 2)
        texts = boxes[box_id]["texts"]
        if box_id == f"n{i}":  # drawn on its own: its record, in order
            assert texts == [names[node], f"data {node.data:.4g}", f"grad {node.grad:.4g}"], (i, texts)
            if node.parents:
                assert f"n{i}op" in boxes
    assert set(drawing.boxes.values()) <= set(boxes)
    assert overlapping(boxes) == []
    scene_edges = drawing.scene.edges
    assert sorted((t, h) for t, h, _, _ in arrows) == sorted(scene_edges)
    for tail, head, start, tip in arrows:
        assert on_border(start, boxes[tail]["bbox"]), (tail, head, start, boxes[tail]["bbox"])
        assert on_border(tip, boxes[head]["bbox"]), (tail, head, tip, boxes[head]["bbox"])
    return boxes, arrows


def test_lecture_graph_every_record_no_overlap_and_arrows_join_the_right_boxes():
    L = lecture()
    boxes, arrows = check_drawing(L)
    assert len(boxes) == 10 and len(arrows) == 9  # 7 records, 3 op nodes
    texts = {tuple(b["texts"]) for b in boxes.values()}
    assert ("a", "data 2", "grad 6") in texts and ("L", "data -8", "grad 1") in texts
    assert ("*",) in texts and ("+",) in texts
    # inputs on the left, the output on the right, as in the lecture's picture
    left = {name: boxes[name]["bbox"][0] for name in boxes}
    order = jangrad.topological_order(L)
    assert left[f"n{order.index(L)}"] == max(left.values())


def test_forty_box_graph_with_reuse_and_long_arrows():
    y = forty()
    boxes, arrows = check_drawing(y)
    assert len(boxes) >= 38 and len(arrows) >= 40
    # and top to bottom: the same checks hold when the layers run down the page
    check_drawing(y, rankdir="TB")
    check_drawing(y, rankdir="RL")


@SETTINGS
@given(expression_dags(max_steps=8))
def test_any_expression_draws_without_overlaps_or_stray_arrows(program):
    nodes = program.run([Value(x, label=f"x{i}") for i, x in enumerate(program.inputs)], apply_op)
    out = nodes[-1]
    out.backward()
    check_drawing(out)


def test_layers_put_each_node_just_before_its_first_consumer_and_survive_a_cycle():
    # 0 -> 2, 1 -> 3, 2 -> 3: node 1 (an input) sits beside its consumer, not in the far-left column
    assert _layers(4, [(0, 2), (1, 3), (2, 3)]) == [0, 1, 1, 2]
    # a cycle (a user's group rule can make one) still gives every node a layer
    layers = _layers(3, [(0, 1), (1, 2), (2, 1)])
    assert len(layers) == 3 and all(layer >= 0 for layer in layers)


def test_same_graph_same_svg_and_png_with_no_system_package(tmp_path):
    L = lecture()
    first = draw(L, renderer="builtin").pipe("svg")
    assert draw(L, renderer="builtin").pipe("svg") == first  # deterministic: no ids from object addresses
    drawing = draw(L, renderer="builtin")
    png = drawing.save(tmp_path / "g.png")
    assert png.read_bytes().startswith(PNG)
    svg = drawing.save(tmp_path / "g.svg")
    assert ET.parse(svg).getroot().tag == SVG + "svg"
    assert ET.fromstring(drawing._repr_svg_().encode()).tag == SVG + "svg"
    assert "image/svg+xml" in drawing._repr_mimebundle_()


def test_highlighted_node_is_red_in_the_builtin_picture():
    x, y = Value(0.3, label="x"), Value(0.8, label="y")
    t = (x * y).tanh()
    t.label = "t"
    out = t + x
    out.backward()
    drawing = draw(out, highlight=t, renderer="builtin")
    root = ET.fromstring(drawing.pipe("svg"))
    red = sorted(
        g.get("id")
        for g in root.iter(SVG + "g")
        if g.get("class") == "node" and any(s.get("stroke") == "red" for s in g)
    )
    t_id = f"n{jangrad.topological_order(out).index(t)}"
    assert red == [t_id, t_id + "op"]


def _grouped_mlp():
    """A loss whose neurons igraph alone would not keep in order (layer 1 comes out ..., 6, 8, 7, 9)."""
    from jangrad import data, losses, nn

    X, y = data.moons(n=2, seed=0, signed=True)
    model = nn.MLP(2, [10, 10, 1], activation="tanh", output_activation="linear", seed=0)
    loss = losses.hinge([model(x) for x in X], y)
    loss.backward()
    return loss


def _titles_in_order(svg: bytes, layer: int, axis: int) -> list[str]:
    """The layer's neuron boxes as the picture shows them, top to bottom (axis 1) or left to right (axis 0)."""
    root = ET.fromstring(svg)
    found = []
    for group in root.iter(SVG + "g"):
        texts = group.findall(SVG + "text")
        if group.get("class") == "node" and texts and texts[0].text.startswith(f"layers.{layer}.neurons."):
            found.append((float(texts[0].get("xy"[axis])), texts[0].text.split()[0]))
    return [title for _, title in sorted(found)]


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_grouped_mlp_neurons_appear_in_order_and_inputs_are_named_as_everywhere(rankdir):
    loss = _grouped_mlp()
    drawing = draw(loss, group=True, renderer="builtin", rankdir=rankdir)
    boxes, _ = check_drawing(loss, group=True, rankdir=rankdir)
    axis = 1 if rankdir == "LR" else 0  # neurons of one layer stack down (LR) or across (TB) the page
    for layer in (0, 1):
        assert _titles_in_order(drawing.pipe("svg"), layer, axis) == [f"layers.{layer}.neurons.{j}" for j in range(10)]
    inputs = sorted(b["texts"][0] for b in boxes.values() if b["texts"][0].startswith("x"))
    assert inputs == ["x0", "x0#2", "x1", "x1#2"]  # each sample's inputs: one name per node, as in every view


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz dot program is not installed")
def test_graphviz_keeps_the_neurons_in_order_too():
    svg = draw(_grouped_mlp(), group=True, renderer="graphviz").pipe("svg")
    for layer in (0, 1):
        assert _titles_in_order(svg, layer, 1) == [f"layers.{layer}.neurons.{j}" for j in range(10)]


def test_a_constant_is_labelled_by_its_value_never_an_empty_box():
    a = Value(3.0, label="a")
    out = a * 2 + Value(0.5)
    out.backward()
    boxes, _ = check_drawing(out)
    names = sorted(b["texts"][0] for b in boxes.values() if len(b["texts"]) == 3)
    assert names == ["2.0", "a", "v1", "v2", "v3"]  # the 2 jangrad wrapped; Value(0.5) is the learner's variable v2
    assert "{  |" not in draw(out).source and '"  |' not in draw(out).source


def test_renderer_argument_is_checked_and_forcing_graphviz_without_dot_raises(monkeypatch):
    L = lecture()
    with pytest.raises(ValueError, match="renderer must be 'auto', 'graphviz' or 'builtin', got 'cairo'"):
        draw(L, renderer="cairo")
    with pytest.raises(ValueError, match="format must be 'svg' or 'png'"):
        draw(L).pipe("pdf")
    monkeypatch.setenv("PATH", str(ROOT / "no-such-folder"))
    assert shutil.which("dot") is None
    auto = draw(L)
    assert auto.renderer_used() == "builtin"
    assert auto.pipe("svg") == draw(L, renderer="builtin").pipe("svg")
    forced = draw(L, renderer="graphviz")
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz.*renderer"):
        forced.pipe("svg")
    assert forced._repr_svg_() is None and "text/plain" in forced._repr_mimebundle_()


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz dot program is not installed")
def test_auto_prefers_graphviz_when_dot_is_installed():
    L = lecture()
    assert draw(L).renderer_used() == "graphviz"
    assert b"Generated by graphviz" in draw(L).pipe("svg")
    assert b"Generated by graphviz" not in draw(L, renderer="builtin").pipe("svg")


def _bare_path(tmp_path: Path) -> str:
    """A PATH with only a python3 in it, so no Graphviz program can be found."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python3").symlink_to(sys.executable)
    return str(folder)


def run_jangrad(args: list[str], cwd: Path, path: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "PATH": path}
    return subprocess.run(
        [sys.executable, "-m", "jangrad", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_jangrad_graph_draws_svg_and_png_without_dot(tmp_path):
    path = _bare_path(tmp_path)
    for name in ("g.svg", "g.png"):
        result = run_jangrad(
            ["graph", "tanh(a * b + c)", "--set", "a=2", "b=-3", "c=10", "--out", name], tmp_path, path
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    assert ET.parse(tmp_path / "g.svg").getroot().tag == SVG + "svg"
    assert (tmp_path / "g.png").read_bytes().startswith(PNG)
    texts = {t.text for t in ET.parse(tmp_path / "g.svg").iter(SVG + "text")}
    assert {"a", "data 2", "b", "data -3", "tanh"} <= texts


def test_jangrad_graph_renderer_option(tmp_path):
    path = _bare_path(tmp_path)
    forced = run_jangrad(
        ["graph", "a * b", "--set", "a=2", "b=-3", "--out", "g.svg", "--renderer", "graphviz"], tmp_path, path
    )
    # Forced Graphviz without its program: one line pointing at the built-in renderer, exit 2, nothing written.
    assert forced.returncode == 2, forced.stderr
    assert not (tmp_path / "g.dot").exists() and not (tmp_path / "g.svg").exists()
    assert forced.stderr.count("\n") == 1 and "--renderer builtin" in forced.stderr
    bad = run_jangrad(["graph", "a * b", "--set", "a=2", "b=-3", "--renderer", "cairo"], tmp_path, path)
    assert bad.returncode == 2 and "invalid choice: 'cairo'" in bad.stderr and "Traceback" not in bad.stderr


def test_demo_draws_its_graph_without_dot(tmp_path):
    result = run_jangrad(["demo", "--out", "d", "--no-progress"], tmp_path, _bare_path(tmp_path))
    assert result.returncode == 0, result.stderr
    svg = (tmp_path / "d" / "graph.svg").read_text()
    texts = {t.text for t in ET.fromstring(svg).iter(SVG + "text")}
    assert {"x1", "w1", "b", "o", "tanh"} <= texts
    assert "install graphviz" not in result.stdout


def test_playground_graphs_are_drawn_without_dot(monkeypatch):
    from jangrad.playground.graph_svg import render

    monkeypatch.setenv("PATH", str(ROOT / "no-such-folder"))
    a, b = Value(2.0), Value(-3.0)
    e = a * b + a
    e.backward()
    drawn = render(e)
    assert drawn["svg_note"] == "" and drawn["svg"].startswith("<svg")
    root = ET.fromstring(drawn["svg"])
    ids = {g.get("id") for g in root.iter(SVG + "g") if g.get("class") == "node"}
    assert {"n0", "n1", "n2", "n2op", "n3", "n3op"} <= ids  # the stepper finds boxes by these ids
    grads = [g.findall(SVG + "text")[-1].text for g in root.iter(SVG + "g") if g.get("id") == "n3"]
    assert grads == ["grad —"]  # blanked for the page's stepper to fill in
