"""The house stays as built: no import cycle in the package, no import that points up a floor, and a Value that
reads in one sitting.

Imports are read with ``ast`` from every file of the package, those inside functions and under ``if
TYPE_CHECKING:`` included: a lazy import is still a dependency, and an annotation-only one still ties the files.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "jangrad"

# Floors from the bottom up; a module may import from its own floor or any floor below. The longest prefix that
# matches a module names its floor.
FLOORS = [
    (
        "leaves",
        [
            "jangrad.ops",
            "jangrad.portable_math",
            "jangrad.checks",
            "jangrad.switches",
            "jangrad.anomaly",
            "jangrad._version",
            "jangrad.extras",
            "jangrad.legacy_random",
            "jangrad.sklearn_twins",
            "jangrad.node",
            "jangrad.io.files",
            "jangrad.io.modelfile",
            "jangrad.io.torch_bridge",
            "jangrad.io",
        ],
    ),
    ("engine helpers", ["jangrad.higher_order", "jangrad.hand_built"]),
    ("engine", ["jangrad.engine"]),
    (
        "library",
        ["jangrad.autodiff", "jangrad.nn", "jangrad.losses", "jangrad.optim", "jangrad.schedules", "jangrad.data"],
    ),
    ("compiled path", ["jangrad.compiled"]),
    ("training", ["jangrad.train", "jangrad.recipe", "jangrad.io.expr", "jangrad.io.torch_export"]),
    ("pictures", ["jangrad.viz"]),
    ("tools", ["jangrad.check", "jangrad.cli", "jangrad.playground", "jangrad.site"]),
    ("package", ["jangrad"]),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that the file at ``path`` imports."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in modules and m != name}


def _graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, modules) for p in paths}


def _floor(module: str) -> int:
    matches = [
        (len(p), index)
        for index, (_, prefixes) in enumerate(FLOORS)
        for p in prefixes
        if module == p or module.startswith(p + ".")
    ]
    if not matches:
        raise AssertionError(f"{module} is on no floor: add it to FLOORS in tests/test_layout.py")
    return max(matches)[1]


def test_the_package_has_no_import_cycle():
    graph = _graph()
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycle = path[path.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_no_module_imports_from_a_floor_above_its_own():
    upward = [
        f"{module} ({FLOORS[_floor(module)][0]}) imports {target} ({FLOORS[_floor(target)][0]})"
        for module, targets in _graph().items()
        for target in sorted(targets)
        if _floor(target) > _floor(module)
    ]
    assert not upward, "\n".join(upward)


def test_the_checks_can_fail(tmp_path, monkeypatch):
    """The two walks above on a made-up package with a cycle and an upward import."""
    fake = tmp_path / "jangrad"
    (fake / "io").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "engine.py").write_text("from . import nn\n")
    (fake / "nn.py").write_text("def f():\n    from .engine import Value\n")
    (fake / "io" / "__init__.py").write_text("")
    (fake / "io" / "files.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import engine\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert _graph()["jangrad.io.files"] == {"jangrad.engine"}  # annotation-only imports count
    with pytest.raises(pytest.fail.Exception, match="jangrad.engine -> jangrad.nn -> jangrad.engine"):
        test_the_package_has_no_import_cycle()
    with pytest.raises(AssertionError, match="jangrad.engine \\(engine\\) imports jangrad.nn"):
        test_no_module_imports_from_a_floor_above_its_own()


def _code_lines(path: Path) -> int:
    spec = importlib.util.spec_from_file_location("gen_docs_for_layout", ROOT / "scripts" / "gen_docs.py")
    gen_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_docs)
    return gen_docs.code_lines(path)


def test_the_file_that_defines_value_reads_in_one_sitting():
    lines = _code_lines(PACKAGE / "engine.py")
    assert lines <= 250, f"jangrad/engine.py has {lines} lines of code; the budget is 250 (see its docstring)"
