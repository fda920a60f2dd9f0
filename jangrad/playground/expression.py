"""The expression lab's logic: parse a small program, run it, and lay out its backward pass one op at a time.

Everything the page shows is computed here, from the engine's own ``topological_order`` and the op table's
backward rules, so a step on the page is exactly a step of ``Value.backward()``. The server is stateless for this
lab: each request carries the program and its inputs and gets the whole walk back.
"""

from __future__ import annotations

import math
import re

from ..engine import Value, topological_order
from ..ops import FLOAT_MATH
from ..viz.names import is_constant, node_names, number_text
from ..viz.sidepass import rule_of
from ..viz.steps import json_number as _number
from ..viz.steps import walk_steps
from .limits import MAX_EXPR_NODES, MAX_INPUTS, MAX_SOURCE_LINES

__all__ = ["LabError", "parse_inputs", "build_lab", "check_lab", "python_code", "walk_steps"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LabError(ValueError):
    """A one-line, learner-facing reason why a request was refused (the server answers it with status 400)."""


def _evaluate(source: str, variables: dict[str, float | Value]) -> tuple[Value, dict[str, Value]]:
    """The same safe parser as ``jangrad graph`` (``jangrad.io.expr``), its errors turned into one-line LabErrors."""
    from ..io.expr import ExpressionError, evaluate

    try:
        return evaluate(source, variables)
    except ExpressionError as error:  # this also covers empty programs and nesting too deep: expr caps both
        raise LabError(_one_line(str(error))) from None


def _one_line(message: str) -> str:
    line = " ".join(message.split())
    return line[:300]


def parse_inputs(text: object) -> dict[str, float | Value]:
    """Read ``a=2, b=-3`` (commas, semicolons or newlines between pairs) into ``{'a': 2.0, 'b': -3.0}``."""
    if not isinstance(text, str):
        raise LabError(f"inputs must be text like 'a=2, b=-3', got {type(text).__name__}")
    values: dict[str, float | Value] = {}
    for part in re.split(r"[,;\n]", text):
        if not part.strip():
            continue
        name, sep, number = part.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name):
            raise LabError(f"cannot read input '{part.strip()[:40]}': expected name=number")
        try:
            values[name] = float(number.strip())
        except ValueError:
            raise LabError(f"input '{name}' must be a number, got '{number.strip()[:40]}'") from None
        if len(values) > MAX_INPUTS:
            raise LabError(f"too many inputs: at most {MAX_INPUTS}")
    return values


def _graph(source: object, inputs_text: object) -> tuple[Value, list[Value]]:
    if not isinstance(source, str):
        raise LabError("the program must be text")
    if source.count("\n") + 1 > MAX_SOURCE_LINES:
        raise LabError(f"the program has too many lines; the limit is {MAX_SOURCE_LINES}")
    root, _names = _evaluate(source, parse_inputs(inputs_text))
    order = topological_order(root)
    if len(order) > MAX_EXPR_NODES:
        raise LabError(f"the graph has {len(order)} nodes; the playground draws at most {MAX_EXPR_NODES}")
    return root, order


def build_lab(source: object, inputs_text: object, with_svg: bool = True) -> dict:
    """Everything the expression lab shows for one program: nodes, the stepped backward pass, SVG, DOT, Python.

    Every view of a node calls it by one name (``viz/names.py``): the table, the drawing's box, the narration and
    the Python code. The gradients are the ones the steps reach, the engine's own backward pass.
    """
    root, order = _graph(source, inputs_text)
    ids = {id(node): f"n{index}" for index, node in enumerate(order)}
    names = node_names(order)
    steps, _ = walk_steps(root, order)
    grads: dict[str, float | str] = {}
    widest: dict[str, str] = {}  # the widest gradient text the page will write into each box
    for step in steps:
        for update in step["updates"]:
            grads[update["id"]] = update["grad"]
            text = _grad_text(update["grad"])
            if len(text) > len(widest.get(update["id"], "")):
                widest[update["id"]] = text
    nodes = [
        {
            "id": ids[id(node)],
            "name": names[id(node)],
            "label": node.label,
            "op": node.op,
            "symbol": rule_of(node).symbol if node.parents else "",
            "data": _number(node.data),
            "grad": grads.get(ids[id(node)], 0.0),
            "leaf": node.is_leaf,
            "constant": is_constant(node),
            "parents": [ids[id(p)] for p in node._prev],
        }
        for node in order
    ]
    result = {
        "output": ids[id(root)],
        "output_name": names[id(root)],
        "nodes": nodes,
        "steps": steps,
        "python": python_code(order, names),
    }
    if with_svg:
        from .graph_svg import render

        _name_boxes(order, names)
        result.update(render(root, {id(node): widest[ids[id(node)]] for node in order if ids[id(node)] in widest}))
    return result


def _grad_text(grad: float | str) -> str:
    """A gradient as the page writes it into a box (``number_text``; inf and nan as they come)."""
    return grad if isinstance(grad, str) else number_text(grad)


def _name_boxes(order: list[Value], names: dict[int, str]) -> None:
    """Label each node of this (throw-away) graph with its name, so its box in the drawing says what the table and
    the narration say (an op's box would otherwise show the op: ``mul`` where they say ``v1``). A constant that the
    drawing folds into its op (the 2 of ``x ** 2``) stays unlabelled, so it is still folded."""
    folded = {id(node.parents[1]) for node in order if node._rule is not None and node._rule.constant_operand}
    for node in order:
        if not node.label and id(node) not in folded:
            node.label = names[id(node)]


def _reforward(order: list[Value], position: dict[int, int], index: int, value: float) -> float:
    """The output when node ``index`` is forced to ``value`` and everything after it is recomputed.

    ``position`` maps each node's id to its index in ``order``.
    """
    data = [node.data for node in order]
    data[index] = value
    for i in range(index + 1, len(order)):
        node = order[i]
        if node._prev:
            forward = rule_of(node).forward
            if forward is None:
                raise LabError(f"node {index} has no forward rule to recompute it with")
            data[i] = forward(FLOAT_MATH, *[data[position[id(p)]] for p in node._prev])
    return data[-1]


def check_lab(source: object, inputs_text: object) -> dict:
    """Compare every node's gradient with a central difference of the output, and mark each ok or not."""
    root, order = _graph(source, inputs_text)
    root.backward()
    position = {id(node): i for i, node in enumerate(order)}
    checks = []
    for index, node in enumerate(order):
        if is_constant(node):
            continue  # a constant: nothing to check
        h = 1e-6 * max(1.0, abs(node.data))
        numeric = (
            _reforward(order, position, index, node.data + h) - _reforward(order, position, index, node.data - h)
        ) / (2 * h)
        analytic = float(node.grad)
        ok = (
            math.isclose(numeric, analytic, rel_tol=1e-4, abs_tol=1e-5)
            if math.isfinite(numeric)
            else numeric == analytic
        )
        checks.append({"id": f"n{index}", "analytic": _number(analytic), "numeric": _number(numeric), "ok": ok})
    return {"checks": checks, "all_ok": all(c["ok"] for c in checks)}


def python_code(order: list[Value], names: dict[int, str]) -> str:
    """A standalone script that builds the same graph with jangrad and prints every gradient."""
    var = {}
    taken = {"Value", "print"}  # the script itself uses these names
    lines = ["from jangrad import Value", ""]
    for index, node in enumerate(order):
        label = node.label
        name = names[id(node)]
        if not _NAME.match(name) or name in taken:
            name = f"_n{index}"  # a user's names never start with '_', so this one is free
        taken.add(name)
        if node.is_leaf:
            if not label:
                var[id(node)] = repr(node.data)
                continue
            lines.append(f"{name} = Value({node.data!r}, label={label!r})")
        else:
            args = [var[id(p)] for p in node._prev]
            op = rule_of(node)
            if op.arity == 2 and op.name != "leaky_relu":
                text = f"{args[0]} {op.symbol} {args[1]}"
            elif op.name == "neg":
                text = f"-{args[0]}"
            elif op.name == "abs":
                text = f"abs({args[0]})"
            elif op.name == "leaky_relu":
                text = f"{args[0]}.leaky_relu({args[1]})"
            else:
                text = f"{args[0]}.{op.name}()"
            lines.append(f"{name} = {text}" + (f"; {name}.label = {label!r}" if label else ""))
        var[id(node)] = name
    out = var[id(order[-1])]
    lines += ["", f"{out}.backward()"]
    for node in order:
        if node.label or not node.is_leaf:
            lines.append(f"print({names[id(node)]!r}, {var[id(node)]}.data, {var[id(node)]}.grad)")
    return "\n".join(lines) + "\n"
