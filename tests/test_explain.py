"""The narrated backward pass: the engine's order, the op table's numbers, the reason shared nodes wait, every node
named as in every view, and a narration that changes no gradient (before or after the learner's backward())."""

import io
import math

import pytest
from lecture import lecture_L, lecture_neuron

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
    assert (a.grad, b.grad, e.grad) == (0.0, 0.0, 0.0)  # it only looked: nothing ran backward
    assert steps.gradients == {"a": 3.0, "b": 2.0} and not steps.ran


def test_the_issue_example_unlabelled_leaves_are_variables_and_the_reused_one_adds_up():
    a = Value(2.0)
    b = Value(3.0)
    e = a * b + a
    out = io.StringIO()
    told = jangrad.explain(e, file=out)
    text = out.getvalue()
    lines = text.splitlines()
    # names.py: v1 = a, v2 = b, v3 = a * b, v4 = e; a is a variable, told with += like any other
    assert "  v1.grad += v4.grad = 1.0" in lines
    assert "  v1.grad += v2.data * v3.grad = 3.0 * 1.0 = 3.0" in lines
    assert "  v2.grad += v1.data * v3.grad = 2.0 * 1.0 = 2.0" in lines
    assert "note: v1 is used twice (by v4, v3), so the shares add up: v1.grad = 1.0 + 3.0 = 4.0" in lines
    assert (
        lines[-1]
        == "after v4.backward() (worked out on the side; your Values are unchanged): v1.grad = 4.0, v2.grad = 2.0"
    )
    assert told.gradients == {"v1": 4.0, "v2": 2.0}
    twin_a, twin_b = Value(2.0), Value(3.0)
    (twin_a * twin_b + twin_a).backward()
    assert (twin_a.grad, twin_b.grad) == (4.0, 2.0)
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_only_wrapped_numbers_are_constants_and_a_constant_gets_no_line():
    a = Value(2.0)
    out = jangrad.explain(a * 3 + a, quiet=True)
    parents = [part.name for step in out for part in step.contributions]
    assert "3.0" not in parents and parents.count("v1") == 2
    assert "v2 = v1 * 3.0" in out.text


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
    assert received[id(a)] == twin_a.grad and received[id(b)] == twin_b.grad  # bit for bit the engine's numbers
    assert a.grad == b.grad == e.grad == 0.0
    step_c = next(s for s in steps if s.node is c)
    assert step_c.incoming == pytest.approx(received[id(c)])  # c's step starts with its complete gradient


def test_a_shared_node_waits_for_all_its_consumers_and_says_why():
    a, b, c, d, e = shared_graph()
    out = io.StringIO()
    steps = jangrad.explain(e, file=out)
    names = [s.name for s in steps]
    assert names.index("c") > names.index("e") and names.index("c") > names.index("d")
    note = next(s for s in steps if s.node is c).note
    assert "used twice (by e, d), so the shares add up" in note and "only after all of them" in note
    # e = c * d sends d.data; d = c + a sends d's gradient, which is c.data (de/dd = c)
    assert f"c.grad = {d.data:.1f} + {c.data:.1f} = {d.data + c.data:.1f}" in note
    text = out.getvalue()
    assert "note: a is used twice" in text
    assert "after e.backward() (worked out on the side; your Values are unchanged): a.grad = " in text
    assert text.endswith("b.grad = 28.0\n")


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

    line = next(line for line in text.splitlines() if line.startswith("after e.backward() ("))
    return {name: float(number) for name, number in re.findall(r"(\w+)\.grad = (-?[\d.e+-]+)", line)}


@pytest.mark.parametrize("earlier_passes", [1, 2])
def test_after_the_learners_backward_it_tells_the_gradients_they_hold_and_adds_no_pass(earlier_passes):
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    e = a * b + a
    e.label = "e"
    for _ in range(earlier_passes):
        e.backward()  # the leaves keep these gradients: backward adds to them
    out = io.StringIO()
    told = jangrad.explain(e, file=out)
    text = out.getvalue()
    assert told.ran and "e.backward() has run" in text
    assert (a.grad, b.grad) == (4.0 * earlier_passes, 2.0 * earlier_passes)  # looking added nothing
    assert told.gradients == {"a": a.grad, "b": b.grad}
    after = text.splitlines()[-1]
    assert after.startswith(f"after e.backward() (the gradients your Values hold): a.grad = {4.0 * earlier_passes}")
    assert _printed_after(text) == {"a": a.grad, "b": b.grad}
    narrated = _narrated_totals(text)  # what a held before the last pass, plus what the last pass added
    assert narrated["a"] == pytest.approx(a.grad) and narrated["b"] == pytest.approx(b.grad)
    if earlier_passes == 2:
        assert "a.grad = 4.0, b.grad = 2.0 before this pass" in text
        assert "a.grad = 8.0 (4.0 held before + 4.0 from this pass)" in text
    else:
        assert "held before" not in text


def test_a_leaf_holding_a_gradient_from_another_graph_is_told_what_backward_would_add():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    first = a * b
    first.backward()  # a.grad = 3, b.grad = 2, from another graph
    e = a * b + a
    e.label = "e"
    out = io.StringIO()
    told = jangrad.explain(e, file=out)
    text = out.getvalue()
    assert not told.ran and "leaves keep what earlier backward() calls left" in text
    assert "a.grad = 3.0, b.grad = 2.0 before this pass" in text
    assert "a.grad = 7.0 (3.0 held before + 4.0 from this pass)" in text
    assert told.gradients == {"a": 7.0, "b": 4.0} and (a.grad, b.grad) == (3.0, 2.0)
    narrated = _narrated_totals(text)
    assert narrated == {"a": 7.0, "b": 4.0, "v1": 1.0}


def test_the_lectures_L_after_its_backward_stays_as_the_video_shows_it():
    """Issue 24: after L.backward() (a.grad = 6, f.grad = 4), looking with every view leaves them so."""
    L = lecture_L()
    L.backward()
    jangrad.stepper(L)
    told = jangrad.explain(L, quiet=True)
    nodes = {node.label: node for node in jangrad.topological_order(L)}
    assert (nodes["a"].grad, nodes["f"].grad) == (6.0, 4.0)
    assert (
        told.gradients["a"] == 6.0 and "after L.backward() (the gradients your Values hold): a.grad = 6.0," in told.text
    )
    assert "held before" not in told.text


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
    e.backward()  # a holds 8: 4 from each pass
    steps = jangrad.explain(e, quiet=True)
    totals = [(part.name, part.total) for step in steps for part in step.contributions]
    assert totals == [("v1", 1.0), ("a", 5.0), ("a", 8.0), ("b", 4.0)]  # the last pass, from what a held before it


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
    assert x.grad == 0.0 and steps.gradients == {"x": 2.0}


def test_it_returns_its_steps_with_a_one_line_repr_for_a_notebook():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    e = a * b
    e.label = "e"
    told = jangrad.explain(e, quiet=True)
    assert isinstance(told, list) and len(told) == 1 and told[0].node is e
    assert repr(told) == "<explain: 1 steps of backward from e; .text holds the narration>"
    assert "\n" not in repr(told) and "Step(" not in repr(told)
    pretty = pytest.importorskip("IPython.lib.pretty")
    assert pretty.pretty(told) == repr(told)  # what Jupyter prints as Out[...]


def test_a_label_that_is_an_expression_is_parenthesised_where_it_stands_in_a_formula():
    """The lecture labels a node ``x1*w1 + x2*w2``: its gradient must read ``(x1*w1 + x2*w2).grad``, since
    ``x1*w1 + x2*w2.grad`` reads as the gradient of ``x2*w2`` alone."""
    told = jangrad.explain(lecture_neuron(), quiet=True)
    lines = told.text.splitlines()
    assert "n = (x1*w1 + x2*w2) + b  (add; n.grad = 0.5)" in lines
    assert "  (x1*w1 + x2*w2).grad += n.grad = 0.5" in lines
    assert "  x1.grad += w1.data * (x1*w1).grad = -3.0 * 0.5 = -1.5" in lines
    assert "x1*w1 + x2*w2.grad" not in told.text
    assert told[1].name == "n" and told[2].name == "x1*w1 + x2*w2"  # the name itself is unchanged
