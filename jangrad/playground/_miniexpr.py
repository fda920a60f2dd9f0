"""A stand-in safe expression parser, used only when ``jangrad.expr`` (the real one) is not installed.

It accepts the same shape of program as ``jangrad.expr.evaluate``: one expression, or lines ``name = expression``,
built from numbers, names, ``+ - * / **``, unary minus and calls of the engine's unary functions. Anything else
in the syntax tree is refused. Nothing is ever passed to eval or exec.
"""

from __future__ import annotations

import ast

from ..engine import Value

_UNARY = ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "erf", "gelu", "abs")
_BINARY = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.Div: "__truediv__",
           ast.Pow: "__pow__"}


class ExpressionError(ValueError):
    """A one-line reason why a program was refused."""


def evaluate(source: str, variables: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """Run ``source`` on ``variables``; return the last line's Value and every named Value."""
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as error:
        raise ExpressionError(f"syntax error on line {error.lineno}: {error.msg}") from None
    names: dict[str, Value] = {name: Value(value, label=name) for name, value in variables.items()}
    result: Value | None = None
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            value = _as_value(_eval(statement.value, names))
            if not value.label or value.label in names and names[value.label] is not value:
                value.label = statement.targets[0].id
            names[statement.targets[0].id] = value
            result = value
        elif isinstance(statement, ast.Expr):
            result = _as_value(_eval(statement.value, names))
        else:
            raise ExpressionError(f"line {statement.lineno}: only 'name = expression' lines or one expression "
                                  f"are allowed")
    if result is None:
        raise ExpressionError("the program is empty")
    return result, names


def _as_value(x: Value | float) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _eval(node: ast.AST, names: dict[str, Value]) -> Value | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ExpressionError(f"unknown name '{node.id}'")
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, names), _eval(node.right, names)
        if not isinstance(left, Value):
            left = Value(left)
        return getattr(left, _BINARY[type(node.op)])(right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _eval(node.operand, names)
        if isinstance(node.op, ast.UAdd):
            return operand
        return -operand if isinstance(operand, Value) else -operand
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name in _UNARY and len(node.args) == 1:
            arg = _as_value(_eval(node.args[0], names))
            return abs(arg) if name == "abs" else getattr(arg, name)()
        if name == "leaky_relu" and len(node.args) in (1, 2):
            arg = _as_value(_eval(node.args[0], names))
            slope = _eval(node.args[1], names) if len(node.args) == 2 else 0.01
            if isinstance(slope, Value):
                raise ExpressionError("leaky_relu's slope must be a number")
            return arg.leaky_relu(slope)
        raise ExpressionError(f"'{name}' is not an allowed function")
    raise ExpressionError(f"'{ast.unparse(node)[:40]}' is not allowed in an expression")
