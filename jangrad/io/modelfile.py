"""Model files: ``model.save(path)`` and ``nn.load(path)``, as plain JSON that a person can read.

A file holds the format name and version, the jangrad version that wrote it, the architecture (the MLP's
constructor arguments) and the weights, layer by layer, in PyTorch's layout (``weight`` is nout rows of nin
numbers, ``bias`` nout numbers). Python writes floats with their shortest exact representation, so every weight
reads back bit for bit. Weights that are nan or infinite are refused on saving and on loading (standard JSON has no
such numbers).

Writing goes to a temporary file in the same directory, renamed into place at the end: a crash never leaves a
half-written file or loses the old one. Reading checks everything and raises ``ModelFileError`` naming the file and
what is wrong. Nothing is ever unpickled or evaluated.
"""

from __future__ import annotations

import json
import math
import os
import sys

from typing import TYPE_CHECKING, Collection

from .files import write_text

if TYPE_CHECKING:
    from ..nn import MLP

__all__ = ["save_model", "load_model", "ModelFileError", "FORMAT", "FORMAT_VERSION"]

FORMAT = "jangrad-model"
FORMAT_VERSION = 1


_LARGEST_INT = int(sys.float_info.max)


class ModelFileError(ValueError):
    """A model file that cannot be loaded: truncated, not JSON, another format, or weights of the wrong shape."""


def _document(model: MLP) -> dict:
    from .._version import __version__
    layers = []
    for layer in model.layers:
        for name, p in layer.named_parameters():
            if not math.isfinite(p.data):
                raise ValueError(f"cannot save: parameter {layer.name}.{name} is {p.data!r} (the model has diverged)")
        layers.append({"weight": layer.weight_rows(), "bias": layer.biases()})
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "jangrad_version": __version__,
            "architecture": {"type": "MLP", **model.config()}, "layers": layers}


def save_model(model: MLP, path: str) -> None:
    """Write ``model`` (an MLP) to ``path`` as JSON, atomically."""
    text = json.dumps(_document(model), indent=1, allow_nan=False)
    write_text(path, text + "\n")


class _Reader:
    """Checks one parsed document; every complaint names the file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, what: str) -> ModelFileError:
        return ModelFileError(f"{self.path}: {what}")

    def field(self, mapping: dict, key: str, kind: type | tuple, where: str) -> object:
        if key not in mapping:
            raise self.fail(f"{where} is missing the key {key!r}")
        value = mapping[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self.fail(f"{where}[{key!r}] has the wrong type ({type(value).__name__}: {value!r:.60})")
        return value

    def numbers(self, values: object, length: int, where: str) -> list[float]:
        if not isinstance(values, list):
            raise self.fail(f"{where} must be a list of {length} numbers, got {type(values).__name__}")
        if len(values) != length:
            raise self.fail(f"{where} has {len(values)} numbers, the architecture needs {length}")
        floats = []
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise self.fail(f"{where}[{i}] is {v!r:.60}, not a number")
            # JSON reads 1e999 as inf, and float() of a 400-digit integer overflows: neither is a weight we wrote.
            if (isinstance(v, int) and abs(v) > _LARGEST_INT) or not math.isfinite(v):
                raise self.fail(f"{where}[{i}] is {v!r:.60}, not a finite number")
            floats.append(float(v))
        return floats


def _parse(path: str) -> dict:
    reader = _Reader(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except IsADirectoryError:
        raise reader.fail("is a directory, not a model file") from None
    if not raw.strip():
        raise reader.fail("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise reader.fail("is not a jangrad model file (not UTF-8 text)") from None

    def no_constants(name: str) -> float:
        raise ValueError(f"{name} is not allowed in a model file")

    try:
        document = json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        truncated = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) else ""
        raise reader.fail(f"is not valid JSON{truncated}: {exc.msg} at line {exc.lineno}, column {exc.colno}") \
            from None
    except ValueError as exc:
        raise reader.fail(str(exc)) from None
    if not isinstance(document, dict):
        raise reader.fail(f"is JSON but not a jangrad model (the top level is a {type(document).__name__})")
    if document.get("format") != FORMAT:
        raise reader.fail(f"is JSON but not a jangrad model (format is {document.get('format')!r}, expected "
                          f"{FORMAT!r})")
    version = reader.field(document, "format_version", int, "the file")
    if version != FORMAT_VERSION:
        raise reader.fail(f"has format version {version}; this jangrad reads version {FORMAT_VERSION} (a newer "
                          f"jangrad may have written it)")
    return document


def load_model(path: str, activations: Collection[str], inits: Collection[str]) -> tuple[dict, list]:
    """Read a model file written by ``save_model``: the MLP's ``config()`` and its weights as ``(weight rows,
    biases)`` per layer, every one checked (``activations`` and ``inits`` are the names ``nn`` knows). Raise
    ``ModelFileError`` if anything is wrong with it."""
    path = os.fspath(path)
    document = _parse(path)
    reader = _Reader(path)
    arch = reader.field(document, "architecture", dict, "the file")
    kind = reader.field(arch, "type", str, "architecture")
    if kind != "MLP":
        raise reader.fail(f"architecture type {kind!r} is not one jangrad can build (expected 'MLP')")
    nin = reader.field(arch, "nin", int, "architecture")
    nouts = reader.field(arch, "nouts", list, "architecture")
    activation = reader.field(arch, "activation", str, "architecture")
    output_activation = reader.field(arch, "output_activation", str, "architecture")
    init = arch.get("init", "uniform")
    if nin < 1 or not nouts or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in nouts):
        raise reader.fail(f"architecture has impossible sizes: nin={nin!r}, nouts={nouts!r}")
    for what, name in (("activation", activation), ("output_activation", output_activation)):
        if name not in activations:
            raise reader.fail(f"architecture {what} {name!r} is unknown (expected one of {', '.join(activations)})")
    if init not in inits:
        raise reader.fail(f"architecture init {init!r} is unknown (expected one of {', '.join(inits)})")
    layers = reader.field(document, "layers", list, "the file")
    if len(layers) != len(nouts):
        raise reader.fail(f"has weights for {len(layers)} layer(s), the architecture has {len(nouts)}")

    # Every weight is checked before the model is built, so a file claiming huge layers fails at once.
    sizes = [nin] + nouts
    weights = []
    for i, entry in enumerate(layers):
        layer_in, layer_out = sizes[i], sizes[i + 1]
        where = f"layers[{i}]"
        if not isinstance(entry, dict):
            raise reader.fail(f"{where} must be an object with 'weight' and 'bias'")
        rows = reader.field(entry, "weight", list, where)
        if len(rows) != layer_out:
            raise reader.fail(f"{where}.weight has {len(rows)} rows, the architecture needs {layer_out} "
                              f"(one per neuron)")
        bias = reader.numbers(reader.field(entry, "bias", list, where), layer_out, f"{where}.bias")
        rows = [reader.numbers(row, layer_in, f"{where}.weight[{j}]") for j, row in enumerate(rows)]
        weights.append((rows, bias))
    config = {"nin": nin, "nouts": nouts, "activation": activation, "output_activation": output_activation,
              "init": init}
    return config, weights
