"""The narrated backward pass: the engine's order, the op table's numbers, and the reason shared nodes wait."""

import io
import math

import pytest

import jangrad
from jangrad import Value, ops
from jangrad.viz.explain import LOCAL_DERIVATIVES


def test_the_issue_example_line():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    e = a * b
    e.label = "e"
    steps = jangrad.explain(e, quiet=True)
    assert [line.strip() for line in steps[0].lines[1:]] == [
        "a.grad += b.data * e.grad = 3.0 * 1.0 = 3.0",
        "b.grad += a.data * e.grad = 2.0 * 1.0 = 2.0",
    ]
    assert (a.grad, b.grad) == (3.0, 2.0)  # it really ran backward


def shared_graph():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    e = c * d
    e.label = "e"
    return a, b, c, d, e


def test_steps_follow_the_engine_order_and_sum_to_the_engine_gradients():
    a, b, c, d, e = shared_graph()
    steps = jangrad.explain(e, quiet=True)
    expected_order = [n for n in reversed(jangrad.topological_order(e)) if n.parents]
    assert [s.node for s in steps] == expected_order
    received = {}
    for step in steps:
        for part in step.contributions:
            received[id(part.parent)] = received.get(id(part.parent), 0.0) + part.amount
            assert part.amount == pytest.approx(part.local_value * part.incoming)
    twin_a, twin_b, _, _, twin_e = shared_graph()
    twin_e.backward()
    assert received[id(a)] == pytest.approx(twin_a.grad) and a.grad == pytest.approx(twin_a.grad)
    assert received[id(b)] == pytest.approx(twin_b.grad) and b.grad == pytest.approx(twin_b.grad)
    step_c = next(s for s in steps if s.node is c)
    assert step_c.incoming == pytest.approx(received[id(c)])  # c's step starts with its complete gradient


def test_a_shared_node_waits_for_all_its_consumers_and_says_why():
    a, b, c, d, e = shared_graph()
    out = io.StringIO()
    steps = jangrad.explain(e, file=out)
    names = [s.name for s in steps]
    assert names.index("c") > names.index("e") and names.index("c") > names.index("d")
    note = next(s for s in steps if s.node is c).note
    assert "used 2 times (by e, d)" in note and "only after all of them" in note
    # e = c * d sends d.data; d = c + a sends d's gradient, which is c.data (de/dd = c)
    assert f"c.grad = {d.data:.1f} + {c.data:.1f} = {d.data + c.data:.1f}" in note
    text = out.getvalue()
    assert "note: a is used 2 times" in text and text.endswith("b.grad = 28.0\n")


def test_quiet_prints_nothing(capsys):
    jangrad.explain(Value(1.0, label="x").tanh(), quiet=True)
    assert capsys.readouterr().out == ""
    jangrad.explain(Value(1.0, label="x").tanh())
    assert "x.grad += (1 - v1.data**2) * v1.grad" in capsys.readouterr().out


def test_every_op_has_a_narration():
    assert set(LOCAL_DERIVATIVES) == set(ops.OPS)


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_each_local_derivative_matches_a_central_difference(name):
    op = ops.OPS[name]
    x, y = Value(0.7, label="x"), Value(1.3, label="y")
    operands = [x, 2.0] if op.constant_operand else [x, y][: op.arity]
    inner = jangrad.engine.apply_op(name, *operands)
    out = inner * 3.0  # an incoming gradient of 3
    step = next(s for s in jangrad.explain(out, quiet=True) if s.node is inner)
    assert step.incoming == 3.0
    values = [p.data for p in step.node.parents]
    for j, part in enumerate(step.contributions):
        up, down = list(values), list(values)
        up[j] += 1e-6
        down[j] -= 1e-6
        slope = (op.forward(ops.FLOAT_MATH, *up) - op.forward(ops.FLOAT_MATH, *down)) / 2e-6
        assert part.local_value == pytest.approx(slope, rel=1e-5, abs=1e-6)
        assert part.amount == pytest.approx(3.0 * slope, rel=1e-5, abs=1e-6)
        assert part.line.startswith(f"{part.name}.grad += ")


def test_bad_input():
    with pytest.raises(TypeError):
        jangrad.explain(2.0)


def test_an_unnamed_node_never_takes_the_name_of_a_labelled_one():
    a, v1 = Value(2.0, label="a"), Value(1.0, label="v1")
    steps = jangrad.explain(a * a + v1, quiet=True)  # both ops are unnamed; the user already called a leaf v1
    names = [step.name for step in steps]
    assert "v1" not in names and len(set(names)) == len(names) == 2


def _narrated_totals(text: str) -> dict[str, float]:
    """Per leaf: what the narration says it held before this pass plus every amount it says was added."""
    import re

    totals: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("leaves keep"):
            for name, number in re.findall(r"(\w+)\.grad = (-?[\d.e+-]+)", line):
                totals[name] = float(number)
        match = re.match(r"\s+(\w+)\.grad \+= .* = (-?[\d.e+-]+)$", line)
        if match:
            totals[match.group(1)] = totals.get(match.group(1), 0.0) + float(match.group(2))
    return totals


def _printed_after(text: str) -> dict[str, float]:
    import re

    line = next(line for line in text.splitlines() if line.startswith("after backward: "))
    return {name: float(number) for name, number in re.findall(r"(\w+)\.grad = (-?[\d.e+-]+)", line)}


@pytest.mark.parametrize("earlier_passes", [1, 2])
def test_after_an_earlier_backward_the_narration_adds_up_to_the_printed_gradients(earlier_passes):
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    e = a * b + a
    e.label = "e"
    for _ in range(earlier_passes):
        e.backward()  # the leaves keep these gradients: backward adds to them
    out = io.StringIO()
    jangrad.explain(e, file=out)
    text = out.getvalue()
    after = _printed_after(text)
    assert after == {"a": 4.0 * (earlier_passes + 1), "b": 2.0 * (earlier_passes + 1)}
    assert (a.grad, b.grad) == (after["a"], after["b"])
    narrated = _narrated_totals(text)
    assert narrated["a"] == pytest.approx(after["a"]) and narrated["b"] == pytest.approx(after["b"])
    assert "a.grad = 4.0 (held before)" in text if earlier_passes == 1 else "(held before)" in text


def test_a_fresh_graph_says_nothing_about_earlier_gradients():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    e = a * b
    e.label = "e"
    out = io.StringIO()
    steps = jangrad.explain(e, file=out)
    assert "held before" not in out.getvalue() and "leaves keep" not in out.getvalue()
    assert [part.total for part in steps[0].contributions] == [3.0, 2.0]


def test_contribution_totals_include_what_a_leaf_held():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    e = a * b + a
    e.label = "e"
    e.backward()
    steps = jangrad.explain(e, quiet=True)
    totals = [(part.name, part.total) for step in steps for part in step.contributions]
    assert totals == [("v1", 1.0), ("a", 5.0), ("a", 8.0), ("b", 4.0)]


def test_an_op_built_by_hand_is_told_by_its_own_backward_not_by_the_table_op_of_the_same_name():
    x = Value(0.5, label="x")
    out = Value(math.tanh(x.data), (x,), "tanh", label="o")  # the lecture's way of writing tanh

    def _backward():
        x.grad += 2.0 * out.grad  # deliberately not 1 - tanh^2: explain must tell this rule, not the table's

    out._backward = _backward
    steps = jangrad.explain(out, quiet=True)
    assert [line.strip() for line in steps[0].lines] == [
        "o = tanh(x)  (tanh; o.grad = 1.0)",
        "x.grad += do/dx * o.grad = 2.0 * 1.0 = 2.0",
    ]
    assert x.grad == 2.0
