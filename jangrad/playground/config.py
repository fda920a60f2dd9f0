"""The network lab's configuration: checking what the page sends, and the ``jangrad train`` command that repeats it.

A configuration is a flat dict of short keys, the same ones the page keeps in its URL. ``parse_config`` turns it
into a ``RunConfig`` or raises ``ValueError`` with one line naming the field; every size is capped (see
``limits``) because any page in the learner's browser can post to the server.
"""

from __future__ import annotations

import math
import numbers
import shlex
from dataclasses import asdict, dataclass

from ..cli.training import GENERATED
from . import limits

__all__ = ["RunConfig", "parse_config", "DATASETS", "LOSSES", "OPTIMIZERS", "SCHEDULES", "ACTIVATIONS"]

DATASETS = ("seed4", "xor", "moons", "circles", "spiral", "csv")
LOSSES = ("hinge", "sse", "mse", "bce", "ce")
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("none", "linear", "step", "cosine")
ACTIVATIONS = ("tanh", "relu", "leaky_relu", "sigmoid", "gelu", "linear")


@dataclass(frozen=True)
class RunConfig:
    data: str = "moons"
    samples: int = 100
    noise: float = 0.1
    seed: int = 0
    test: float = 0.0
    layers: tuple[int, ...] = (6, 6)
    activation: str = "tanh"
    output: str = "linear"
    loss: str = "hinge"
    optimizer: str = "sgd"
    lr: float = 0.1
    schedule: str = "none"
    batch: int = 0
    steps: int = 300
    csv: str = ""
    target: str = "target"

    def public(self) -> dict:
        """The configuration as the page keeps it (layers as text, the CSV itself left out)."""
        values = asdict(self)
        values["layers"] = ",".join(str(n) for n in self.layers)
        values.pop("csv")
        return values


def _choice(payload: dict, key: str, allowed: tuple[str, ...]) -> str:
    value = payload.get(key, getattr(RunConfig, key))
    if value not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}, got {str(value)[:40]!r}")
    return value


def _number(payload: dict, key: str, low: float, high: float, integer: bool = False) -> float:
    value = payload.get(key, getattr(RunConfig, key))
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{key} must be a number, got {value[:40]!r}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number, got {str(value)[:40]!r}")
    if integer and value != int(value):
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{key} must be between {low:g} and {high:g}, got {value:g}")
    return int(value) if integer else float(value)


def _layers(text: object) -> tuple[int, ...]:
    if isinstance(text, (list, tuple)):
        text = ",".join(str(n) for n in text)
    if not isinstance(text, str):
        raise ValueError(f"layers must be widths such as '8,8', got {str(text)[:40]!r}")
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) > limits.MAX_LAYERS:
        raise ValueError(f"at most {limits.MAX_LAYERS} hidden layers, got {len(parts)}")
    widths = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= limits.MAX_WIDTH:
            raise ValueError(f"each layer width must be a whole number from 1 to {limits.MAX_WIDTH}, got {part[:10]!r}")
        widths.append(int(part))
    return tuple(widths)


def parse_config(payload: object) -> RunConfig:
    """Check every field of the page's configuration; missing fields take ``RunConfig``'s defaults."""
    if not isinstance(payload, dict):
        raise ValueError("config must be a JSON object")
    csv_text = payload.get("csv", "")
    if not isinstance(csv_text, str) or len(csv_text) > limits.MAX_CSV_BYTES:
        raise ValueError(f"the CSV must be text of at most {limits.MAX_CSV_BYTES} bytes")
    target = payload.get("target", RunConfig.target)
    if not isinstance(target, str) or len(target) > 100:
        raise ValueError("target must be a column name")
    config = RunConfig(
        data=_choice(payload, "data", DATASETS),
        samples=_number(payload, "samples", 4, limits.MAX_SAMPLES, integer=True),
        noise=_number(payload, "noise", 0.0, 1.0),
        seed=_number(payload, "seed", 0, 2**31 - 1, integer=True),
        test=_number(payload, "test", 0.0, 0.9),
        layers=_layers(payload.get("layers", RunConfig.layers)),
        activation=_choice(payload, "activation", ACTIVATIONS),
        output=_choice(payload, "output", ACTIVATIONS),
        loss=_choice(payload, "loss", LOSSES),
        optimizer=_choice(payload, "optimizer", OPTIMIZERS),
        lr=_number(payload, "lr", 1e-9, 1000.0),
        schedule=_choice(payload, "schedule", SCHEDULES),
        batch=_number(payload, "batch", 0, limits.MAX_SAMPLES, integer=True),
        steps=_number(payload, "steps", 1, limits.MAX_TRAIN_STEPS, integer=True),
        csv=csv_text,
        target=target,
    )
    if config.data == "csv" and not config.csv.strip():
        raise ValueError("choose a CSV file to upload first")
    return config


def cli_command(config: RunConfig) -> tuple[str, str]:
    """The ``jangrad train`` command that repeats this run, and a note on anything it cannot repeat ('' if none)."""
    data = "data.csv" if config.data == "csv" else config.data
    args = ["jangrad", "train", "--data", data]
    if config.data == "csv":
        args += ["--target", config.target]
    args += ["--hidden", ",".join(str(n) for n in config.layers), "--activation", config.activation,
             "--output-activation", config.output, "--loss", config.loss, "--optimizer", config.optimizer,
             "--lr", repr(config.lr), "--steps", str(config.steps), "--seed", str(config.seed)]
    if config.schedule != "none":
        args += ["--schedule", config.schedule]
    if config.batch:
        args += ["--batch-size", str(config.batch)]
    # jangrad train's own defaults for a generated set need no options: the command stays short
    if config.data in GENERATED and (config.samples, config.noise) != GENERATED[config.data]:
        args += ["--samples", str(config.samples), "--noise", repr(config.noise)]
    if config.test:
        args += ["--test-split", repr(config.test)]
    args += ["--out", "jangrad-out"]
    differences = []
    if not config.layers:
        differences.append("jangrad train needs at least one hidden layer")
    if config.data == "csv":
        differences.append("save the uploaded file as data.csv first")
    return " ".join(shlex.quote(a) for a in args), "; ".join(differences)
