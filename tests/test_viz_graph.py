"""Drawings: DOT, SVG and PNG files, grouping of big graphs, highlighting, and life without the dot program."""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import jangrad
from jangrad import Value, ops
from jangrad.viz import GraphvizNotFound, draw, draw_gradcheck, first_disagreeing_node

ROOT = Path(__file__).resolve().parents[1]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz dot program is not installed")


def neuron():
    """The lecture's neuron, every node labelled, after backward."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    s = x1w1 + x2w2
    s.label = "s"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, jangrad.topological_order(o)


def test_dot_text_has_a_record_per_value_and_an_op_node_per_op():
    o, nodes = neuron()
    source = draw(o).source
    # Each record stacks its name over its data and grad (no braces in an LR drawing), keeping it narrow.
    records = re.findall(r'\[label="([^|"]*) \| data ([^ ]*) \| grad ([^ "]*)"', source)
    assert sorted(r[0] for r in records) == sorted(n.label for n in nodes)
    for label, data, grad in records:
        node = next(n for n in nodes if n.label == label)
        assert float(data) == pytest.approx(node.data, rel=1e-3, abs=1e-12)
        assert float(grad) == pytest.approx(node.grad, rel=1e-3, abs=1e-12)
    op_nodes = re.findall(r"(\w+op) \[label=", source)
    assert len(op_nodes) == sum(1 for n in nodes if n.parents)
    assert source.count("->") == sum(len(n.parents) + 1 for n in nodes if n.parents)
    assert draw(o).source == source  # the same graph, the same text
    assert "rankdir=TB" in draw(o, rankdir="TB").source


def test_unlabelled_nodes_take_every_views_names_and_a_constant_exponent_is_folded():
    a = Value(3.0, label="a")
    out = (a**2).exp()
    source = draw(out).source
    assert 'label="v1 | data 9 |' in source and 'label="v2 | data 8103 |' in source  # as explain names them
    assert 'label="**2"' in source and "label=exp" in source  # the op nodes say which op
    assert "data 3 |" in source and source.count("shape=record") == 3  # a, a**2, exp: the constant 2 is folded
    assert "rankdir=TB" in draw(out, rankdir="TB").source and 'label="{ v1 | data 9 |' in draw(out, rankdir="TB").source


@needs_dot
def test_svg_parses_as_xml_and_holds_every_label_and_gradient(tmp_path):
    o, nodes = neuron()
    path = draw(o).save(tmp_path / "g.svg")
    tree = ET.parse(path)
    texts = [t.text.strip() for t in tree.iter() if t.tag.endswith("text") and t.text]
    for node in nodes:
        assert node.label in texts
        assert f"grad {node.grad:.4g}" in texts, node.label


@needs_dot
def test_png_signature_and_jupyter_forms(tmp_path):
    o, _ = neuron()
    drawing = draw(o)
    path = drawing.save(tmp_path / "g.png")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # an ordinary file, not mkstemp's private one
    assert ET.fromstring(drawing._repr_svg_().encode()).tag.endswith("svg")
    assert "image/svg+xml" in drawing._repr_mimebundle_()


def test_save_checks_the_suffix_and_folder(tmp_path):
    o, _ = neuron()
    drawing = draw(o)
    assert (drawing.save(tmp_path / "g.dot")).read_text() == drawing.source
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.dot"):
        drawing.save(tmp_path / "g.pdf")
    with pytest.raises(FileNotFoundError):
        drawing.save(tmp_path / "missing" / "g.dot")
    with pytest.raises(TypeError):
        draw(3.0)
    with pytest.raises(ValueError):
        draw(o, rankdir="XY")


def test_pictures_and_dot_text_with_dot_hidden_from_path(tmp_path):
    hidden = os.path.dirname(sys.executable)
    if shutil.which("dot", path=hidden):
        pytest.skip("dot sits next to the Python interpreter")
    script = (
        "import jangrad\n"
        "from jangrad.viz import GraphvizNotFound\n"
        "a = jangrad.Value(2.0, label='a'); b = jangrad.Value(-3.0, label='b'); e = a * b; e.backward()\n"
        "d = jangrad.draw(e)\n"
        "d.save('g.dot'); d.save('g.svg'); d.save('g.png')\n"
        "assert d._repr_svg_().startswith('<?xml') and 'image/svg+xml' in d._repr_mimebundle_()\n"
        "try:\n"
        "    jangrad.draw(e, renderer='graphviz').save('forced.svg')\n"
        "except GraphvizNotFound as error:\n"
        "    print('HINT', error)\n"
    )
    env = {**os.environ, "PATH": hidden, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert '"a | data 2 | grad -3"' in (tmp_path / "g.dot").read_text()
    texts = [t.text for t in ET.parse(tmp_path / "g.svg").iter() if t.tag.endswith("text")]
    assert texts[texts.index("a") : texts.index("a") + 3] == ["a", "data 2", "grad -3"]
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not (tmp_path / "forced.svg").exists()
    hint = result.stdout.strip().splitlines()
    assert len(hint) == 1 and "apt-get install graphviz" in hint[0]


def test_highlight_marks_exactly_the_node_whose_rule_is_wrong(monkeypatch):
    broken = ops.Op(
        "tanh",
        1,
        "tanh",
        ops.OPS["tanh"].forward,
        lambda m, g, out, x: (g * (1.0 + out * out),),
        "a deliberately wrong rule",
    )
    monkeypatch.setitem(ops.OPS, "tanh", broken)
    with pytest.raises(jangrad.GradcheckError):
        jangrad.gradcheck(lambda x, y: (x * y).tanh() + x, 0.3, 0.8)
    x, y = Value(0.3, label="x"), Value(0.8, label="y")
    t = (x * y).tanh()
    t.label = "t"
    out = t + x
    out.backward()
    culprit = first_disagreeing_node(out)
    assert culprit is t
    red = [line for line in draw(out, highlight=culprit).source.splitlines() if "color=red" in line]
    assert len(red) == 2 and '"t |' in red[0]  # the record and its op node
    drawing, node = draw_gradcheck(lambda x, y: (x * y).tanh() + x, 0.3, 0.8)
    assert node.op == "tanh" and node.parents[0].op == "mul"
    assert (
        [line for line in drawing.source.splitlines() if "color=red" in line][0].lstrip().startswith('n3 [label="v2 |')
    )


def test_draw_gradcheck_passes_the_drawing_options_to_draw():
    drawing, node = draw_gradcheck(lambda x, y: x * y + x, 0.3, 0.8, rankdir="TB", renderer="builtin")
    assert node is None  # every rule of the table agrees
    assert drawing.renderer == "builtin" and "rankdir=TB" in drawing.source
    with pytest.raises(TypeError):
        draw_gradcheck(lambda x: x.tanh(), 0.3, highlight=None)  # the drawing's highlight is the culprit


def test_first_disagreeing_node_is_none_for_the_real_op_table():
    a, b = Value(0.5), Value(1.5)
    out = ((a * b).sigmoid() + (a / b).log() - (a**3).gelu()).erf() + abs(a - b).sqrt()
    assert first_disagreeing_node(out) is None


def _mlp_loss():
    from jangrad import data, losses, nn

    X, y = data.moons(n=4, seed=0, signed=True)
    model = nn.MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=0)
    loss = losses.hinge([model(x) for x in X], y) + 1e-4 * losses.l2(model.parameters())
    loss.backward()
    return model, loss


def test_big_mlp_graph_is_grouped_by_neuron():
    model, loss = _mlp_loss()
    assert len(jangrad.topological_order(loss)) > 1000
    source = draw(loss).source
    boxes = re.findall(r'^\s*(g\d+) \[label="([^"]*)"', source, flags=re.M)
    titles = [label.split(" |")[0] for _, label in boxes]
    for layer in (0, 1):
        for j in range(16):
            assert f"layers.{layer}.neurons.{j} (relu) x4" in titles
    assert "layers.2.neurons.0 (linear) x4" in titles
    assert len(re.findall(r"^\s*\w+ \[label=", source, flags=re.M)) < 60  # readable: ~35 neurons plus the inputs
    assert len(re.findall(r"->", source)) < 600
    neuron = model.layers[1].neurons[3]
    outputs = [n for n in jangrad.topological_order(loss) if n.label == neuron.name]
    box = next(label for _, label in boxes if label.startswith(neuron.name + " "))
    assert f"grad {outputs[0].grad:.4g}" in box
    assert draw(loss, group=False).source.count("shape=record") > 1000


def test_group_by_a_user_rule_and_highlight_inside_a_group():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    left = (a * b).tanh()
    right = (a + b).exp()
    out = left + right
    out.backward()
    side = {id(n): "left" for n in jangrad.topological_order(left) if n.parents}
    side.update({id(n): "right" for n in jangrad.topological_order(right) if n.parents})
    source = draw(out, group=lambda n: side.get(id(n)), highlight=right).source
    assert f'label="left (tanh) | data {left.data:.4g} | grad {left.grad:.4g} | 2 nodes"' in source
    assert f'label="right (exp) | data {right.data:.4g} | grad {right.grad:.4g} | 2 nodes"' in source
    right_box = next(line for line in source.splitlines() if "right" in line)
    assert "color=red" in right_box


def test_import_jangrad_stays_light():
    script = (
        "import sys, jangrad\n"
        "heavy = [m for m in ('graphviz', 'matplotlib', 'torch') if m in sys.modules]\n"
        "print(heavy, callable(jangrad.draw), callable(jangrad.ascii), callable(jangrad.explain))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[] True True True", result.stderr


# ---- in a notebook: sized to the output area, and never a traceback ---------------------------------------------
def test_the_lectures_neuron_fits_a_notebooks_output_area_and_stays_legible():
    """Issue 24: the neuron drawn by draw was 1,239 px wide in JupyterLab's 968 px output area, cut off."""
    from jangrad.viz.sizing import MIN_SCALE, NOTEBOOK_WIDTH, svg_size

    o, _ = neuron()
    for renderer in ("builtin", "graphviz") if shutil.which("dot") else ("builtin",):
        drawing = draw(o, renderer=renderer)
        natural = svg_size(drawing.pipe("svg").decode("utf-8"))
        shown = svg_size(drawing._repr_mimebundle_()["image/svg+xml"])
        assert shown[0] <= NOTEBOOK_WIDTH, renderer
        assert shown[0] / natural[0] >= 0.7 > MIN_SCALE, renderer  # 14 pt text shown at 13 px or more
    assert 'width="968px"' in draw(o)._repr_svg_()


def test_a_drawing_that_cannot_be_made_says_why_in_one_line_instead_of_raising(monkeypatch):
    from jangrad.viz import graph, render

    o, _ = neuron()
    monkeypatch.setattr(graph, "graphviz_installed", lambda: False)
    forced = draw(o, renderer="graphviz")

    def missing(format):
        raise GraphvizNotFound(graph.INSTALL_HINT)

    monkeypatch.setattr(forced, "_graphviz", missing)
    bundle = forced._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "\n" not in bundle["text/plain"]
    assert "no picture here: the Graphviz 'dot' program is not installed" in bundle["text/plain"]
    assert forced._repr_svg_() is None

    def broken(scene):
        raise MemoryError("no room")

    monkeypatch.setattr(render, "svg_text", broken)
    failed = draw(o, renderer="builtin")._repr_mimebundle_()
    assert (
        failed == {"text/plain": failed["text/plain"]}
        and "the drawing failed (MemoryError: no room)" in failed["text/plain"]
    )


def test_a_graph_too_big_to_lay_out_inline_is_one_line_pointing_at_grouping(monkeypatch):
    from jangrad.viz import graph

    monkeypatch.setattr(graph, "MAX_INLINE_BOXES", 5)
    o, _ = neuron()
    bundle = draw(o, group=False)._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "15 boxes are too many to draw inline: draw(..., group=True)" in bundle["text/plain"]
