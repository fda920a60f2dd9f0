"""Golden values and the engine's structural promises: exact numbers, reuse, depth, width, repeated backward,
zero_grad, no_grad, a deterministic order across processes, and graphs freed by reference counting alone.

The golden numbers come from outside jangrad: the README's example, micrograd's README (its printed values), and
closed forms worked out by hand in each test's docstring.
"""

from __future__ import annotations

import gc
import math
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from memory import assert_freed, bytes_held

import jangrad
from jangrad import Value, no_grad, topological_order

ROOT = Path(__file__).resolve().parent.parent
N = 100_000


# ---- golden values ------------------------------------------------------------------------------------------------
def test_readme_example():
    a = Value(2.0, label="a")
    b = Value(3.0, label="b")
    e = a * a + a * b
    e.backward()
    assert (a.grad, b.grad) == (7.0, 2.0)  # de/da = 2a + b, de/db = a


def test_backtrack_is_backward():
    a = Value(2.0)
    b = Value(3.0)
    (a * a + a * b).backtrack()
    assert (a.grad, b.grad) == (7.0, 2.0)


def test_micrograd_readme_expression():
    """micrograd's README prints g = 24.7041, dg/da = 138.8338, dg/db = 645.5773 for this program."""
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


@pytest.mark.parametrize("x0", [-1.5, 0.0, 3.0])
def test_reused_intermediate_y_feeds_two_consumers(x0):
    """y = 2x; w = y*y + y, so dw/dx = 8x + 2 and dw/dy = 2y + 1. A pre-order traversal gets both wrong."""
    x = Value(x0)
    y = 2 * x
    w = y * y + y
    w.backward()
    assert x.grad == 8 * x0 + 2
    assert y.grad == 2 * y.data + 1


def test_reused_intermediate_b_squared():
    """b = a + a; c = b * b = 4a^2, so dc/da = 8a and dc/db = 2b."""
    a = Value(3.0)
    b = a + a
    c = b * b
    c.backward()
    assert a.grad == 24.0
    assert b.grad == 12.0


# ---- numbers on either side, and what a node says about itself -------------------------------------------------------
def test_plain_numbers_mix_on_both_sides():
    """Each expression's derivative worked out by hand at v = 1.5."""
    np = pytest.importorskip("numpy")
    cases = [
        (lambda v: 2 * v, 3.0, 2.0),
        (lambda v: v * 2, 3.0, 2.0),
        (lambda v: v - 1, 0.5, 1.0),
        (lambda v: 1 - v, -0.5, -1.0),
        (lambda v: v + 1, 2.5, 1.0),
        (lambda v: 1 + v, 2.5, 1.0),
        (lambda v: 1 / v, 1 / 1.5, -1 / 1.5**2),
        (lambda v: v / 2, 0.75, 0.5),
        (lambda v: 2**v, 2**1.5, 2**1.5 * math.log(2)),
        (lambda v: v**2, 2.25, 3.0),
        (lambda v: np.float64(2.0) * v, 3.0, 2.0),
        (lambda v: v + np.int64(1), 2.5, 1.0),
    ]
    for make, value, derivative in cases:
        v = Value(1.5)
        out = make(v)
        assert isinstance(out, Value)
        out.backward()
        assert out.data == pytest.approx(value, rel=1e-15)
        assert v.grad == pytest.approx(derivative, rel=1e-15)


def test_each_operator_records_its_op_and_operands_in_order():
    x, y = Value(2.0), Value(3.0)
    assert (x - y).op == "sub" and (x - y).parents == (x, y)
    assert (x**2).op == "powc" and (x**2).parents[1].data == 2.0
    assert (x**y).op == "pow"
    assert (2**y).op == "pow" and (2**y).parents[0].data == 2.0 and (2**y).parents[1] is y
    slope_node = x.leaky_relu()
    assert slope_node.op == "leaky_relu" and slope_node.parents[1].data == 0.01
    for name in ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "erf", "gelu"]:
        node = getattr(x, name)()
        assert node.op == name and node.parents == (x,)
    assert (-x).op == "neg" and abs(x).op == "abs"
    assert x.is_leaf and x.op == "" and x.parents == ()


def test_comparisons_read_data_and_equality_is_identity():
    a, b = Value(1.0), Value(1.0)
    assert a <= b and a >= b and not a < b and not a > b
    assert a < 2 and a > 0.5
    assert a != b and a == a
    assert len({a, b, a}) == 2  # hashable by identity


# ---- depth and width ----------------------------------------------------------------------------------------------
def test_chain_of_1e5_ops():
    """y = x * r, n times: y = x r^n and dy/dx = r^n. Far deeper than any recursion limit."""
    x = Value(1.0)
    r = 1.00001
    y = x
    for _ in range(N):
        y = y * r
    y.backward()
    assert math.isclose(y.data, r**N, rel_tol=1e-9)
    assert math.isclose(x.grad, r**N, rel_tol=1e-9)


def test_chain_of_1e5_unary_ops():
    """neg applied n (even) times is the identity: y = x, dy/dx = 1, exactly."""
    x = Value(0.75)
    y = x
    for _ in range(N):
        y = -y
    y.backward()
    assert (y.data, x.grad) == (0.75, 1.0)


def test_width_of_1e5_consumers_of_one_intermediate():
    """h = tanh(x) feeds n products h * i, summed pairwise: out = h * sum(i), dout/dx = (1 - h^2) * sum(i)."""
    x = Value(0.5)
    h = x.tanh()
    layer = [h * float(i) for i in range(N)]
    while len(layer) > 1:  # a balanced tree of adds, so the graph is wide rather than deep
        layer = [layer[i] + layer[i + 1] if i + 1 < len(layer) else layer[i] for i in range(0, len(layer), 2)]
    out = layer[0]
    out.backward()
    total = N * (N - 1) / 2
    assert math.isclose(h.grad, total, rel_tol=1e-12)
    assert math.isclose(x.grad, (1 - math.tanh(0.5) ** 2) * total, rel_tol=1e-12)


def test_python_sum_of_1e5_values():
    """sum() starts from the int 0 (0 + v0 uses __radd__) and builds a chain n deep; every input's gradient is 1."""
    values = [Value(float(i)) for i in range(N)]
    s = sum(values)
    s.backward()
    assert s.data == N * (N - 1) / 2
    assert all(v.grad == 1.0 for v in values)


# ---- repeated backward, zero_grad -----------------------------------------------------------------------------------
def test_leaves_accumulate_and_intermediates_are_recomputed():
    a = Value(2.0)
    b = Value(-3.0)
    t = a * b  # dt: 1; da = b + 1; db = a
    e = t + a
    e.backward()
    e.backward()
    assert (a.grad, b.grad) == (2 * (-3.0 + 1), 2 * 2.0)  # leaves: twice one call's gradient
    assert t.grad == 1.0  # a non-leaf: this call's gradient, never doubled
    assert e.grad == 1.0


def test_summing_per_sample_backward_passes_gives_the_batch_gradient():
    """Loss over two samples of w*x, each backward on its own: w.grad = x1 + x2, as one backward of the sum."""
    w = Value(0.5)
    (w * 3.0).backward()
    (w * -1.25).backward()
    w_batch = Value(0.5)
    (w_batch * 3.0 + w_batch * -1.25).backward()
    assert w.grad == w_batch.grad == 1.75


def test_backward_of_a_leaf_accumulates_its_seed():
    v = Value(3.0)
    v.backward()
    v.backward(2.0)
    assert v.grad == 3.0


def test_backward_gradient_argument_scales_everything():
    x = Value(1.5)
    y = x * x
    y.backward(gradient=-2.0)
    assert x.grad == -2.0 * 2 * 1.5
    assert y.grad == -2.0


def test_zero_grad_clears_every_node_of_the_graph():
    a = Value(2.0)
    b = Value(3.0)
    t = a * b
    e = t + 1.0
    e.backward()
    nodes = topological_order(e)
    assert any(n.grad != 0.0 for n in nodes)
    e.zero_grad()
    assert all(n.grad == 0.0 for n in nodes)
    e.backward()  # and a fresh pass gives exactly one call's gradients again
    assert (a.grad, b.grad, t.grad) == (3.0, 2.0, 1.0)


def test_zero_grad_leaves_other_graphs_alone():
    a = Value(2.0)
    other = Value(5.0)
    (a * a).backward()
    (other * 2.0).backward()
    (a * a).zero_grad()
    assert a.grad == 0.0
    assert other.grad == 2.0


# ---- no_grad ------------------------------------------------------------------------------------------------------
def test_no_grad_records_nothing():
    x = Value(2.0)
    with no_grad():
        assert not jangrad.is_grad_enabled()
        y = x * 3.0 + 1.0
        z = y.tanh()
    assert jangrad.is_grad_enabled()
    assert y.data == 7.0 and z.data == math.tanh(7.0)
    for v in (y, z):
        assert v.is_leaf and v.op == "" and v.parents == ()
    # backward() from a result made under no_grad would silently leave x.grad at 0: refused, as in PyTorch
    with pytest.raises(RuntimeError, match="computed inside no_grad"):
        z.backward()
    assert x.grad == 0.0


def test_no_grad_as_decorator_and_nested_enable_grad():
    x = Value(2.0)

    @no_grad()
    def update(w: Value) -> Value:
        inner = w * 2.0
        with jangrad.enable_grad():
            recorded = w * 4.0
        assert inner.is_leaf and not recorded.is_leaf
        return w - 0.1

    stepped = update(x)
    assert stepped.is_leaf and stepped.data == 1.9
    assert jangrad.is_grad_enabled()


def test_no_grad_restores_the_switch_after_an_exception():
    with pytest.raises(ZeroDivisionError), no_grad():
        raise ZeroDivisionError
    assert jangrad.is_grad_enabled()
    assert not (Value(1.0) * 2.0).is_leaf


def test_parameter_update_under_no_grad_makes_a_leaf():
    w = Value(1.0)
    loss = (w * 3.0 - 1.0) ** 2
    loss.backward()
    with no_grad():
        w_new = w - 0.1 * w.grad  # the idiom an optimiser uses
    assert w_new.is_leaf
    assert w_new.data == pytest.approx(1.0 - 0.1 * 2 * (3.0 - 1.0) * 3.0)


def test_no_grad_belongs_to_the_thread_that_sets_it():
    """As in PyTorch: one thread evaluating under no_grad does not stop another from recording its graph."""
    inside, release = threading.Event(), threading.Event()
    seen_in_thread = []

    def evaluate() -> None:
        with no_grad():
            seen_in_thread.append((Value(1.0) * 2.0).is_leaf)
            inside.set()
            release.wait(timeout=10)

    worker = threading.Thread(target=evaluate)
    worker.start()
    try:
        assert inside.wait(timeout=10)
        recorded_here = not (Value(1.0) * 2.0).is_leaf
    finally:
        release.set()
        worker.join(timeout=10)
    assert seen_in_thread == [True]
    assert recorded_here and jangrad.is_grad_enabled()


def test_the_count_of_threads_with_a_switch_on_returns_to_zero_after_nested_switches():
    """Ops look at their thread's switches only while some thread has one on: the count must be exact, or a
    switch would be ignored (count too low) or every op would pay for the look-up for ever (too high)."""
    from jangrad import switches

    assert switches.unusual_threads == 0
    with no_grad():
        assert switches.unusual_threads == 1
        with jangrad.detect_anomaly():
            with jangrad.enable_grad():
                assert switches.unusual_threads == 1  # anomaly is still on
                assert not (Value(1.0) * 2.0).is_leaf
            assert (Value(1.0) * 2.0).is_leaf
        with no_grad():
            assert switches.unusual_threads == 1
        assert (Value(1.0) * 2.0).is_leaf
    assert switches.unusual_threads == 0
    assert not (Value(1.0) * 2.0).is_leaf


# ---- order ----------------------------------------------------------------------------------------------------------
def test_topological_order_puts_every_node_after_its_parents_once():
    x = Value(1.0)
    y = 2 * x
    w = y * y + y
    v = (w * x).tanh() + y
    order = topological_order(v)
    position = {id(n): i for i, n in enumerate(order)}
    assert len(position) == len(order)  # each node once
    assert order[-1] is v
    for node in order:
        assert all(position[id(p)] < position[id(node)] for p in node.parents)


_ORDER_SCRIPT = textwrap.dedent("""
    import os, random
    from jangrad import Value, topological_order
    # Allocate a different amount of junk first, so that object ids differ between the two processes.
    junk = [object() for _ in range(int(os.environ["JUNK"]))]
    rng = random.Random(0)
    nodes = [Value(rng.uniform(-1, 1), label=f"x{i}") for i in range(4)]
    for i in range(40):
        a, b = rng.choice(nodes), rng.choice(nodes[-3:])
        node = [a + b, a * b, (a - b).tanh(), a.sigmoid() * b][i % 4]
        node.label = f"n{i}"
        nodes.append(node)
    root = sum(nodes[-5:])
    root.label = "root"
    order = topological_order(root)
    root.backward()
    print(" ".join(f"{n.label or n.op or repr(n.data)}:{n.grad!r}" for n in order))
""")


def test_order_is_the_same_in_separate_processes():
    runs = []
    for junk, hash_seed in (("0", "1"), ("54321", "2")):
        env = dict(os.environ, PYTHONPATH=str(ROOT), JUNK=junk, PYTHONHASHSEED=hash_seed)
        result = subprocess.run(
            [sys.executable, "-c", _ORDER_SCRIPT],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
            check=True,
        )
        runs.append(result.stdout)
    assert runs[0] == runs[1]
    assert runs[0].count("root") == 1


# ---- memory ---------------------------------------------------------------------------------------------------------
def _chain(n: int) -> Value:
    y = Value(0.5)
    for _ in range(n):
        y = y.tanh()
    return y


@pytest.fixture
def gc_disabled():
    """Only reference counting may free memory inside: a graph with cycles would stay allocated."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_dropped_graph_is_freed_without_the_cycle_collector(gc_disabled):
    def build():
        x = Value(0.3)
        y = _chain(10_000) * x + x
        y.backward()
        y.backward()
        y.zero_grad()
        y.backward()
        return [x, y]

    assert_freed(build)


def test_higher_order_graphs_from_grad_are_freed(gc_disabled):
    """grad() and gradients(create_graph=True) keep gradients out of .grad, so no leaf refers to its own gradient.

    (backward(create_graph=True) does make such a cycle, leaf -> leaf.grad -> graph -> leaf, exactly as in
    PyTorch, which warns about it; the cycle collector frees it, or setting .grad = 0 breaks it.)
    """

    def build():
        def f(v):
            return _chain(4_000) * v * v

        d2 = jangrad.grad(jangrad.grad(f))(Value(0.3))
        d2_again = jangrad.grad(jangrad.grad(f))(0.3)
        return [d2, d2_again]

    assert_freed(build)


def test_bytes_per_node_of_a_1e5_chain(gc_disabled, record_property):
    held, y = bytes_held(lambda: _chain(N))
    per_node = held / (N + 1)  # N tanh nodes and the leaf
    print(f"\nbytes per node of a 1e5 tanh chain: {per_node:.0f}")
    record_property("bytes_per_node", round(per_node))
    assert per_node < 400


def test_threads_sorting_graphs_that_share_nodes_at_once_each_get_a_correct_order():
    """A sort marks the nodes it visits; sorts in other threads must not see (or spoil) those marks."""
    x = Value(0.5)
    shared = x
    for _ in range(3000):
        shared = shared.tanh() * 1.0001
    roots = [shared * float(k) for k in range(1, 5)]
    expected = [[id(node) for node in topological_order(root)] for root in roots]
    results: list = [None] * len(roots)

    def sort_repeatedly(k: int) -> None:
        for _ in range(10):
            results[k] = [id(node) for node in topological_order(roots[k])]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so that sorts interleave
    try:
        threads = [threading.Thread(target=sort_repeatedly, args=(k,)) for k in range(len(roots))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert results == expected


def test_a_no_grad_decorated_function_run_by_two_threads_restores_each_threads_switch():
    """One decorator instance serves every call: each call must save and restore its own thread's switch."""
    inside, release = threading.Event(), threading.Event()
    seen = {}

    @no_grad()
    def run(body) -> None:
        body()

    def first() -> None:
        run(lambda: (inside.set(), release.wait(5)))
        seen["first"] = jangrad.is_grad_enabled()

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(5)

    def leave_first_while_inside() -> None:
        release.set()
        thread.join(5)

    with no_grad():
        run(leave_first_while_inside)
        seen["main, in no_grad"] = jangrad.is_grad_enabled()
    assert seen == {"first": True, "main, in no_grad": False}
    assert jangrad.is_grad_enabled()


def test_bare_no_grad_decorator_is_refused_with_a_hint():
    with pytest.raises(TypeError, match=r"@no_grad\(\)"):

        @no_grad
        def f(x):
            return x
