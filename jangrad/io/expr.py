"""A safe reader for small maths expressions typed by a person: ``tanh(a * b + c)``.

The command line (``jangrad graph "EXPR" --set a=2``) and the playground turn text into a graph of Values. Running
that text with ``eval`` would run anything a user typed, so this module parses it with ``ast`` and walks the tree
itself, accepting only a whitelist: numbers, the names it is given, ``+ - * / **``, unary minus and plus, and calls
of the op functions (``tanh exp log relu sigmoid gelu sqrt abs leaky_relu erf``). Everything else (attribute access,
other calls, lambdas, subscripts, comprehensions, strings, ``__import__``...) is refused with a one-line
``ExpressionError``. Source length, node count and nesting depth are capped so that no input can exhaust memory or
the stack.
"""

from __future__ import annotations

import ast
import math
import numbers
from collections.abc import Callable, Mapping
from typing import TypeAlias

from ..engine import Value
from ..ops import FLOAT_MATH

__all__ = ["ExpressionError", "evaluate", "parse_assignments", "FUNCTIONS", "MAX_SOURCE_CHARS", "MAX_NODES"]

MAX_SOURCE_CHARS = 2000
MAX_NODES = 500
MAX_DEPTH = 60  # well below Python's recursion limit: the walk below recurses once per nesting level

Scalar: TypeAlias = float | Value


class ExpressionError(ValueError):
    """The text is not an expression this reader accepts. The message is one line saying what and where."""


def _as_value(x: Scalar) -> Value:
    """The functions are Value methods: a plain number (as in ``tanh(2)``) becomes a constant leaf first."""
    return x if isinstance(x, Value) else Value(x)


def _call_unary(method: str) -> Callable[[Scalar], Scalar]:
    def call(x: Scalar) -> Scalar:
        return getattr(_as_value(x), method)()

    return call


def _leaky_relu(x: Scalar, slope: Scalar = 0.01) -> Value:
    if isinstance(slope, Value):
        raise ExpressionError("leaky_relu's slope must be a number, not an expression of the variables")
    return _as_value(x).leaky_relu(slope)


# name -> (function, smallest and largest number of arguments)
FUNCTIONS: dict[str, tuple[Callable[..., Scalar], int, int]] = {
    "tanh": (_call_unary("tanh"), 1, 1),
    "exp": (_call_unary("exp"), 1, 1),
    "log": (_call_unary("log"), 1, 1),
    "relu": (_call_unary("relu"), 1, 1),
    "sigmoid": (_call_unary("sigmoid"), 1, 1),
    "gelu": (_call_unary("gelu"), 1, 1),
    "sqrt": (_call_unary("sqrt"), 1, 1),
    "abs": (lambda x: abs(_as_value(x)), 1, 1),
    "leaky_relu": (_leaky_relu, 1, 2),
    "erf": (_call_unary("erf"), 1, 1),
}

_ALLOWED = "numbers, the names given, + - * / **, unary minus and the functions " + ", ".join(FUNCTIONS)

# What a refused node is called in the message, so the user learns what they wrote that is not allowed.
_REFUSED_NAMES = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "conditional expressions",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.JoinedStr: "strings",
    ast.Starred: "starred arguments",
    ast.NamedExpr: "':='",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    # Numbers alone use IEEE semantics (1/0 is inf), as the engine does, instead of raising.
    ast.Div: lambda a, b: a / b if isinstance(a, Value) or isinstance(b, Value) else FLOAT_MATH.div(a, b),
    ast.Pow: lambda a, b: a**b if isinstance(a, Value) or isinstance(b, Value) else FLOAT_MATH.pow(a, b),
}


def _where(node: ast.AST) -> str:
    line = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    return f"line {line}, column {col + 1}: " if line is not None and col is not None else ""


def _refuse(node: ast.AST, what: str) -> ExpressionError:
    return ExpressionError(f"{_where(node)}{what} not allowed (allowed: {_ALLOWED})")


class _Evaluator:
    """Walks a checked tree; numbers stay floats until they meet a Value, so constants fold instead of drawing."""

    def __init__(self, names: dict[str, Value]) -> None:
        self.names = names

    def value(self, node: ast.AST, depth: int = 0) -> Scalar:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            return _number(node)
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                known = ", ".join(self.names) or "none"
                hint = " (a function: call it like tanh(x))" if node.id in FUNCTIONS else ""
                raise ExpressionError(f"{_where(node)}unknown name '{node.id}'{hint}; known names: {known}")
            return self.names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left = self.value(node.left, depth + 1)
            right = self.value(node.right, depth + 1)
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.BinOp):
            raise _refuse(node, f"operator {type(node.op).__name__}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.value(node.operand, depth + 1)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            return self.value(node.operand, depth + 1)
        if isinstance(node, ast.UnaryOp):
            raise _refuse(node, f"operator {type(node.op).__name__}")
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise _refuse(node, _REFUSED_NAMES.get(type(node), f"'{type(node).__name__}'"))

    def call(self, node: ast.Call, depth: int) -> Scalar:
        if not isinstance(node.func, ast.Name):
            raise _refuse(node, "calling anything but a function name")
        name = node.func.id
        if name not in FUNCTIONS:
            raise _refuse(node, f"calling '{name}'")
        if node.keywords:
            raise _refuse(node, "keyword arguments")
        function, least, most = FUNCTIONS[name]
        if not least <= len(node.args) <= most:
            wanted = str(least) if least == most else f"{least} or {most}"
            raise ExpressionError(f"{_where(node)}{name}() takes {wanted} argument(s), got {len(node.args)}")
        args = [self.value(arg, depth + 1) for arg in node.args]
        return function(*args)


def _number(node: ast.Constant) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = "strings" if isinstance(value, (str, bytes)) else f"the constant {value!r}"
        raise _refuse(node, kind)
    try:
        return float(value)
    except OverflowError:
        raise ExpressionError(f"{_where(node)}the number {str(value)[:20]}... is too large for a float") from None


def _parse(source: str) -> ast.Module:
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {source!r} of type {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise ExpressionError(f"expression is {len(source)} characters long; the limit is {MAX_SOURCE_CHARS}")
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as error:
        raise ExpressionError(f"line {error.lineno}, column {error.offset}: syntax error ({error.msg})") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression could not be parsed (too deeply nested or contains a null byte)") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExpressionError(f"expression has {count} syntax nodes; the limit is {MAX_NODES}")
    if not tree.body:  # blank, or only comments: nothing to compute
        raise ExpressionError("expression is empty")
    return tree


def _check_variables(variables: Mapping[str, float | Value]) -> dict[str, Value]:
    if not isinstance(variables, Mapping):
        raise TypeError(f"variables must be a dict of name -> number, got {type(variables).__name__}")
    names: dict[str, Value] = {}
    for name, number in variables.items():
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ExpressionError(f"variable name {name!r} must be an identifier not starting with '_'")
        if name in FUNCTIONS:
            raise ExpressionError(f"variable name '{name}' is the name of a function; choose another name")
        if isinstance(number, Value):  # gradcheck and grad() hand in Values: build the graph on them
            if not number.label:
                number.label = name
            names[name] = number
            continue
        if isinstance(number, bool) or not isinstance(number, numbers.Real) or not math.isfinite(number):
            raise ExpressionError(f"variable '{name}' must be a finite real number, got {number!r}")
        names[name] = Value(float(number), label=name)
    return names


def evaluate(source: str, variables: Mapping[str, float | Value] | None = None) -> tuple[Value, dict[str, Value]]:
    """Build the graph for ``source`` and return ``(result, names)``.

    ``source`` is one expression, or several lines (or ``;``-separated statements) of ``name = expression`` with
    an optional final expression; the result is the last statement's value. ``names`` maps every variable and
    every assigned name to its Value, each labelled with its name. A variable given as a Value is used as it is
    (so ``jangrad.grad`` and ``gradcheck`` can differentiate an expression); numbers become new leaves.

    >>> out, names = evaluate("e = a * b\\nd = e + c", {"a": 2, "b": -3, "c": 10})
    >>> out.data, names["e"].data
    (4.0, -6.0)
    """
    tree = _parse(source)
    names = _check_variables({} if variables is None else variables)
    evaluator = _Evaluator(names)
    result: Scalar | None = None
    for statement in tree.body:
        if isinstance(statement, ast.Expr):
            result = evaluator.value(statement.value)
        elif isinstance(statement, ast.Assign):
            if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
                raise _refuse(statement, "assigning to anything but one plain name")
            name = statement.targets[0].id
            if name.startswith("_") or name in FUNCTIONS:
                raise ExpressionError(f"{_where(statement)}cannot assign to the name '{name}'")
            if name in names:
                raise ExpressionError(f"{_where(statement)}'{name}' is already defined; each name is given once")
            result = evaluator.value(statement.value)
            if not isinstance(result, Value):
                result = Value(result, label=name)
            elif not result.label:  # an alias such as `d = a` keeps the original name
                result.label = name
            names[name] = result
        else:
            raise _refuse(statement, _REFUSED_NAMES.get(type(statement), f"the statement '{type(statement).__name__}'"))
    if result is None:  # _parse refuses an empty program, and every statement above sets result or raises
        raise ExpressionError("expression is empty")
    if not isinstance(result, Value):
        result = Value(result)
    return result, names


def parse_assignments(items: list[str]) -> dict[str, float]:
    """Turn ``["a=2", "b=-3"]`` (the command line's ``--set``) into ``{"a": 2.0, "b": -3.0}``."""
    variables: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ExpressionError(f"--set expects name=number, got {item!r}")
        try:
            number = float(text)
        except ValueError:
            raise ExpressionError(f"--set {name}: {text.strip()!r} is not a number") from None
        if name in variables:
            raise ExpressionError(f"--set gives '{name}' twice")
        variables[name] = number
    _check_variables(variables)
    return variables
