"""The compiled tape must give the eager engine's values and gradients (to 1e-12) on any graph, for every op."""

from __future__ import annotations

import math
import random
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jangrad
from jangrad import Value
from jangrad.compiled import GraphChangedError, Tape
from jangrad.engine import apply_op, topological_order
from jangrad.ops import FLOAT_MATH, OPS

REL = 1e-12

# The constant second operand of ops that have one: a few exponents and slopes worth testing.
CONSTANTS = {"powc": [2.0, 3.0, 0.5, -1.0, 1.5, 0.0], "leaky_relu": [0.01, 0.2]}


def close(a: float, b: float, scale: float) -> bool:
    """Equal to 1e-12 relative; sums may be reordered, so cancellation is judged against the graph's scale."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= REL * max(abs(a), abs(b)) + REL * scale


def scale_of(numbers) -> float:
    finite = [abs(x) for x in numbers if math.isfinite(x)]
    return 1.0 + max(finite, default=0.0)


# ---- random graphs -------------------------------------------------------------------------------------------
@st.composite
def recipes(draw):
    """A graph as data: leaf values, then steps (op, operand indices, constant), reusing nodes freely."""
    n_leaves = draw(st.integers(1, 5))
    values = draw(st.lists(st.floats(-2.0, 2.0), min_size=n_leaves, max_size=n_leaves))
    steps = []
    names = sorted(OPS)
    for _ in range(draw(st.integers(1, 14))):
        name = draw(st.sampled_from(names))
        available = n_leaves + len(steps)
        first = draw(st.integers(0, available - 1))
        if name in CONSTANTS:
            steps.append((name, (first,), draw(st.sampled_from(CONSTANTS[name]))))
        elif OPS[name].arity == 2:
            steps.append((name, (first, draw(st.integers(0, available - 1))), None))
        else:
            steps.append((name, (first,), None))
    # The output sums a few nodes, so that intermediate nodes have several consumers.
    available = n_leaves + len(steps)
    outputs = draw(st.lists(st.integers(0, available - 1), min_size=1, max_size=4))
    new_values = draw(st.lists(st.floats(-2.0, 2.0), min_size=n_leaves, max_size=n_leaves))
    return values, steps, outputs, new_values


def build(values, steps, outputs):
    leaves = [Value(v) for v in values]
    nodes = list(leaves)
    for name, operands, constant in steps:
        args = [nodes[i] for i in operands] + ([constant] if constant is not None else [])
        nodes.append(apply_op(name, *args))
    out = nodes[outputs[0]]
    for i in outputs[1:]:
        out = out + nodes[i]
    return leaves, out


def assert_matches_eager(values, steps, outputs, new_values):
    """Compile once on ``values``, replay on ``new_values``, compare with an eager graph built on those."""
    leaves, out = build(values, steps, outputs)
    tape = jangrad.compile(out)
    for leaf, v in zip(leaves, new_values, strict=True):
        leaf.data = v
    got = tape.forward()
    tape.backward()

    eager_leaves, eager_out = build(new_values, steps, outputs)
    eager_out.backward()
    order = topological_order(eager_out)
    value_scale = scale_of(node.data for node in order)
    # A leaf's gradient is a sum of contributions that the tape may add in another order: judge cancellation
    # against the largest contribution (x/x at x = 1e-186 sends +-1e186 to x, which cancel), not the result.
    grad_scale = scale_of(
        [node.grad for node in order]
        + [
            c
            for node in order
            if node.parents
            for c in node._rule.backward(FLOAT_MATH, node.grad, node.data, *(p.data for p in node.parents))
        ]
    )
    assert close(got, eager_out.data, value_scale), (got, eager_out.data)
    assert out.data == got or (math.isnan(out.data) and math.isnan(got))
    for leaf, eager_leaf in zip(leaves, eager_leaves, strict=True):
        assert close(leaf.grad, eager_leaf.grad, grad_scale), (leaf.grad, eager_leaf.grad)


@settings(max_examples=150, deadline=None)
@given(recipes())
def test_random_graphs_match_eager(recipe):
    assert_matches_eager(*recipe)


# ---- every op, alone and batched -----------------------------------------------------------------------------
EDGE_VALUES = [-2.5, -1.0, -0.5, 0.0, 0.3, 1.0, 2.0, 40.0, -40.0, 800.0]


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_in_a_batch_matches_eager(name):
    """Each op over many operand pairs (edge values included) runs as one group and matches eager exactly."""
    rng = random.Random(name)
    xs = EDGE_VALUES + [rng.uniform(-3, 3) for _ in range(20)]
    ys = [rng.choice(EDGE_VALUES + [rng.uniform(-3, 3)]) for _ in xs]

    def graph():
        xv = [Value(x) for x in xs]
        yv = [Value(y) for y in ys]
        terms = []
        for k, (x, y) in enumerate(zip(xv, yv, strict=True)):
            if name in CONSTANTS:
                node = apply_op(name, x, CONSTANTS[name][k % len(CONSTANTS[name])])
            elif OPS[name].arity == 2:
                node = apply_op(name, x, y)
            else:
                node = apply_op(name, x)
            terms.append(node * (0.5 + 0.01 * k))  # distinct weights, so each gradient is checked on its own
        return xv + yv, sum(terms)

    leaves, out = graph()
    tape = jangrad.compile(out)
    got = tape.forward()
    tape.backward()
    eager_leaves, eager_out = graph()
    eager_out.backward()
    assert close(got, eager_out.data, scale_of(n.data for n in topological_order(eager_out)))
    grad_scale = scale_of(n.grad for n in eager_leaves)
    for leaf, eager_leaf in zip(leaves, eager_leaves, strict=True):
        assert close(leaf.grad, eager_leaf.grad, grad_scale), (name, leaf.grad, eager_leaf.grad)


def test_numpy_math_agrees_with_float_math_on_edge_values():
    np = pytest.importorskip("numpy")
    from jangrad.compiled.kernels import NUMPY_MATH
    from jangrad.ops import FLOAT_MATH

    specials = [0.0, -0.0, 1.0, -1.0, 0.5, -3.0, 3.0, 710.0, -710.0, math.inf, -math.inf, math.nan]
    pairs = [(a, b) for a in specials for b in specials]
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    public = {name for name in dir(FLOAT_MATH) if not name.startswith("_")}
    assert public <= {name for name in dir(NUMPY_MATH) if not name.startswith("_")}  # every function the rules use
    with np.errstate(all="ignore"):
        results = {
            "div": NUMPY_MATH.div(a, b),
            "pow": NUMPY_MATH.pow(a, b),
            "power_rule": NUMPY_MATH.power_rule(a, b),
            "leaky_relu": NUMPY_MATH.leaky_relu(a, 0.1),
        }
        for unary in ("exp", "log", "sqrt", "tanh", "erf", "sigmoid", "relu", "step", "sign"):
            results[unary] = getattr(NUMPY_MATH, unary)(a)
    for k, (x, y) in enumerate(pairs):
        for name, got in results.items():
            if name in ("div", "pow", "power_rule"):
                want = getattr(FLOAT_MATH, name)(x, y)
            elif name == "leaky_relu":
                want = FLOAT_MATH.leaky_relu(x, 0.1)
            else:
                want = getattr(FLOAT_MATH, name)(x)
            assert close(float(got[k]), want, 1.0), (name, x, y, float(got[k]), want)


# ---- structure: flattening, layers, products -------------------------------------------------------------------
def test_a_long_sum_is_one_level_not_a_ladder():
    xs = [Value(float(i)) for i in range(1000)]
    ws = [Value(0.001 * i) for i in range(1000)]
    out = sum(w * x for w, x in zip(ws, xs, strict=True)) - sum(xs)
    tape = jangrad.compile(out)
    assert tape.depth <= 3
    assert tape.forward() == pytest.approx(out.data, rel=REL)
    tape.backward()
    assert xs[10].grad == pytest.approx(0.01 - 1.0, rel=REL)
    assert ws[10].grad == pytest.approx(10.0, rel=REL)


@pytest.mark.parametrize("form", ["bias", "minus_bias", "per_sample_term"])
def test_a_layer_over_a_batch_matches_eager(form):
    """Runs as a matrix product; plain terms as a broadcast bias, a signed bias, or terms that vary per sample."""
    rng = random.Random(0)
    weights = [[Value(rng.uniform(-1, 1)) for _ in range(5)] for _ in range(4)]
    biases = [Value(rng.uniform(-1, 1)) for _ in range(4)]
    batch = [[Value(rng.uniform(-1, 1)) for _ in range(5)] for _ in range(7)]

    def loss():
        total = 0.0
        for x in batch:
            if form == "bias":
                hidden = [
                    sum((w * xi for w, xi in zip(row, x, strict=True)), b).tanh()
                    for row, b in zip(weights, biases, strict=True)
                ]
            elif form == "minus_bias":
                hidden = [
                    (sum(w * xi for w, xi in zip(row, x, strict=True)) - b).tanh()
                    for row, b in zip(weights, biases, strict=True)
                ]
            else:
                hidden = [
                    (sum(w * xi for w, xi in zip(row, x, strict=True)) + x[0] - b).tanh()
                    for row, b in zip(weights, biases, strict=True)
                ]
            total = total + sum(h * h for h in hidden)
        return total

    out = loss()
    tape = jangrad.compile(out)
    assert any(getattr(kernel, "grid", None) == (7, 4) for kernel in tape._kernels)  # one matrix product
    params = [w for row in weights for w in row] + biases + [x for row in batch for x in row]
    out.backward()
    eager = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    tape = jangrad.compile(out)
    assert tape.forward() == pytest.approx(out.data, rel=REL)
    tape.backward()
    for p, g in zip(params, eager, strict=True):
        assert p.grad == pytest.approx(g, rel=REL, abs=REL)


def test_product_chains_with_a_zero_factor():
    xs = [Value(v) for v in (2.0, 0.0, -3.0, 0.5)]
    out = xs[0] * xs[1] * xs[2] * xs[3] + xs[0] * xs[2] * xs[3]
    tape = jangrad.compile(out)
    tape.forward()
    tape.backward()
    got = [x.grad for x in xs]
    eager = [Value(x.data) for x in xs]
    (eager[0] * eager[1] * eager[2] * eager[3] + eager[0] * eager[2] * eager[3]).backward()
    assert got == pytest.approx([x.grad for x in eager], rel=REL)


def test_a_deep_chain_needs_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(3000):
        y = (y * 0.9999).tanh() + 0.001
    tape = jangrad.compile(y)
    assert tape.forward() == pytest.approx(y.data, rel=1e-9)
    tape.backward()
    eager = Value(0.5)
    z = eager
    for _ in range(3000):
        z = (z * 0.9999).tanh() + 0.001
    z.backward()
    assert x.grad == pytest.approx(eager.grad, rel=1e-9)


# ---- the tape's contract -------------------------------------------------------------------------------------
def test_forward_rereads_leaves_and_backward_accumulates_like_eager():
    a, b = Value(2.0), Value(3.0)
    out = a * a + a * b
    tape = jangrad.compile(out)
    a.data = 5.0
    assert tape.forward() == 5.0 * 5.0 + 5.0 * 3.0
    assert out.data == 40.0
    tape.backward()
    tape.backward()  # leaves accumulate, as with eager backward called twice
    assert (a.grad, b.grad) == (2 * (2 * 5.0 + 3.0), 2 * 5.0)


def test_backward_seed_and_inputs_restrict_which_leaves_get_grads():
    a, b = Value(2.0), Value(3.0)
    c = Value(7.0)  # not in the graph: ignored, its grad untouched
    out = (a * b).exp().log()
    b.grad = 0.25
    tape = jangrad.compile(out, inputs=[a, c, a])
    tape.backward(gradient=2.0)
    assert a.grad == pytest.approx(6.0, rel=REL)
    assert b.grad == 0.25 and c.grad == 0.0


def test_a_leaf_output_and_a_constant_output():
    x = Value(4.0)
    tape = jangrad.compile(x)
    x.data = 9.0
    assert tape.forward() == 9.0
    tape.backward()
    assert x.grad == 1.0


def test_check_detects_data_dependent_structure():
    def f(x: Value) -> Value:
        return x * 2.0 if x.data > 0 else x.exp()

    x = Value(1.0)
    tape = jangrad.compile(f(x))
    tape.check(f(Value(3.0)))  # same branch, same structure: fine
    with pytest.raises(GraphChangedError, match="compile it again"):
        tape.check(f(Value(-3.0)))


def test_forward_refuses_a_rewired_output():
    x = Value(1.0)
    out = x + 1.0
    tape = jangrad.compile(out)
    out._rule = OPS["mul"]  # what a graph edited in place would look like
    with pytest.raises(GraphChangedError):
        tape.forward()


def test_bad_input_gives_clear_errors():
    with pytest.raises(TypeError, match="got 3.0 of type float"):
        jangrad.compile(3.0)
    x = Value(1.0)
    tape = jangrad.compile(x * 2.0)
    x.data = "seven"
    with pytest.raises(TypeError, match="seven"):
        tape.forward()
    with pytest.raises(TypeError, match="inputs must be Values"):
        jangrad.compile(Value(1.0) * 2.0, inputs=[1.0])
    assert isinstance(tape, Tape) and "nodes" in repr(tape)


@pytest.mark.parametrize("bad", [None, "1.5", [1.0]])
def test_a_leaf_whose_data_is_not_a_number_is_refused_not_read_as_nan(bad):
    x, w = Value(1.0), Value(3.0)
    tape = jangrad.compile((x * w).tanh(), inputs=[x, w])
    x.data = bad
    with pytest.raises(TypeError, match=f"every leaf's .data must be a real number: got {re.escape(repr(bad))}"):
        tape.forward()
    x.data = np.float64(0.5)  # NumPy's scalars are real numbers
    assert tape.forward() == pytest.approx(math.tanh(1.5), rel=1e-15)


# ---- fit() through the tape --------------------------------------------------------------------------------------
FIT_CASES = {
    "sse": ([[0.5, -1.0], [1.0, 2.0], [-0.3, 0.1], [2.0, -0.5], [0.0, 1.0]], [1.0, -1.0, 0.5, 0.2, -0.7], 1),
    "mse": (
        [[0.5, -1.0], [1.0, 2.0], [-0.3, 0.1], [2.0, -0.5], [0.0, 1.0]],
        [[1.0, 0.0], [-1.0, 0.5], [0.5, 0.5], [0.2, -0.2], [-0.7, 0.1]],
        2,
    ),
    "hinge": ([[0.5, -1.0], [1.0, 2.0], [-0.3, 0.1], [2.0, -0.5], [0.0, 1.0]], [1, -1, 1, 1, -1], 1),
    "bce": ([[0.5, -1.0], [1.0, 2.0], [-0.3, 0.1], [2.0, -0.5], [0.0, 1.0]], [1, 0, 1, 1, 0], 1),
    "ce": ([[0.5, -1.0], [1.0, 2.0], [-0.3, 0.1], [2.0, -0.5], [0.0, 1.0]], [0, 2, 1, 1, 0], 3),
}


@pytest.mark.parametrize("loss", sorted(FIT_CASES))
def test_compiled_fit_matches_eager_fit(loss, monkeypatch):
    """Same losses, accuracies and final parameters, with a last batch smaller than the others (a second tape)."""
    import jangrad.train

    X, y, nout = FIT_CASES[loss]
    runs = []
    for compiled in (False, True):
        if compiled:  # the compiled run must not fall back to the eager step
            monkeypatch.setattr(jangrad.train, "_loss_and_backward", None)
        model = jangrad.nn.MLP(2, [4, nout], seed=1)
        history = jangrad.fit(
            model,
            X,
            y,
            loss=loss,
            optimizer="adam",
            lr=0.05,
            steps=7,
            batch_size=2,
            seed=3,
            progress=False,
            l2=1e-3,
            compiled=compiled,
        )
        runs.append((history, [p.data for p in model.parameters()]))
    (eager, eager_params), (taped, taped_params) = runs
    assert taped.loss == pytest.approx(eager.loss, rel=1e-10)
    assert taped.accuracy == eager.accuracy
    assert taped_params == pytest.approx(eager_params, rel=1e-9, abs=1e-12)


def test_fit_with_a_custom_loss_runs_eagerly():
    from jangrad.compiled.training import compiled_training

    model = jangrad.nn.MLP(2, [3, 1], seed=0)

    def custom(predictions, targets):
        return sum((p - t) ** 2 for p, t in zip(predictions, targets, strict=True))

    params = model.parameters()
    opt = jangrad.optim.SGD(params, lr=0.1)
    assert compiled_training(model, [[0.0, 1.0]], [1.0], custom, 0.0, opt, params) is None
    history = jangrad.fit(model, [[0.0, 1.0], [1.0, 0.0]], [1.0, -1.0], loss=custom, steps=3, progress=False)
    assert len(history) == 3


def test_compiled_fit_checks_targets_like_the_losses():
    model = jangrad.nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="labels must be -1 or \\+1"):
        jangrad.fit(model, [[0.0, 1.0], [1.0, 0.0]], [1, 0], loss="hinge", steps=1, progress=False)
    model = jangrad.nn.MLP(2, [3, 3], seed=0)
    with pytest.raises(ValueError, match="class index"):
        jangrad.fit(model, [[0.0, 1.0], [1.0, 0.0]], [0, 5], loss="ce", steps=1, progress=False)


def test_read_gives_kept_values_and_refuses_merged_ones():
    a, b = Value(1.0), Value(2.0)
    middle = a * b
    out = middle + a
    tape = jangrad.compile(out)
    with pytest.raises(ValueError, match="keep"):
        tape.read([middle])  # merged into the sum as a product term
    tape = jangrad.compile(out, keep=[middle])
    a.data = 3.0
    tape.forward()
    assert tape.read([middle, out, a]) == [6.0, 9.0, 3.0]


def test_check_and_backward_refuse_bad_arguments_with_a_clear_error():
    x = Value(1.0)
    tape = jangrad.compile(x * 2.0)
    with pytest.raises(TypeError, match="check\\(\\) needs the Value .* got 3.0 of type float"):
        tape.check(3.0)
    for bad in ("2.0", [1.0], None):
        with pytest.raises(TypeError, match="gradient must be a real number"):
            tape.backward(gradient=bad)
    assert x.grad == 0.0


def test_a_single_value_where_a_list_belongs_is_named():
    x = Value(1.0)
    y = x * 2.0
    for options in ({"inputs": x}, {"keep": y}):
        with pytest.raises(TypeError, match="must be a list of Values, got a single Value"):
            jangrad.compile(y, **options)
    with pytest.raises(TypeError, match="nodes must be a list of Values"):
        jangrad.compile(y).read(y)


def test_a_tape_refuses_a_second_thread_while_one_replays_it():
    """The working arrays are shared: a second replay at once would mix two threads' values, so it is refused."""
    import threading

    x = Value(2.0)
    tape = jangrad.compile(x * x + 3.0 * x)
    holding, release = threading.Event(), threading.Event()

    def replay_and_hold() -> None:
        with tape._replay():  # what a thread does while its forward() runs
            holding.set()
            release.wait(timeout=10)

    other = threading.Thread(target=replay_and_hold)
    other.start()
    try:
        assert holding.wait(timeout=10)
        with pytest.raises(RuntimeError, match="another thread is replaying this tape"):
            tape.forward()
        with pytest.raises(RuntimeError, match="another thread is replaying this tape"):
            tape.backward()
    finally:
        release.set()
        other.join(timeout=10)
    assert tape.forward() == 10.0
    tape.backward()
    assert x.grad == 7.0


# ---- numbers in arrays, and nested signed sums --------------------------------------------------------------------
def test_forward_from_an_array_and_gradients_as_an_array():
    """forward(values) takes the leaves' numbers in tape.leaves order without reading .data; backward with
    write_grads=False leaves .grad alone and leaf_grads() gives the same gradients the Values would get."""
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    out = a * b + (b - c) * c
    tape = jangrad.compile(out)
    new = {id(a): 0.5, id(b): -1.5, id(c): 4.0}
    values = [new[id(leaf)] for leaf in tape.leaves]
    assert tape.forward(values) == 0.5 * -1.5 + (-1.5 - 4.0) * 4.0
    assert a.data == 1.0  # not read, not written
    tape.backward(write_grads=False)
    assert [a.grad, b.grad, c.grad] == [0.0, 0.0, 0.0]
    by_leaf = dict(zip(map(id, tape.leaves), tape.leaf_grads().tolist(), strict=True))
    assert [by_leaf[id(a)], by_leaf[id(b)], by_leaf[id(c)]] == [-1.5, 0.5 + 4.0, -1.5 - 2 * 4.0]
    with pytest.raises(ValueError, match="one number per leaf \\(3"):
        tape.forward([1.0, 2.0])
    with pytest.raises(TypeError, match="write_grads must be True or False"):
        tape.backward(write_grads="no")


def test_leaf_grads_is_an_array_of_its_own_and_passes_do_not_accumulate():
    """The array leaf_grads() hands out keeps its numbers through later passes (the next pass writes a new
    array), and a second pass on the same numbers gives the same gradients, not twice them: a pass writes each
    gradient's first contribution instead of adding it to the last pass's."""
    a, b = Value(2.0), Value(3.0)
    out = a * b + a * a + (a - b) * b  # a reaches the output three ways, b two
    tape = jangrad.compile(out)
    a_at, b_at = [next(k for k, leaf in enumerate(tape.leaves) if leaf is x) for x in (a, b)]
    tape.forward()
    tape.backward(write_grads=False)
    first = tape.leaf_grads()
    expected = [0.0] * len(tape.leaves)
    expected[a_at], expected[b_at] = 3.0 + 2 * 2.0 + 3.0, 2.0 + (2.0 - 3.0) - 3.0
    assert first.tolist() == expected
    tape.backward(write_grads=False)
    assert tape.leaf_grads().tolist() == expected
    values = tape.leaf_data()
    values[a_at] = 10.0
    tape.forward(values)
    tape.backward(write_grads=False)
    assert tape.leaf_grads()[a_at] == 3.0 + 2 * 10.0 + 3.0
    assert first.tolist() == expected  # untouched by the passes after it


def test_gradient_plan_writes_first_contributions_and_zeroes_only_the_rest():
    """A backward pass writes (not adds) a slot's first contribution, so its gradient array starts as garbage:
    the plan must mark as "assign" only the scatters whose every slot is fresh, and list for zeroing the fresh
    slots of a scatter that also reaches written ones, and the slots nothing writes."""
    from jangrad.compiled.kernels import Scatter, plan_gradients

    class Kernel:
        def __init__(self, *scatters: Scatter) -> None:
            self._scatters = list(scatters)

        def scatters(self) -> list[Scatter]:
            return self._scatters

    fresh = Scatter(np.array([1, 2]))
    repeated = Scatter(np.array([4, 4, 5]))  # slot 4 twice: its two contributions are summed, then written
    overlapping = Scatter(np.array([2, 3]))  # 2 was written above, 3 was not
    zero_first = plan_gradients([Kernel(overlapping), Kernel(fresh, repeated)], size=7, out_slot=0)  # run reversed
    assert (fresh.assign, repeated.assign, overlapping.assign) == (True, True, False)
    assert zero_first.tolist() == [3, 6]
    grads = np.full(7, np.nan)
    grads[zero_first] = 0.0
    grads[0] = 1.0
    for scatter, contribution in ((fresh, [1.0, 2.0]), (repeated, [3.0, 4.0, 5.0]), (overlapping, [10.0, 20.0])):
        scatter.add(grads, np.array(contribution))
    assert grads.tolist() == [1.0, 1.0, 12.0, 20.0, 7.0, 5.0, 0.0]


@pytest.mark.parametrize("inner", [1, 3])  # 1: an outer product (broadcast), 3: a matrix product
@pytest.mark.parametrize(
    "assign, index",
    [
        (True, [[2, 3, 4], [5, 6, 7]]),
        (False, [[2, 3, 4], [5, 6, 7]]),
        (True, [[2, 4, 6], [8, 10, 12]]),
        (True, [[2, 3, 2], [5, 6, 7]]),
    ],
)
def test_a_matrix_product_lands_in_the_gradients_as_the_plain_add_puts_it(inner, assign, index):
    """Scatter.add_matmul writes a layer's gradient straight into a window of the gradient array when it may
    (its first write, consecutive slots, no slot repeated); every other case adds as before. Either way the numbers
    are add(grads, matmul(a, b))'s, bit for bit."""
    from jangrad.compiled.kernels import Scatter, matmul

    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, inner)), rng.standard_normal((inner, 3))
    direct, plain = Scatter(np.array(index)), Scatter(np.array(index))
    direct.assign = plain.assign = assign and len({*np.ravel(index)}) == np.size(index)
    start = rng.standard_normal(14)
    expected, got = start.copy(), start.copy()
    plain.add(expected, matmul(a, b))
    direct.add_matmul(got, a, b)
    assert got.tobytes() == expected.tobytes()
    assert (got[[0, 1, 13]] == start[[0, 1, 13]]).all()  # no slot outside the index is touched


def test_forward_reads_the_tapes_own_leaf_array_in_place():
    """tape.leaf_data() is the tape's own array: forward(tape.leaf_data()) uses numbers written into it (no
    copy), and forward() without values refills it from the leaves' .data."""
    x, y = Value(1.0), Value(4.0)
    out = x * y + x
    tape = jangrad.compile(out)
    values = tape.leaf_data()
    values[[k for k, leaf in enumerate(tape.leaves) if leaf is x]] = 2.0
    assert tape.forward(values) == 2.0 * 4.0 + 2.0
    assert x.data == 1.0
    assert tape.forward() == 1.0 * 4.0 + 1.0
    assert sorted(tape.leaf_data().tolist()) == [1.0, 4.0]
    assert tape.leaf_data() is values


def test_nested_differences_keep_their_signs_when_flattened():
    """x - (y - (z + w * v)) and (x - y) - (z - w * v): every term's sign is the product of the signs on its
    path to the root, whatever the nesting."""
    xs = [Value(v) for v in (1.5, -2.0, 0.25, 3.0, -0.5)]
    x, y, z, w, v = xs
    outputs = [x - (y - (z + w * v)), (x - y) - (z - w * v), -(x - y) + (z - (w - v * x))]
    for out in outputs:
        tape = jangrad.compile(out)
        for leaf, new in zip(xs, (0.3, 1.1, -2.2, 0.7, 5.0), strict=True):
            leaf.data = new
        replayed = tape.forward()
        tape.backward()
        taped = [leaf.grad for leaf in xs]
        for leaf in xs:
            leaf.grad = 0.0
        fresh = [Value(leaf.data) for leaf in xs]
        rebuilt = [
            fresh[0] - (fresh[1] - (fresh[2] + fresh[3] * fresh[4])),
            (fresh[0] - fresh[1]) - (fresh[2] - fresh[3] * fresh[4]),
            -(fresh[0] - fresh[1]) + (fresh[2] - (fresh[3] - fresh[4] * fresh[0])),
        ][outputs.index(out)]
        rebuilt.backward()
        assert replayed == pytest.approx(rebuilt.data, rel=1e-12)
        assert taped == pytest.approx([f.grad for f in fresh], rel=1e-12)
        for leaf, old in zip(xs, (1.5, -2.0, 0.25, 3.0, -0.5), strict=True):
            leaf.data = old


# ---- the listing a tape is built from ------------------------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(recipes())
def test_the_listing_is_the_engines_order_with_each_operands_position(recipe):
    """compile lists the graph in one walk that reads operand positions off the nodes (tape._list_graph): the nodes
    must come in topological_order's order, each operand at its own position, and no mark left behind."""
    from jangrad.compiled.tape import _Traced

    values, steps, outputs = recipe[:3]
    leaves, out = build(values, steps, outputs)
    stranger = Value(1.0)
    traced = _Traced(out, find=[leaves[0], out, stranger, leaves[0]])
    assert all(node._mark is None for node in traced.nodes)
    order = topological_order(out)
    assert traced.nodes == order
    position = {id(node): i for i, node in enumerate(order)}
    for i, node in enumerate(order):
        expected = [position[id(p)] for p in node.parents] + [-1] * (2 - len(node.parents))
        assert [traced.first[i], traced.second[i]] == expected
    first_leaf = position.get(id(leaves[0]), -1)  # -1: the output does not depend on it
    assert traced.found.tolist() == [first_leaf, len(order) - 1, -1, first_leaf]
    # A second listing, after the engine's own sort and the first listing marked the same nodes, is the same.
    out.backward()
    again = _Traced(out)
    assert again.nodes == order and again.signature() == traced.signature()


def test_a_listing_interrupted_midway_leaves_no_mark_a_later_one_would_misread():
    """A listing marks each node it places with an int; one that stops midway leaves them, and the next listing
    must not take them for its own."""
    from jangrad.compiled.tape import _Traced

    a = Value(2.0)
    b = a * a
    broken = b + 1.0
    broken._y = object()  # not a node: the walk fails on it, after placing a and b
    with pytest.raises(AttributeError):
        _Traced(broken)
    assert isinstance(a._mark, int) and isinstance(b._mark, int)
    out = b * a
    assert _Traced(out).nodes == [a, b, out] == topological_order(out)
    assert jangrad.compile(out).forward() == 8.0
