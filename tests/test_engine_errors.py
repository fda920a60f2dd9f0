"""What the engine refuses, and what it never refuses: bad inputs raise a TypeError naming the value; every IEEE
domain case gives inf or nan (never an exception, never a complex number); ``detect_anomaly`` turns the first
non-finite value into an ``AnomalyError`` naming the op, its operands and where the node was made.
"""

from __future__ import annotations

import gc
import inspect
import math
import operator
import os
from pathlib import Path

import pytest
from memory import FREELIST_SLACK, assert_freed, bytes_held
from strategies import op_names, variable_count

import jangrad
from jangrad import AnomalyError, Value, detect_anomaly
from jangrad.autodiff import gradients
from jangrad.engine import apply_op
from jangrad.ops import OPS

THIS_FILE = Path(__file__).name


# ---- rejected inputs ----------------------------------------------------------------------------------------------
class Opaque:
    def __repr__(self) -> str:
        return "<opaque thing>"


REJECTED = [
    ("a", "str"),
    (None, "NoneType"),
    ([1], "list"),
    (1j, "complex"),
    (Opaque(), "Opaque"),
    (b"1", "bytes"),
    ({"x": 1}, "dict"),
    ((1.0,), "tuple"),
]


@pytest.mark.parametrize("bad, type_name", REJECTED, ids=[t for _, t in REJECTED])
def test_value_rejects_non_numbers_naming_value_and_type(bad, type_name):
    with pytest.raises(TypeError) as info:
        Value(bad)
    assert repr(bad) in str(info.value)
    assert type_name in str(info.value)


def test_value_rejects_a_value_as_data():
    with pytest.raises(TypeError, match="Value"):
        Value(Value(1.0))


@pytest.mark.parametrize("label", [3, None, b"x", ["a"]])
def test_value_rejects_a_label_that_is_not_a_str(label):
    with pytest.raises(TypeError) as info:
        Value(1.0, label=label)
    assert "label" in str(info.value) and repr(label) in str(info.value)


def test_value_accepts_ints_floats_and_numpy_scalars_as_python_floats():
    np = pytest.importorskip("numpy")
    for accepted, expected in [
        (3, 3.0),
        (2.5, 2.5),
        (np.float32(0.5), 0.5),
        (np.float64(-1.25), -1.25),
        (np.int64(7), 7.0),
        (np.int8(-2), -2.0),
    ]:
        v = Value(accepted)
        assert type(v.data) is float and v.data == expected


BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


@pytest.mark.parametrize("fn", BINARY, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", ["a", None, [1.0], 1j, Opaque()], ids=repr)
def test_mixing_a_value_with_a_non_number_raises_on_both_sides(fn, bad):
    for args in ((Value(2.0), bad), (bad, Value(2.0))):
        with pytest.raises(TypeError) as info:
            fn(*args)
        # Our message names the offending value; Python's own (for the list and str cases) at least names its type.
        assert repr(bad) in str(info.value) or type(bad).__name__ in str(info.value)


@pytest.mark.parametrize("compare", [operator.lt, operator.le, operator.gt, operator.ge], ids=lambda f: f.__name__)
def test_comparing_with_a_string_raises(compare):
    with pytest.raises(TypeError):
        compare(Value(1.0), "a")


def test_mixing_with_a_numpy_array_raises_instead_of_broadcasting():
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError):
        np.array([1.0, 2.0]) + Value(1.0)
    with pytest.raises(TypeError):
        Value(1.0) * np.array([1.0, 2.0])


@pytest.mark.parametrize("gradient", ["1", None, 1j, Value(1.0)], ids=repr)
def test_backward_rejects_a_non_number_seed(gradient):
    with pytest.raises(TypeError):
        (Value(1.0) * 2.0).backward(gradient)


# ---- IEEE domain cases: inf and nan, never an exception, never complex ---------------------------------------------
def _is(value: float, expected: float) -> bool:
    """Exactly equal, sign of zero included, or both nan."""
    if math.isnan(expected):
        return math.isnan(value)
    return value == expected and math.copysign(1.0, value) == math.copysign(1.0, expected)


DOMAIN_CASES = [
    ("exp(1000)", lambda: Value(1000.0).exp(), math.inf),
    ("exp(-1000)", lambda: Value(-1000.0).exp(), 0.0),
    ("tanh(1000)", lambda: Value(1000.0).tanh(), 1.0),
    ("tanh(-1000)", lambda: Value(-1000.0).tanh(), -1.0),
    ("sigmoid(1000)", lambda: Value(1000.0).sigmoid(), 1.0),
    ("sigmoid(-1000)", lambda: Value(-1000.0).sigmoid(), 0.0),
    ("log(0)", lambda: Value(0.0).log(), -math.inf),
    ("log(-1)", lambda: Value(-1.0).log(), math.nan),
    ("sqrt(-1)", lambda: Value(-1.0).sqrt(), math.nan),
    ("(-8)**0.5", lambda: Value(-8.0) ** 0.5, math.nan),
    ("(-8)**Value(0.5)", lambda: Value(-8.0) ** Value(0.5), math.nan),
    ("(-8)**(1/3)", lambda: Value(-8.0) ** (1 / 3), math.nan),
    ("0**-1", lambda: Value(0.0) ** -1, math.inf),
    ("(-0.0)**-1", lambda: Value(-0.0) ** -1, -math.inf),
    ("0**-2", lambda: Value(0.0) ** -2, math.inf),
    ("1/0", lambda: Value(1.0) / 0, math.inf),
    ("1/Value(0)", lambda: 1 / Value(0.0), math.inf),
    ("-1/0", lambda: Value(-1.0) / 0.0, -math.inf),
    ("1/-0.0", lambda: Value(1.0) / -0.0, -math.inf),
    ("0/0", lambda: Value(0.0) / 0.0, math.nan),
    ("10**400", lambda: Value(10.0) ** 400, math.inf),
    ("(-10)**401", lambda: Value(-10.0) ** 401, -math.inf),
    ("2**Value(5000)", lambda: 2 ** Value(5000.0), math.inf),
    ("gelu(-1000)", lambda: Value(-1000.0).gelu(), -0.0),
    ("gelu(1000)", lambda: Value(1000.0).gelu(), 1000.0),
    ("relu(nan)", lambda: Value(math.nan).relu(), math.nan),
]


@pytest.mark.parametrize("make, expected", [c[1:] for c in DOMAIN_CASES], ids=[c[0] for c in DOMAIN_CASES])
def test_domain_case_gives_ieee_value(make, expected):
    out = make()
    assert type(out.data) is float  # never complex
    assert _is(out.data, expected), f"got {out.data!r}, expected {expected!r}"
    out.backward()  # and the reverse pass does not raise either


@pytest.mark.parametrize("base", [-2.0, -0.5, -8.0])
@pytest.mark.parametrize("x0", [0.5, 1.0, 2.0, -1.0])
def test_derivative_of_negative_base_power_wrt_exponent_is_nan(base, x0):
    x = Value(x0)
    (base**x).backward()
    assert math.isnan(x.grad)


@pytest.mark.parametrize("x0", [0.5, 1.0, 2.0])
def test_derivative_of_zero_base_power_wrt_positive_exponent_is_nan(x0):
    """d(0**x)/dx = 0**x * log 0 = 0 * -inf = nan. (For x <= 0 the same formula gives -inf, as PyTorch does.)"""
    x = Value(x0)
    (0.0**x).backward()
    assert math.isnan(x.grad)


@pytest.mark.parametrize("base, x0", [(2.0, 3.0), (0.5, -1.5), (math.e, 0.7)])
def test_derivative_of_positive_base_power_wrt_exponent(base, x0):
    x = Value(x0)
    y = base**x
    y.backward()
    assert x.grad == pytest.approx(base**x0 * math.log(base), rel=1e-12)


SPECIAL = [0.0, -0.0, 1e-310, -1.0, 1.0, 709.8, 1000.0, -1000.0, 1e308, -1e308, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("name", op_names())
def test_no_op_raises_on_any_special_value(name):
    """Every op, at every special value for every variable operand, forward, backward and create_graph."""
    op = OPS[name]
    k = variable_count(op)
    constants = [0.5] if op.constant_operand else []
    combos = [(x,) for x in SPECIAL] if k == 1 else [(x, y) for x in SPECIAL for y in SPECIAL]
    for xs in combos:
        leaves = [Value(x) for x in xs]
        out = apply_op(name, *leaves, *constants)
        assert type(out.data) is float, f"{name}{xs} gave {out.data!r}"
        out.backward()
        assert all(type(leaf.grad) is float for leaf in leaves), f"{name}{xs}: grads {[leaf.grad for leaf in leaves]}"
        for first in gradients(out, leaves, create_graph=True):
            if isinstance(first, Value):
                gradients(first, leaves)


# ---- detect_anomaly ------------------------------------------------------------------------------------------------
def _here() -> int:
    """The line number of the caller's next line: where the node under test is created."""
    return inspect.currentframe().f_back.f_lineno + 1


def test_anomaly_in_forward_names_op_operands_and_creation_site():
    with detect_anomaly():
        x = Value(0.0)
        with pytest.raises(AnomalyError) as info:
            line = _here()
            x.log()
    message = str(info.value)
    assert "'log'" in message and "0.0" in message
    assert f"{THIS_FILE}:{line}" in message


def test_anomaly_in_binary_forward_names_both_operands():
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        line = _here()
        Value(3.5) / Value(0.0)
    message = str(info.value)
    assert "'div'" in message and "3.5" in message and "0.0" in message
    assert f"{THIS_FILE}:{line}" in message


def test_anomaly_in_backward_names_op_operands_and_creation_site():
    """sqrt(0) = 0 is finite, but its derivative 1 / (2 sqrt 0) is not: the backward pass must catch it."""
    with detect_anomaly():
        x = Value(0.0)
        line = _here()
        y = x.sqrt() * 3.0
        with pytest.raises(AnomalyError) as info:
            y.backward()
    message = str(info.value)
    assert "'sqrt'" in message and "0.0" in message
    assert f"{THIS_FILE}:{line}" in message


def test_anomaly_catches_the_first_bad_op_not_a_later_one():
    with detect_anomaly():
        x = Value(-1.0)
        with pytest.raises(AnomalyError, match="'sqrt'"):
            (x.sqrt() + 1.0).log()


def test_backward_inside_block_of_graph_built_outside_still_raises():
    y = Value(0.0).sqrt()
    with detect_anomaly(), pytest.raises(AnomalyError, match="'sqrt'"):
        y.backward()


def test_detect_anomaly_leaves_finite_computations_alone():
    def run() -> tuple[float, float, float]:
        a, b = Value(0.3), Value(-1.2)
        out = (a * b).tanh() + (a**2).exp() / b.sigmoid()
        out.backward()
        return out.data, a.grad, b.grad

    plain = run()
    with detect_anomaly():
        checked = run()
    assert checked == plain


def test_outside_the_block_nothing_is_checked():
    with detect_anomaly():
        x = Value(0.0)
        y = x.sqrt()  # recorded inside ...
    assert Value(0.0).log().data == -math.inf  # ... and after the block, ops give inf/nan again, quietly,
    y.backward()  # and so does a backward of a node made inside the block
    assert x.grad == math.inf


def test_the_block_is_left_cleanly_after_an_anomaly():
    with pytest.raises(AnomalyError), detect_anomaly():
        Value(-1.0).log()
    assert math.isnan(Value(-1.0).log().data)


def test_nested_blocks_keep_checking_until_the_outer_one_ends():
    with detect_anomaly():
        with detect_anomaly():
            pass
        with pytest.raises(AnomalyError):
            Value(0.0).log()
    Value(0.0).log()


def test_nodes_made_inside_the_block_are_not_kept_after_it():
    """The creation record must not outlive the block: a graph made inside is freed once dropped."""

    def build():
        with detect_anomaly():
            y = Value(0.5)
            for _ in range(10_000):
                y = y.tanh()
        return y

    gc.collect()
    gc.disable()
    try:
        assert_freed(build)
    finally:
        gc.enable()


def test_a_graph_dropped_inside_the_block_is_freed_inside_it():
    """A training loop run inside detect_anomaly must not keep every step's graph alive until the block ends."""

    def build_and_drop():
        y = Value(0.5)
        for _ in range(10_000):
            y = y.tanh()
        y.backward()
        return None  # the graph is dropped here, while the block is still open

    gc.collect()
    gc.disable()
    try:
        with detect_anomaly():
            build_and_drop()
            held, _ = bytes_held(build_and_drop)
    finally:
        gc.enable()
    assert held < FREELIST_SLACK, f"{held} bytes still held by dropped graphs inside detect_anomaly"


def test_creation_site_of_a_user_file_whose_name_starts_like_the_package():
    """Only files inside the package directory are jangrad's own; a sibling named jangrad_*.py is user code."""
    package_dir = os.path.dirname(os.path.abspath(jangrad.__file__))
    sibling = package_dir + "_examples.py"  # e.g. /repo/jangrad_examples.py, next to /repo/jangrad/

    def make_node() -> Value:
        return Value(0.0).log()

    # Give the function the sibling file's name (no file is written): its frames then report that path.
    make_node.__code__ = make_node.__code__.replace(co_filename=sibling)
    line = make_node.__code__.co_firstlineno + 1
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        make_node()
    assert f"{sibling}:{line}" in str(info.value)


def test_apply_op_and_gradients_name_bad_arguments():
    x = Value(2.0)
    with pytest.raises(ValueError, match="unknown op 'cube': expected one of add, sub"):
        apply_op("cube", x)
    with pytest.raises(TypeError, match="output must be a Value, got 3.0"):
        gradients(3.0, [x])
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Value, got 2.0 of type float"):
        gradients(x * x, [x, 2.0])
    assert gradients(x * x, (x,)) == [4.0]
