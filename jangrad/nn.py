"""Neural networks made of Values: ``Module``, ``Neuron``, ``Layer`` and ``MLP``, as built in the lecture.

A ``Neuron`` computes ``act = w_0 x_0 + ... + w_{n-1} x_{n-1} + b`` and passes it through its activation. A
``Layer`` is a list of neurons that all see the same input; an ``MLP`` is a chain of layers. Every parameter is an
ordinary leaf ``Value``, so ``loss.backward()`` fills its ``.grad`` and an optimizer moves its ``.data``.

Names: each module knows its dotted path inside the model it belongs to (``module.name``: ``""`` for the model
itself, ``"layers.1"``, ``"layers.1.neurons.3"``), each parameter Value is labelled with its full dotted name
(``"layers.1.neurons.3.w.0"``), and each neuron labels the output Value it computes with its own name, so a drawing
of a large graph can group nodes by neuron.

Saving to JSON lives in ``modelfile.py`` and the PyTorch bridge in ``torch_bridge.py``; the methods here hand over
to them.
"""

from __future__ import annotations

import collections.abc
import math
import numbers
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeAlias

from .checks import whole_number
from .engine import Value
from .ops import LEAKY_SLOPE

__all__ = ["Module", "Neuron", "Layer", "MLP", "load", "iter_neurons", "ACTIVATIONS", "INITS"]

Number: TypeAlias = int | float


def _linear(v: Value) -> Value:
    return v


ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "leaky_relu": lambda v: v.leaky_relu(LEAKY_SLOPE),
    "sigmoid": Value.sigmoid,
    "gelu": Value.gelu,
    "linear": _linear,
}

INITS = ("uniform", "xavier", "kaiming")


def _check_activation(activation: object, what: str = "activation") -> str:
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"{what} must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    return activation


def _check_init(init: object) -> str:
    if not isinstance(init, str) or init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    return init


def _make_rng(seed: object) -> random.Random:
    """The generator a model draws its weights from: its own one made from an int ``seed``, so that the rest of
    the program cannot change it; with no seed, Python's ``random`` module itself, as in micrograd, so that
    ``random.seed(1337)`` before building the model makes a run repeat exactly. A model hands its generator (or the
    module) on to its layers."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None or seed is random:
        return random  # type: ignore[return-value]  # the module's functions draw from its one shared generator
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return random.Random(int(seed))
    raise TypeError(f"seed must be an int, a random.Random or None, got {seed!r} of type {type(seed).__name__}")


def _as_inputs(x: Sequence[Any], nin: int) -> list[Value]:
    """Check one sample and turn its plain numbers into leaf Values (one per input, shared by every neuron)."""
    # Any indexable sequence will do (a list, a tuple, a 1-D NumPy array), but not a string, and not a dict (whose
    # iteration gives its keys, not its values).
    if isinstance(x, (str, bytes, collections.abc.Mapping)) or not (
        hasattr(x, "__len__") and hasattr(x, "__getitem__")
    ):
        raise TypeError(f"a model input must be a list of {nin} numbers, got {x!r} of type {type(x).__name__}")
    if len(x) != nin:
        raise ValueError(f"this model expects {nin} input(s), got {len(x)}: {list(x)!r}")
    values = []
    for i, xi in enumerate(x):
        if isinstance(xi, Value):
            values.append(xi)
        elif isinstance(xi, numbers.Real):
            values.append(Value(float(xi), label=f"x{i}"))
        else:
            raise TypeError(f"input {i} must be a number or a Value, got {xi!r} of type {type(xi).__name__}")
    return values


class Module:
    """The base of every model part: parameters, gradients, names and state, in PyTorch's vocabulary."""

    def __init__(self) -> None:
        self.name: str = ""

    # ---- what subclasses provide -----------------------------------------------------------------------------
    def _own_parameters(self) -> list[tuple[str, Value]]:
        """Parameters held directly by this module, with names relative to it."""
        return []

    def _children(self) -> list[tuple[str, Module]]:
        """Sub-modules, with their names relative to this module."""
        return []

    # ---- parameters ----------------------------------------------------------------------------------------------
    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter with its dotted name relative to this module, in a fixed order."""
        named = list(self._own_parameters())
        for child_name, child in self._children():
            named.extend((f"{child_name}.{name}", p) for name, p in child.named_parameters())
        return named

    def parameters(self) -> list[Value]:
        """Every parameter, in ``named_parameters()`` order, without building the names (zero_grad runs each step)."""
        params = [p for _, p in self._own_parameters()]
        for _, child in self._children():
            params.extend(child.parameters())
        return params

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (gradients accumulate across ``backward()`` calls otherwise)."""
        for p in self.parameters():
            p.grad = 0.0

    def _rename(self, name: str) -> None:
        """Give this module (and its children and parameters) their dotted names inside the enclosing model."""
        self.name = name
        prefix = f"{name}." if name else ""
        for param_name, p in self._own_parameters():
            p.label = prefix + param_name
        for child_name, child in self._children():
            child._rename(prefix + child_name)

    # ---- state -----------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by dotted name (plain floats, in ``named_parameters()`` order)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from ``state`` (as given by ``state_dict()``); the Values themselves are kept."""
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a dict of parameter name -> number, got {type(state).__name__}")
        named = self.named_parameters()
        expected = [name for name, _ in named]
        missing = [name for name in expected if name not in state]
        known = set(expected)
        unexpected = [name for name in state if name not in known]
        if missing or unexpected:
            raise KeyError(
                f"state does not fit this {type(self).__name__}: missing {missing[:5]!r}"
                f"{' ...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]!r}"
                f"{' ...' if len(unexpected) > 5 else ''}"
            )
        for name, _ in named:
            v = state[name]
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"state[{name!r}] must be a number, got {v!r} of type {type(v).__name__}")
        for name, p in named:
            p.data = float(state[name])

    def num_parameters(self) -> int:
        return len(self.parameters())

    # ---- files and PyTorch -------------------------------------------------------------------------------------
    def save(self, path: str) -> None:
        """Write the model to a JSON file (architecture, weights, jangrad version); see ``nn.load``."""
        if not isinstance(self, MLP):
            raise TypeError(f"only an MLP can be saved to a file, not a {type(self).__name__}")
        from .io.modelfile import save_model

        save_model(self, path)

    def to_torch(self) -> Any:  # a torch.nn.Module; Any, since torch is an optional extra
        """A ``torch.nn.Module`` (float64) computing the same function on a ``(batch, nin)`` tensor."""
        raise NotImplementedError(f"to_torch() is available for MLP and Layer, not for {type(self).__name__}")


class Neuron(Module):
    """One unit: ``activation(w . x + b)``.

    ``init``: "uniform" draws w and b from U(-1, 1), as in the lecture; "xavier" draws w from
    U(-sqrt(6 / (nin + fan_out)), +sqrt(...)) (good for tanh and sigmoid) and "kaiming" from N(0, 2 / nin) (good for
    relu); both start b at 0. ``seed`` is an int, None, or a ``random.Random`` to draw from.
    """

    def __init__(
        self,
        nin: int,
        activation: str = "tanh",
        init: str = "uniform",
        seed: int | random.Random | None = None,
        fan_out: int = 1,
    ) -> None:
        super().__init__()
        self.nin = whole_number(nin, "nin")
        self.activation: str = _check_activation(activation)
        _check_init(init)
        fan_out = whole_number(fan_out, "fan_out")
        rng = _make_rng(seed)
        if init == "uniform":
            self.w = [Value(rng.uniform(-1.0, 1.0)) for _ in range(self.nin)]
            self.b = Value(rng.uniform(-1.0, 1.0))
        elif init == "xavier":
            limit = math.sqrt(6.0 / (self.nin + fan_out))
            self.w = [Value(rng.uniform(-limit, limit)) for _ in range(self.nin)]
            self.b = Value(0.0)
        else:
            std = math.sqrt(2.0 / self.nin)
            self.w = [Value(rng.gauss(0.0, std)) for _ in range(self.nin)]
            self.b = Value(0.0)
        self._rename("")

    def _own_parameters(self) -> list[tuple[str, Value]]:
        return [(f"w.{i}", w) for i, w in enumerate(self.w)] + [("b", self.b)]

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]  # the order of _own_parameters, without formatting a name for each weight

    def _forward(self, xs: list[Value]) -> Value:
        act = self.w[0] * xs[0]
        for wi, xi in zip(self.w[1:], xs[1:], strict=True):
            act = act + wi * xi
        act = act + self.b
        out = ACTIVATIONS[self.activation](act)
        out.label = self.name
        return out

    def __call__(self, x: Sequence[Number | Value]) -> Value:
        return self._forward(_as_inputs(x, self.nin))

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r}, {self.num_parameters()} parameters)"


class Layer(Module):
    """``nout`` neurons that each see the whole input; calling it returns a list of ``nout`` Values."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "tanh",
        init: str = "uniform",
        seed: int | random.Random | None = None,
    ) -> None:
        super().__init__()
        self.nin = whole_number(nin, "nin")
        self.nout = whole_number(nout, "nout")
        self.activation: str = _check_activation(activation)
        rng = _make_rng(seed)
        self.neurons = [Neuron(self.nin, activation, init, rng, fan_out=self.nout) for _ in range(self.nout)]
        self._rename("")

    def _children(self) -> list[tuple[str, Module]]:
        return [(f"neurons.{j}", n) for j, n in enumerate(self.neurons)]

    def _forward(self, xs: list[Value]) -> list[Value]:
        # Always a list, even of one Value, so the next layer can iterate over it.
        return [n._forward(xs) for n in self.neurons]

    def __call__(self, x: Sequence[Number | Value]) -> list[Value]:
        return self._forward(_as_inputs(x, self.nin))

    def weight_rows(self) -> list[list[float]]:
        """The weights as a ``nout x nin`` matrix of floats (row j is neuron j), PyTorch's layout."""
        return [[w.data for w in n.w] for n in self.neurons]

    def biases(self) -> list[float]:
        return [n.b.data for n in self.neurons]

    def to_torch(self) -> Any:
        from .io.torch_bridge import layer_to_torch

        return layer_to_torch(self)

    def __repr__(self) -> str:
        return f"Layer({self.nin} -> {self.nout}, activation={self.activation!r}, {self.num_parameters()} parameters)"


class MLP(Module):
    """A multi-layer perceptron: ``MLP(3, [4, 4, 1])`` maps 3 inputs through layers of 4, 4 and 1 neurons.

    ``activation`` is used by every hidden layer; ``output_activation`` by the last one, and ``None`` means the
    same as ``activation`` (the lecture's network, tanh everywhere). micrograd's demo network is
    ``MLP(2, [16, 16, 1], activation="relu", output_activation="linear")``. Calling the model on one sample (a list
    of ``nin`` numbers or Values) returns a Value if the last layer has one neuron, else a list of Values.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        output_activation: str | None = None,
        init: str = "uniform",
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.nin = whole_number(nin, "nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or len(nouts) == 0:
            raise TypeError(f"nouts must be a non-empty list of layer widths such as [4, 4, 1], got {nouts!r}")
        self.nouts = [whole_number(n, f"layer width nouts[{i}]") for i, n in enumerate(nouts)]
        self.activation: str = _check_activation(activation)
        self.output_activation: str = _check_activation(
            activation if output_activation is None else output_activation, "output_activation"
        )
        self.init: str = _check_init(init)
        if isinstance(seed, random.Random):
            raise TypeError("MLP takes an int seed (or None); it makes its own random.Random from it")
        rng = _make_rng(seed)
        sizes = [self.nin] + self.nouts
        last = len(self.nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], self.output_activation if i == last else self.activation, init, rng)
            for i in range(len(self.nouts))
        ]
        self._rename("")

    def _children(self) -> list[tuple[str, Module]]:
        return [(f"layers.{i}", layer) for i, layer in enumerate(self.layers)]

    def __call__(self, x: Sequence[Number | Value]) -> Value | list[Value]:
        xs = _as_inputs(x, self.nin)
        for layer in self.layers:
            xs = layer._forward(xs)
        return xs[0] if len(xs) == 1 else xs

    @property
    def nout(self) -> int:
        return self.nouts[-1]

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this architecture (what a saved file records)."""
        return {
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self.activation,
            "output_activation": self.output_activation,
            "init": self.init,
        }

    def _load_weights(self, weights: Sequence[tuple[Sequence[Sequence[float]], Sequence[float]]]) -> None:
        """Set every layer from a ``(weight rows, biases)`` pair in PyTorch's layout, as ``weight_rows()`` and
        ``biases()`` give them (how model files and ``from_torch`` hand their numbers over)."""
        state: dict[str, float] = {}
        for i, (rows, bias) in enumerate(weights):
            for j, row in enumerate(rows):
                for k, w in enumerate(row):
                    state[f"layers.{i}.neurons.{j}.w.{k}"] = w
                state[f"layers.{i}.neurons.{j}.b"] = bias[j]
        self.load_state_dict(state)

    def to_torch(self) -> Any:
        from .io.torch_bridge import mlp_to_torch

        return mlp_to_torch(self)

    @classmethod
    def from_torch(cls, module: Any) -> MLP:
        """Build an MLP from a ``torch.nn.Sequential`` of ``Linear`` layers and activations (as ``to_torch`` makes)."""
        from .io.torch_bridge import mlp_from_torch

        return cls._built(*mlp_from_torch(module))

    @classmethod
    def _built(
        cls, config: dict[str, Any], weights: Sequence[tuple[Sequence[Sequence[float]], Sequence[float]]]
    ) -> MLP:
        """The MLP that ``config()`` describes, holding ``weights`` (as model files and ``from_torch`` give them)."""
        model = cls(**config, seed=0)
        model._load_weights(weights)
        return model

    def __repr__(self) -> str:
        lines = [
            f"MLP({self.nin} -> {self.nouts}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}, {self.num_parameters()} parameters)"
        ]
        lines += [f"  ({layer.name}): {layer!r}" for layer in self.layers]
        return "\n".join(lines)


def load(path: str) -> MLP:
    """Read a model written by ``model.save(path)``. Raises ``modelfile.ModelFileError`` naming the path for a missing,
    damaged, changed or oversized file."""
    from .io.modelfile import load_model

    return MLP._built(*load_model(path, ACTIVATIONS, INITS))


def iter_neurons(model: Module) -> Iterator[Neuron]:
    """Every neuron of a model, in order (for drawings and explanations that go neuron by neuron)."""
    if isinstance(model, Neuron):
        yield model
    for _, child in model._children():
        yield from iter_neurons(child)
