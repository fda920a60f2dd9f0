"""Generated documentation: ``docs/ops.md`` from the op table, and the code-line counts quoted in the README tour.

Run ``python scripts/gen_docs.py`` from the repository root to rewrite the generated parts, or
``python scripts/gen_docs.py --check`` to exit with status 1 when one is stale (``tests/test_docs.py`` does the same
comparison). Nothing on the ops page is typed by hand: the forward and derivative columns are the rules' own source,
read back from the file that defines them with ``ast``, so the page cannot drift from the code.

Code-line counts live in Markdown files between markers such as
``<!-- code-lines: jangrad/engine.py jangrad/ops.py -->382<!-- /code-lines -->``; the number is recomputed from
the named files (lines holding code, not blank lines, comments or docstrings).
"""

from __future__ import annotations

import argparse
import ast
import builtins
import functools
import inspect
import io
import os
import re
import sys
import tokenize
from collections.abc import Callable, Iterable
from pathlib import Path

from jangrad.io.files import write_text
from jangrad.ops import OPS, Op

__all__ = ["rule_source", "render_ops_markdown", "code_lines", "refresh_code_lines", "main"]

OPS_PAGE = Path("docs") / "ops.md"
COUNTED_PAGES = (Path("docs") / "README-tour.md", Path("README.md"))
CODE_LINES = re.compile(r"<!-- code-lines: (?P<files>[^>]*?) -->(?P<count>\d*)<!-- /code-lines -->")


# ---- reading a rule back from its source --------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _parse(source: str) -> ast.Module:
    return ast.parse(source)  # cached: every rule of a module is looked up in the same tree


@functools.lru_cache(maxsize=8)
def _functions_by_line(source: str) -> dict[int, list[ast.Lambda | ast.FunctionDef]]:
    index: dict[int, list[ast.Lambda | ast.FunctionDef]] = {}
    for node in ast.walk(_parse(source)):
        if isinstance(node, (ast.Lambda, ast.FunctionDef)):
            index.setdefault(node.lineno, []).append(node)
    return index


def _rule_node(fn: Callable) -> ast.Lambda | ast.FunctionDef:
    """The ``lambda`` (or one-``return`` ``def``) that compiled to ``fn``, found by line and argument names."""
    code = fn.__code__
    arg_names = list(code.co_varnames[: code.co_argcount])
    on_line = _functions_by_line(inspect.getsource(inspect.getmodule(fn))).get(code.co_firstlineno, [])
    matches = [node for node in on_line if [a.arg for a in node.args.args] == arg_names]
    if fn.__name__ != "<lambda>":  # a def: keep only the one with its name
        matches = [n for n in matches if isinstance(n, ast.FunctionDef) and n.name == fn.__name__]
    if len(matches) != 1:
        raise ValueError(
            f"cannot find the source of rule {fn!r} (line {code.co_firstlineno} of "
            f"{code.co_filename}): expected one lambda or def there, found {len(matches)}"
        )
    return matches[0]


def _body_expression(fn: Callable) -> ast.expr:
    node = _rule_node(fn)
    if isinstance(node, ast.Lambda):
        return node.body
    if len(node.body) == 1 and isinstance(node.body[0], ast.Return) and node.body[0].value is not None:
        return node.body[0].value
    raise ValueError(f"rule {fn.__qualname__} is not a single expression; write it as a lambda or a one-line return")


def rule_source(fn: Callable) -> str:
    """The expression a rule computes, as written in its source (``lambda m, x, y: x + y`` gives ``x + y``)."""
    return ast.unparse(_body_expression(fn))


class _Mathsify(ast.NodeTransformer):
    """Rewrite ``m.div(a, b)`` as ``a / b`` and ``m.pow(a, b)`` as ``a ** b``; drop the ``m.`` prefix elsewhere."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "m":
            if func.attr == "div" and len(node.args) == 2:
                return ast.BinOp(node.args[0], ast.Div(), node.args[1])
            if func.attr == "pow" and len(node.args) == 2:
                return ast.BinOp(node.args[0], ast.Pow(), node.args[1])
            return ast.Call(ast.Name(func.attr, ast.Load()), node.args, node.keywords)
        return node


def _maths(expr: ast.expr) -> str:
    # Transform a fresh copy: the parsed trees are cached and shared, so they must never be changed in place.
    return ast.unparse(_Mathsify().visit(ast.parse(ast.unparse(expr), mode="eval").body))


def _operand_names(op: Op) -> list[str]:
    return [a.arg for a in _rule_node(op.forward).args.args][1:]


def _contributions(op: Op) -> list[ast.expr]:
    body = _body_expression(op.backward)
    if isinstance(body, ast.Tuple) and len(body.elts) == op.arity:
        return list(body.elts)
    raise ValueError(
        f"backward rule of op '{op.name}' must return a tuple of {op.arity} contribution(s), got `{ast.unparse(body)}`"
    )


# ---- helpers a rule calls (module constants and functions), listed once each ---------------------------------------
def _global_names(expr: ast.AST, namespace: dict) -> list[str]:
    names: list[str] = []
    for node in ast.walk(expr):
        if (
            isinstance(node, ast.Name)
            and node.id in namespace
            and not hasattr(builtins, node.id)
            and node.id not in names
        ):
            names.append(node.id)
    return names


def _without_annotations(tree: ast.Module) -> ast.Module:
    """The tree with its type annotations dropped: a name used only in an annotation (``Any``) is not a helper a
    rule calls."""
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
    return tree


def _helpers(ops: Iterable[Op]) -> list[tuple[str, str]]:
    """(name, source) of every module-level constant or function the rules use, in order of first use."""
    found: dict[str, str] = {}
    pending: list[tuple[str, dict]] = []
    for op in ops:
        for fn in (op.forward, op.backward):
            pending.extend((name, fn.__globals__) for name in _global_names(_body_expression(fn), fn.__globals__))
    while pending:
        name, namespace = pending.pop(0)
        if name in found:
            continue
        obj = namespace[name]
        if inspect.isfunction(obj):
            found[name] = inspect.getsource(obj).rstrip()
            tree = _without_annotations(ast.parse(found[name]))
            pending.extend((inner, obj.__globals__) for inner in _global_names(tree, obj.__globals__))
        elif inspect.ismodule(obj):
            continue  # `math` and the like are named in the code itself
        else:
            found[name] = _assignment_source(name, namespace) or f"{name} = {obj!r}"
    return list(found.items())


def _assignment_source(name: str, namespace: dict) -> str | None:
    module = sys.modules.get(namespace.get("__name__", ""))
    if module is None:
        return None
    for node in _parse(inspect.getsource(module)).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.unparse(node)
    return None


# ---- the page -----------------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def render_ops_markdown(ops: dict[str, Op] | None = None) -> str:
    """The full text of ``docs/ops.md`` for the op table ``ops`` (``ops.OPS`` by default)."""
    table = OPS if ops is None else ops
    lines = [
        "# The op table",
        "",
        "<!-- Generated by `python scripts/gen_docs.py` from jangrad/ops.py. Do not edit by hand. -->",
        "<!-- no example on this page is run: each block is an op's rule as jangrad/ops.py writes it, read back from"
        " its source (the rules themselves run in every engine test) -->",
        "",
        f"jangrad knows {len(table)} primitive operations. Each is one entry of `OPS` in "
        "[`jangrad/ops.py`](../jangrad/ops.py): a forward rule and a backward rule, written once and run on floats, "
        "on Values (for higher-order gradients) and on NumPy arrays (for the compiled tape).",
        "",
        "How to read the columns:",
        "",
        "* **Forward** is what the op computes from its operands.",
        "* **Gradient to ...** is that operand's contribution to the backward pass: the incoming gradient `g` "
        "times the local derivative (the chain rule). `out` is the op's own forward result, which several "
        "rules reuse instead of recomputing it.",
        "* Functions such as `exp`, `log`, `erf`, `step` (1 where x > 0, else 0) and `sign` come from the maths "
        "namespace `m` that the rule is given; here `m.div(a, b)` is shown as `a / b` and `m.pow(a, b)` as `a ** b`. "
        "The exact source of each rule is under its own heading.",
        "* A *constant* second operand (an exponent given as a number, a slope) is a parameter, not a variable: "
        "its contribution is 0 by definition.",
        "",
        "| op | symbol | forward | gradient to 1st operand | gradient to 2nd operand |",
        "|---|---|---|---|---|",
    ]
    for op in table.values():
        names = _operand_names(op)
        grads = [_maths(c) for c in _contributions(op)]
        second = "" if op.arity == 1 else _cell(grads[1]) + (" (constant)" if op.constant_operand else "")
        lines.append(
            f"| [`{op.name}`](#{op.name}) | {_cell(op.symbol)} | {_cell(_maths(_body_expression(op.forward)))} "
            f"| {_cell(grads[0])} | {second} |"
        )
        if len(names) != op.arity:
            raise ValueError(f"forward rule of op '{op.name}' takes {len(names)} operand(s), its arity is {op.arity}")
    lines.append("")
    for op in table.values():
        names = _operand_names(op)
        lines += [f"## {op.name}", "", op.derivation, ""]
        kind = "unary" if op.arity == 1 else "binary"
        constant = f"; operand `{names[1]}` is a constant" if op.constant_operand else ""
        lines += [f"Symbol `{op.symbol}`, {kind}{constant}.", "", "```python"]
        lines.append(f"forward  = {ast.unparse(_rule_node(op.forward))}")
        lines.append(f"backward = {ast.unparse(_rule_node(op.backward))}")
        lines += ["```", ""]
        for name, contribution in zip(names, _contributions(op), strict=True):
            lines.append(f"* gradient to `{name}`: `{_maths(contribution)}`")
        lines.append("")
    helpers = _helpers(table.values())
    if helpers:
        lines += ["## Helpers used by the rules", "", "```python"]
        for _, source in helpers:
            lines += [source, ""]
        lines[-1] = "```"
        lines.append("")
    return "\n".join(lines)


# ---- code-line counts -----------------------------------------------------------------------------------------
_NOT_CODE = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}


def code_lines(path: str | os.PathLike) -> int:
    """Lines of a Python file that hold code: not blank, not only a comment, not part of a docstring."""
    source = Path(path).read_text(encoding="utf-8")
    with_code: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _NOT_CODE:
            with_code.update(range(token.start[0], token.end[0] + 1))
    for node in ast.walk(ast.parse(source)):
        is_string_statement = (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        )
        if is_string_statement:  # docstrings, and the attribute docstrings written under assignments
            with_code.difference_update(range(node.lineno, node.end_lineno + 1))
    return len(with_code)


def refresh_code_lines(text: str, root: str | os.PathLike) -> str:
    """``text`` with every code-lines marker's number recomputed from the files it names (relative to ``root``)."""

    def count(match: re.Match) -> str:
        files = match.group("files").split()
        if not files:
            raise ValueError(f"code-lines marker names no file: {match.group(0)!r}")
        total = sum(code_lines(Path(root) / f) for f in files)
        return f"<!-- code-lines: {match.group('files')} -->{total}<!-- /code-lines -->"

    return CODE_LINES.sub(count, text)


# ---- command line --------------------------------------------------------------------------------------------------
def expected_files(root: str | os.PathLike) -> dict[Path, str]:
    """Every generated file under ``root`` with the text it should have now."""
    root = Path(root)
    wanted = {root / OPS_PAGE: render_ops_markdown()}
    for page in COUNTED_PAGES:
        path = root / page
        if path.exists():
            text = path.read_text(encoding="utf-8")
            if CODE_LINES.search(text):
                wanted[path] = refresh_code_lines(text, root)
    return wanted


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/gen_docs.py", description="Regenerate docs/ops.md and the code-line counts in the docs."
    )
    parser.add_argument("--root", default=".", help="repository root (default: the current directory)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in expected_files(args.root).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not args.check:
                _write(path, text)
    verb = "stale" if args.check else "rewrote"
    for path in stale:
        print(f"{verb}: {path}")
    if args.check and stale:
        print("run `python scripts/gen_docs.py` to regenerate", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
