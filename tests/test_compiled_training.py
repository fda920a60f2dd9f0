"""fit's compiled run (one sample's graph replayed over the batch, losses and optimizer on arrays) against eager fit.

Same weights, same batches: the losses and the parameters must agree step by step (1e-9 relative) for every
built-in loss, optimizer setting, activation and schedule; the model's Values, gradients and the optimizer's
buffers must show the eager loop's numbers whenever a user can read them. The batch tape itself is checked on
random graphs (hypothesis) against the eager engine, sample by sample.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jangrad
from jangrad import Value, losses, nn, optim
from jangrad.engine import apply_op

np = pytest.importorskip("numpy")

REL = 1e-9

X5 = [[0.5, -1.0], [1.0, 2.0], [-0.3, 0.1], [2.0, -0.5], [0.0, 1.0], [1.5, 1.5], [-1.0, -2.0]]
TARGETS = {
    "sse": ([1.0, -1.0, 0.5, 0.2, -0.7, 0.3, 0.0], 1),
    "mse": ([[1.0, 0.0], [-1.0, 0.5], [0.5, 0.5], [0.2, -0.2], [-0.7, 0.1], [0.0, 0.0], [1.0, 1.0]], 2),
    "hinge": ([1, -1, 1, 1, -1, -1, 1], 1),
    "bce": ([1, 0, 1, 1, 0, 0, 1], 1),
    "ce": ([0, 2, 1, 1, 0, 2, 2], 3),
}
OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.05),
    "sgd-momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "sgd-nesterov-wd": lambda p: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    "adam": lambda p: optim.Adam(p, lr=0.05),
    "adam-wd": lambda p: optim.Adam(p, lr=0.05, weight_decay=0.01),
    "adamw": lambda p: optim.AdamW(p, lr=0.05, weight_decay=0.1),
}


def assert_close_lists(actual: list[float], expected: list[float]) -> None:
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert a == pytest.approx(e, rel=REL, abs=1e-12)


def no_eager_step(monkeypatch) -> None:
    """Make the eager step unusable, so a compiled run that silently fell back to it fails loudly."""
    import jangrad.train

    monkeypatch.setattr(jangrad.train, "_loss_and_backward", None)


def run_step_by_step(loss: str, make_optimizer, activation: str, compiled: bool, steps: int = 4, l2: float = 0.0):
    """fit one step at a time (full batch), recording the loss and every parameter after each step."""
    y, nout = TARGETS[loss]
    model = nn.MLP(2, [4, nout], activation=activation, output_activation="linear", seed=1)
    opt = make_optimizer(model.parameters())
    trail = []
    for _ in range(steps):
        history = jangrad.fit(model, X5, y, loss=loss, optimizer=opt, steps=1, progress=False, l2=l2, compiled=compiled)
        trail.append((history.loss[0], [p.data for p in model.parameters()], [p.grad for p in model.parameters()]))
    return trail, opt.state_dict()


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("loss", sorted(TARGETS))
def test_compiled_and_eager_agree_step_by_step(loss, optimizer, monkeypatch):
    """Losses, parameters and gradients after every step, and the optimizer's buffers at the end. Each step is
    its own fit call, so the parameters and Adam's averages also go through the write-back between calls."""
    activation = ["relu", "tanh", "sigmoid", "gelu", "leaky_relu"][sorted(TARGETS).index(loss)]
    eager, eager_state = run_step_by_step(loss, OPTIMIZERS[optimizer], activation, compiled=False, l2=1e-3)
    no_eager_step(monkeypatch)
    compiled, compiled_state = run_step_by_step(loss, OPTIMIZERS[optimizer], activation, compiled=True, l2=1e-3)
    for (loss_e, params_e, grads_e), (loss_c, params_c, grads_c) in zip(eager, compiled, strict=True):
        assert loss_c == pytest.approx(loss_e, rel=REL)
        assert_close_lists(params_c, params_e)
        assert_close_lists(grads_c, grads_e)
    assert compiled_state["steps"] == eager_state["steps"]
    for name, values in eager_state["buffers"].items():
        assert isinstance(compiled_state["buffers"][name], list)
        assert_close_lists(compiled_state["buffers"][name], values)


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
def test_every_activation_agrees(activation, monkeypatch):
    eager, _ = run_step_by_step("ce", OPTIMIZERS["adam"], activation, compiled=False)
    no_eager_step(monkeypatch)
    compiled, _ = run_step_by_step("ce", OPTIMIZERS["adam"], activation, compiled=True)
    for (loss_e, params_e, _), (loss_c, params_c, _) in zip(eager, compiled, strict=True):
        assert loss_c == pytest.approx(loss_e, rel=REL)
        assert_close_lists(params_c, params_e)


@pytest.mark.parametrize("schedule", ["linear", "step", "cosine", lambda step: 0.1 / (1 + step)])
def test_minibatches_and_schedules_agree(schedule, monkeypatch):
    """Shuffled batches of 3 (a last batch of 1), a schedule, accuracy: the whole History and the weights."""
    y, nout = TARGETS["ce"]
    runs = []
    for compiled in (False, True):
        if compiled:
            no_eager_step(monkeypatch)
        model = nn.MLP(2, [5, nout], activation="relu", output_activation="linear", seed=4)
        history = jangrad.fit(
            model,
            X5,
            y,
            loss="ce",
            optimizer="sgd",
            lr=0.2,
            epochs=4,
            batch_size=3,
            schedule=schedule,
            seed=7,
            progress=False,
            compiled=compiled,
        )
        runs.append((history, model.state_dict()))
    (eager, eager_state), (compiled, compiled_state) = runs
    assert_close_lists(compiled.loss, eager.loss)
    assert compiled.lr == eager.lr and compiled.accuracy == eager.accuracy
    assert_close_lists(list(compiled_state.values()), list(eager_state.values()))


def digits_subset():
    from jangrad import data

    X, y = data.digits()
    X, y = X[:240], y[:240]
    return data.standardize(X), y


def test_digits_training_with_moving_logits_agrees_step_by_step(monkeypatch):
    """The issue's case in small: digits, relu MLP, softmax cross-entropy, Adam with a large step, so the logits
    move far between steps. A shift traced once and replayed as a constant went stale here; now both runs agree
    at every step (and stay finite)."""
    X, y = digits_subset()
    histories = []
    for compiled in (False, True):
        if compiled:
            no_eager_step(monkeypatch)
        model = nn.MLP(64, [16, 10], activation="relu", output_activation="linear", init="kaiming", seed=0)
        histories.append(
            jangrad.fit(
                model,
                X,
                y,
                loss="ce",
                optimizer="adam",
                lr=0.3,
                steps=25,
                batch_size=64,
                seed=0,
                progress=False,
                compiled=compiled,
                metrics=("loss",),
            )
        )
    eager, compiled = histories
    assert all(math.isfinite(v) for v in eager.loss)
    assert_close_lists(compiled.loss, eager.loss)


def test_the_model_shows_the_trained_weights_after_fit_and_after_divergence(tmp_path):
    """fit returns with the Values holding the array's weights (so saving works); a run stopped by
    TrainingDiverged also leaves the weights where the loop stopped, as the eager loop does."""
    y, nout = TARGETS["sse"]
    model = nn.MLP(2, [4, nout], seed=2)
    before = model.state_dict()
    jangrad.fit(model, X5, y, steps=5, progress=False)
    after = model.state_dict()
    assert after != before
    path = tmp_path / "model.json"
    model.save(str(path))
    assert nn.load(str(path)).state_dict() == after

    states = []
    for compiled in (False, True):
        model = nn.MLP(2, [4, nout], seed=2)
        with pytest.raises(jangrad.TrainingDiverged):
            jangrad.fit(model, X5, [1e200] * len(X5), steps=50, lr=10.0, progress=False, compiled=compiled)
        states.append(list(model.state_dict().values()))
    for a, b in zip(*states, strict=True):
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=REL)


class SkipModel(nn.Module):
    """A module of the user's own: a layer, a skip connection, a constant and a product of its outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Layer(3, 4, activation="tanh", seed=3)
        self.out = nn.Neuron(4, activation="linear", seed=4)
        self._rename("")

    def _children(self):
        return [("hidden", self.hidden), ("out", self.out)]

    def __call__(self, x):
        h = self.hidden(x)
        return self.out(h) + 0.5 * x[0] * x[1] + h[0] * h[1]


def test_a_module_of_the_users_own_compiles_and_agrees(monkeypatch):
    X = [[0.1 * i, -0.2 * i, 1.0 - 0.1 * i] for i in range(6)]
    y = [math.sin(i) for i in range(6)]
    states = []
    for compiled in (False, True):
        if compiled:
            no_eager_step(monkeypatch)
        model = SkipModel()
        jangrad.fit(
            model, X, y, loss="mse", optimizer="adam", lr=0.05, steps=5, batch_size=4, progress=False, compiled=compiled
        )
        states.append(list(model.state_dict().values()))
    assert_close_lists(states[1], states[0])


def test_an_optimizer_over_other_values_falls_back_to_its_own_step(monkeypatch):
    """An optimizer holding a Value outside the model still moves it (weight decay), as in the eager loop."""
    y, nout = TARGETS["sse"]
    results = []
    for compiled in (False, True):
        model = nn.MLP(2, [3, nout], seed=5)
        stray = Value(2.0)
        opt = optim.SGD(model.parameters() + [stray], lr=0.01, weight_decay=0.5)
        jangrad.fit(model, X5, y, optimizer=opt, steps=3, progress=False, compiled=compiled)
        results.append([p.data for p in model.parameters()] + [stray.data])
    assert_close_lists(results[1], results[0])


# ---- the optimizer's array step -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_step_arrays_is_step_bit_for_bit(name):
    rng = random.Random(3)
    start = [rng.uniform(-2, 2) for _ in range(9)]
    grads = [[rng.uniform(-1, 1) for _ in range(9)] for _ in range(4)]
    params = [Value(v) for v in start]
    eager = OPTIMIZERS[name](params)
    data = np.array(start)
    arrays = OPTIMIZERS[name]([Value(v) for v in start])
    assert arrays.has_array_step()
    for step, g in enumerate(grads):
        for p, gi in zip(params, g, strict=True):
            p.grad = gi
        eager.lr = arrays.lr = 0.05 / (1 + step)
        eager.step()
        arrays.step_arrays(data, np.array(g))
        assert data.tolist() == [p.data for p in params]
    assert arrays.state_dict() == eager.state_dict()  # buffers come back as lists of the same floats


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_step_arrays_in_an_order_of_its_own_is_step_bit_for_bit(name):
    """fit's compiled run keeps the parameters in its tape's slot order: step_arrays(data, grad, order) with
    data[i] = params[order[i]] moves them as step() does, and the buffers come back in the parameters' order."""
    rng = random.Random(4)
    start = [rng.uniform(-2, 2) for _ in range(9)]
    grads = [[rng.uniform(-1, 1) for _ in range(9)] for _ in range(4)]
    order = np.array([3, 0, 8, 1, 7, 2, 6, 4, 5])
    params = [Value(v) for v in start]
    eager = OPTIMIZERS[name](params)
    data = np.array(start)[order]
    arrays = OPTIMIZERS[name]([Value(v) for v in start])
    for step, g in enumerate(grads):
        for p, gi in zip(params, g, strict=True):
            p.grad = gi
        eager.lr = arrays.lr = 0.05 / (1 + step)
        eager.step()
        arrays.step_arrays(data, np.array(g)[order], order=order)
        assert data.tolist() == [params[k].data for k in order]
    assert arrays.state_dict() == eager.state_dict()


def test_has_array_step_is_false_for_a_rule_of_the_users_own():
    class SignSGD(optim.SGD):
        def _update(self, i, data, g, lr):
            return data - lr * math.copysign(1.0, g)

    assert not SignSGD([Value(1.0)], lr=0.1).has_array_step()
    assert optim.AdamW([Value(1.0)]).has_array_step()


# ---- the losses on arrays against losses.py --------------------------------------------------------------------
@pytest.mark.parametrize("loss", sorted(TARGETS))
@pytest.mark.parametrize("scale", [1.0, 800.0])
def test_batch_losses_match_losses_py(loss, scale):
    from jangrad.compiled import batch_losses

    y, nout = TARGETS[loss]
    rng = random.Random(1)
    Z = [[scale * rng.uniform(-1, 1) for _ in range(nout)] for _ in y]
    Z[0] = [0.0] * nout  # bce's kink at 0, cross-entropy's ties
    values = [[Value(v) for v in row] for row in Z]
    fn = losses.get(loss)
    eager = fn([row if nout > 1 else row[0] for row in values], y)
    eager.backward()
    array_loss = batch_losses.LOSSES[fn]
    value, grad = array_loss.value_and_grad(np.array(Z), array_loss.targets(y, nout, nout == 1))
    assert value == pytest.approx(eager.data, rel=1e-12)
    assert_close_lists(grad.ravel().tolist(), [v.grad for row in values for v in row])


# ---- losses.py replayed by jangrad.compile: nothing stale ------------------------------------------------------------
def test_a_compiled_cross_entropy_recomputes_its_shift():
    """The shift was the largest logit read from .data when the graph was built: replayed with logits 800 apart
    it overflowed (inf) or lost every term. Now it is part of the graph."""
    zs = [Value(0.0), Value(0.0), Value(0.0)]
    tape = jangrad.compile(losses.cross_entropy([zs], [1]), inputs=zs)
    for new in ([800.0, -5.0, 3.0], [-900.0, -1000.0, -950.0]):
        for z, v in zip(zs, new, strict=True):
            z.data, z.grad = v, 0.0
        replayed = tape.forward()
        tape.backward()
        fresh = [Value(v) for v in new]
        expected = losses.cross_entropy([fresh], [1])
        expected.backward()
        assert replayed == pytest.approx(expected.data, rel=1e-12)
        assert_close_lists([z.grad for z in zs], [z.grad for z in fresh])


def test_a_compiled_bce_takes_the_branch_of_the_new_logit():
    z = Value(1.0)
    tape = jangrad.compile(losses.bce_with_logits([z], [1.0]), inputs=[z])
    z.data = -1000.0
    assert tape.forward() == pytest.approx(1000.0, rel=1e-12)  # a frozen z >= 0 branch gave inf
    tape.backward()
    assert z.grad == pytest.approx(-1.0)


# ---- the batch tape on random graphs -------------------------------------------------------------------------------
UNARY_SAFE = ["tanh", "sigmoid", "relu", "neg", "abs", "exp", "gelu", "erf"]


@st.composite
def sample_graphs(draw):
    """One sample's graph as data: inputs and parameters, then ops over earlier nodes, then a few outputs."""
    n_inputs = draw(st.integers(1, 3))
    params = draw(st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=4))
    steps = []
    for _ in range(draw(st.integers(1, 12))):
        available = n_inputs + len(params) + len(steps)
        kind = draw(st.sampled_from(["add", "sub", "mul", "mul", "unary", "powc", "leaky_relu"]))
        a = draw(st.integers(0, available - 1))
        if kind == "unary":
            steps.append((draw(st.sampled_from(UNARY_SAFE)), (a,), None))
        elif kind == "powc":
            steps.append(("powc", (a,), draw(st.sampled_from([2.0, 3.0]))))
        elif kind == "leaky_relu":
            steps.append(("leaky_relu", (a,), 0.1))
        else:
            steps.append((kind, (a, draw(st.integers(0, available - 1))), None))
    total = n_inputs + len(params) + len(steps)
    outputs = draw(st.lists(st.integers(0, total - 1), min_size=1, max_size=3))
    batch = draw(st.lists(st.lists(st.floats(-1.5, 1.5), min_size=n_inputs, max_size=n_inputs), min_size=1, max_size=5))
    return n_inputs, params, steps, outputs, batch


def build_sample(n_inputs, params, steps, outputs, x):
    inputs = [Value(v) for v in x]
    weights = [Value(v) for v in params]
    nodes = inputs + weights
    for name, operands, constant in steps:
        args = [nodes[i] for i in operands] + ([constant] if constant is not None else [])
        nodes.append(apply_op(name, *args))
    return inputs, weights, [nodes[i] for i in outputs]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(sample_graphs())
def test_batch_tape_matches_the_eager_engine_sample_by_sample(graph):
    """Outputs for every sample, and parameter gradients summed over the batch, for any mix of ops, parameters
    used by several nodes, outputs that are leaves or shared nodes, and inputs no output reads."""
    from jangrad.compiled.batch_tape import BatchTape

    n_inputs, params, steps, outputs, batch = graph
    inputs, weights, outs = build_sample(n_inputs, params, steps, outputs, [0.0] * n_inputs)
    tape = BatchTape(inputs, outs, weights)
    rng = random.Random(len(batch))
    d_out = [[rng.uniform(-1, 1) for _ in outs] for _ in batch]
    Z = tape.forward(np.array(batch), np.array(params))
    grad = tape.backward(np.array(d_out))
    expected_grad = [0.0] * len(params)
    for i, x in enumerate(batch):
        _, w, o = build_sample(n_inputs, params, steps, outputs, x)
        for k, node in enumerate(o):
            assert Z[i, k] == pytest.approx(node.data, rel=1e-12, abs=1e-12)
        seeded = None
        for node, g in zip(o, d_out[i], strict=True):
            term = node * g
            seeded = term if seeded is None else seeded + term
        seeded.backward()
        expected_grad = [e + p.grad for e, p in zip(expected_grad, w, strict=True)]
    assert_close_lists(grad.tolist(), expected_grad)


def test_tracing_cost_depends_on_the_model_not_the_batch():
    from jangrad.compiled.batch_tape import BatchTape

    model = nn.MLP(8, [16, 4], seed=0)
    inputs = [Value(0.0) for _ in range(8)]
    tape = BatchTape(inputs, model(inputs), model.parameters())
    theta = np.array([p.data for p in model.parameters()])
    for batch in (1, 7, 300):
        X = np.linspace(-1, 1, batch * 8).reshape(batch, 8)
        Z = tape.forward(X, theta)
        assert Z.shape == (batch, 4)
        with jangrad.no_grad():
            assert Z[-1].tolist() == pytest.approx([v.data for v in model(X[-1].tolist())], rel=1e-12)
    assert tape.nodes < 4 * model.num_parameters()  # one sample's graph, whatever the batch


@pytest.mark.parametrize("collector_on", [True, False])
def test_fit_pauses_the_garbage_collector_only_while_it_traces(collector_on, monkeypatch):
    """The trace's graph has no cycles, so fit builds it with the collector off; it leaves the collector as it was."""
    import gc

    from jangrad.compiled import batch_tape

    seen = []
    real = batch_tape.BatchTape._build  # what both ways of making the tape (listed or traced) go through

    def spy(self, *args):
        seen.append(gc.isenabled())
        real(self, *args)

    monkeypatch.setattr(batch_tape.BatchTape, "_build", spy)
    model = nn.MLP(2, [3, 1], seed=0)
    was = gc.isenabled()
    try:
        (gc.enable if collector_on else gc.disable)()
        jangrad.fit(model, X5, TARGETS["sse"][0], steps=2, progress=False)
        assert gc.isenabled() is collector_on
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [False]


def test_class_labels_are_checked_on_the_fast_path_as_on_the_slow_one():
    from jangrad.compiled.batch_losses import _classes

    assert _classes([0, 2, 1, 2], 3, False).tolist() == [0, 2, 1, 2]  # all ints: converted at C speed
    assert _classes([0, 2.0, 1], 3, False).tolist() == [0, 2, 1]  # mixed types: one by one
    for bad in ([0, 3], [-1, 0], [0, 10**30], [0, True], [0, 1.5]):
        assert _classes(bad, 3, False) is None, bad


def test_relu_written_into_place_is_the_rule_bit_for_bit():
    """kernels.IN_PLACE's relu forms choose between a value and +0.0 on the bits: the op table's rules on
    NUMPY_MATH give the very same bits, nan, infinities, signed zeros and subnormals included."""
    from jangrad.compiled.kernels import IN_PLACE, NUMPY_MATH
    from jangrad.ops import OPS

    specials = [0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, -math.nan, 5e-324, -5e-324, 1e308, -2.5]
    x, g = (a.ravel().copy() for a in np.meshgrid(specials, specials))
    forward, backward = IN_PLACE["relu"]
    out, grad = np.empty_like(x), np.empty_like(x)
    forward(x, out)
    backward(x, g, grad)
    with np.errstate(all="ignore"):
        expected = OPS["relu"].forward(NUMPY_MATH, x)
        (expected_grad,) = OPS["relu"].backward(NUMPY_MATH, g, expected, x)
    assert out.view(np.uint64).tolist() == expected.view(np.uint64).tolist()
    assert grad.view(np.uint64).tolist() == expected_grad.view(np.uint64).tolist()


def test_a_relu_network_takes_the_in_place_path_and_gets_the_rules_numbers():
    from jangrad.compiled.batch_kernels import BatchOpKernel
    from jangrad.compiled.batch_tape import BatchTape

    model = nn.MLP(5, [7, 6, 3], activation="relu", output_activation="linear", seed=3)
    inputs = [Value(0.0) for _ in range(5)]
    tape = BatchTape(inputs, model(inputs), model.parameters())
    relus = [k for k in tape.kernels if isinstance(k, BatchOpKernel)]
    assert len(relus) == 2 and all(k.in_place is not None for k in relus)
    rng = np.random.default_rng(0)
    X, dZ = rng.normal(size=(9, 5)), rng.normal(size=(9, 3))
    X[0, :] = 0.0  # relu at exactly 0 for the biases' 0 start
    theta = np.array([p.data for p in model.parameters()])
    results = []
    for in_place in (True, False):
        if not in_place:
            for k in relus:
                k.in_place = None  # the op's own rules, as any other op
        Z = tape.forward(X, theta).copy()
        results.append((Z.view(np.uint64).tolist(), tape.backward(dZ).view(np.uint64).tolist()))
    assert results[0] == results[1]
