"""What gradcheck tells the learner: the inputs by the names they gave them, and a kink called a kink.

A failure names each input as the learner did (the function's parameter names, ``names=``, the command line's
``--set`` names), never a position they never wrote. At a point where the function is not differentiable (relu or
leaky_relu at 0, relu + abs at 0) the check still fails, as PyTorch's does, but says it is a kink with both
one-sided slopes and the op that has it, and does not blame a rule that is right.
"""

from __future__ import annotations

import dataclasses

import pytest

from jangrad import GradcheckError, Value, gradcheck, ops
from jangrad.autodiff import first_disagreeing_node, input_names, local_disagreement, local_kink
from jangrad.cli import main
from jangrad.viz import draw_gradcheck


@pytest.fixture
def broken_mul(monkeypatch):
    """mul's rule off by 10%: a wrong rule, the kind of mistake gradcheck is for."""
    op = ops.OPS["mul"]
    wrong = dataclasses.replace(op, backward=lambda m, g, out, x, y: (1.1 * g * y, 1.1 * g * x))
    monkeypatch.setitem(ops.OPS, "mul", wrong)


# ---- names -----------------------------------------------------------------------------------------------------------
def test_a_failure_names_the_inputs_by_the_functions_parameters(broken_mul):
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a * b + b, 2.0, 3.0)
    message = str(info.value)
    assert message.startswith("df/da at a=2.0, b=3.0: analytic 3.3")
    assert "x0" not in message and "dx" not in message


def test_second_order_names_too(monkeypatch):
    """exp's rule computed on plain floats: right at first order, but no graph for the second derivative."""
    op = ops.OPS["exp"]

    def first_order_only(m, g, out, x):
        return op.backward(ops.FLOAT_MATH, *(getattr(v, "data", v) for v in (g, out, x)))

    monkeypatch.setitem(ops.OPS, "exp", dataclasses.replace(op, backward=first_order_only))
    with pytest.raises(GradcheckError, match=r"^d\(df/dw\)/dw at w=0.5: "):
        gradcheck(lambda w: w.exp(), 0.5, order=2)


def test_names_given_win_and_inputs_without_a_name_are_numbered(broken_mul):
    with pytest.raises(GradcheckError, match=r"^df/dweight at weight=2.0, bias=3.0"):
        gradcheck(lambda *xs: xs[0] * xs[1], 2.0, 3.0, names=["weight", "bias"])
    with pytest.raises(GradcheckError, match=r"^df/dx0 at x0=2.0, x1=3.0"):
        gradcheck(lambda *xs: xs[0] * xs[1], 2.0, 3.0)
    assert input_names(lambda a, *rest: a, 3) == ["a", "x1", "x2"]
    assert input_names(lambda x1, *rest: x1, 2) == ["x1", "input1"]  # never two inputs with one name
    assert input_names(max, 2) == ["x0", "x1"]  # a builtin without a signature


@pytest.mark.parametrize("names", [["a"], ["a", "a"], ["a", ""], "ab"])
def test_names_that_do_not_fit_are_refused(names):
    with pytest.raises(ValueError, match="names must be 2 different non-empty strings"):
        gradcheck(lambda x, y: x * y, 1.0, 2.0, names=names)


def test_draw_gradcheck_labels_the_inputs_by_the_same_names(broken_mul):
    drawing, node = draw_gradcheck(lambda speed, time: speed * time, 2.0, 3.0)
    assert node.op == "mul"
    assert 'label="speed |' in drawing.source and 'label="time |' in drawing.source


# ---- kinks -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "f, left, right, op",
    [
        (lambda a: a.relu(), "0", "1", "relu at operand 0.0"),
        (lambda a: a.leaky_relu(0.1), "0.1", "1", "leaky_relu at operands (0.0, 0.1)"),
        (lambda a: a.relu() + abs(a), "-1", "2", "abs at operand 0.0"),
        (lambda a: (a - 1e-7).relu(), "0", "0.9", "relu at operand -1e-07"),  # within eps of the kink
    ],
    ids=["relu", "leaky_relu", "relu+abs", "near"],
)
def test_a_kink_fails_saying_it_is_a_kink_not_a_wrong_rule(f, left, right, op):
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, 0.0)
    message = str(info.value)
    assert "a kink, not a wrong rule" in message
    assert f"its slope is {left} on the left and {right} on the right" in message
    assert op in message and "Check a point beside the kink" in message
    assert "first disagreeing node" not in message


def test_a_kink_of_the_first_derivative_at_second_order():
    with pytest.raises(GradcheckError, match=r"^d\(df/da\)/da at a=0.0: .* a kink, not a wrong rule: df/da is not"):
        gradcheck(lambda a: a.relu() * a, 0.0, order=2)


def test_beside_the_kink_the_check_passes():
    assert gradcheck(lambda a: a.relu() + abs(a), 1e-3) is True


def test_a_rule_at_a_kink_is_not_blamed_but_a_wrong_one_still_is(monkeypatch):
    a = Value(0.0)
    node = a.relu()
    assert local_disagreement(node) is None and first_disagreeing_node(node) is None
    assert local_kink(node) == "relu at operand 0.0 (slope 0 on the left, 1 on the right)"
    assert local_kink(Value(0.5).relu()) is None
    op = ops.OPS["relu"]
    monkeypatch.setitem(ops.OPS, "relu", dataclasses.replace(op, backward=lambda m, g, out, x: (2.0 * g,)))
    node = Value(0.0).relu()
    assert local_kink(node) is None  # 2 is neither side's slope: a wrong rule, not a kink's choice
    assert local_disagreement(node) is not None
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x.relu(), 0.0)
    assert "kink" not in str(info.value) and "first disagreeing node: op 'relu'" in str(info.value)


# ---- the command line ------------------------------------------------------------------------------------------------
def test_the_command_names_the_set_names(broken_mul, capsys):
    assert main(["gradcheck", "a*b", "--set", "a=2", "b=3"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("jangrad gradcheck: FAILED: df/da at a=2.0, b=3.0: analytic")
    assert "x0" not in err and len(err.splitlines()) == 1


def test_the_command_at_a_relu_kink_says_kink_and_draws_it(tmp_path, capsys):
    assert main(["gradcheck", "relu(a) * b", "--set", "a=0", "b=3", "--out", str(tmp_path / "kink.dot")]) == 1
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith("jangrad gradcheck: FAILED: df/da at a=0.0, b=3.0: analytic 0.0, numeric 1.5")
    assert "a kink, not a wrong rule" in line and "slope is 0 on the left and 3 on the right" in line
    assert "the 'relu' node at the kink is highlighted" in captured.out
    red = [row for row in (tmp_path / "kink.dot").read_text().splitlines() if "color=red" in row]
    # the relu node's record (named v1, as in every view) and its op node, nothing else
    assert len(red) == 2 and red[0].startswith("\tn1 [") and red[1].startswith("\tn1op [label=relu ")


def test_the_command_notes_a_kink_it_passes_through(capsys):
    """abs at 0: the central difference (0) matches the rule, so the check passes, but says the point is a kink."""
    assert main(["gradcheck", "abs(a) + b", "--set", "a=0", "b=1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "gradcheck passed (order 1, eps 1e-06): d/da = 0, d/db = 1"
    assert out[1].startswith("note: a kink, where the derivative is not defined")
    assert "abs at operand 0.0 (slope -1 on the left, 1 on the right)" in out[1]
