"""One name per node in every view (issue 19): the drawing's boxes, draw_dot's records, the ASCII tree, explain's
narration and the steppers' steps all call a node what ``jangrad.viz.names`` calls it; where a big graph is drawn
grouped, each step names the box it lights, as the box itself is titled."""

from __future__ import annotations

import re

import jangrad
from jangrad import Value
from jangrad.viz.names import NodeNames, is_constant
from jangrad.viz.steps import backward_steps


def mixed_graph() -> Value:
    """Labelled and unlabelled leaves, a repeated label, wrapped constants and a leaf used twice."""
    a, b = Value(2.0, label="a"), Value(-3.0)
    x, x_again = Value(0.5, label="x"), Value(1.5, label="x")
    c = a * b + a
    out = (c * 2).tanh() + x * x_again - 1
    return out


def test_every_view_calls_every_node_by_its_one_name():
    out = mixed_graph()
    names = NodeNames(out)
    order = names.order
    expected = {f"n{i}": names[node] for i, node in enumerate(order)}
    assert "x#2" in expected.values() and "v1" in expected.values() and "2.0" in expected.values()

    drawn = dict(re.findall(r'^\s*(n\d+) \[label="([^|"]*) \|', jangrad.draw(out).source, re.M))
    lecture = dict(re.findall(r'^\s*(n\d+) \[label="\{ ([^|"]*) \|', jangrad.draw_dot(out).source, re.M))
    shown = {node: name.strip() for node, name in drawn.items()}
    assert shown and all(expected[node] == name for node, name in shown.items())
    assert lecture and all(expected[node] == name.strip() for node, name in lecture.items())

    tree_names = {line.lstrip(" │├└─").split("  ")[0].split(" [#")[0] for line in jangrad.ascii(out).splitlines()}
    assert tree_names == {names[node] for node in order}

    told = jangrad.explain(out, quiet=True)
    for step in told:
        assert step.name == names[step.node]
        assert all(part.name == names[part.parent] for part in step.contributions)
    assert set(told.gradients) == {names[n] for n in order if n.is_leaf and not is_constant(n)}

    laid_out = backward_steps(out)
    assert {node["id"]: node["name"] for node in laid_out.nodes} == expected
    for step in laid_out.steps:
        assert step["name"] == expected[step["node"]]
        assert all(update["name"] == expected[update["id"]] for update in step["updates"])

    st = jangrad.stepper(out)  # its lines are explain's, then the running sums of nodes used twice
    for frame, step in zip(st.frames[1:], told, strict=True):
        assert frame["lines"][: len(step.lines)] == [line.strip() for line in step.lines]


def test_a_grouped_stepper_names_the_box_it_lights_as_the_box_is_titled():
    """The sample stepper narrated v108, a name nowhere in the grouped picture; now: "v108, in layers.0.neurons.3"."""
    from jangrad.nn import MLP

    model = MLP(2, [4, 1], seed=0)
    loss = (model([1.0, -1.0]) - 0.5) ** 2
    loss.label = "loss"
    drawing = jangrad.draw(loss, group=True)
    laid_out = backward_steps(loss, drawing=drawing)
    titles = {box.id: box.fields[0] for box in drawing.scene.boxes if box.kind == "group"}
    inside = [step for step in laid_out.steps if step["where"]]
    assert len(inside) > 10
    for step in inside:
        assert step["box"] == drawing.boxes[step["node"]] and step["box"] in titles
        assert titles[step["box"]].startswith(step["where"])  # "layers.0.neurons.3 (tanh)" starts with the name
        assert step["lines"][0] == f"{step['name']}, in {step['where']}:"
    own = [step for step in laid_out.steps if not step["where"]]
    assert all(step["box"] == step["node"] or titles.get(step["box"], "").startswith(step["name"]) for step in own)
