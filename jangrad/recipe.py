"""A training run described once: the data set (its size, noise and split), the model, the loss, the optimizer and
its schedule, the steps, the batch and the seed.

Both faces of jangrad read and write runs through this module: ``jangrad train`` parses its arguments into a
``Recipe``, the playground parses its JSON into one, and "copy CLI command" prints one back (``Recipe.command``).
All of them build the data, the labels and the model with the same functions (``build``), so a run started on the
page and its command give the same numbers. A recipe that cannot be run raises ``RecipeError``, one line naming the
field; the command line turns it into exit status 2, the server into a 400 answer.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import data
from .nn import MLP

__all__ = [
    "Recipe",
    "RecipeError",
    "Problem",
    "build",
    "load_dataset",
    "prepare_labels",
    "GENERATED",
    "NAMED",
    "ACTIVATIONS",
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
]

# The generated sets' sizes and noise when a recipe does not say (small, so that scalar training stays quick).
GENERATED = {"moons": (100, 0.1), "circles": (100, 0.05), "spiral": (40, 0.2)}
NAMED = ("seed4", "xor", "moons", "circles", "spiral", "blobs", "digits", "iris")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "gelu", "linear")
LOSSES = ("hinge", "sse", "mse", "bce", "ce")
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("none", "linear", "step", "cosine")
# The lecture trains its 4 samples with the sum of squared errors; elsewhere the default follows the labels.
_DEFAULT_LOSS = {"seed4": "sse"}


class RecipeError(ValueError):
    """A run that cannot be run as described; the message is one line and names the field."""


@dataclass(frozen=True)
class Recipe:
    """One training run. ``data`` is a named set (``NAMED``) or a CSV file's path; ``loss=None`` lets the labels
    choose (sse for seed4, hinge for two classes, ce for more, mse for real-valued targets)."""

    data: str = "seed4"
    target: str | None = None  # for a CSV file: the target column, a name or an index (default: the last)
    samples: int | None = None  # for the generated sets (spiral: per class); None: GENERATED's size
    noise: float | None = None
    test_split: float | None = None  # the fraction held out for testing; None: train on all
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "relu"
    output_activation: str = "linear"
    loss: str | None = None
    optimizer: str = "sgd"
    lr: float = 0.1
    schedule: str = "none"
    steps: int = 100
    batch_size: int | None = None  # None: every sample in every step
    seed: int = 0

    def __post_init__(self) -> None:
        _check(isinstance(self.data, str) and self.data != "", "data", self.data, "a data set name or a CSV path")
        for name, allowed in (
            ("activation", ACTIVATIONS),
            ("output_activation", ACTIVATIONS),
            ("optimizer", OPTIMIZERS),
            ("schedule", SCHEDULES),
        ):
            _check(getattr(self, name) in allowed, name, getattr(self, name), f"one of {', '.join(allowed)}")
        _check(self.loss is None or self.loss in LOSSES, "loss", self.loss, f"one of {', '.join(LOSSES)}")
        hidden = self.hidden
        _check(
            isinstance(hidden, (tuple, list)) and all(_is_int(n) and n >= 1 for n in hidden),
            "hidden",
            hidden,
            "layer widths of at least 1",
        )
        object.__setattr__(self, "hidden", tuple(int(n) for n in hidden))
        _check(_is_real(self.lr) and 0 < self.lr < math.inf, "lr", self.lr, "a positive finite number")
        _check(_is_int(self.steps) and self.steps >= 1, "steps", self.steps, "a whole number of at least 1")
        _check(
            self.batch_size is None or _is_int(self.batch_size) and self.batch_size >= 1,
            "batch_size",
            self.batch_size,
            "a whole number of at least 1",
        )
        _check(_is_int(self.seed), "seed", self.seed, "a whole number")
        _check(
            self.test_split is None or _is_real(self.test_split) and 0 < self.test_split < 1,
            "test_split",
            self.test_split,
            "a fraction between 0 and 1 (both excluded)",
        )
        _check(
            self.samples is None or _is_int(self.samples) and self.samples >= 1,
            "samples",
            self.samples,
            "a whole number of at least 1",
        )
        _check(
            self.noise is None or _is_real(self.noise) and 0 <= self.noise < math.inf,
            "noise",
            self.noise,
            "a finite number of at least 0",
        )
        if (self.samples is not None or self.noise is not None) and self.data not in GENERATED:
            raise RecipeError(f"samples and noise apply to {', '.join(GENERATED)}, not to data {self.data}")

    def replace(self, **changes: Any) -> Recipe:
        return dataclasses.replace(self, **changes)

    def fit_options(self, optimizer: object = None) -> dict[str, Any]:
        """``jangrad.fit``'s keyword arguments for this run, besides the model, the data and the loss. Give
        ``optimizer`` to train with one already made from this recipe (whose ``lr`` a caller wants to watch)."""
        chosen = {"optimizer": self.optimizer, "lr": self.lr} if optimizer is None else {"optimizer": optimizer}
        return {
            **chosen,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "schedule": None if self.schedule == "none" else self.schedule,
            "seed": self.seed,
        }

    def command(self, out: str = "jangrad-out") -> str:
        """The ``jangrad train`` command that repeats this run (with every choice spelled out)."""
        args = ["jangrad", "train", "--data", self.data]
        if self.target is not None:
            args += ["--target", self.target]
        args += [
            "--hidden",
            ",".join(str(n) for n in self.hidden),
            "--activation",
            self.activation,
            "--output-activation",
            self.output_activation,
        ]
        if self.loss is not None:
            args += ["--loss", self.loss]
        args += [
            "--optimizer",
            self.optimizer,
            "--lr",
            repr(float(self.lr)),
            "--steps",
            str(self.steps),
            "--seed",
            str(self.seed),
        ]
        if self.schedule != "none":
            args += ["--schedule", self.schedule]
        if self.batch_size is not None:
            args += ["--batch-size", str(self.batch_size)]
        if self.samples is not None:
            args += ["--samples", str(self.samples)]
        if self.noise is not None:
            args += ["--noise", repr(float(self.noise))]
        if self.test_split is not None:
            args += ["--test-split", repr(float(self.test_split))]
        args += ["--out", out]
        return " ".join(shlex.quote(a) for a in args)


def _is_int(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _is_real(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def _check(ok: bool, field: str, value: object, expected: str) -> None:
    if not ok:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise RecipeError(f"{field} must be {expected}, got {shown}")


# ---- building a run: data, labels, model ----------------------------------------------------------------------
@dataclass
class Problem:
    """What a recipe builds: the training and held-out samples (labels coded for the loss), the loss chosen, the
    number of outputs and of classes (1 output and 2 classes for two-class and real-valued targets), the model."""

    X: list[list[float]]
    y: list[Any]
    X_test: list[list[float]]
    y_test: list[Any]
    loss: str
    classes: int
    model: MLP


def load_dataset(recipe: Recipe) -> tuple[list[list[float]], list[Any]]:
    """The recipe's samples and raw labels: a named set (generated ones at the recipe's size and noise) or a CSV
    file's numbers, standardised where raw features would saturate tanh (digits, iris, a CSV file)."""
    name, seed = recipe.data, recipe.seed
    if name in GENERATED:
        default_samples, default_noise = GENERATED[name]
        makers: dict[str, Callable[..., data.Dataset]] = {
            "moons": data.moons,
            "circles": data.circles,
            "spiral": data.spiral,
        }
        make = makers[name]
        noise = default_noise if recipe.noise is None else recipe.noise
        return make(n=recipe.samples or default_samples, noise=noise, seed=seed)
    if name == "seed4":
        return data.seed4()
    if name == "xor":
        return data.xor()
    if name == "blobs":
        return data.blobs(n=100, seed=seed)
    if name == "digits":
        X, y = data.digits(n=200, seed=seed)
        return data.standardize(X), y  # pixel counts 0..16 would saturate tanh and slow SGD
    if name == "iris":
        X, y = data.iris(seed=seed)
        return data.standardize(X), y
    path = Path(name)
    if not path.is_file():
        raise RecipeError(f"data {name!r} is neither a data set ({', '.join(NAMED)}) nor an existing CSV file")
    column: int | str = -1
    if recipe.target is not None:
        column = int(recipe.target) if recipe.target.lstrip("-").isdigit() else recipe.target
    X, y = data.load_csv(str(path), target=column)
    return data.standardize(X), y


def prepare_labels(y: list[Any], loss: str | None) -> tuple[list[Any], str, int]:
    """Choose the loss (if not given) and the number of outputs, and recode the labels for that loss: -1/+1 for
    hinge and squared errors, 0/1 for bce, class indices for ce."""
    is_class = all(float(t).is_integer() for t in y)
    classes = sorted({float(t) for t in y}) if is_class else []
    if not is_class or len(classes) > 20:  # a regression target
        loss = loss or "mse"
        if loss not in ("mse", "sse"):
            raise RecipeError(f"loss {loss}: the targets are not class labels; use loss mse or sse")
        return [float(t) for t in y], loss, 1
    if len(classes) < 2:
        raise RecipeError("the targets hold a single class: there is nothing to separate")
    index = {c: k for k, c in enumerate(classes)}
    if len(classes) > 2:
        loss = loss or "ce"
        if loss != "ce":
            raise RecipeError(f"loss {loss}: the data has {len(classes)} classes; use loss ce")
        return [index[float(t)] for t in y], loss, len(classes)
    loss = loss or "hinge"
    if loss == "ce":
        return [index[float(t)] for t in y], loss, 2
    if loss == "bce":
        return [float(index[float(t)]) for t in y], loss, 1
    return [2.0 * index[float(t)] - 1.0 for t in y], loss, 1  # -1/+1 for hinge, sse and mse


def build(recipe: Recipe) -> Problem:
    """The recipe's data (split if it asks), labels coded for its loss, and a fresh model seeded by its seed."""
    X, raw_y = load_dataset(recipe)
    y, loss, nout = prepare_labels(raw_y, recipe.loss or _DEFAULT_LOSS.get(recipe.data))
    X_test: list[list[float]] = []
    y_test: list[Any] = []
    if recipe.test_split is not None:
        held_out = math.ceil(len(X) * recipe.test_split)  # as scikit-learn's split counts them
        if not 1 <= held_out < len(X):
            raise RecipeError(f"test_split {recipe.test_split:g} of {len(X)} samples leaves no training samples")
        X, X_test, y, y_test = data.train_test_split(X, y, test_size=recipe.test_split, seed=recipe.seed)
    model = MLP(
        len(X[0]),
        list(recipe.hidden) + [nout],
        activation=recipe.activation,
        output_activation=recipe.output_activation,
        seed=recipe.seed,
    )
    return Problem(X, y, X_test, y_test, loss, max(nout, 2), model)
