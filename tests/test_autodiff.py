"""The derivative transforms: ``grad`` and ``value_and_grad`` (nesting to third order, argnums, floats in and
Values in), ``backward(create_graph=True)``, and ``gradcheck``, including a wrong rule planted in the op table that
gradcheck must find and name.

Expected derivatives are closed forms worked out by hand, never numbers read off jangrad.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from strategies import domain_cases, op_names, variable_count

import jangrad
from jangrad import GradcheckError, Value, grad, gradcheck, ops, value_and_grad
from jangrad.autodiff import gradients
from jangrad.engine import apply_op


# ---- grad nests ------------------------------------------------------------------------------------------------------
def cube(x):
    return x**3


def x_exp(x):
    return x * x.exp()  # derivatives: (x + n) e^x


def tanh(x):
    return x.tanh()


def _tanh_derivatives(x: float) -> list[float]:
    t = math.tanh(x)
    return [t, 1 - t * t, -2 * t * (1 - t * t), -2 * (1 - t * t) * (1 - 3 * t * t)]


CASES = [
    ("cube", cube, 2.0, [8.0, 12.0, 12.0, 6.0]),
    ("x_exp", x_exp, 0.5, [(0.5 + n) * math.exp(0.5) if n else 0.5 * math.exp(0.5) for n in range(4)]),
    ("tanh", tanh, 0.7, _tanh_derivatives(0.7)),
]


@pytest.mark.parametrize("f, x0, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_grad_nests_to_third_order_with_floats(f, x0, expected):
    derivatives = [grad(f), grad(grad(f)), grad(grad(grad(f)))]
    for order, d in enumerate(derivatives, start=1):
        result = d(x0)
        assert type(result) is float
        assert result == pytest.approx(expected[order], rel=1e-12), f"order {order}"


@pytest.mark.parametrize("f, x0, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_grad_nests_to_third_order_with_values(f, x0, expected):
    x = Value(x0)
    third = grad(grad(grad(f)))(x)
    assert isinstance(third, Value)
    assert third.data == pytest.approx(expected[3], rel=1e-12)
    second = grad(grad(f))(x)
    assert isinstance(second, Value)
    # Connected to the graph: differentiating the returned second derivative once more gives the third.
    assert gradients(second, [x])[0] == pytest.approx(expected[3], rel=1e-12)
    assert x.grad == 0.0  # grad never writes .grad


def test_grad_of_a_constant_function_is_zero():
    assert grad(lambda x: 3.0)(1.0) == 0.0
    assert grad(lambda x: x * 0.0 + 1.0)(1.0) == 0.0


def f3(x, y, z):
    """Works on floats and Values alike, since arguments not differentiated are passed through unchanged.

    df/dx = y^2 + z 2^x ln 2, df/dy = 2xy, df/dz = 2^x, d2f/dx2 = z 2^x ln^2 2.
    """
    return x * y**2 + z * 2.0**x


X, Y, Z = 0.3, 2.0, -1.5
LN2 = math.log(2.0)


def test_argnums_tuple_and_negative_index():
    dx, dz = grad(f3, (0, 2))(X, Y, Z)
    assert dx == pytest.approx(Y**2 + Z * 2**X * LN2, rel=1e-12)
    assert dz == pytest.approx(2**X, rel=1e-12)
    assert grad(f3, -1)(X, Y, Z) == pytest.approx(2**X, rel=1e-12)
    assert grad(f3, (1,))(X, Y, Z) == pytest.approx((2 * X * Y,), rel=1e-12)
    assert grad(grad(f3, 0), 0)(X, Y, Z) == pytest.approx(Z * 2**X * LN2**2, rel=1e-12)


def test_nesting_across_arguments_gives_mixed_partials():
    """The inner grad differentiates y while the outer one traces x: the inner must still build a graph."""
    assert grad(grad(f3, 1), 0)(X, Y, Z) == pytest.approx(2 * Y, rel=1e-12)  # d(2xy)/dx
    assert grad(grad(f3, 0), 2)(X, Y, Z) == pytest.approx(2**X * LN2, rel=1e-12)


def test_nesting_through_a_closure():
    """The inner function sees the outer Value only through its closure, not its arguments."""
    # d/dx [d/dy (x y^2)] = d/dx [2 x y] = 2y = 6 at y = 3
    assert grad(lambda x: grad(lambda y: x * y * y)(3.0))(2.0) == 6.0


@pytest.mark.parametrize("argnums", [3, -4, (0, 5), "0"])
def test_argnums_out_of_range_raises(argnums):
    with pytest.raises((ValueError, TypeError)):
        grad(f3, argnums)(X, Y, Z)


def test_grad_rejects_non_number_arguments_and_non_scalar_results():
    with pytest.raises(TypeError):
        grad(cube)("2")
    with pytest.raises(TypeError):
        grad(lambda x: [x])(2.0)


def test_value_and_grad_like_jax():
    value, derivative = value_and_grad(cube)(2.0)
    assert (value, derivative) == (8.0, 12.0)
    assert type(value) is float and type(derivative) is float
    value, (dx, dy) = value_and_grad(f3, (0, 1))(X, Y, Z)
    assert value == pytest.approx(X * Y**2 + Z * 2**X, rel=1e-12)
    assert (dx, dy) == pytest.approx((Y**2 + Z * 2**X * LN2, 2 * X * Y), rel=1e-12)
    value, derivative = value_and_grad(cube)(Value(2.0))
    assert isinstance(value, Value) and isinstance(derivative, Value)
    assert (value.data, derivative.data) == (8.0, 12.0)


# ---- backward(create_graph=True) -------------------------------------------------------------------------------------
def test_backward_create_graph_then_differentiate_the_gradient():
    x = Value(2.0)
    y = x**3
    y.backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value) and first.data == 12.0  # 3x^2
    x.grad = 0.0  # as in PyTorch: clear before the second pass, or it accumulates onto the first gradient
    first.backward()
    assert x.grad == 12.0  # 6x


def test_create_graph_third_order_by_hand():
    x = Value(0.5)
    x_exp(x).backward(create_graph=True)
    first = x.grad
    (second,) = gradients(first, [x], create_graph=True)
    (third,) = gradients(second, [x])
    e = math.exp(0.5)
    assert (first.data, second.data, third) == pytest.approx((1.5 * e, 2.5 * e, 3.5 * e), rel=1e-12)


def test_mixed_second_derivative_of_pow_at_exponent_zero():
    """d/dy d(x**y)/dx = x**(y-1) (1 + y ln x), which is 1/x = 0.5 at x = 2, y = 0."""
    assert grad(grad(lambda x, y: x**y, 0), 1)(2.0, 0.0) == pytest.approx(0.5, rel=1e-12)
    assert grad(grad(lambda x, y: x**y, 0), 1)(2.0, 1e-9) == pytest.approx(0.5, rel=1e-6)  # just beside it


def test_create_graph_with_a_reused_intermediate():
    """y = 2x; w = y^2 + y: dw/dx = 8x + 2 and d2w/dx2 = 8."""
    x = Value(1.25)
    y = 2 * x
    w = y * y + y
    w.backward(create_graph=True)
    assert x.grad.data == 12.0
    assert gradients(x.grad, [x])[0] == 8.0


# ---- gradcheck -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("order", [1, 2])
def test_gradcheck_passes_on_correct_functions(order):
    assert gradcheck(cube, 1.3, order=order) is True
    assert gradcheck(x_exp, -0.4, order=order) is True
    assert gradcheck(f3, X, Y, Z, order=order) is True
    assert gradcheck(lambda a, b: (a / b).log() + (a * b).gelu() - b.sigmoid() ** 2.5, 1.7, 0.9, order=order) is True


def test_gradcheck_rejects_bad_arguments():
    with pytest.raises(ValueError):
        gradcheck(cube, 1.0, order=3)
    with pytest.raises(TypeError):
        gradcheck(cube, "1.0")


def _probe_point(name: str) -> tuple[list[float], list[float]]:
    """A point inside op ``name``'s domain where its derivative is not 0 (73% of the way through each interval)."""
    case = domain_cases(name)[0]
    point = [iv.lo + 0.73 * (iv.hi - iv.lo) for iv in case]
    point = [round(p) if iv.integer else p for p, iv in zip(point, case, strict=True)]
    k = variable_count(ops.OPS[name])
    return point[:k], point[k:]


def _scaled(rule, factor: float):
    return lambda m, g, out, *xs: tuple(c * factor for c in rule(m, g, out, *xs))


@pytest.mark.parametrize("name", op_names())
def test_gradcheck_names_an_op_whose_rule_is_wrong(name, monkeypatch):
    """Every op in the table, its rule off by 10%: gradcheck must fail and name that op."""
    op = ops.OPS[name]
    variables, constants = _probe_point(name)

    def f(*xs):
        return apply_op(name, *xs, *constants)

    assert gradcheck(f, *variables) is True
    monkeypatch.setitem(ops.OPS, name, dataclasses.replace(op, backward=_scaled(op.backward, 1.1)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, *variables)
    message = str(info.value)
    assert f"op '{name}'" in message
    assert "analytic" in message and "numeric" in message


def test_gradcheck_names_the_wrong_op_inside_a_composite(monkeypatch):
    op = ops.OPS["tanh"]
    monkeypatch.setitem(ops.OPS, "tanh", dataclasses.replace(op, backward=_scaled(op.backward, 0.9)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: (x * y + 1.0).tanh().exp() / y, 0.4, 1.5)
    assert "op 'tanh'" in str(info.value)


def _float_only(rule):
    """The rule's numbers, computed on plain floats: right at first order, but the result no longer depends on the
    operands, so every second derivative through it is 0."""

    def rule_on_data(m, g, out, *xs):
        plain = [x.data if isinstance(x, Value) else x for x in (g, out, *xs)]
        return rule(ops.FLOAT_MATH, *plain)

    return rule_on_data


@pytest.mark.parametrize("name", ["exp", "tanh", "gelu", "div", "powc", "log"])
def test_gradcheck_order_2_names_an_op_whose_rule_is_wrong_only_at_second_order(name, monkeypatch):
    op = ops.OPS[name]
    variables, constants = _probe_point(name)

    def f(*xs):
        return apply_op(name, *xs, *constants)

    monkeypatch.setitem(ops.OPS, name, dataclasses.replace(op, backward=_float_only(op.backward)))
    assert gradcheck(f, *variables, order=1) is True
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, *variables, order=2)
    assert f"op '{name}'" in str(info.value)


def test_gradcheck_fails_when_both_sides_are_nan():
    """x**y at x < 0 has no derivative: analytic and numeric are both nan, which is not agreement."""
    with pytest.raises(GradcheckError, match="analytic nan, numeric nan .*not defined there"):
        gradcheck(lambda x, y: x**y, -2.0, 0.5)


def test_public_names_are_exported():
    for name in [
        "grad",
        "value_and_grad",
        "gradcheck",
        "GradcheckError",
        "Value",
        "no_grad",
        "detect_anomaly",
        "AnomalyError",
        "topological_order",
        "enable_grad",
    ]:
        assert hasattr(jangrad, name), name


# ---- transforms inside no_grad ---------------------------------------------------------------------------------------
def test_grad_inside_no_grad_still_differentiates():
    """grad is a transform, like torch.func.grad: an outer no_grad must not make it silently return 0."""
    with jangrad.no_grad():
        assert grad(cube)(2.0) == 12.0


def test_create_graph_inside_no_grad_still_builds_the_gradient_graph():
    """As in PyTorch, create_graph=True asks for a graph of the gradients, so it is built even under no_grad."""
    x = Value(2.0)
    y = x**3
    with jangrad.no_grad():
        y.backward(create_graph=True)
    assert gradients(x.grad, [x])[0] == 12.0  # d(3x^2)/dx = 6x


@pytest.mark.parametrize("argnums, error", [(None, TypeError), (1.0, TypeError), (True, ValueError)])
def test_argnums_that_are_not_ints_are_named(argnums, error):
    with pytest.raises(error, match="argnums"):
        grad(lambda x, y: x * y, argnums)(2.0, 3.0)


@pytest.mark.parametrize(
    "options", [{"eps": 0.0}, {"eps": "1e-6"}, {"eps": -1e-6}, {"atol": None}, {"rtol": float("nan")}]
)
def test_gradcheck_refuses_a_bad_step_or_tolerance(options):
    ((name, value),) = options.items()
    with pytest.raises(ValueError, match=f"{name} must be"):
        gradcheck(lambda x: x * x, 1.0, **options)
