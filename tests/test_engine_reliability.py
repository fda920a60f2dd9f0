"""What the reliability campaign found in the engine, pinned: flat ops stop infinite gradients, x**0 has
derivative 0 at every x, create_graph's cycles are announced, no_grad results refuse backward(), bool follows data.
"""

from __future__ import annotations

import math
import warnings

import pytest

import jangrad
from jangrad import Value, no_grad


def test_relu_where_flat_passes_no_gradient_even_an_infinite_one():
    x = Value(-1.0)
    x.relu().sqrt().backward()  # sqrt'(0) is inf; relu is constant near -1, so d/dx is 0 (PyTorch: 0)
    assert x.grad == 0.0
    assert jangrad.gradcheck(lambda v: v.relu().sqrt(), -1.0)


def test_relu_where_flat_at_second_order():
    assert jangrad.grad(jangrad.grad(lambda v: v.relu() ** 1.5))(-1.0) == 0.0
    assert jangrad.grad(jangrad.grad(lambda v: v.relu() ** 1.5))(4.0) == pytest.approx(0.75 * 4.0**-0.5)


def test_relu_and_x_to_the_zero_agree_with_torch_where_the_incoming_gradient_is_infinite():
    torch = pytest.importorskip("torch")
    for x0 in (-1.0, 0.0, 2.0):
        t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        torch.relu(t).sqrt().backward()
        v = Value(x0)
        v.relu().sqrt().backward()
        assert (v.grad == t.grad.item()) or (math.isnan(v.grad) and math.isnan(t.grad.item())), x0
        t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        (t**0 * torch.tensor(math.inf, dtype=torch.float64)).backward()
        v = Value(x0)
        (v**0 * math.inf).backward()
        assert v.grad == t.grad.item() == 0.0, x0


@pytest.mark.parametrize("x", [5e-324, 2.2e-308, math.nan, 0.0, -3.0])
def test_the_derivative_of_x_to_the_zero_is_zero_on_every_path(x):
    assert jangrad.grad(lambda v: v**0)(x) == 0.0
    v = Value(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        (v**0).backward(create_graph=True)
    assert v.grad.data == 0.0 if isinstance(v.grad, Value) else v.grad == 0.0
    v = Value(x)
    (v**0).backward()
    assert v.grad == 0.0


def test_create_graph_warns_once_about_its_reference_cycles(monkeypatch):
    from jangrad import higher_order

    monkeypatch.setattr(higher_order, "_warned_create_graph", False)
    x = Value(3.0)
    with pytest.warns(UserWarning, match="reference cycle"):
        (x * x).backward(create_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second call stays quiet
        (x * x).backward(create_graph=True)


def test_backward_from_a_result_made_under_no_grad_raises_like_pytorch():
    x = Value(2.0)
    with no_grad():
        y = (x * x).tanh()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()
    with pytest.raises(RuntimeError, match="no_grad"):
        jangrad.autodiff.gradients(y, [x])
    Value(1.0).backward()  # a leaf the user made is fine: its own gradient is 1
    z = y * x  # a no_grad result used as an input later is an ordinary leaf
    z.backward()
    assert x.grad == y.data


def test_bool_follows_the_data_as_in_pytorch():
    assert not Value(0.0) and not Value(-0.0)
    assert Value(2.0) and Value(-1e-300) and Value(math.nan)
    assert [v.data for v in (Value(0.0), Value(3.0)) if v] == [3.0]
