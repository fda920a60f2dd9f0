"""One line of plain Python per gradient contribution, e.g. ``a.grad += b.data * e.grad``, for the stepper.

The text is the op table's backward rule written with the graph's own names, followed by the numbers it gives,
so a learner can check each step by hand.
"""

from __future__ import annotations

from ..engine import Value

# Per op, the local derivative for each operand, written with x, y (operands) and out; {k} is a constant operand.
_LOCAL = {
    "add": ("1.0", "1.0"),
    "sub": ("1.0", "-1.0"),
    "mul": ("{y}.data", "{x}.data"),
    "div": ("(1 / {y}.data)", "(-{out}.data / {y}.data)"),
    "pow": ("{y}.data * {x}.data ** ({y}.data - 1)", "{out}.data * log({x}.data)"),
    "powc": ("{k} * {x}.data ** ({k} - 1)", None),
    "neg": ("-1.0",),
    "abs": ("sign({x}.data)",),
    "exp": ("{out}.data",),
    "log": ("(1 / {x}.data)",),
    "sqrt": ("(0.5 / {out}.data)",),
    "tanh": ("(1 - {out}.data ** 2)",),
    "sigmoid": ("{out}.data * (1 - {out}.data)",),
    "relu": ("({x}.data > 0)",),
    "leaky_relu": ("(1.0 if {x}.data > 0 else {k})", None),
    "erf": ("2 / sqrt(pi) * exp(-{x}.data ** 2)",),
    "gelu": ("(Phi({x}.data) + {x}.data * phi({x}.data))",),
}


def seed_line(output_name: str) -> str:
    return f"{output_name}.grad = 1.0   (d{output_name}/d{output_name} = 1: backward starts here)"


def contribution_line(node: Value, index: int, names: dict[int, str], contribution: float, total: float) -> str:
    """``parent.grad += <local derivative> * out.grad   (+= c -> total)`` for operand ``index`` of ``node``."""
    parents = node._prev
    fields = {"x": names[id(parents[0])], "out": names[id(node)]}
    if len(parents) > 1:
        fields["y"] = names[id(parents[1])]
        fields["k"] = f"{parents[1].data:g}"
    template = _LOCAL.get(node.op, ("d/d{x}",) * len(parents))[index] or "0"
    local = template.format(**fields)
    target = names[id(parents[index])]
    return f"{target}.grad += {local} * {names[id(node)]}.grad   (+= {contribution:.6g} → {total:.6g})"
