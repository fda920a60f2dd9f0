"""fit lists the graph of the built-in MLP without building it (compiled/mlp_listing.py): the listing must be the
traced one, array for array, for every shape and activation, and anything that would build another graph must be
traced instead."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jangrad
from jangrad import Value, nn

np = pytest.importorskip("numpy")

from jangrad.compiled.mlp_listing import list_mlp  # noqa: E402
from jangrad.compiled.tape import _Traced  # noqa: E402

ACTIVATIONS = sorted(nn.ACTIVATIONS)


def traced_listing(model: nn.MLP, params: list[Value]) -> tuple[_Traced, list[Value], int]:
    """What BatchTape lists after tracing one sample: the outputs' sum, with the outputs, inputs and parameters."""
    inputs = [Value(0.0) for _ in range(model.nin)]
    outputs = model(inputs)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    root = outputs[0]
    for extra in outputs[1:]:
        root = root + extra
    return _Traced(root, find=[*outputs, *inputs, *params]), inputs, len(outputs)


def assert_same_listing(model: nn.MLP) -> None:
    params = model.parameters()
    traced, traced_inputs, n_outputs = traced_listing(model, params)
    listed = list_mlp(model, params)
    assert listed is not None
    listing, inputs, n = listed
    assert n == n_outputs and len(inputs) == model.nin
    assert listing.op_names == traced.op_names
    for name in ("op_codes", "first", "second", "found"):
        assert getattr(listing, name).tolist() == getattr(traced, name).tolist(), name
    assert len(listing.nodes) == len(traced.nodes)
    # The leaves the tape reads: the very parameter Values, the listing's own inputs, constants of equal value.
    position = dict(zip(map(id, traced_inputs), range(model.nin), strict=True))
    for node, listed_node in zip(traced.nodes, listing.nodes, strict=True):
        if node._x is not None:
            continue
        if id(node) in position:
            assert listed_node is inputs[position[id(node)]]
        elif node._rule is not None:  # a constant (leaky_relu's slope)
            assert listed_node.data == node.data
        else:
            assert listed_node is node


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.integers(1, 5),
    st.lists(st.integers(1, 5), min_size=1, max_size=4),
    st.sampled_from(ACTIVATIONS),
    st.sampled_from(ACTIVATIONS),
)
def test_the_listing_is_the_traced_one_array_for_array(nin, widths, activation, output_activation):
    assert_same_listing(nn.MLP(nin, widths, activation=activation, output_activation=output_activation, seed=0))


def test_the_wide_benchmark_model_is_listed_as_traced():
    assert_same_listing(nn.MLP(64, [128, 128, 10], activation="relu", output_activation="linear", seed=0))


def test_fit_trains_the_same_bit_for_bit_listed_or_traced(monkeypatch):
    from jangrad.compiled import mlp_listing

    X = [[0.5, -1.0, 0.25], [1.0, 2.0, -0.5], [-0.3, 0.1, 0.0], [2.0, -0.5, 1.5], [0.0, 1.0, -1.0]]
    y = [0, 2, 1, 1, 0]
    runs = []
    for listed in (True, False):
        if not listed:
            monkeypatch.setattr(mlp_listing, "list_mlp", lambda model, params: None)
        model = nn.MLP(3, [6, 5, 3], activation="leaky_relu", output_activation="linear", seed=4)
        history = jangrad.fit(model, X, y, loss="ce", optimizer="adam", lr=0.05, steps=6, batch_size=2, progress=False)
        runs.append(
            json.dumps([history.loss, [p.data for p in model.parameters()], [p.grad for p in model.parameters()]])
        )
    assert runs[0] == runs[1]


def _patched_model() -> nn.MLP:
    return nn.MLP(2, [3, 2], activation="relu", seed=0)


def test_anything_that_builds_another_graph_is_traced_instead(monkeypatch):
    class Mine(nn.MLP):
        def __call__(self, x):
            return super().__call__(x)

    model = Mine(2, [3, 2], seed=0)
    assert list_mlp(model, model.parameters()) is None  # a subclass may build anything

    model = _patched_model()
    model.layers[0].neurons[1].activation = "tanh"  # one neuron of its own
    assert list_mlp(model, model.parameters()) is None

    model = _patched_model()
    model.layers[1].neurons[0].w[1] = model.layers[1].neurons[1].w[0]  # a weight shared by two neurons
    assert list_mlp(model, model.parameters()) is None

    model = _patched_model()
    model.layers[1].neurons[0].b = model.layers[1].neurons[0].w[0] * 2.0  # a bias computed from a weight
    assert list_mlp(model, model.parameters()) is None

    model = _patched_model()
    with jangrad.no_grad():
        assert list_mlp(model, model.parameters()) is None  # no graph is built there at all

    model = _patched_model()
    model.layers[0]._forward = lambda xs: [n._forward(xs) for n in model.layers[0].neurons]
    assert list_mlp(model, model.parameters()) is None

    model = _patched_model()
    monkeypatch.setitem(nn.ACTIVATIONS, "relu", lambda v: v.tanh())
    assert list_mlp(model, model.parameters()) is None
    monkeypatch.undo()

    model = _patched_model()
    monkeypatch.setattr(
        nn.Neuron, "_forward", lambda self, xs: sum((w * x for w, x in zip(self.w, xs, strict=True)), self.b)
    )
    assert list_mlp(model, model.parameters()) is None


def test_every_activation_of_nn_is_one_the_listing_knows():
    """An activation added to nn.ACTIVATIONS is traced until mlp_listing says which op it puts after ``+ b``."""
    from jangrad.compiled.mlp_listing import _ACTIVATION_OPS

    assert set(_ACTIVATION_OPS) == set(nn.ACTIVATIONS)
