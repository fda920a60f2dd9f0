"""``x ** y`` at an exponent of exactly 0 passes x nothing, whatever gradient arrives, in every interpreter.

x^0 is constant in x, so d(x^y)/dx is 0 at y = 0; the gradient x receives is exactly 0 even when the incoming
gradient is infinite or nan (where "g times the local derivative" would be inf * 0 = nan). That is what PyTorch
gives, and what jangrad gives for a plain-number exponent (``powc``). The rule runs on floats (``backward``), on
Values (``create_graph``, ``grad``) and on NumPy arrays (``jangrad.compile`` and fit's batch tape); each is checked
here against the closed form (0), not against another interpreter. The PyTorch comparison is in
``test_engine_torch.py``.
"""

from __future__ import annotations

import math

import pytest

import jangrad
from jangrad import Value
from jangrad.autodiff import grad, gradients
from jangrad.ops import FLOAT_MATH, OPS

np = pytest.importorskip("numpy")

NON_FINITE = [math.nan, math.inf, -math.inf]
BASES = [2.0, -1.5, 0.0, 1e-310, math.nan]


def _graph(x0: float, y0: float, g: float) -> tuple[Value, Value, Value, Value]:
    """out = (x ** y) * c: the gradient arriving at x ** y is c's value, g."""
    x, y, c = Value(x0), Value(y0), Value(g)
    return x, y, c, (x**y) * c


@pytest.mark.parametrize("g", NON_FINITE, ids=repr)
@pytest.mark.parametrize("y0", [0.0, -0.0], ids=repr)
@pytest.mark.parametrize("x0", BASES, ids=repr)
def test_the_rule_on_floats(x0, y0, g):
    dx, _ = OPS["pow"].backward(FLOAT_MATH, g, FLOAT_MATH.pow(x0, y0), x0, y0)
    assert dx == 0.0
    assert OPS["powc"].backward(FLOAT_MATH, g, FLOAT_MATH.pow(x0, y0), x0, y0)[0] == dx  # as for x ** 0


@pytest.mark.parametrize("g", NON_FINITE, ids=repr)
@pytest.mark.parametrize("x0", BASES, ids=repr)
def test_backward_passes_zero_to_the_base(x0, g):
    x, y, _, out = _graph(x0, 0.0, g)
    out.backward()
    assert x.grad == 0.0
    constant = Value(x0)
    ((constant**0) * Value(g)).backward()
    assert constant.grad == x.grad


@pytest.mark.parametrize("g", NON_FINITE, ids=repr)
@pytest.mark.parametrize("x0", BASES, ids=repr)
def test_create_graph_passes_zero_to_the_base(x0, g):
    x, _, _, out = _graph(x0, 0.0, g)
    (dx,) = gradients(out, [x], create_graph=True)
    assert (dx.data if isinstance(dx, Value) else dx) == 0.0


def test_create_graph_keeps_the_second_derivative_where_the_gradient_is_finite():
    """d/dy d(x**y)/dx = x**(y-1) (1 + y ln x): 1/x = 0.5 at x = 2, y = 0. Passing 0 to x must not cut y's path."""
    assert grad(grad(lambda x, y: x**y, 0), 1)(2.0, 0.0) == pytest.approx(0.5, rel=1e-12)
    assert grad(grad(lambda x, y: 3.0 * x**y, 0), 1)(4.0, 0.0) == pytest.approx(0.75, rel=1e-12)


def test_the_rule_on_arrays_element_by_element():
    from jangrad.compiled.kernels import NUMPY_MATH

    x = np.array([2.0, -1.5, 0.0, 2.0, 2.0, 3.0])
    y = np.array([0.0, -0.0, 0.0, 0.0, 2.0, 1.0])
    g = np.array([math.nan, math.inf, -math.inf, 1.0, 1.0, 2.0])
    with np.errstate(all="ignore"):
        dx, _ = OPS["pow"].backward(NUMPY_MATH, g, np.power(x, y), x, y)
    assert dx.tolist() == [0.0, 0.0, 0.0, 0.0, 4.0, 2.0]  # 0 wherever y = 0; y x^(y-1) g elsewhere


@pytest.mark.parametrize("g", NON_FINITE, ids=repr)
def test_a_compiled_tape_passes_zero_to_the_base(g):
    x, y, c, out = _graph(2.0, 0.0, g)
    tape = jangrad.compile(out, inputs=[x, y, c])
    tape.forward()
    tape.backward()
    assert x.grad == 0.0


def test_the_batch_tape_passes_zero_to_the_base():
    """x and y shared by every sample (parameters), the incoming gradient one per sample: nan, inf, 1."""
    from jangrad.compiled.batch_tape import BatchTape

    x, y, c = Value(2.0), Value(0.0), Value(1.0)
    tape = BatchTape([c], [(x**y) * c], [x, y])
    with np.errstate(all="ignore"):
        tape.forward(np.array([[math.nan], [math.inf], [1.0]]), np.array([2.0, 0.0]))
        dx, _ = tape.backward(np.ones((3, 1))).tolist()
    assert dx == 0.0  # the sum over the batch of three zeros, not nan
