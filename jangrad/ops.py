"""The op table: every primitive operation jangrad knows, with its forward and its local derivative side by side.

This module is the single source of truth that the engine, the compiled tape, gradcheck, the graph drawings and
the docs all enumerate. It imports nothing of jangrad's but ``portable_math``, the tanh that gives the same bits on
every platform.

Each rule is written once, as ordinary arithmetic, and run by three interpreters:

* on floats, for the fast first-order backward pass (``FLOAT_MATH``, here);
* on ``Value``s, so that the gradient is itself a graph and can be differentiated again (``engine.VALUE_MATH``);
* on NumPy arrays, for the compiled tape (``tape_kernels.NUMPY_MATH``).

A rule receives ``m``, the interpreter's maths namespace, for the few functions that plain operators cannot
express (``m.exp``, ``m.log``, ``m.pow``, ...) or that would raise on floats (``m.div``: Python's ``1 / 0.0``
raises where IEEE arithmetic, and PyTorch, give ``inf``). Everything else (``+ - *``) is written as operators, so
the same rule text works for every interpreter.

Signatures: ``forward(m, x)`` or ``forward(m, x, y)`` returns the output; ``backward(m, g, out, x[, y])`` returns
one gradient contribution per operand, given the incoming gradient ``g`` and the forward output ``out``.

Which ops are primitives is a deliberate choice: ``-`` and ``/`` could be composites (``a + (-1 * b)``,
``a * b ** -1``), and sigmoid could be built from exp, but each extra node makes the graph a learner draws bigger
and harder to read, so the common ones get a rule of their own. Ops that take a constant parameter (``x ** 2``,
``leaky_relu(x, 0.01)``) carry it as a second operand that is a constant: its contribution is 0 by definition.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import portable_math

__all__ = ["Op", "OPS", "CONSTANT", "FLOAT_MATH", "FloatMath", "LEAKY_SLOPE"]

LEAKY_SLOPE = 0.01
"""leaky_relu's default slope: PyTorch's, so that a model's LeakyReLU carries over to torch unchanged."""

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


@dataclass(frozen=True, slots=True)
class Op:
    """One primitive: how to compute it and how to differentiate it.

    ``symbol`` is what a drawing shows in the op node; ``derivation`` is the one-line reason for the rule;
    ``constant_operand`` marks ops whose second operand is a parameter (an exponent, a slope), not a variable.
    Every op of the table has both rules; an op built by hand has no ``forward`` (it was computed by the learner),
    and the markers ``CONSTANT`` and the engine's no-graph rule have neither.

    The rules take the maths namespace and numbers of whichever interpreter runs them (floats, Values or NumPy
    arrays), so their arguments are typed ``Any``.
    """

    name: str
    arity: int
    symbol: str
    forward: Callable[..., Any] | None
    backward: Callable[..., tuple[Any, ...]] | None
    derivation: str
    constant_operand: bool = False


def _is_odd_integer(y: float) -> bool:
    return y == y and not math.isinf(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


class FloatMath:
    """IEEE float64 semantics on Python floats, as PyTorch gives them: inf and nan instead of exceptions."""

    @staticmethod
    def div(a: float, b: float) -> float:
        try:
            return a / b
        except ZeroDivisionError:
            if a == 0.0 or a != a:
                return math.nan
            return math.copysign(math.inf, a) * math.copysign(1.0, b)

    @staticmethod
    def pow(a: float, b: float) -> float:
        try:
            return math.pow(a, b)
        except ValueError:
            if a == 0.0:  # zero to a negative power: a pole, signed like a when the exponent is an odd integer
                return math.copysign(math.inf, a) if _is_odd_integer(b) else math.inf
            return math.nan  # a negative base with a non-integer exponent has no real value
        except OverflowError:
            return -math.inf if a < 0.0 and _is_odd_integer(b) else math.inf

    @staticmethod
    def power_rule(x: float, k: float) -> float:
        """k x^(k-1), the derivative of x^k; 0 at k = 0 even for x = 0, where 0 * 0^-1 would be nan (x^0 is
        constant)."""
        return 0.0 if k == 0.0 else k * FloatMath.pow(x, k - 1.0)

    @staticmethod
    def power_grad(g: float, x: float, k: float) -> float:
        """g k x^(k-1), the gradient x^k passes to x, and exactly 0 at k = 0 whatever g is: x^0 is constant in x,
        so no gradient passes, not even an infinite or nan one (inf * 0 would be nan; PyTorch also gives 0). The
        rule of both ``powc`` (a constant k) and ``pow`` (an exponent that is a Value, at the moment it is 0)."""
        return 0.0 if k == 0.0 else g * FloatMath.power_rule(x, k)

    @staticmethod
    def exp(a: float) -> float:
        try:
            return math.exp(a)
        except OverflowError:
            return math.inf

    @staticmethod
    def log(a: float) -> float:
        if a > 0.0:
            return math.log(a)
        if a == 0.0:
            return -math.inf
        return math.nan

    @staticmethod
    def sqrt(a: float) -> float:
        return math.sqrt(a) if a >= 0.0 else math.nan  # nan >= 0 is False, so nan stays nan

    @staticmethod
    def tanh(a: float) -> float:
        # Not math.tanh: C libraries round its last bit differently, and a learner's numbers must not depend on
        # which one the machine (or the browser) has.
        return portable_math.tanh(a)

    @staticmethod
    def erf(a: float) -> float:
        return math.erf(a)

    @staticmethod
    def sigmoid(a: float) -> float:
        # Two branches so that exp never sees a large positive argument.
        if a >= 0.0:
            return 1.0 / (1.0 + math.exp(-a))
        e = FloatMath.exp(a)
        return e / (1.0 + e)

    @staticmethod
    def relu(a: float) -> float:
        return 0.0 if a <= 0.0 else a  # nan <= 0 is False, so relu(nan) is nan, as in PyTorch

    @staticmethod
    def leaky_relu(a: float, slope: float) -> float:
        return slope * a if a <= 0.0 else a

    @staticmethod
    def where_positive(a: float, g: float) -> float:
        """g where a > 0, else 0: relu's backward as a choice rather than a product, so that an infinite or nan
        gradient arriving where relu is flat gives 0 (the true derivative), as in PyTorch, not inf * 0 = nan."""
        return g if a > 0.0 else 0.0

    @staticmethod
    def step(a: float) -> float:
        """1 where a > 0, else 0: the derivative of relu (taken as 0 at 0, as PyTorch does)."""
        return 1.0 if a > 0.0 else 0.0

    @staticmethod
    def sign(a: float) -> float:
        if a > 0.0:
            return 1.0
        if a < 0.0:
            return -1.0
        return a * 0.0  # 0 stays 0, nan stays nan


FLOAT_MATH = FloatMath()


def _phi_cdf(m: Any, x: Any) -> Any:
    """The standard normal CDF, Phi(x) = (1 + erf(x / sqrt 2)) / 2, in any interpreter."""
    return 0.5 * (1.0 + m.erf(x * _SQRT_HALF))


_OP_LIST = [
    Op(
        "add",
        2,
        "+",
        lambda m, x, y: x + y,
        lambda m, g, out, x, y: (g, g),
        "d(x+y)/dx = 1 and d(x+y)/dy = 1: a sum hands its gradient to both inputs unchanged.",
    ),
    Op("sub", 2, "-", lambda m, x, y: x - y, lambda m, g, out, x, y: (g, -g), "d(x-y)/dx = 1 and d(x-y)/dy = -1."),
    Op(
        "mul",
        2,
        "*",
        lambda m, x, y: x * y,
        lambda m, g, out, x, y: (g * y, g * x),
        "d(xy)/dx = y and d(xy)/dy = x: each input's gradient is scaled by the other input.",
    ),
    Op(
        "div",
        2,
        "/",
        lambda m, x, y: m.div(x, y),
        lambda m, g, out, x, y: (m.div(g, y), -m.div(g * out, y)),
        "d(x/y)/dx = 1/y and d(x/y)/dy = -x/y^2 = -out/y.",
    ),
    Op(
        "pow",
        2,
        "**",
        lambda m, x, y: m.pow(x, y),
        lambda m, g, out, x, y: (m.power_grad(g, x, y), g * out * m.log(x)),
        "d(x^y)/dx = y x^(y-1), exactly 0 where y = 0 (x^0 is constant in x) even if g is infinite or nan, as for "
        "a constant exponent; d(x^y)/dy = x^y ln x, which is nan for x <= 0 (no real logarithm).",
    ),
    Op(
        "powc",
        2,
        "**",
        lambda m, x, k: m.pow(x, k),
        lambda m, g, out, x, k: (m.power_grad(g, x, k), 0.0),
        "d(x^k)/dx = k x^(k-1) for a constant exponent k (the power rule); power_grad(g, x, k) = g k x^(k-1), and "
        "exactly 0 for k = 0, where x^0 is constant, even if g is infinite.",
        constant_operand=True,
    ),
    Op("neg", 1, "-", lambda m, x: -x, lambda m, g, out, x: (-g,), "d(-x)/dx = -1."),
    Op(
        "abs",
        1,
        "abs",
        lambda m, x: abs(x),
        lambda m, g, out, x: (g * m.sign(x),),
        "d|x|/dx = sign(x), taken as 0 at x = 0 as PyTorch does.",
    ),
    Op(
        "exp",
        1,
        "exp",
        lambda m, x: m.exp(x),
        lambda m, g, out, x: (g * out,),
        "d(e^x)/dx = e^x, which is the output itself.",
    ),
    Op("log", 1, "log", lambda m, x: m.log(x), lambda m, g, out, x: (m.div(g, x),), "d(ln x)/dx = 1/x."),
    Op(
        "sqrt",
        1,
        "sqrt",
        lambda m, x: m.sqrt(x),
        lambda m, g, out, x: (m.div(0.5 * g, out),),
        "d(sqrt x)/dx = 1/(2 sqrt x) = 1/(2 out).",
    ),
    Op(
        "tanh",
        1,
        "tanh",
        lambda m, x: m.tanh(x),
        lambda m, g, out, x: (g * (1.0 - out * out),),
        "d(tanh x)/dx = 1 - tanh(x)^2 = 1 - out^2.",
    ),
    Op(
        "sigmoid",
        1,
        "sigmoid",
        lambda m, x: m.sigmoid(x),
        lambda m, g, out, x: (g * out * (1.0 - out),),
        "d(s(x))/dx = s(x)(1 - s(x)) = out (1 - out), for s(x) = 1/(1 + e^-x).",
    ),
    Op(
        "relu",
        1,
        "relu",
        lambda m, x: m.relu(x),
        lambda m, g, out, x: (m.where_positive(x, g),),
        "d(max(0, x))/dx = 1 where x > 0, else 0 (0 at x = 0, as PyTorch does): g passes where x > 0 and 0 "
        "elsewhere, a choice rather than g * 0, so an infinite g cannot make nan where relu is flat.",
    ),
    Op(
        "leaky_relu",
        2,
        "leaky_relu",
        lambda m, x, slope: m.leaky_relu(x, slope),
        lambda m, g, out, x, slope: (g * (slope + (1.0 - slope) * m.step(x)), 0.0),
        "d/dx = 1 where x > 0, else the slope (a constant: the slope gets no gradient).",
        constant_operand=True,
    ),
    Op(
        "erf",
        1,
        "erf",
        lambda m, x: m.erf(x),
        lambda m, g, out, x: (g * _TWO_OVER_SQRT_PI * m.exp(-(x * x)),),
        "d(erf x)/dx = 2/sqrt(pi) e^(-x^2), the Gaussian integrand of erf.",
    ),
    Op(
        "gelu",
        1,
        "gelu",
        lambda m, x: x * _phi_cdf(m, x),
        lambda m, g, out, x: (g * (_phi_cdf(m, x) + x * _INV_SQRT_2PI * m.exp(-0.5 * (x * x))),),
        "gelu(x) = x Phi(x), so by the product rule d/dx = Phi(x) + x phi(x), phi the normal density.",
    ),
]

OPS: dict[str, Op] = {op.name: op for op in _OP_LIST}
"""Every primitive by name. The engine looks ops up here at every call, so a test may patch an entry."""

CONSTANT = Op("", 0, "", None, None, "a plain number met in an op (the 2 in a + 2): a constant, not a variable")
"""The rule a constant leaf carries: jangrad wrapped a number for the learner, so views show it as a number and
never as one of the learner's variables. It has no forward and no backward; a leaf's ``_x`` is None either way."""
