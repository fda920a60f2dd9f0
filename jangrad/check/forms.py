"""The ways a learner's ``Value`` can be used, one ``Form`` each: ``a + b``, ``2 - a``, ``a ** 3``, ``a.tanh()``...

A form says how to call it on the learner's objects, how to write it for a learner, which entry of jangrad's op
table (``jangrad.ops.OPS``) gives its right value and derivative, where its operands go in that op, at which
points to check it alone, and where it is safe to use in a generated graph (no log of a negative number, no
division by almost zero, no kink). The checker only ever touches the learner's class through ``Form.call``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Form", "FORMS", "number_text"]

# Inputs of a generated graph; hypothesis shrinks a sampled value towards the first one.
LEAF_VALUES = (0.5, -1.5, 2.0, -0.7, 1.2, 3.0)


def number_text(x: float | None) -> str:
    """A number as a learner reads it: 4 significant digits, no trailing zeros (2.0 -> '2', 0.46211 -> '0.4621');
    '?' for a number that could not be read."""
    if x is None:
        return "?"
    if x != x:
        return "nan"
    return f"{x:.4g}"


@dataclass(frozen=True)
class Form:
    """One way to use the class. ``layout`` lists the op's operands in order: "v" a node, "c" the constant.

    ``template`` writes the form with ``{0}``, ``{1}`` for the node names and ``{c}`` for the constant.
    ``points`` are the operand tuples (nodes first, then the constant) at which the form is checked alone;
    ``safe(args)`` says whether a generated graph may apply it to those operand values (in op order).
    """

    name: str
    template: str
    op: str
    layout: str
    call: Callable[..., Any]
    points: tuple[tuple[float, ...], ...]
    safe: Callable[[tuple[float, ...]], bool]
    constants: tuple[float, ...] = ()
    category: str = "op"  # "op" (nodes only), "constant" (a plain number on one side) or "unary"

    @property
    def arity(self) -> int:
        return self.layout.count("v")

    def text(self, names: list[str], constant: float | None = None) -> str:
        return self.template.format(*names, c=number_text(constant) if constant is not None else "")

    def arguments(self, nodes: list, constant: float | None) -> list:
        """The op's operands in order, from the form's nodes (in form order) and its constant."""
        values = iter(nodes)
        return [constant if slot == "c" else next(values) for slot in self.layout]


def _away_from(x: float, points: tuple[float, ...], margin: float = 0.05) -> bool:
    return all(abs(x - p) > margin for p in points)


def _moderate(*xs: float) -> bool:
    return all(abs(x) < 50.0 for x in xs)


_PAIRS = ((2.0, -3.0), (0.5, 1.5), (-1.2, 0.4), (0.0, 2.5))
_SINGLES = (-1.5, -0.3, 0.5, 2.0)


def _form(
    name: str,
    template: str,
    op: str,
    layout: str,
    call: Callable[..., Any],
    points: Iterable[Iterable[float]],
    safe: Callable[[tuple[float, ...]], bool],
    constants: Iterable[float] = (),
    category: str = "op",
) -> Form:
    return Form(name, template, op, layout, call, tuple(tuple(p) for p in points), safe, tuple(constants), category)


_FORM_LIST = [
    # two nodes
    _form("add", "{0} + {1}", "add", "vv", lambda a, b: a + b, _PAIRS, lambda v: True),
    _form("sub", "{0} - {1}", "sub", "vv", lambda a, b: a - b, _PAIRS, lambda v: True),
    _form("mul", "{0} * {1}", "mul", "vv", lambda a, b: a * b, _PAIRS, lambda v: _moderate(v[0] * v[1])),
    _form("div", "{0} / {1}", "div", "vv", lambda a, b: a / b, _PAIRS, lambda v: abs(v[1]) > 0.2),
    _form(
        "pow",
        "{0} ** {1}",
        "pow",
        "vv",
        lambda a, b: a**b,
        ((2.0, 3.0), (0.5, 1.5), (1.5, -0.5), (3.0, 0.5)),
        lambda v: 0.2 < v[0] < 5.0 and abs(v[1]) < 3.0,
    ),
    # a plain number on one side
    _form(
        "add_const",
        "{0} + {c}",
        "add",
        "vc",
        lambda a, c: a + c,
        [(x, 2.0) for x in _SINGLES],
        lambda v: True,
        (2.0, -1.0),
        "constant",
    ),
    _form(
        "radd",
        "{c} + {0}",
        "add",
        "cv",
        lambda a, c: c + a,
        [(x, 2.0) for x in _SINGLES],
        lambda v: True,
        (2.0, -1.0),
        "constant",
    ),
    _form(
        "sub_const",
        "{0} - {c}",
        "sub",
        "vc",
        lambda a, c: a - c,
        [(x, 2.0) for x in _SINGLES],
        lambda v: True,
        (2.0, -1.0),
        "constant",
    ),
    _form(
        "rsub",
        "{c} - {0}",
        "sub",
        "cv",
        lambda a, c: c - a,
        [(x, 2.0) for x in _SINGLES],
        lambda v: True,
        (2.0, -1.0),
        "constant",
    ),
    _form(
        "mul_const",
        "{0} * {c}",
        "mul",
        "vc",
        lambda a, c: a * c,
        [(x, 3.0) for x in _SINGLES],
        lambda v: _moderate(v[0] * 3.0),
        (3.0, -0.5),
        "constant",
    ),
    _form(
        "rmul",
        "{c} * {0}",
        "mul",
        "cv",
        lambda a, c: c * a,
        [(x, 3.0) for x in _SINGLES],
        lambda v: _moderate(v[1] * 3.0),
        (3.0, -0.5),
        "constant",
    ),
    _form(
        "div_const",
        "{0} / {c}",
        "div",
        "vc",
        lambda a, c: a / c,
        [(x, 4.0) for x in _SINGLES],
        lambda v: True,
        (4.0, -2.0),
        "constant",
    ),
    _form(
        "rdiv",
        "{c} / {0}",
        "div",
        "cv",
        lambda a, c: c / a,
        [(x, 2.0) for x in _SINGLES],
        lambda v: abs(v[1]) > 0.2,
        (2.0, -1.0),
        "constant",
    ),
    _form(
        "powc",
        "{0} ** {c}",
        "powc",
        "vc",
        lambda a, c: a**c,
        ((2.0, 2.0), (-1.5, 3.0), (0.0, 3.0), (0.5, -1.0), (4.0, 0.5), (-2.0, 2.0)),
        lambda v: (v[0] > 0.2 or (v[1] in (2.0, 3.0) and v[0] != 0.0)) and _moderate(v[0] ** 3),
        (2.0, 3.0, -1.0, 0.5),
        "constant",
    ),
    _form(
        "rpow",
        "{c} ** {0}",
        "pow",
        "cv",
        lambda a, c: c**a,
        [(x, 2.0) for x in _SINGLES],
        lambda v: v[1] < 5.0,
        (2.0,),
        "constant",
    ),
    # one node
    _form(
        "neg", "-{0}", "neg", "v", lambda a: -a, [(x,) for x in (-1.5, 0.0, 0.5, 2.0)], lambda v: True, category="unary"
    ),
    _form(
        "abs",
        "abs({0})",
        "abs",
        "v",
        lambda a: abs(a),
        [(x,) for x in _SINGLES],
        lambda v: _away_from(v[0], (0.0,)),
        category="unary",
    ),
    _form(
        "tanh",
        "{0}.tanh()",
        "tanh",
        "v",
        lambda a: a.tanh(),
        [(x,) for x in (-1.5, -0.3, 0.0, 0.5, 2.0, 3.0)],
        lambda v: True,
        category="unary",
    ),
    _form(
        "exp",
        "{0}.exp()",
        "exp",
        "v",
        lambda a: a.exp(),
        [(x,) for x in (-2.0, 0.0, 0.5, 1.5, 3.0)],
        lambda v: v[0] < 3.5,
        category="unary",
    ),
    _form(
        "log",
        "{0}.log()",
        "log",
        "v",
        lambda a: a.log(),
        [(x,) for x in (0.1, 0.5, 1.0, 3.0)],
        lambda v: v[0] > 0.2,
        category="unary",
    ),
    _form(
        "sqrt",
        "{0}.sqrt()",
        "sqrt",
        "v",
        lambda a: a.sqrt(),
        [(x,) for x in (0.04, 0.5, 2.0, 9.0)],
        lambda v: v[0] > 0.2,
        category="unary",
    ),
    _form(
        "relu",
        "{0}.relu()",
        "relu",
        "v",
        lambda a: a.relu(),
        [(x,) for x in _SINGLES],
        lambda v: _away_from(v[0], (0.0,)),
        category="unary",
    ),
    _form(
        "sigmoid",
        "{0}.sigmoid()",
        "sigmoid",
        "v",
        lambda a: a.sigmoid(),
        [(x,) for x in (-8.0, -1.0, 0.0, 0.5, 3.0)],
        lambda v: True,
        category="unary",
    ),
]

FORMS: dict[str, Form] = {form.name: form for form in _FORM_LIST}
"""Every form by name, in the order the report card lists them."""
