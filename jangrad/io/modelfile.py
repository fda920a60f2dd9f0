"""Model files: ``model.save(path)`` and ``nn.load(path)``, as plain JSON that a person can read.

A file holds the format name and version, the jangrad version that wrote it, the architecture (the MLP's
constructor arguments) and the weights, layer by layer, in PyTorch's layout (``weight`` is nout rows of nin
numbers, ``bias`` nout numbers). Python writes floats with their shortest exact representation, so every weight
reads back bit for bit. Weights that are nan or infinite are refused on saving and on loading (standard JSON has no
such numbers).

A ``checksum`` key holds ``sha256:`` and the SHA-256 of the architecture and the weights (``_checksum``): a byte
changed on the disk or by hand gives a file that is refused, not weights that differ. Files written before the
checksum existed have no such key and load unchecked.

Writing goes to a temporary file in the same directory, renamed into place at the end: a crash never leaves a
half-written file or loses the old one. Reading checks everything and raises ``ModelFileError`` naming the file and
what is wrong (a missing file, a folder, a device or a pipe included); it reads at most ``MAX_FILE_BYTES``, and
refuses keys it does not know and keys given twice. Nothing is ever unpickled or evaluated.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import sys
from collections.abc import Collection, Sequence
from typing import Any, Protocol, TypeVar

from .files import write_text

__all__ = ["save_model", "load_model", "ModelFileError", "FORMAT", "FORMAT_VERSION", "MAX_FILE_BYTES"]

FORMAT = "jangrad-model"
FORMAT_VERSION = 1


# The largest MLP the playground builds is a few thousand weights (a few hundred kB); a file of a million weights
# is about 25 MB. Anything larger is not read, so /dev/zero or a huge file cannot fill the memory.
MAX_FILE_BYTES = 64 * 1024 * 1024

_LARGEST_INT = int(sys.float_info.max)
_TOP_KEYS = ("format", "format_version", "jangrad_version", "architecture", "layers", "checksum")
_ARCHITECTURE_KEYS = ("type", "nin", "nouts", "activation", "output_activation", "init")
_LAYER_KEYS = ("weight", "bias")


_Kind = TypeVar("_Kind")


class _Number(Protocol):
    @property
    def data(self) -> float: ...


class _SavedLayer(Protocol):
    @property
    def name(self) -> str: ...

    def named_parameters(self) -> Sequence[tuple[str, _Number]]: ...

    def weight_rows(self) -> list[list[float]]: ...

    def biases(self) -> list[float]: ...


class SavedModel(Protocol):
    """What saving reads of an ``nn.MLP`` (this module sits below ``nn`` and cannot name it)."""

    @property
    def layers(self) -> Sequence[_SavedLayer]: ...

    def config(self) -> dict[str, Any]: ...


class ModelFileError(ValueError):
    """A model file that cannot be loaded: truncated, not JSON, another format, or weights of the wrong shape."""


def _checksum(architecture: object, layers: object) -> str:
    """``sha256:`` and the hex SHA-256 of ``{"architecture": ..., "layers": ...}`` as compact JSON with sorted keys.

    Computed on the parsed values, so the file's spacing does not matter but every number does (Python writes and
    reads floats exactly, so the saved weights give back the same text).
    """
    text = json.dumps(
        {"architecture": architecture, "layers": layers}, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _document(model: SavedModel) -> dict[str, object]:
    from .._version import __version__

    layers = []
    for layer in model.layers:
        for name, p in layer.named_parameters():
            if not math.isfinite(p.data):
                raise ValueError(f"cannot save: parameter {layer.name}.{name} is {p.data!r} (the model has diverged)")
        layers.append({"weight": layer.weight_rows(), "bias": layer.biases()})
    architecture = {"type": "MLP", **model.config()}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "jangrad_version": __version__,
        "architecture": architecture,
        "layers": layers,
        "checksum": _checksum(architecture, layers),
    }


def save_model(model: SavedModel, path: str) -> None:
    """Write ``model`` (an ``nn.MLP``, read through ``config()``, ``layers``, ``weight_rows()`` and ``biases()``)
    to ``path`` as JSON, atomically."""
    text = json.dumps(_document(model), indent=1, allow_nan=False)
    write_text(path, text + "\n")


class _Reader:
    """Checks one parsed document; every complaint names the file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, what: str) -> ModelFileError:
        return ModelFileError(f"{self.path}: {what}")

    def field(self, mapping: dict[str, Any], key: str, kind: type[_Kind], where: str) -> _Kind:
        if key not in mapping:
            raise self.fail(f"{where} is missing the key {key!r}")
        value = mapping[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self.fail(f"{where}[{key!r}] has the wrong type ({type(value).__name__}: {value!r:.60})")
        return value

    def known_keys(self, mapping: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
        unknown = [key for key in mapping if key not in allowed]
        if unknown:
            raise self.fail(f"{where} has the unknown key {unknown[0][:60]!r} (expected only {', '.join(allowed)})")

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


def _check_regular(reader: _Reader, handle: int) -> None:
    """Return for a regular file of a readable size; otherwise close ``handle`` and raise the reason."""
    info = os.fstat(handle)
    if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES:
        return
    os.close(handle)
    if stat.S_ISDIR(info.st_mode):
        raise reader.fail("is a directory, not a model file")
    if not stat.S_ISREG(info.st_mode):
        raise reader.fail("is not a regular file (a device, pipe or socket), so not a model file")
    raise reader.fail(f"is larger than {MAX_FILE_BYTES} bytes, the most a model file may be; it was not read")


def _read_bytes(reader: _Reader) -> bytes:
    """The file's bytes, at most MAX_FILE_BYTES of them; anything but a regular file is refused before reading."""
    path = reader.path
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        if os.path.islink(path):
            raise reader.fail(f"is a symbolic link to {os.readlink(path)!r}, which does not exist") from None
        raise reader.fail("no such file") from None
    except IsADirectoryError:
        raise reader.fail("is a directory, not a model file") from None
    except OSError as error:
        raise reader.fail(f"cannot be opened: {error.strerror or error}") from None
    _check_regular(reader, handle)
    with os.fdopen(handle, "rb") as f:
        try:
            raw = f.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            raise reader.fail(f"cannot be read: {error.strerror or error}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise reader.fail(f"is larger than {MAX_FILE_BYTES} bytes, the most a model file may be; it was not read")
    return raw


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    document = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"the key {key[:60]!r} is given twice in one object")
        document[key] = value
    return document


def _parse(path: str) -> dict:
    reader = _Reader(path)
    raw = _read_bytes(reader)
    if not raw.strip():
        raise reader.fail("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise reader.fail("is not a jangrad model file (not UTF-8 text)") from None

    def no_constants(name: str) -> float:
        raise ValueError(f"{name} is not allowed in a model file")

    try:
        document = json.loads(text, parse_constant=no_constants, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        truncated = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) else ""
        raise reader.fail(f"is not valid JSON{truncated}: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except ValueError as exc:
        raise reader.fail(str(exc)) from None
    except RecursionError:  # "[[[[..." nested thousands deep: a model file nests five levels
        raise reader.fail("is not a jangrad model (its JSON is nested too deeply)") from None
    if not isinstance(document, dict):
        raise reader.fail(f"is JSON but not a jangrad model (the top level is a {type(document).__name__})")
    if document.get("format") != FORMAT:
        raise reader.fail(
            f"is JSON but not a jangrad model (format is {document.get('format')!r}, expected {FORMAT!r})"
        )
    version = reader.field(document, "format_version", int, "the file")
    if version != FORMAT_VERSION:
        raise reader.fail(
            f"has format version {version}; this jangrad reads version {FORMAT_VERSION} (a newer "
            f"jangrad may have written it)"
        )
    reader.known_keys(document, _TOP_KEYS, "the file")
    if "checksum" in document:  # files written before the checksum existed have none, and load unchecked
        written = reader.field(document, "checksum", str, "the file")
        try:
            actual = _checksum(document.get("architecture"), document.get("layers"))
        except ValueError:  # 1e999 reads as inf, which JSON cannot write back: not the numbers that were saved
            actual = "(none: the file holds a number too large for a weight)"
        if written != actual:
            raise reader.fail(
                f"its checksum does not match its contents (the file was changed or damaged after "
                f"it was saved): it says {written[:80]!r}, the contents give {actual!r}"
            )
    return document


def load_model(path: str, activations: Collection[str], inits: Collection[str]) -> tuple[dict, list]:
    """Read a model file written by ``save_model``: the MLP's ``config()`` and its weights as ``(weight rows,
    biases)`` per layer, every one checked (``activations`` and ``inits`` are the names ``nn`` knows). Raise
    ``ModelFileError`` if anything is wrong with it."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file name (str or pathlib.Path), got {path!r:.80}")
    path = os.fspath(path)
    document = _parse(path)
    reader = _Reader(path)
    arch = reader.field(document, "architecture", dict, "the file")
    reader.known_keys(arch, _ARCHITECTURE_KEYS, "architecture")
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
        reader.known_keys(entry, _LAYER_KEYS, where)
        rows = reader.field(entry, "weight", list, where)
        if len(rows) != layer_out:
            raise reader.fail(
                f"{where}.weight has {len(rows)} rows, the architecture needs {layer_out} (one per neuron)"
            )
        bias = reader.numbers(reader.field(entry, "bias", list, where), layer_out, f"{where}.bias")
        rows = [reader.numbers(row, layer_in, f"{where}.weight[{j}]") for j, row in enumerate(rows)]
        weights.append((rows, bias))
    config = {
        "nin": nin,
        "nouts": nouts,
        "activation": activation,
        "output_activation": output_activation,
        "init": init,
    }
    return config, weights
