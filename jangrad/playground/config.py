"""The network lab's configuration: checking what the page sends, and the ``jangrad train`` command that repeats it.

A configuration is a flat dict of short keys, the same ones the page keeps in its URL (``PAGE_DEFAULTS``).
``parse_config`` reads it into a run ``Recipe``, the one ``jangrad train`` builds from its arguments, with the CSV
text the page uploaded beside it, or raises ``ValueError`` with one line naming the field. Every size is capped
(see ``limits``) because any page in the learner's browser can post to the server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..recipe import ACTIVATIONS, GENERATED, LOSSES, OPTIMIZERS, SCHEDULES, Recipe
from . import limits

__all__ = ["RunConfig", "parse_config", "cli_command", "shell_command", "DATASETS", "PAGE_DEFAULTS", "CSV_NAME"]

DATASETS = ("seed4", "xor", "moons", "circles", "spiral", "csv")
CSV_NAME = "data.csv"  # what a recipe calls the page's uploaded file (its command asks the learner to save it so)

# The page's keys and what a run uses when the page leaves one out.
PAGE_DEFAULTS = {
    "data": "moons",
    "samples": 100,
    "noise": 0.1,
    "seed": 0,
    "test": 0.0,
    "layers": (6, 6),
    "activation": "tanh",
    "output": "linear",
    "loss": "hinge",
    "optimizer": "sgd",
    "lr": 0.1,
    "schedule": "none",
    "batch": 0,
    "steps": 300,
    "csv": "",
    "target": "target",
}


@dataclass(frozen=True)
class RunConfig:
    """A page's run: its recipe, the uploaded CSV text (used when ``recipe.data`` is ``CSV_NAME``), and the
    page's own fields as it keeps them (``public()``)."""

    recipe: Recipe
    csv: str
    fields: dict

    def public(self) -> dict:
        """The configuration as the page keeps it (layers as text, the CSV itself left out)."""
        values = {key: value for key, value in self.fields.items() if key != "csv"}
        values["layers"] = ",".join(str(n) for n in self.fields["layers"])
        return values


def _choice(payload: dict, key: str, allowed: tuple[str, ...]) -> str:
    value = payload.get(key, PAGE_DEFAULTS[key])
    if value not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}, got {str(value)[:40]!r}")
    return value


def _number(payload: dict, key: str, low: float, high: float) -> float:
    value = payload.get(key, PAGE_DEFAULTS[key])
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{key} must be a number, got {value[:40]!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number, got {str(value)[:40]!r}")
    if not low <= value <= high:
        raise ValueError(f"{key} must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def _whole(payload: dict, key: str, low: int, high: int) -> int:
    value = _number(payload, key, low, high)
    if value != int(value):
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    return int(value)


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
        if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= limits.MAX_WIDTH:
            raise ValueError(f"each layer width must be a whole number from 1 to {limits.MAX_WIDTH}, got {part[:10]!r}")
        widths.append(int(part))
    return tuple(widths)


def parse_config(payload: object) -> RunConfig:
    """Check every field of the page's configuration (missing ones take ``PAGE_DEFAULTS``) and read it into a
    recipe."""
    if not isinstance(payload, dict):
        raise ValueError("config must be a JSON object")
    csv_text = payload.get("csv", "")
    if not isinstance(csv_text, str) or len(csv_text) > limits.MAX_CSV_BYTES:
        raise ValueError(f"the CSV must be text of at most {limits.MAX_CSV_BYTES} bytes")
    target = payload.get("target", PAGE_DEFAULTS["target"])
    if not isinstance(target, str) or len(target) > 100:
        raise ValueError("target must be a column name")
    data = _choice(payload, "data", DATASETS)
    samples = _whole(payload, "samples", 4, limits.MAX_SAMPLES)
    noise = _number(payload, "noise", 0.0, 1.0)
    seed = _whole(payload, "seed", 0, 2**31 - 1)
    test = _number(payload, "test", 0.0, 0.9)
    layers = _layers(payload.get("layers", PAGE_DEFAULTS["layers"]))
    activation = _choice(payload, "activation", ACTIVATIONS)
    output = _choice(payload, "output", ACTIVATIONS)
    loss = _choice(payload, "loss", LOSSES)
    optimizer = _choice(payload, "optimizer", OPTIMIZERS)
    lr = _number(payload, "lr", 1e-9, 1000.0)
    schedule = _choice(payload, "schedule", SCHEDULES)
    batch = _whole(payload, "batch", 0, limits.MAX_SAMPLES)
    steps = _whole(payload, "steps", 1, limits.MAX_TRAIN_STEPS)
    if data == "csv" and not csv_text.strip():
        raise ValueError("choose a CSV file to upload first")
    fields = {
        "data": data, "samples": samples, "noise": noise, "seed": seed, "test": test, "layers": layers,
        "activation": activation, "output": output, "loss": loss, "optimizer": optimizer, "lr": lr,
        "schedule": schedule, "batch": batch, "steps": steps, "csv": csv_text, "target": target,
    }  # fmt: skip
    generated = GENERATED.get(data)
    recipe = Recipe(
        data=CSV_NAME if data == "csv" else data,
        target=target if data == "csv" else None,
        # the page always shows a size and a noise; jangrad train's own defaults need no option
        samples=samples if generated and samples != generated[0] else None,
        noise=noise if generated and noise != generated[1] else None,
        test_split=test or None,
        hidden=layers,
        activation=activation,
        output_activation=output,
        loss=loss,
        optimizer=optimizer,
        lr=lr,
        schedule=schedule,
        steps=steps,
        batch_size=batch or None,
        seed=seed,
    )
    return RunConfig(recipe, csv_text, fields)


def cli_command(config: RunConfig) -> tuple[str, str]:
    """The ``jangrad train`` command that repeats this run, and a note on anything it cannot repeat ('' if none)."""
    differences = []
    if not config.recipe.hidden:
        differences.append("jangrad train needs at least one hidden layer")
    if config.recipe.data == CSV_NAME:
        differences.append(f"save the uploaded file as {CSV_NAME} first")
    return config.recipe.command(), "; ".join(differences)


def shell_command(csv_text: str, command: str) -> str:
    """A shell snippet that writes the page's data to ``data.csv`` (a quoted here-document: the shell expands
    nothing in it) and then runs ``command``."""
    end = "JANGRAD_CSV"
    while end in csv_text:
        end += "_"
    body = csv_text if csv_text.endswith("\n") else csv_text + "\n"
    return f"cat > {CSV_NAME} <<'{end}'\n{body}{end}\n{command}"
