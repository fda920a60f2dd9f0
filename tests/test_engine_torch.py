"""PyTorch (float64) as an oracle: values, first and second derivatives of every op and of random DAGs with reuse.

``TORCH_OPS`` says what each op of ``ops.OPS`` is in PyTorch. The ops tested are read from the table, so a new op
without an entry here fails ``test_every_op_has_a_torch_reference`` until someone says what it means in PyTorch.

Documented differences, kept out of the comparisons on purpose (each is named where it is excluded):
the derivative of ``b ** x`` with respect to ``x`` at ``b = 0`` is nan here (``b ** x * log b``, with no real log of
0 to speak of), 0 in PyTorch; and a few conventions at nan or infinite inputs where PyTorch picks an arbitrary value.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numeric import assert_close, close
from strategies import SETTINGS, assume_well_behaved, expression_dags, op_names, operands, variable_count

from jangrad import Value
from jangrad.autodiff import gradients
from jangrad.engine import apply_op
from jangrad.ops import OPS

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_OPS = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "pow": lambda x, y: torch.pow(x, y),
    "powc": lambda x, k: torch.pow(x, k),
    "neg": lambda x: -x,
    "abs": lambda x: torch.abs(x),
    "exp": lambda x: torch.exp(x),
    "log": lambda x: torch.log(x),
    "sqrt": lambda x: torch.sqrt(x),
    "tanh": lambda x: torch.tanh(x),
    "sigmoid": lambda x: torch.sigmoid(x),
    "relu": lambda x: torch.relu(x),
    "leaky_relu": lambda x, slope: F.leaky_relu(x, slope),
    "erf": lambda x: torch.erf(x),
    "gelu": lambda x: F.gelu(x),  # approximate="none": the exact, erf-based gelu
}

# Agreement with PyTorch, which computes the same formulas in float64 (up to a few ulps in exp, erf, ...).
RTOL, ATOL = 1e-9, 1e-12


def _tensor(x: float):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def _torch_apply(name: str, *args):
    return TORCH_OPS[name](*args)


def _torch_derivatives(out, leaves) -> tuple[list[float], list[list[float]]]:
    """PyTorch's gradient and Hessian of scalar ``out`` with respect to ``leaves``."""
    firsts = torch.autograd.grad(out, leaves, create_graph=True, allow_unused=True)
    gradient, hessian = [], []
    for g in firsts:
        gradient.append(0.0 if g is None else g.item())
        if g is None or not g.requires_grad:
            hessian.append([0.0] * len(leaves))
            continue
        seconds = torch.autograd.grad(g, leaves, retain_graph=True, allow_unused=True)
        hessian.append([0.0 if s is None else s.item() for s in seconds])
    return gradient, hessian


def _our_derivatives(out: Value, leaves: list[Value]) -> tuple[list[float], list[list[float]]]:
    """Our gradient (from backward) and Hessian (create_graph, then differentiating each gradient again)."""
    out.backward()
    gradient = [leaf.grad for leaf in leaves]
    hessian = []
    for first in gradients(out, leaves, create_graph=True):
        hessian.append(
            [float(s) for s in gradients(first, leaves)] if isinstance(first, Value) else [0.0] * len(leaves)
        )
    return gradient, hessian


def _compare(what: str, ours: tuple, theirs: tuple, value: float, torch_value: float) -> None:
    assert_close(value, torch_value, f"{what}: value", RTOL, ATOL)
    (our_grad, our_hessian), (torch_grad, torch_hessian) = ours, theirs
    for i, (a, b) in enumerate(zip(our_grad, torch_grad, strict=True)):
        assert_close(a, b, f"{what}: d/dx{i}", RTOL, ATOL)
    for i, (row, torch_row) in enumerate(zip(our_hessian, torch_hessian, strict=True)):
        for j, (a, b) in enumerate(zip(row, torch_row, strict=True)):
            assert_close(a, b, f"{what}: d2/dx{i}dx{j}", 1e-8, 1e-10)


@pytest.mark.parametrize("name", op_names())
def test_every_op_has_a_torch_reference(name):
    assert name in TORCH_OPS, f"op {name!r} is in ops.OPS but this file does not say what it is in PyTorch"


@pytest.mark.parametrize("name", op_names())
@SETTINGS
@given(data=st.data())
def test_op_matches_torch(name, data):
    args = data.draw(operands(name), label="operands")
    # PyTorch masks d(x**y)/dx to 0 wherever y == 0, so its mixed second derivative there is 0; the true value
    # (x**(y-1), 1 at x = 1) is checked against central differences in test_engine_properties.
    assume(not (name == "pow" and args[1] == 0.0))
    k = variable_count(OPS[name])
    variables, constants = list(args[:k]), list(args[k:])

    leaves = [Value(x) for x in variables]
    out = apply_op(name, *leaves, *constants)
    tensors = [_tensor(x) for x in variables]
    torch_out = TORCH_OPS[name](*tensors, *constants)

    _compare(
        f"{name}{tuple(args)}",
        _our_derivatives(out, leaves),
        _torch_derivatives(torch_out, tensors),
        out.data,
        torch_out.item(),
    )


@SETTINGS
@given(program=expression_dags())
def test_dag_matches_torch(program):
    leaves = [Value(x) for x in program.inputs]
    nodes = program.run(leaves, apply_op)
    assume_well_behaved(program, [n.data for n in nodes])
    tensors = [_tensor(x) for x in program.inputs]
    torch_out = program.run(tensors, _torch_apply)[-1]

    _compare(
        "DAG",
        _our_derivatives(nodes[-1], leaves),
        _torch_derivatives(torch_out, tensors),
        nodes[-1].data,
        torch_out.item(),
    )


# ---- special values: IEEE edges, where conventions live -----------------------------------------------------------
SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 1e-300, 1000.0, -1000.0, math.inf, -math.inf, math.nan]
CONSTANTS = {"powc": [-2.0, -1.0, 0.5, 1.0, 2.0, 3.0], "leaky_relu": [0.0, 0.01, 0.2]}


def _known_difference(name: str, args: tuple[float, ...]) -> str:
    """Why PyTorch's derivative is not our oracle at this point, or '' if it is."""
    x = args[0]
    if name == "pow" and x == 0.0:
        return "documented: d(b**x)/dx at b = 0 is nan here (log 0), PyTorch gives 0"
    if name in ("abs", "relu") and math.isnan(x):
        return "derivative at nan: PyTorch says 0 (abs) and 1 (relu), we give nan and 0"
    return ""


def _special_cases():
    for name in op_names():
        op = OPS[name]
        if op.constant_operand:
            combos = [(x, c) for x in SPECIAL for c in CONSTANTS.get(name, [0.5])]
        elif op.arity == 2:
            combos = [(x, y) for x in SPECIAL for y in SPECIAL]
        else:
            combos = [(x,) for x in SPECIAL]
        for args in combos:
            yield name, args


@pytest.mark.parametrize("name", op_names())
def test_special_values_match_torch(name):
    """Every op at 0, -0, tiny, huge, ±inf and nan: the same value as PyTorch, and the same first derivative."""
    mismatches = []
    for op_name, args in _special_cases():
        if op_name != name:
            continue
        k = variable_count(OPS[name])
        leaves = [Value(x) for x in args[:k]]
        out = apply_op(name, *leaves, *args[k:])
        ours = gradients(out, leaves)
        tensors = [_tensor(x) for x in args[:k]]
        torch_out = TORCH_OPS[name](*tensors, *args[k:])
        theirs = [0.0 if g is None else g.item() for g in torch.autograd.grad(torch_out, tensors, allow_unused=True)]
        if name == "powc" and args[1] == 0.5 and math.copysign(1.0, args[0]) < 0 and args[0] in (0.0, -math.inf):
            # PyTorch computes x ** 0.5 as sqrt(x): sqrt(-inf) is nan and 1 / sqrt(-0.0) is -inf, where C99 pow
            # (which Python and we follow) gives +inf for both.
            continue
        if not close(out.data, torch_out.item(), RTOL, ATOL):
            mismatches.append(f"{name}{args} = {out.data!r}, PyTorch {torch_out.item()!r}")
        if _known_difference(name, args):
            continue
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            if not close(a, b, RTOL, ATOL):
                mismatches.append(f"d {name}{args} / dx{i} = {a!r}, PyTorch {b!r}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize(
    "name, x, slope",
    [("abs", 0.0, None), ("relu", 0.0, None), ("leaky_relu", 0.0, 0.1), ("abs", -0.0, None), ("relu", -0.0, None)],
)
def test_kinks_follow_torch_convention(name, x, slope):
    """At the kink the derivative is a convention; ours is PyTorch's (relu'(0) = 0, |x|'(0) = 0, leaky: slope)."""
    constants = [] if slope is None else [slope]
    leaf = Value(x)
    apply_op(name, leaf, *constants).backward()
    t = _tensor(x)
    TORCH_OPS[name](t, *constants).backward()
    assert leaf.grad == t.grad.item()


def test_pow_exponent_derivative_at_base_zero_is_the_documented_difference():
    x = Value(2.0)
    (Value(0.0) ** x).backward()
    t = _tensor(2.0)
    torch.pow(torch.tensor(0.0, dtype=torch.float64), t).backward()
    assert math.isnan(x.grad) and t.grad.item() == 0.0


@pytest.mark.parametrize("make", [lambda v: v**0, lambda v: v ** Value(0.0)], ids=["powc", "pow"])
def test_derivative_of_x_to_the_zero_at_zero(make):
    """x**0 is constant, so its derivative is 0 even at x = 0, where the power rule's x**-1 is inf (0 * inf)."""
    x = Value(0.0)
    make(x).backward()
    t = _tensor(0.0)
    torch.pow(t, 0.0).backward()
    assert t.grad.item() == 0.0
    assert x.grad == 0.0


@pytest.mark.parametrize("g", [math.nan, math.inf, -math.inf, 1.0], ids=repr)
@pytest.mark.parametrize("x0", [2.0, -1.5, 0.0, 1e-310, math.nan], ids=repr)
@pytest.mark.parametrize("y0", [0.0, -0.0], ids=repr)
def test_pow_at_exponent_zero_passes_the_base_what_torch_passes(x0, y0, g):
    """x ** y at y = 0 with any incoming gradient g: the base gets 0 (PyTorch masks d/dx where y == 0), as it
    does for x ** 0 with a plain number; the exponent gets g x^y ln x, as in PyTorch away from x = 0."""
    x, y = Value(x0), Value(y0)
    ((x**y) * Value(g)).backward()
    tx, ty = _tensor(x0), _tensor(y0)
    (torch.pow(tx, ty) * torch.tensor(g, dtype=torch.float64)).backward()
    assert x.grad == tx.grad.item() == 0.0
    if x0 != 0.0:  # at x = 0, d/dy is the documented difference (nan here, 0 in PyTorch)
        assert close(y.grad, ty.grad.item(), RTOL, ATOL)
