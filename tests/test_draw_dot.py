"""``jangrad.draw_dot``: the lecture's drawing function, with the lecture's record and op nodes, as a Digraph."""

from __future__ import annotations

import shutil

import pytest
from lecture import lecture_neuron, lectures_draw_dot

import jangrad
from jangrad import Value

graphviz = pytest.importorskip("graphviz", reason="draw_dot needs the graphviz Python package")


NEURON_DOT = """digraph {
	graph [rankdir=LR]
	n0 [label="{ x1 | data 2.0000 | grad -1.5000 }" shape=record]
	n1 [label="{ w1 | data -3.0000 | grad 1.0000 }" shape=record]
	n2 [label="{ x1*w1 | data -6.0000 | grad 0.5000 }" shape=record]
	n2op [label="*"]
	n2op -> n2
	n3 [label="{ x2 | data 0.0000 | grad 0.5000 }" shape=record]
	n4 [label="{ w2 | data 1.0000 | grad 0.0000 }" shape=record]
	n5 [label="{ x2*w2 | data 0.0000 | grad 0.5000 }" shape=record]
	n5op [label="*"]
	n5op -> n5
	n6 [label="{ x1*w1 + x2*w2 | data -6.0000 | grad 0.5000 }" shape=record]
	n6op [label="+"]
	n6op -> n6
	n7 [label="{ b | data 6.8814 | grad 0.5000 }" shape=record]
	n8 [label="{ n | data 0.8814 | grad 0.5000 }" shape=record]
	n8op [label="+"]
	n8op -> n8
	n9 [label="{ o | data 0.7071 | grad 1.0000 }" shape=record]
	n9op [label=tanh]
	n9op -> n9
	n0 -> n2op
	n1 -> n2op
	n3 -> n5op
	n4 -> n5op
	n2 -> n6op
	n5 -> n6op
	n6 -> n8op
	n7 -> n8op
	n8 -> n9op
}
"""


def test_the_lecture_neuron_after_backward_is_the_golden_dot_text():
    o = lecture_neuron()
    o.backward()
    dot = jangrad.draw_dot(o)
    assert isinstance(dot, graphviz.Digraph)
    assert dot.source == NEURON_DOT
    assert dot.format == "svg"


def test_the_same_graph_gives_the_same_text_every_time():
    first, second = lecture_neuron(), lecture_neuron()
    assert jangrad.draw_dot(first).source == jangrad.draw_dot(second).source
    assert "grad 0.0000" in jangrad.draw_dot(first).source  # before backward every gradient is 0


def test_format_and_rankdir_are_the_lectures_arguments():
    dot = jangrad.draw_dot(lecture_neuron(), format="png", rankdir="TB")
    assert dot.format == "png" and "rankdir=TB" in dot.source
    with pytest.raises(ValueError, match="rankdir must be 'LR'.*got 'XY'"):
        jangrad.draw_dot(lecture_neuron(), rankdir="XY")
    with pytest.raises(ValueError, match="format must be a Graphviz output format"):
        jangrad.draw_dot(lecture_neuron(), format="")
    with pytest.raises(TypeError, match="draw_dot expects a Value, got 3.0 of type float"):
        jangrad.draw_dot(3.0)


def test_op_nodes_show_the_lectures_symbols():
    a = Value(-2.0, label="a")
    squared = a**2
    squared.label = "sq"
    out = (squared.relu() * a.exp()) / (a - 1.5) + a**0.5
    out.label = "out"
    source = jangrad.draw_dot(out).source
    op_labels = sorted(
        line.split("[label=")[1].rstrip("]").strip('"') for line in source.splitlines() if "op [label=" in line
    )
    assert op_labels == sorted(["**2", "ReLU", "exp", "*", "-", "/", "**0.5", "+"])
    assert "data 2.0000" not in source  # the exponent is inside its op node, as micrograd's __pow__ draws it


def test_a_node_used_twice_has_one_edge_per_operand_as_in_the_lectures_edge_set():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    source = jangrad.draw_dot(b).source
    assert source.count("n0 -> n1op") == 1


def test_a_constant_operand_that_is_a_variable_elsewhere_keeps_its_box():
    a = Value(2.0, label="a")
    c = Value(3.0)  # a plain leaf, used as an exponent once and as a factor once
    out = a**c + c * a
    assert "data 3.0000" in jangrad.draw_dot(out).source


def test_labels_with_record_characters_draw_as_text():
    a = Value(1.0, label="{a|b}")
    out = a + 1
    assert r"{ \{a\|b\} | data 1.0000" in jangrad.draw_dot(out).source


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' program is not installed")
def test_it_renders_to_svg_with_the_records_and_op_symbols():
    o = lecture_neuron()
    o.backward()
    svg = jangrad.draw_dot(o).pipe().decode("utf-8")
    assert "<svg" in svg and "tanh" in svg and "grad &#45;1.5000" in svg


def test_it_is_exported_from_the_pictures_package():
    from jangrad.viz import draw_dot

    assert draw_dot is jangrad.draw_dot


def test_an_op_built_by_hand_shows_the_symbol_it_was_given():
    x = Value(0.5, label="x")
    out = Value(x.data**3, (x,), "cube", label="c")
    assert out._op == "cube"
    source = jangrad.draw_dot(out).source
    assert "n1op [label=cube]" in source and "n0 -> n1op" in source
    plain = Value(1.0, (x,), "", label="p")  # no _op: the lecture's draw_dot points the operand at the node
    assert "n0 -> n1\n" in jangrad.draw_dot(plain).source


def test_the_op_node_text_is_the_nodes_own_op_string():
    a = Value(-2.0, label="a")
    nodes = [a + 1, a * 2, a.tanh(), a.exp(), a**2, a.relu(), a**0.5, a - 1, a / 2]
    for node in nodes:
        assert f"n{len(jangrad.topological_order(node)) - 1}op [label=" in jangrad.draw_dot(node).source
        label = jangrad.draw_dot(node).source.split("op [label=")[1].split("]")[0].strip('"')
        assert label == node._op


def _picture(source: str) -> tuple[list[str], list[tuple[str, str]]]:
    """What a DOT text shows, without its node names: every node's label, and every edge as (label, label). An op
    node is told apart by the record it feeds, so two '+' nodes stay two."""
    import re

    labels = dict(re.findall(r'^\s*"?([^\s"\[]+)"? \[label="?(.*?)"?(?: shape=record)?\]$', source, re.M))
    edges = re.findall(r'^\s*"?([^\s"]+?)"? -> "?([^\s"]+?)"?$', source, re.M)
    feeds = {tail: head for tail, head in edges if tail in labels and not labels[tail].startswith("{")}

    def shown(name: str) -> str:
        if labels[name].startswith("{"):
            return labels[name]
        return f"({labels[name]} into {labels[feeds[name]]})"

    return sorted(shown(name) for name in labels), sorted((shown(a), shown(b)) for a, b in edges)


def test_it_draws_the_picture_the_lectures_own_draw_dot_draws():
    o = lecture_neuron()
    o.backward()
    ours, lectures = _picture(jangrad.draw_dot(o).source), _picture(lectures_draw_dot(o).source)
    assert ours == lectures
    assert len(ours[0]) == 15 and len(ours[1]) == 14  # 10 records, 5 op nodes; 5 op -> record and 9 operand edges


def test_a_record_without_a_label_shows_the_name_every_view_gives_it():
    a, b = Value(2.0), Value(3.0)  # the learner's unlabelled Values: variables v1, v2
    e = a * b + 2
    source = jangrad.draw_dot(e).source
    for name in ("v1", "v2", "v3", "v4", "2.0"):
        assert f'label="{{ {name} | data ' in source, name
    assert '"{  |' not in source  # the lecture's blank name is gone


def _no_dot_path(tmp_path):
    """A PATH with this Python on it and no Graphviz program."""
    import os
    import sys

    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    if not (folder / "python3").exists():
        (folder / "python3").symlink_to(sys.executable)
    assert shutil.which("dot", path=str(folder)) is None
    return os.pathsep.join([str(folder)])


def test_without_the_dot_program_it_shows_inline_renders_and_pipes_through_the_builtin_renderer(tmp_path):
    """Issue 19: what draw_dot returns stays a graphviz.Digraph and draws without Graphviz (svg and png)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    script = f"""
import sys, graphviz, jangrad
sys.path.insert(0, {str(root / "tests")!r})
from lecture import lecture_neuron
o = lecture_neuron()
o.backward()
dot = jangrad.draw_dot(o)
assert isinstance(dot, graphviz.Digraph) and type(dot).__name__ == "Digraph"
bundle = dot._repr_mimebundle_()
assert bundle["image/svg+xml"].lstrip().startswith("<?xml") and "grad -1.5000" in bundle["image/svg+xml"]
assert dot.pipe().startswith(b"<?xml") and dot.pipe(format="png").startswith(b"\\x89PNG")
assert dot.pipe(encoding="utf-8").startswith("<?xml")
print("RENDERED", dot.render(directory="out"), dot.render("neuron", directory="out", format="png"))
print("OUTFILE", dot.render(outfile="named.svg"))  # inside dot.directory, "out" since the renders above
print("COPY", "image/svg+xml" in dot.copy()._repr_mimebundle_())
try:
    dot.render(directory="out", format="pdf")
except ValueError as error:
    print("PDF", error)
"""
    env = {**os.environ, "PATH": _no_dot_path(tmp_path), "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["RENDERED"] == "out/Digraph.gv.svg out/neuron.png"  # graphviz's own file names
    assert (tmp_path / "out" / "Digraph.gv").read_text().startswith("digraph {")  # the source, as graphviz saves it
    svg = (tmp_path / "out" / "Digraph.gv.svg").read_text()
    assert "grad -1.5000" in svg and "tanh" in svg and "Generated by graphviz" not in svg
    assert (tmp_path / "out" / "neuron.png").read_bytes().startswith(b"\x89PNG")
    assert lines["OUTFILE"] == "out/named.svg" and (tmp_path / "out" / "named.svg").exists()
    assert lines["COPY"] == "True"
    assert "jangrad draws 'svg' or 'png', not 'pdf'" in lines["PDF"] and "install Graphviz" in lines["PDF"]


def test_its_notebook_display_never_raises(monkeypatch):
    from jangrad.viz import lecture

    dot = jangrad.draw_dot(lecture_neuron())

    def broken(*args, **kwargs):
        raise RuntimeError("the renderer broke\nover two lines")

    monkeypatch.setattr(lecture, "_without_dot", lambda: True)
    monkeypatch.setattr(lecture, "_builtin_picture", broken)
    bundle = dot._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert bundle["text/plain"] == "draw_dot: no picture here (RuntimeError: the renderer broke over two lines)"


def test_in_a_notebook_the_picture_is_sized_to_the_output_area():
    from jangrad.viz.sizing import MIN_SCALE, NOTEBOOK_WIDTH, svg_size

    o = lecture_neuron()
    natural = svg_size(jangrad.draw_dot(o).pipe(encoding="utf-8"))
    shown = svg_size(jangrad.draw_dot(o)._repr_mimebundle_()["image/svg+xml"])
    assert natural[0] > NOTEBOOK_WIDTH  # the lecture's records sit side by side: a wide picture
    scale = shown[0] / natural[0]
    assert shown[0] <= NOTEBOOK_WIDTH or scale == pytest.approx(MIN_SCALE, rel=1e-3)  # fits, or stays legible
    assert shown[1] / natural[1] == pytest.approx(scale, rel=1e-2)
