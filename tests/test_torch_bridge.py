"""PyTorch as an oracle and as a destination: whole-MLP gradients, to_torch / from_torch, and torch being absent."""

import sys

import pytest

from jangrad import data, losses, nn

torch = pytest.importorskip("torch")


def _hand_built_torch(model):
    """The same network written directly in torch (float64), independent of to_torch."""
    weights = []
    for layer in model.layers:
        w = torch.tensor(layer.weight_rows(), dtype=torch.float64, requires_grad=True)
        b = torch.tensor(layer.biases(), dtype=torch.float64, requires_grad=True)
        weights.append((w, b))
    return weights


def test_whole_mlp_gradients_agree_with_torch():
    X, y = data.seed4()
    model = nn.MLP(3, [4, 4, 1], seed=5)
    loss = losses.sse([model(x) for x in X], y)
    loss.backward()

    weights = _hand_built_torch(model)
    h = torch.tensor(X, dtype=torch.float64)
    for w, b in weights:
        h = torch.tanh(h @ w.T + b)
    torch_loss = ((h.squeeze(1) - torch.tensor(y, dtype=torch.float64)) ** 2).sum()
    torch_loss.backward()

    assert loss.data == pytest.approx(torch_loss.item(), rel=1e-12)
    for layer, (w, b) in zip(model.layers, weights, strict=True):
        for j, neuron in enumerate(layer.neurons):
            assert [p.grad for p in neuron.w] == pytest.approx(w.grad[j].tolist(), rel=1e-10, abs=1e-13)
            assert neuron.b.grad == pytest.approx(b.grad[j].item(), rel=1e-10, abs=1e-13)


@pytest.mark.parametrize(
    "activation, output_activation",
    [
        ("tanh", None),
        ("relu", "linear"),
        ("leaky_relu", "sigmoid"),
        ("gelu", "tanh"),
        ("sigmoid", "relu"),
        ("linear", "gelu"),
    ],
)
def test_to_torch_computes_the_same_function(activation, output_activation):
    model = nn.MLP(3, [5, 4, 2], activation=activation, output_activation=output_activation, seed=3)
    module = model.to_torch()
    assert isinstance(module, torch.nn.Module)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    X = data.spiral(10, 2, seed=0)[0]
    X = [row + [row[0] * row[1]] for row in X]
    out = module(torch.tensor(X, dtype=torch.float64))
    assert tuple(out.shape) == (len(X), 2)
    for row, torch_row in zip(X, out.tolist(), strict=True):
        assert [v.data for v in model(row)] == pytest.approx(torch_row, rel=1e-12, abs=1e-12)


def test_round_trip_through_torch_is_exact():
    model = nn.MLP(2, [6, 3, 1], activation="relu", output_activation="linear", seed=4)
    back = nn.MLP.from_torch(model.to_torch())
    assert back.config()["nouts"] == [6, 3, 1]
    assert (back.activation, back.output_activation) == ("relu", "linear")
    assert back.state_dict() == model.state_dict()
    assert abs(back([0.3, -0.9]).data - model([0.3, -0.9]).data) <= 1e-12


def test_from_torch_reads_a_model_trained_in_torch():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))  # float32
    model = nn.MLP.from_torch(module)
    assert (model.activation, model.output_activation) == ("tanh", "linear")
    expected = module(torch.tensor([[0.5, -0.5]])).item()
    assert model([0.5, -0.5]).data == pytest.approx(expected, rel=1e-6)
    no_bias = torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False))
    assert [n.b.data for n in nn.MLP.from_torch(no_bias).layers[0].neurons] == [0.0, 0.0]


def test_layer_to_torch():
    layer = nn.Layer(3, 2, activation="relu", seed=1)
    out = layer.to_torch()(torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64))
    assert out[0].tolist() == pytest.approx([v.data for v in layer([1.0, -2.0, 0.5])], rel=1e-12, abs=1e-15)
    with pytest.raises(NotImplementedError):
        nn.Neuron(2, seed=0).to_torch()


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: torch.nn.Linear(2, 1), TypeError, "Sequential"),
        (lambda: torch.nn.Sequential(), ValueError, "no Linear"),
        (lambda: torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 1)), ValueError, "before any Linear"),
        (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)), ValueError, "takes 4 inputs"),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(), torch.nn.Linear(3, 1)),
            ValueError,
            "Dropout",
        ),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Tanh()),
            ValueError,
            "two activations",
        ),
        (
            lambda: torch.nn.Sequential(
                torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)
            ),
            ValueError,
            "different activations",
        ),
        (lambda: torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.LeakyReLU(0.2)), ValueError, "negative_slope"),
        (lambda: torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.GELU(approximate="tanh")), ValueError, "GELU"),
    ],
)
def test_from_torch_rejects_what_an_mlp_cannot_be(make, error, message):
    with pytest.raises(error, match=message):
        nn.MLP.from_torch(make())


def test_without_torch_the_bridge_says_how_to_install_it(monkeypatch):
    model = nn.MLP(2, [1], seed=0)
    module = model.to_torch()
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(ImportError, match=r'pip install "jangrad\[torch\]"'):
        model.to_torch()
    with pytest.raises(ImportError, match=r'pip install "jangrad\[torch\]"'):
        nn.MLP.from_torch(module)
