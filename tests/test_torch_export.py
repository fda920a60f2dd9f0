"""``jangrad train --export-torch``: the PyTorch script trains the same run, alone and under torchrun with DDP."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jangrad.cli import main

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


def _losses(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"^step \d+ loss (\S+)$", text, flags=re.M)]


def _run(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _jangrad_losses(tmp_path: Path, args: list[str]) -> list[float]:
    assert main(["train", *args, "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    with open(tmp_path / "run" / "history.csv") as f:
        return [float(row["loss"]) for row in csv.DictReader(f)]


def _export(tmp_path: Path, args: list[str]) -> Path:
    script = tmp_path / "run.py"
    assert main(["train", *args, "--export-torch", str(script)]) == 0
    return script


MINIBATCH_ADAM = [
    "--data",
    "moons",
    "--samples",
    "40",
    "--hidden",
    "4",
    "--optimizer",
    "adam",
    "--lr",
    "0.05",
    "--batch-size",
    "10",
    "--steps",
    "8",
    "--schedule",
    "cosine",
    "--seed",
    "3",
    "--loss",
    "hinge",
]


def test_the_script_trains_as_jangrad_does_alone_and_on_two_processes_with_ddp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = _jangrad_losses(tmp_path, MINIBATCH_ADAM)
    script = _export(tmp_path, MINIBATCH_ADAM)
    alone = _losses(_run([sys.executable, str(script)], tmp_path))
    ddp = _losses(
        _run(
            [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script)], tmp_path
        )
    )
    assert len(expected) == len(alone) == len(ddp) == 8
    assert alone == pytest.approx(expected, rel=1e-9)
    assert ddp == pytest.approx(alone, rel=1e-9)


@pytest.mark.parametrize(
    "args",
    [
        [
            "--data",
            "seed4",
            "--hidden",
            "4,4",
            "--activation",
            "tanh",
            "--output-activation",
            "tanh",
            "--lr",
            "0.05",
            "--steps",
            "5",
        ],
        [
            "--data",
            "spiral",
            "--samples",
            "10",
            "--hidden",
            "6",
            "--optimizer",
            "sgd",
            "--schedule",
            "step",
            "--batch-size",
            "7",
            "--steps",
            "6",
        ],
        [
            "--data",
            "moons",
            "--samples",
            "30",
            "--hidden",
            "5",
            "--loss",
            "bce",
            "--optimizer",
            "adamw",
            "--schedule",
            "linear",
            "--steps",
            "5",
            "--test-split",
            "0.2",
        ],
        ["--data", "real.csv", "--hidden", "3", "--activation", "gelu", "--loss", "mse", "--steps", "5"],
    ],
    ids=["sse", "ce", "bce", "mse"],
)
def test_every_loss_optimizer_and_schedule_carries_over(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{0.5 * i - 1.25}\n" for i in range(12)))
    expected = _jangrad_losses(tmp_path, args)
    alone = _losses(_run([sys.executable, str(_export(tmp_path, args))], tmp_path))
    assert alone == pytest.approx(expected, rel=1e-9)


def test_the_export_needs_a_python_file_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--export-torch", "run.txt"]) == 2
    assert "expected a file name ending in .py" in capsys.readouterr().err
