"""``jangrad check`` end to end: the report card on stdout, exit status 0, 1 or 2, --out drawings, --help."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ROOT / "tests" / "fixtures" / "engines"


def run(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "jangrad", "check", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_correct_engine_exits_0(tmp_path):
    result = run([str(ENGINES / "correct.py"), "--examples", "30"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "22 checks, all passed" in result.stdout
    assert result.stderr == ""


def test_a_wrong_rule_exits_1_and_out_draws_the_graph(tmp_path):
    result = run([f"{ENGINES / 'preorder_walk.py'}:Value", "--examples", "60", "--out", "check-out"], tmp_path)
    assert result.returncode == 1, result.stderr
    assert "FAIL  nodes used at different depths" in result.stdout
    assert "reverse topological order" in result.stdout
    out = tmp_path / "check-out"
    assert (out / "report.txt").read_text().startswith("jangrad check:")
    suffix = ".svg" if shutil.which("dot") else ".dot"
    drawing = (out / f"nodes-used-at-different-depths{suffix}").read_text()
    assert "yours 4.5, right 0" in drawing
    if suffix == ".svg":
        assert drawing.lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.py"], "jangrad check: error: no such file: missing.py\n"),
        (
            [f"{ENGINES / 'correct.py'}:Scalar"],
            "jangrad check: error: correct.py has no class Scalar (it defines Value: name one with correct.py:Value)\n",
        ),
        (
            [str(ENGINES / "correct.py"), "--timeout", "0"],
            "jangrad check: error: argument --timeout: expected a positive "
            "finite number, got '0' (see jangrad check --help)\n",
        ),
    ],
)
def test_an_unusable_engine_or_argument_exits_2_with_one_line(tmp_path, args, message):
    result = run(args, tmp_path)
    assert result.returncode == 2
    assert result.stderr == message
    assert result.stdout == ""


def test_help_says_how_the_file_is_loaded_and_what_the_exit_codes_mean(tmp_path):
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "jangrad check my_engine.py:Scalar" in text
    assert '__name__ is not "__main__"' in text
    assert "exit status: 0 every check passed (notes are allowed), 1 a value or gradient is wrong" in text
    assert "2 the engine cannot be checked" in text


def test_import_jangrad_does_not_load_the_checker_or_hypothesis():
    code = (
        "import sys, jangrad; assert 'hypothesis' not in sys.modules and 'jangrad.check' not in sys.modules; "
        "jangrad.check_engine; assert 'jangrad.check' in sys.modules; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout == "ok\n", result.stderr
