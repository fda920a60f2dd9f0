"""Type-check the package with mypy: the strict core must be clean; the other folders are reported, not failed.

Run from the repository root: ``python scripts/typecheck.py`` (``.ci/run`` and pre-commit do). mypy reads its
settings from ``pyproject.toml``: the whole package is checked, and the modules listed in the override with
``disallow_untyped_defs`` (the core a learner reads: the engine, the op table, nn, losses, optim, autodiff, fit and
what they import) are checked with every strict flag. This script exits with status 1 when any error is in one of
those modules (or mypy itself fails), and prints the errors of every other folder, counted by folder, without
failing: those folders are being changed in parallel now, and their sweep comes after. ``--all`` fails on any
error, for that sweep.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ERROR = re.compile(r"^(?P<path>[^:]+\.py):(?P<line>\d+): error: (?P<message>.*)$")


def strict_modules(pyproject: Path = ROOT / "pyproject.toml") -> set[str]:
    """The modules that pyproject.toml's mypy overrides check strictly."""
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["mypy"]
    return {
        module
        for override in config.get("overrides", [])
        if override.get("disallow_untyped_defs")
        for module in ([override["module"]] if isinstance(override["module"], str) else override["module"])
    }


def module_of(path: str) -> str:
    """``jangrad/viz/graph.py`` -> ``jangrad.viz.graph``; a package's ``__init__.py`` is the package."""
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def folder_of(path: str) -> str:
    parent = Path(path).parent.as_posix()
    return parent + "/" if parent != "jangrad" else "jangrad/ (top-level modules)"


def split_errors(output: str, strict: set[str]) -> tuple[list[str], list[str]]:
    """mypy's error lines, split into (errors in a strict module, errors elsewhere)."""
    core, other = [], []
    for line in output.splitlines():
        found = ERROR.match(line)
        if found:
            (core if module_of(found["path"]) in strict else other).append(line)
    return core, other


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="fail on an error in any module, not only the core")
    args = parser.parse_args(argv)
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 2: mypy could not run (a bad configuration, a syntax error, a crash)
        sys.stdout.write(done.stdout + done.stderr)
        print("typecheck: mypy did not run to the end")
        return 1
    strict = strict_modules()
    core, other = split_errors(done.stdout, strict)
    for line in core:
        print(line)
    if other:
        print(f"typecheck: {len(other)} error(s) outside the strict core, by folder (reported, not failed):")
        for folder, count in sorted(Counter(folder_of(ERROR.match(line)["path"]) for line in other).items()):
            print(f"  {count:4d}  {folder}")
    print(f"typecheck: the strict core ({len(strict)} modules) has {len(core)} error(s)")
    if args.all:
        for line in other:
            print(line)
        return 1 if core or other else 0
    return 1 if core else 0


if __name__ == "__main__":
    sys.exit(main())
