"""A script from ``jangrad train --export-torch``, run where PyTorch (or jangrad) is missing, says in one line what
to install and exits with status 2, instead of ending in a ``ModuleNotFoundError`` traceback.

It runs whether or not torch is installed here: the script is run with the package blocked (``sys.modules[name] =
None`` makes its import fail as a missing package's does). Only "jangrad missing" needs torch present, since the
script names the first package it misses.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jangrad.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _run_without(package: str, script: Path) -> subprocess.CompletedProcess:
    blocked = (
        f"import runpy, sys; sys.modules[{package!r}] = None; runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", blocked], cwd=script.parent, capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.parametrize(
    "package, words",
    [
        ("torch", "run.py: this script needs PyTorch: install it with  python3 -m pip install torch"),
        ("jangrad", "run.py: this script needs jangrad, which builds its data and first weights"),
    ],
)
def test_the_script_says_what_it_needs_in_one_line(package, words, tmp_path, capsys):
    if package == "jangrad" and importlib.util.find_spec("torch") is None:
        pytest.skip("without torch here, the script's first missing package is torch (the case above)")
    script = tmp_path / "run.py"
    assert main(["train", "--data", "xor", "--hidden", "2", "--steps", "2", "--export-torch", str(script)]) == 0
    result = _run_without(package, script)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]  # one line
    assert result.stderr.startswith(words) and "Traceback" not in result.stderr
    assert result.stdout == ""
