"""Module, Neuron, Layer and MLP: structure, names, initialisation, forward maths, state, and the lecture's runs."""

import math
import random

import pytest

import jangrad
from jangrad import Value, data, losses, nn, optim


# ---- structure and names ---------------------------------------------------------------------------------------
def test_parameter_count_and_stable_names():
    model = nn.MLP(3, [4, 4, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert len(names) == len(model.parameters()) == (3 + 1) * 4 + (4 + 1) * 4 + (4 + 1) * 1 == 41
    assert names[0] == "layers.0.neurons.0.w.0"
    assert names[3] == "layers.0.neurons.0.b"
    assert "layers.0.neurons.2.w.1" in names
    assert names[-1] == "layers.2.neurons.0.b"
    assert len(set(names)) == len(names)
    # every parameter Value is labelled with its full name
    assert all(p.label == name for name, p in model.named_parameters())


def test_submodule_names_and_neuron_output_labels():
    model = nn.MLP(2, [3, 2], seed=1)
    assert model.name == ""
    assert model.layers[1].name == "layers.1"
    neuron = model.layers[1].neurons[1]
    assert neuron.name == "layers.1.neurons.1"
    assert neuron.activation == "tanh"
    outputs = model([0.5, -0.25])
    assert [o.label for o in outputs] == ["layers.1.neurons.0", "layers.1.neurons.1"]
    hidden = [
        node
        for node in jangrad.topological_order(outputs[0])
        if node.label.startswith("layers.0.neurons.") and node.label.count(".") == 3
    ]
    assert sorted(node.label for node in hidden) == ["layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2"]


def test_relative_names_of_a_submodule():
    layer = nn.MLP(2, [3, 1], seed=0).layers[0]
    assert [n for n, _ in layer.named_parameters()][:3] == ["neurons.0.w.0", "neurons.0.w.1", "neurons.0.b"]


def test_repr_shows_architecture_and_parameter_count():
    text = repr(nn.MLP(3, [4, 4, 1], seed=0))
    assert "41 parameters" in text and "Layer(3 -> 4" in text and "Layer(4 -> 1" in text and "tanh" in text
    assert "3 parameters" in repr(nn.Neuron(2, seed=0))


def test_output_is_a_value_for_one_output_else_a_list_and_width_one_layer_in_the_middle():
    single = nn.MLP(2, [3, 1], seed=0)([1.0, 2.0])
    assert isinstance(single, Value)
    several = nn.MLP(2, [3, 2], seed=0)([1.0, 2.0])
    assert isinstance(several, list) and len(several) == 2
    narrow = nn.MLP(2, [1, 3, 1], seed=0)  # a width-1 layer in the middle still feeds a list onward
    out = narrow([1.0, 2.0])
    assert isinstance(out, Value)
    assert isinstance(narrow.layers[0]([1.0, 2.0]), list)


# ---- initialisation ---------------------------------------------------------------------------------------------
def test_same_seed_same_weights_whatever_the_global_random_does():
    random.seed(1)
    a = nn.MLP(3, [4, 1], seed=7).state_dict()
    random.seed(99)
    random.random()
    b = nn.MLP(3, [4, 1], seed=7).state_dict()
    assert a == b
    assert nn.MLP(3, [4, 1], seed=8).state_dict() != a


def test_uniform_init_matches_the_lecture_draw_order():
    rng = random.Random(5)
    expected = []
    for _ in range(2):  # each neuron draws its weights, then its bias, from U(-1, 1)
        expected += [rng.uniform(-1, 1) for _ in range(3)] + [rng.uniform(-1, 1)]
    model = nn.MLP(3, [2], seed=5)
    assert [p.data for p in model.parameters()] == expected


def test_xavier_and_kaiming_init():
    xavier = nn.MLP(30, [20, 1], init="xavier", seed=0)
    limit = math.sqrt(6 / (30 + 20))
    weights = [w.data for n in xavier.layers[0].neurons for w in n.w]
    assert all(-limit <= w <= limit for w in weights) and max(abs(w) for w in weights) > 0.8 * limit
    assert all(n.b.data == 0.0 for n in xavier.layers[0].neurons)
    kaiming = nn.MLP(200, [50], activation="relu", init="kaiming", seed=0)
    ws = [w.data for n in kaiming.layers[0].neurons for w in n.w]
    std = math.sqrt(sum(w * w for w in ws) / len(ws))
    assert abs(std - math.sqrt(2 / 200)) < 0.01
    assert all(n.b.data == 0.0 for n in kaiming.layers[0].neurons)


# ---- forward maths ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "activation, fn",
    [
        ("tanh", math.tanh),
        ("relu", lambda a: max(a, 0.0)),
        ("leaky_relu", lambda a: a if a > 0 else 0.01 * a),
        ("sigmoid", lambda a: 1 / (1 + math.exp(-a))),
        ("gelu", lambda a: 0.5 * a * (1 + math.erf(a / math.sqrt(2)))),
        ("linear", lambda a: a),
    ],
)
def test_neuron_computes_activation_of_w_dot_x_plus_b(activation, fn):
    neuron = nn.Neuron(3, activation=activation, seed=3)
    for x in ([0.5, -1.5, 2.0], [-2.0, -1.0, -3.0]):
        act = sum(w.data * xi for w, xi in zip(neuron.w, x, strict=True)) + neuron.b.data
        assert neuron(x).data == pytest.approx(fn(act), rel=1e-12, abs=1e-15)


def test_mlp_hidden_and_output_activations():
    model = nn.MLP(2, [3, 1], activation="relu", output_activation="linear", seed=0)
    assert [layer.activation for layer in model.layers] == ["relu", "linear"]
    lecture = nn.MLP(2, [3, 1], seed=0)
    assert [layer.activation for layer in lecture.layers] == ["tanh", "tanh"]
    x = [0.3, -0.7]
    hidden = [
        max(0.0, sum(w.data * xi for w, xi in zip(n.w, x, strict=True)) + n.b.data) for n in model.layers[0].neurons
    ]
    out = model.layers[1].neurons[0]
    expected = sum(w.data * h for w, h in zip(out.w, hidden, strict=True)) + out.b.data
    assert model(x).data == pytest.approx(expected, rel=1e-12)


def test_inputs_may_be_values_and_gradients_reach_them():
    model = nn.MLP(2, [3, 1], seed=0)
    x = [Value(0.5), Value(-1.0)]
    model(x).backward()
    assert x[0].grad != 0.0 and x[1].grad != 0.0


# ---- state ----------------------------------------------------------------------------------------------------------
def test_zero_grad_and_state_dict_round_trip():
    model = nn.MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    other = nn.MLP(2, [3, 1], seed=1)
    kept = other.parameters()
    other.load_state_dict(model.state_dict())
    assert other.state_dict() == model.state_dict()
    assert all(a is b for a, b in zip(kept, other.parameters(), strict=True))  # same Values: optimizers keep working
    assert other([0.1, 0.2]).data == model([0.1, 0.2]).data


def test_load_state_dict_rejects_missing_unexpected_and_non_numbers():
    model = nn.MLP(2, [1], seed=0)
    state = model.state_dict()
    missing = dict(state)
    del missing["layers.0.neurons.0.b"]
    with pytest.raises(KeyError, match="missing.*layers.0.neurons.0.b"):
        model.load_state_dict(missing)
    with pytest.raises(KeyError, match="unexpected.*extra"):
        model.load_state_dict({**state, "extra": 1.0})
    with pytest.raises(TypeError, match="layers.0.neurons.0.w.0"):
        model.load_state_dict({**state, "layers.0.neurons.0.w.0": "1.0"})
    with pytest.raises(TypeError):
        model.load_state_dict([1.0, 2.0, 3.0])
    assert model.state_dict() == state  # nothing half-loaded


# ---- bad input ----------------------------------------------------------------------------------------------------
def test_wrong_input_length_names_expected_and_given():
    model = nn.MLP(3, [2, 1], seed=0)
    with pytest.raises(ValueError, match=r"expects 3 input\(s\), got 2"):
        model([1.0, 2.0])
    with pytest.raises(ValueError, match="expects 3"):
        model.layers[0]([1.0])
    with pytest.raises(ValueError, match="expects 3"):
        model.layers[0].neurons[0]([1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("bad", [[1.0, "2", 3.0], [1.0, None, 3.0], "abc", 3.0, None])
def test_non_numbers_raise_type_error(bad):
    with pytest.raises(TypeError):
        nn.MLP(3, [1], seed=0)(bad)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(nin=0, nouts=[1]), ValueError),
        (dict(nin=2.5, nouts=[1]), TypeError),
        (dict(nin=2, nouts=[]), TypeError),
        (dict(nin=2, nouts=4), TypeError),
        (dict(nin=2, nouts=[3, 0]), ValueError),
        (dict(nin=2, nouts=[3, "4"]), TypeError),
        (dict(nin=2, nouts=[1], activation="softmax"), ValueError),
        (dict(nin=2, nouts=[1], output_activation="swish"), ValueError),
        (dict(nin=2, nouts=[1], init="zeros"), ValueError),
        (dict(nin=2, nouts=[1], seed="0"), TypeError),
        (dict(nin=2, nouts=[1], seed=random.Random(0)), TypeError),
    ],
)
def test_bad_constructor_arguments(kwargs, error):
    with pytest.raises(error):
        nn.MLP(**kwargs)


def test_bad_neuron_and_layer_arguments():
    with pytest.raises(ValueError, match="activation"):
        nn.Neuron(2, activation="step")
    with pytest.raises(ValueError, match="nout"):
        nn.Layer(2, 0)
    with pytest.raises(TypeError, match="nin"):
        nn.Neuron(None)


# ---- the lecture's runs (acceptance) ---------------------------------------------------------------------------------
def test_seed4_lecture_recipe_reaches_small_loss():
    X, y = data.seed4()
    model = nn.MLP(3, [4, 4, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.05)
    for _ in range(1000):
        loss = losses.sse([model(x) for x in X], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    final = losses.sse([model(x) for x in X], y).data
    assert final < 0.01
    assert all(abs(model(x).data - t) < 0.1 for x, t in zip(X, y, strict=True))


def test_xor_is_learned_perfectly():
    X, y = data.xor(signed=True)
    model = nn.MLP(2, [4, 1], seed=0)
    history = jangrad.fit(
        model, X, y, loss="sse", optimizer=optim.SGD(model.parameters(), lr=0.1), steps=300, progress=False
    )
    assert history.loss[-1] < history.loss[0]
    assert all((model(x).data > 0) == (t > 0) for x, t in zip(X, y, strict=True))


def _substitute(model, values):
    """Put the given Values in place of the model's parameters (in named_parameters() order)."""
    it = iter(values)
    for layer in model.layers:
        for neuron in layer.neurons:
            neuron.w = [next(it) for _ in neuron.w]
            neuron.b = next(it)


def test_whole_mlp_gradients_agree_with_gradcheck():
    X, y = data.seed4()
    model = nn.MLP(3, [4, 4, 1], seed=2)
    start = [p.data for p in model.parameters()]
    loss = losses.sse([model(x) for x in X], y)
    loss.backward()
    ours = [p.grad for p in model.parameters()]

    def loss_of(*params):
        _substitute(model, params)
        return losses.sse([model(x) for x in X], y)

    assert jangrad.gradcheck(loss_of, *start, eps=1e-6, atol=1e-6, rtol=1e-5)
    numeric = []
    for i in range(len(start)):
        up, down = list(start), list(start)
        up[i] += 1e-6
        down[i] -= 1e-6
        numeric.append((loss_of(*map(Value, up)).data - loss_of(*map(Value, down)).data) / 2e-6)
    assert ours == pytest.approx(numeric, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("module", [nn.Neuron(3, seed=0), nn.Layer(3, 2, seed=0), nn.MLP(3, [4, 2, 1], seed=0)])
def test_parameters_are_the_named_parameters_in_the_same_order(module):
    named = [p for _, p in module.named_parameters()]
    assert len(named) == module.num_parameters() > 0
    assert all(a is b for a, b in zip(module.parameters(), named, strict=True))


@pytest.mark.parametrize(
    "make", [lambda: nn.MLP(2, [3, 1], seed=0), lambda: nn.Layer(2, 3, seed=0), lambda: nn.Neuron(2, seed=0)]
)
def test_a_dict_is_not_a_sample(make):
    """Iterating a dict gives its keys: {0: 5.0, 1: 7.0} would silently be the input [0, 1]."""
    with pytest.raises(TypeError, match="a model input must be a list of 2 numbers, got .* of type dict"):
        make()({0: 5.0, 1: 7.0})


def test_a_numpy_integer_seed_gives_the_weights_of_the_same_int():
    """mypy found it: the seed check accepts any integer, but random.Random refused NumPy's (a TypeError)."""
    np = pytest.importorskip("numpy")
    from_numpy = nn.MLP(2, [3, 1], seed=np.int64(3))
    assert [p.data for p in from_numpy.parameters()] == [p.data for p in nn.MLP(2, [3, 1], seed=3).parameters()]
