"""The checker's right numbers: jangrad's op table run over a graph written as data (``check.program.reference``),
checked against central differences and against PyTorch float64 on the same generated graphs, intermediate
nodes included; and the forms, whose calls work unchanged on PyTorch tensors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from strategies import SETTINGS

from jangrad.check.forms import FORMS
from jangrad.check.probes import graph_programs, order_program
from jangrad.check.program import Program, Step, central_difference, reference

ALL_FORMS = list(FORMS)
MORE = settings(SETTINGS, max_examples=150)


def test_reference_of_the_order_graph_by_hand():
    data, grads = reference(order_program(["add", "mul"]))
    # a = 1.5, b = -2, c = 0.5; d = ab = -3, e = b + c = -1.5, f = dc, g = f + a, h = ea, i = h + b,
    # j = g e, k = i d, l = j + k
    assert data == [1.5, -2.0, 0.5, -3.0, -1.5, -1.5, 0.0, -2.25, -4.25, -0.0, 12.75, 12.75]
    assert grads[3:] == [-5.0, -4.5, -1.5, -1.5, -3.0, -3.0, 1.0, 1.0, 1.0]
    assert grads[:3] == [13.0, -15.0, 0.0]


def test_reference_adds_up_a_leaf_used_twice_by_one_op():
    data, grads = reference(Program((2.0, -3.0), (Step("mul", (0, 0)), Step("add", (1, 1)), Step("mul", (2, 3)))))
    assert data == [2.0, -3.0, 4.0, -6.0, -24.0]
    assert grads == [-24.0, 8.0, -6.0, 4.0, 1.0]


def test_constant_forms_put_the_constant_on_the_right_side():
    assert reference(Program((0.5,), (Step("rsub", (0,), 2.0),))) == ([0.5, 1.5], [-1.0, 1.0])
    assert reference(Program((0.5,), (Step("sub_const", (0,), 2.0),))) == ([0.5, -1.5], [1.0, 1.0])
    assert reference(Program((4.0,), (Step("rdiv", (0,), 2.0),))) == ([4.0, 0.5], [-0.125, 1.0])
    assert reference(Program((3.0,), (Step("rpow", (0,), 2.0),)))[0] == [3.0, 8.0]


@MORE
@given(graph_programs(ALL_FORMS))
def test_reference_grads_match_central_differences_at_every_node(program):
    data, grads = reference(program)
    for node in range(program.size):
        numeric = central_difference(program, node)
        assert math.isclose(grads[node], numeric, rel_tol=1e-4, abs_tol=1e-5), (program.lines(), node)


def _torch_nodes(program: Program) -> list:
    torch = pytest.importorskip("torch")
    nodes = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in program.leaves]
    for step in program.steps:  # a form's call works on tensors as on a learner's Value
        form = FORMS[step.form]
        operands = [nodes[i] for i in step.operands]
        nodes.append(form.call(*operands, step.constant) if "c" in form.layout else form.call(*operands))
    for node in nodes:
        node.retain_grad()
    nodes[-1].backward()
    return nodes


def _assert_matches_torch(program: Program) -> None:
    nodes = _torch_nodes(program)
    data, grads = reference(program)
    for i, node in enumerate(nodes):
        assert math.isclose(node.item(), data[i], rel_tol=1e-12, abs_tol=1e-12)
        torch_grad = 0.0 if node.grad is None else node.grad.item()
        assert math.isclose(torch_grad, grads[i], rel_tol=1e-9, abs_tol=1e-12), (program.lines(), i)


@pytest.mark.parametrize("form", ALL_FORMS)
def test_reference_matches_pytorch_float64_for_each_form_at_each_check_point(form):
    layout = FORMS[form]
    for point in layout.points:
        constant = point[-1] if "c" in layout.layout else None
        _assert_matches_torch(Program(point[: layout.arity], (Step(form, tuple(range(layout.arity)), constant),)))


@MORE
@given(graph_programs(ALL_FORMS))
def test_reference_matches_pytorch_float64_at_every_node(program):
    _assert_matches_torch(program)


@MORE
@given(graph_programs(ALL_FORMS))
def test_every_generated_node_reaches_the_output(program):
    reached = {program.size - 1}
    first = len(program.leaves)
    for j in reversed(range(len(program.steps))):
        if first + j in reached:
            reached.update(program.steps[j].operands)
    assert set(range(first, program.size)) <= reached


def test_every_form_names_a_real_op_and_is_finite_at_its_check_points():
    from jangrad.ops import OPS

    for form in FORMS.values():
        assert form.op in OPS
        assert len(form.layout) == OPS[form.op].arity
        assert form.layout.count("c") == (1 if form.category == "constant" else 0)
        for point in form.points:
            constant = point[-1] if "c" in form.layout else None
            program = Program(point[: form.arity], (Step(form.name, tuple(range(form.arity)), constant),))
            data, grads = reference(program)
            assert all(math.isfinite(x) for x in data + grads), (form.name, point)
