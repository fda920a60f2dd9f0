"""Loss functions, written with Value ops so that ``loss.backward()`` reaches every parameter.

Each takes a batch: a list of predictions (one per sample; a Value, or a list of Values for a model with several
outputs) and a list of targets. ``sse`` sums over the batch, as in the lecture; the others average.

* ``sse``  sum of squared errors (the lecture's loss); ``mse`` their mean over every output.
* ``hinge`` the mean of relu(1 - y s) for labels y = +-1 (micrograd's demo, an SVM's "max-margin" loss).
* ``l2``   the sum of p^2 over parameters, added to a loss times a small factor to keep weights small.
* ``bce_with_logits`` binary cross-entropy on a raw score (logit) and a 0/1 target.
* ``cross_entropy``   softmax cross-entropy on a list of logits and a class index.

The last two never overflow: they never compute exp of a large positive number (the log-sum-exp trick).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias

from .engine import Value

__all__ = ["sse", "mse", "hinge", "l2", "bce_with_logits", "cross_entropy", "get", "LOSSES"]

Prediction: TypeAlias = Value | float | Sequence[Value | float]


def _check_batch(predictions: Sequence[object], targets: Sequence[object], loss: str) -> None:
    for what, batch in (("predictions", predictions), ("targets", targets)):
        if isinstance(batch, (str, bytes, Value)) or not isinstance(batch, Sequence):
            raise TypeError(f"{loss}: {what} must be a list with one entry per sample, got {batch!r}")
    if len(predictions) != len(targets):
        raise ValueError(f"{loss}: {len(predictions)} prediction(s) but {len(targets)} target(s)")
    if len(predictions) == 0:
        raise ValueError(f"{loss}: the batch is empty")


def _number(x: object, what: str, loss: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{loss}: {what} must be a number, got {x!r} of type {type(x).__name__}")
    return float(x)


def _scalar(p: object, i: int, loss: str) -> Value:
    """One sample's prediction as a Value (a model with one output gives a Value; a list of one is accepted)."""
    if isinstance(p, Sequence) and not isinstance(p, (str, bytes)) and len(p) == 1:
        p = p[0]
    if isinstance(p, Value):
        return p
    if isinstance(p, numbers.Real) and not isinstance(p, bool):
        return Value(float(p))
    raise TypeError(f"{loss}: prediction {i} must be one Value or number, got {p!r}")


def _total(terms: Iterable[Value]) -> Value:
    """Add Values in order without the extra ``0 + ...`` node that ``sum()`` would make."""
    total: Value | None = None
    for term in terms:
        total = term if total is None else total + term
    if total is None:
        raise ValueError("nothing to add: the batch is empty")
    return total


def _squared_errors(predictions: Sequence[Prediction], targets: Sequence[Any], loss: str) -> list[Value]:
    _check_batch(predictions, targets, loss)
    errors = []
    for i, (p, t) in enumerate(zip(predictions, targets, strict=True)):
        if isinstance(p, Sequence) and not isinstance(p, (str, bytes)):
            if not isinstance(t, Sequence) or isinstance(t, (str, bytes)) or len(t) != len(p):
                raise ValueError(
                    f"{loss}: prediction {i} has {len(p)} outputs, so target {i} must be a list of "
                    f"{len(p)} numbers, got {t!r}"
                )
            pairs: Iterable[tuple[Any, Any]] = zip(p, t, strict=True)
        else:
            pairs = [(p, t)]
        for pj, tj in pairs:
            pv = _scalar(pj, i, loss)
            errors.append((pv - _number(tj, f"target {i}", loss)) ** 2)
    return errors


def sse(predictions: Sequence[Prediction], targets: Sequence[Any]) -> Value:
    """Sum of squared errors, ``sum((p - t)**2)``: the lecture's loss."""
    return _total(_squared_errors(predictions, targets, "sse"))


def mse(predictions: Sequence[Prediction], targets: Sequence[Any]) -> Value:
    """Mean squared error over every output of every sample."""
    errors = _squared_errors(predictions, targets, "mse")
    return _total(errors) * (1.0 / len(errors))


def hinge(scores: Sequence[Prediction], labels: Sequence[Any]) -> Value:
    """The mean of ``relu(1 - y * s)``: 0 once every sample is on its side with a margin of 1. Labels are +-1."""
    _check_batch(scores, labels, "hinge")
    terms = []
    for i, (s, y) in enumerate(zip(scores, labels, strict=True)):
        y = _number(y, f"label {i}", "hinge")
        if y not in (-1.0, 1.0):
            raise ValueError(f"hinge: labels must be -1 or +1, got {y!r} at index {i} (for 0/1 labels use 2*y - 1)")
        terms.append((1.0 - y * _scalar(s, i, "hinge")).relu())
    return _total(terms) * (1.0 / len(terms))


def l2(params: Iterable[Value]) -> Value:
    """The sum of squares of the parameters (pass ``model.parameters()`` or a model); multiply it by e.g. 1e-4."""
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, Value) or not hasattr(params, "__iter__"):
        raise TypeError(f"l2: expected a list of Values such as model.parameters(), got {params!r:.80}")
    terms = []
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"l2: parameter {i} must be a Value, got {p!r} of type {type(p).__name__}")
        terms.append(p * p)
    if not terms:
        raise ValueError("l2: no parameters given")
    return _total(terms)


def bce_with_logits(logits: Sequence[Prediction], targets: Sequence[Any]) -> Value:
    """Mean binary cross-entropy of ``sigmoid(z)`` against targets in [0, 1], computed stably from the logit ``z``.

    Per sample: ``-t log(sigmoid(z)) - (1 - t) log(1 - sigmoid(z))``, rewritten so that exp only ever sees
    ``-|z|``: ``(1/2 - t) z + |z|/2 + log(1 + exp(-|z|))``. For z >= 0 that is ``(1 - t) z + log(1 + exp(-z))``,
    for z < 0 it is ``-t z + log(1 + exp(z))``; its derivative is ``sigmoid(z) - t`` everywhere, 0 included
    (``|z|/2`` and ``log(1 + exp(-|z|))`` each turn at 0, and their kinks cancel). One formula for every z, with
    no branch on ``z.data``, so a compiled tape (``jangrad.compile``) that replays it with new numbers stays right.
    """
    _check_batch(logits, targets, "bce_with_logits")
    terms = []
    for i, (z, t) in enumerate(zip(logits, targets, strict=True)):
        z = _scalar(z, i, "bce_with_logits")
        t = _number(t, f"target {i}", "bce_with_logits")
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"bce_with_logits: targets must lie in [0, 1], got {t!r} at index {i}")
        size = abs(z)
        terms.append(z * (0.5 - t) + 0.5 * size + (1.0 + (-size).exp()).log())
    return _total(terms) * (1.0 / len(terms))


def _largest(values: Sequence[Value]) -> Value:
    """The largest of ``values`` as a Value: ``m = max(m, z)`` written ``m + relu(z - m)``, one Value op each."""
    top = values[0]
    for z in values[1:]:
        top = top + (z - top).relu()
    return top


def cross_entropy(logits: Sequence[Sequence[Value | float]], classes: Sequence[int]) -> Value:
    """Mean softmax cross-entropy: ``log(sum_k exp(z_k)) - z_c`` for each sample's logits z and class index c.

    The largest logit m is subtracted before exp and added back, ``log(sum_k exp(z_k - m)) + m`` (the log-sum-exp
    trick), so logits of +-1000 give finite losses and gradients. Any m gives the same value and gradient (its
    two appearances cancel), so m is computed with Value ops (``_largest``) rather than read from ``.data``: a
    compiled tape then recomputes it on every replay instead of keeping the number it had when it was traced.
    """
    _check_batch(logits, classes, "cross_entropy")
    terms: list[Value] = []
    for i, (given, c) in enumerate(zip(logits, classes, strict=True)):
        if isinstance(given, (Value, str, bytes)) or not isinstance(given, Sequence) or len(given) < 2:
            raise TypeError(
                f"cross_entropy: logits {i} must be a list of at least 2 Values (one per class), got {given!r}"
            )
        zs = [_scalar(z, i, "cross_entropy") for z in given]
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not float(c).is_integer():
            raise TypeError(f"cross_entropy: class {i} must be a class index (int), got {c!r}")
        index = int(c)
        if not 0 <= index < len(zs):
            raise ValueError(f"cross_entropy: class index {index} at sample {i} is outside 0..{len(zs) - 1}")
        top = _largest(zs)
        log_sum_exp = _total((z - top).exp() for z in zs).log() + top
        terms.append(log_sum_exp - zs[index])
    return _total(terms) * (1.0 / len(terms))


LOSSES: dict[str, Callable[..., Value]] = {
    "sse": sse,
    "mse": mse,
    "hinge": hinge,
    "bce": bce_with_logits,
    "ce": cross_entropy,
}


def get(name: str | Callable[..., Value]) -> Callable[..., Value]:
    """The loss called ``name`` ("sse", "mse", "hinge", "bce", "ce"); a function is returned as it is."""
    if callable(name):
        return name
    if isinstance(name, str):
        key = {"bce_with_logits": "bce", "cross_entropy": "ce"}.get(name, name)
        if key in LOSSES:
            return LOSSES[key]
    raise ValueError(
        f"unknown loss {name!r}: expected one of {', '.join(LOSSES)} or a function (predictions, targets) -> Value"
    )
