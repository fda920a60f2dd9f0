"""The bridge to PyTorch: what ``model.to_torch()`` and ``nn.MLP.from_torch(module)`` run.

An MLP becomes a ``torch.nn.Sequential`` of ``Linear`` layers (float64, weights copied exactly) each followed by
its activation module (none for "linear"), so it computes the same function on a ``(batch, nin)`` tensor and a
learner can carry a trained model on into PyTorch. ``from_torch`` reads such a Sequential back.

torch is optional: without it these functions raise ImportError with the command that installs it. The model
classes call this module, not the other way round: it reads a model through its public methods (``layers``,
``weight_rows()``, ``biases()``, ``activation``) and hands back plain numbers for ``nn`` to build from.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any, Protocol

from ..extras import MissingExtraError
from ..ops import LEAKY_SLOPE

__all__ = ["layer_to_torch", "mlp_to_torch", "mlp_from_torch"]


class LayerWeights(Protocol):
    """What the bridge reads of an ``nn.Layer`` (this module sits below ``nn`` and cannot name it)."""

    @property
    def nin(self) -> int: ...

    @property
    def nout(self) -> int: ...

    @property
    def activation(self) -> str: ...

    def weight_rows(self) -> list[list[float]]: ...

    def biases(self) -> list[float]: ...


class MLPWeights(Protocol):
    """What the bridge reads of an ``nn.MLP``: its layers."""

    @property
    def layers(self) -> Sequence[LayerWeights]: ...


def _torch() -> ModuleType:
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "moving a model to or from PyTorch") from None
    return torch


def _activation_module(torch: ModuleType, name: str) -> Any:  # a torch.nn.Module, or None for "linear"
    """The torch module for one of our activations, or None for "linear"."""
    nn = torch.nn
    return {
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "sigmoid": nn.Sigmoid,
        "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE),
        "gelu": lambda: nn.GELU(approximate="none"),
        "linear": lambda: None,
    }[name]()


def _torch_modules(torch: ModuleType, layer: LayerWeights) -> list[Any]:  # torch.nn.Modules
    linear = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(layer.weight_rows(), dtype=torch.float64))
        linear.bias.copy_(torch.tensor(layer.biases(), dtype=torch.float64))
    activation = _activation_module(torch, layer.activation)
    return [linear] if activation is None else [linear, activation]


def layer_to_torch(layer: LayerWeights) -> Any:  # a torch.nn.Sequential out (Any: torch is optional)
    torch = _torch()
    return torch.nn.Sequential(*_torch_modules(torch, layer))


def mlp_to_torch(model: MLPWeights) -> Any:  # a torch.nn.Sequential
    torch = _torch()
    modules: list[Any] = []
    for layer in model.layers:
        modules.extend(_torch_modules(torch, layer))
    return torch.nn.Sequential(*modules)


def _activation_name(torch: ModuleType, module: Any) -> str | None:
    """Our name for a torch activation module, or None if it is not one we have."""
    nn = torch.nn
    if isinstance(module, nn.Tanh):
        return "tanh"
    if isinstance(module, nn.ReLU):
        return "relu"
    if isinstance(module, nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, nn.Identity):
        return "linear"
    if isinstance(module, nn.LeakyReLU):
        if module.negative_slope != LEAKY_SLOPE:
            raise ValueError(
                f"LeakyReLU with negative_slope={module.negative_slope} is not supported; jangrad's "
                f"leaky_relu uses {LEAKY_SLOPE}"
            )
        return "leaky_relu"
    if isinstance(module, nn.GELU):
        if module.approximate != "none":
            raise ValueError("GELU(approximate='tanh') is not supported; jangrad's gelu is the exact (erf) one")
        return "gelu"
    return None


def mlp_from_torch(module: Any) -> tuple[dict[str, Any], list[tuple[list[list[float]], list[float]]]]:
    """Read a ``torch.nn.Sequential`` of Linear layers, each optionally followed by one activation: the MLP's
    ``config()`` and its weights as ``(weight rows, biases)`` per layer."""
    torch = _torch()
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(
            f"from_torch expects a torch.nn.Sequential of Linear layers and activations, got {type(module).__name__}"
        )
    linears: list[Any] = []  # torch.nn.Linear modules
    activations: list[str] = []
    for index, child in enumerate(module):
        if isinstance(child, torch.nn.Linear):
            if linears and child.in_features != linears[-1].out_features:
                raise ValueError(
                    f"module {index}: Linear takes {child.in_features} inputs but the layer before "
                    f"gives {linears[-1].out_features}"
                )
            linears.append(child)
            activations.append("linear")
            continue
        name = _activation_name(torch, child)
        if name is None:
            raise ValueError(
                f"module {index} ({type(child).__name__}) has no jangrad equivalent; an MLP is made "
                f"of Linear, Tanh, ReLU, LeakyReLU, Sigmoid, GELU and Identity"
            )
        if not linears:
            raise ValueError(f"module {index} ({type(child).__name__}) comes before any Linear layer")
        if name == "linear":
            continue
        if activations[-1] != "linear":
            raise ValueError(f"module {index}: two activations in a row after one Linear layer")
        activations[-1] = name
    if not linears:
        raise ValueError("the Sequential holds no Linear layer")
    hidden = sorted(set(activations[:-1]))
    if len(hidden) > 1:
        raise ValueError(f"the hidden layers use different activations {hidden}; an MLP has one hidden activation")
    activation = hidden[0] if hidden else activations[-1]
    config = {
        "nin": linears[0].in_features,
        "nouts": [lin.out_features for lin in linears],
        "activation": activation,
        "output_activation": activations[-1],
        "init": "uniform",
    }
    weights = []
    for linear in linears:
        rows = linear.weight.detach().to(torch.float64).tolist()
        bias = linear.bias.detach().to(torch.float64).tolist() if linear.bias is not None else [0.0] * len(rows)
        weights.append((rows, bias))
    return config, weights
