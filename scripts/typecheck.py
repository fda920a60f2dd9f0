"""Type-check the package with mypy: the strict core and the folders listed as clean must stay clean; the other
folders are reported, not failed.

Run from the repository root: ``python scripts/typecheck.py`` (``.ci/run`` and pre-commit do). mypy reads its
settings from ``pyproject.toml``: the whole package is checked, and the modules listed in the override with
``disallow_untyped_defs`` (the core a learner reads: the engine, the op table, nn, losses, optim, autodiff, fit and
what they import) are checked with every strict flag.

This script exits with status 1 when mypy itself fails, or when an error is in one of those strict modules or in a
folder that ``[tool.jangrad.typecheck] must_be_clean`` in ``pyproject.toml`` lists (``jangrad/`` stands for the
package's top-level modules, ``jangrad/viz/`` for the ``.py`` files in that folder; a subfolder is listed on its
own). A folder is added to that list once it is clean, so that it cannot regress. It prints the errors of every
other folder, counted by folder, without failing (for a folder whose sweep is still to come). ``--all`` fails on any
error: every folder of the package is clean, and ``.ci/run`` uses it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Collection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "jangrad"
ERROR = re.compile(r"^(?P<path>[^:]+\.py):(?P<line>\d+): error: (?P<message>.*)$")


def _config(pyproject: Path) -> dict[str, Any]:
    tool: dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]
    return tool


def strict_modules(pyproject: Path = ROOT / "pyproject.toml") -> set[str]:
    """The modules that pyproject.toml's mypy overrides check strictly."""
    config = _config(pyproject)["mypy"]
    return {
        module
        for override in config.get("overrides", [])
        if override.get("disallow_untyped_defs")
        for module in ([override["module"]] if isinstance(override["module"], str) else override["module"])
    }


def clean_folders(pyproject: Path = ROOT / "pyproject.toml") -> set[str]:
    """The folders whose errors fail the check (``[tool.jangrad.typecheck] must_be_clean``), each ending in ``/``."""
    listed = _config(pyproject).get("jangrad", {}).get("typecheck", {}).get("must_be_clean", [])
    if not isinstance(listed, list) or not all(isinstance(folder, str) for folder in listed):
        raise ValueError(f"[tool.jangrad.typecheck] must_be_clean must be a list of folder names, got {listed!r}")
    return {folder.rstrip("/") + "/" for folder in listed}


def package_folders(root: Path = ROOT) -> set[str]:
    """Every folder of the package that holds a ``.py`` file, as ``folder_of`` names it."""
    return {folder_of(path.relative_to(root).as_posix()) for path in (root / PACKAGE).rglob("*.py")}


def module_of(path: str) -> str:
    """``jangrad/viz/graph.py`` -> ``jangrad.viz.graph``; a package's ``__init__.py`` is the package."""
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def folder_of(path: str) -> str:
    """``jangrad/viz/graph.py`` -> ``jangrad/viz/``; a top-level module's folder is ``jangrad/``."""
    return Path(path).parent.as_posix() + "/"


def split_errors(output: str, strict: Collection[str], clean: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """mypy's error lines, split into (errors that fail: in a strict module or a folder that must be clean, errors
    elsewhere)."""
    failing: list[str] = []
    other: list[str] = []
    for line in output.splitlines():
        found = ERROR.match(line)
        if found:
            fails = module_of(found["path"]) in strict or folder_of(found["path"]) in clean
            (failing if fails else other).append(line)
    return failing, other


def _folder_label(folder: str) -> str:
    return folder + " (top-level modules)" if folder == PACKAGE + "/" else folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="fail on an error in any module, not only the listed ones")
    args = parser.parse_args(argv)
    strict, clean = strict_modules(), clean_folders()
    unknown = sorted(clean - package_folders())
    if unknown:  # a typo in the list would otherwise leave a folder unguarded without a word
        print(f"typecheck: must_be_clean lists {', '.join(unknown)}: not a folder of {PACKAGE}/ with Python files")
        return 1
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 2: mypy could not run (a bad configuration, a syntax error, a crash)
        sys.stdout.write(done.stdout + done.stderr)
        print("typecheck: mypy did not run to the end")
        return 1
    failing, other = split_errors(done.stdout, strict, clean)
    for line in failing:
        print(line)
    if other:
        print(f"typecheck: {len(other)} error(s) in folders not yet required to be clean (reported, not failed):")
        for folder, count in sorted(Counter(folder_of(line.split(":", 1)[0]) for line in other).items()):
            print(f"  {count:4d}  {_folder_label(folder)}")
    print(
        f"typecheck: {len(failing)} error(s) in the strict core ({len(strict)} modules) and the folders that must be "
        f"clean ({', '.join(_folder_label(folder) for folder in sorted(clean)) or 'none'})"
    )
    if args.all:
        for line in other:
            print(line)
        return 1 if failing or other else 0
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
