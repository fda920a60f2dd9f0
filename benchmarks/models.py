"""micrograd's own demo model and loss, written once against any scalar Value class.

W1 and W2 run exactly this code on micrograd's Value and on jangrad's, so the comparison is engine against
engine, not model code against model code. (This mirrors micrograd 0.1.0's ``nn.py`` and its moons demo.)
"""

from __future__ import annotations

import random


class Neuron:
    def __init__(self, value_cls, nin: int, nonlin: bool, rng: random.Random) -> None:
        self.w = [value_cls(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = value_cls(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class MLP:
    """micrograd's MLP: ReLU hidden layers, a linear output layer."""

    def __init__(self, value_cls, nin: int, nouts: list[int], seed: int = 1337) -> None:
        rng = random.Random(seed)
        sizes = [nin] + nouts
        self.layers = [
            [Neuron(value_cls, sizes[i], i != len(nouts) - 1, rng) for _ in range(sizes[i + 1])]
            for i in range(len(nouts))
        ]

    def __call__(self, x):
        for layer in self.layers:
            out = [neuron(x) for neuron in layer]
            x = out[0] if len(out) == 1 else out
        return x

    def parameters(self):
        return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


def hinge_l2_loss(model: MLP, inputs, targets, alpha: float = 1e-4):
    """micrograd demo's loss: mean hinge loss plus alpha times the sum of squared parameters."""
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(targets, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    return data_loss + reg_loss
