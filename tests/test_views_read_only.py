"""Looking never changes what you look at (issue 24): every view leaves every ``.data`` and ``.grad`` of the graph as
it found it, before the learner's ``backward()`` and after it, on graphs with a leaf used twice, unlabelled leaves,
constants, an op built by hand and gradients that are Values (``create_graph=True``)."""

from __future__ import annotations

import math

import pytest
from lecture import lecture_L, neuron_nodes

import jangrad
from jangrad import Value
from jangrad.viz.names import NodeNames
from jangrad.viz.steps import backward_steps


def reused_graph() -> Value:
    """A leaf used twice, a learner's unlabelled leaf, wrapped constants, a folded exponent, a hand-built op."""
    a, b = Value(2.0, label="a"), Value(-0.5)  # b: the learner's Value without a label, a variable
    c = a * b + a
    cube = Value(c.data**3, (c,), "cube", label="cube")

    def _backward():
        c.grad += 3 * c.data**2 * cube.grad

    cube._backward = _backward
    out = (c * 2).tanh() + b**2 + cube * a
    out.label = "out"
    return out


def snapshot(root: Value) -> list[tuple]:
    """Every node's data and gradient, and the gradient object itself (a Value after create_graph=True)."""
    return [(node.data, repr(node.grad), id(node.grad)) for node in jangrad.topological_order(root)]


def _stepper_html(root: Value, **options) -> str:
    return jangrad.stepper(root, **options)._repr_html_()


VIEWS = {
    "draw": lambda r: jangrad.draw(r)._repr_mimebundle_(),
    "draw grouped": lambda r: jangrad.draw(r, group=lambda n: "all" if n.parents else None)._repr_mimebundle_(),
    "draw builtin": lambda r: jangrad.draw(r, renderer="builtin").pipe("svg"),
    "draw_dot": lambda r: jangrad.draw_dot(r)._repr_mimebundle_(),
    "ascii": jangrad.ascii,
    "explain": lambda r: jangrad.explain(r, quiet=True),
    "stepper": _stepper_html,
    "stepper grouped": lambda r: _stepper_html(r, max_nodes=3),
    "backward_steps": lambda r: backward_steps(r, drawing=jangrad.draw(r)).to_json(),
}
GRAPHS = {"reused": reused_graph, "lecture L": lecture_L, "neuron": lambda: neuron_nodes()["o"]}


@pytest.mark.parametrize("passes", [0, 1, 2], ids=["before backward", "after backward", "after two backwards"])
@pytest.mark.parametrize("graph", list(GRAPHS))
@pytest.mark.parametrize("view", list(VIEWS))
def test_no_view_changes_any_data_or_grad(view, graph, passes):
    root = GRAPHS[graph]()
    for _ in range(passes):
        root.backward()
    before = snapshot(root)
    VIEWS[view](root)
    VIEWS[view](root)  # looking twice changes nothing either
    assert snapshot(root) == before


@pytest.mark.filterwarnings("ignore:backward\\(create_graph=True\\)")
@pytest.mark.parametrize("view", list(VIEWS))
def test_gradients_that_are_values_stay_those_values(view):
    x, y = Value(0.5, label="x"), Value(1.5)
    out = (x * y + x).tanh() * x
    out.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    before = snapshot(out)
    VIEWS[view](out)
    assert snapshot(out) == before


def test_every_view_shows_the_learners_gradients_after_backward_and_the_same_numbers_before():
    """Before backward() explain and the stepper tell what it would give; after it, what the Values hold: the same
    numbers, which backward() itself gives."""
    looked, ran = lecture_L(), lecture_L()
    ran.backward()
    told_before, told_after = jangrad.explain(looked, quiet=True), jangrad.explain(ran, quiet=True)
    assert not told_before.ran and told_after.ran
    assert told_before.gradients == told_after.gradients == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}
    first, second = jangrad.stepper(looked), jangrad.stepper(ran)
    assert first.frames == second.frames and first.initial == second.initial
    assert not first.ran and second.ran
    assert all(node.grad == 0.0 for node in jangrad.topological_order(looked))


def test_a_view_after_backward_then_zero_grad_on_the_leaves_tells_the_next_pass():
    L = lecture_L()
    L.backward()
    for node in jangrad.topological_order(L):
        if node.is_leaf:
            node.grad = 0.0  # what model.zero_grad() does: the inner nodes still hold the last pass
    told = jangrad.explain(L, quiet=True)
    assert not told.ran and told.gradients["a"] == 6.0 and "backward() would run it" in told.text


def test_numbers_match_the_engine_bit_for_bit_on_random_graphs():
    import random

    from jangrad.engine import apply_op

    rng = random.Random(0)
    binary = ["add", "sub", "mul", "div"]
    unary = ["tanh", "exp", "sigmoid", "relu"]
    for _ in range(50):
        leaves = [Value(rng.uniform(-2, 2)) for _ in range(3)]
        nodes = list(leaves)
        for _ in range(8):
            if rng.random() < 0.6:
                nodes.append(apply_op(rng.choice(binary), rng.choice(nodes), rng.choice(nodes)))
            else:
                nodes.append(apply_op(rng.choice(unary), rng.choice(nodes)))
        out = nodes[-1]
        told = jangrad.explain(out, quiet=True)
        out.backward()
        names = NodeNames(out)
        for leaf in leaves:
            if leaf in names:
                expected = leaf.grad
                got = told.gradients[names[leaf]]
                assert got == expected or (math.isnan(got) and math.isnan(expected))
