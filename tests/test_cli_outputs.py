"""Every ``--out`` of the jangrad command behaves the same: missing folders are created (and said so in --help), a
file in the way is refused naming the flag, a failed command removes the folders it made; and a drawing that needs
the Graphviz program it cannot find stops with one line instead of writing something else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jangrad import ops
from jangrad.cli import main
from jangrad.cli import training as cli_training

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


def _broken_exp(monkeypatch) -> None:
    """exp's rule off by a factor of 2, so that gradcheck fails and draws."""
    broken = ops.Op("exp", 1, "exp", ops.OPS["exp"].forward, lambda m, g, out, x: (g * 2.0 * out,), "wrong")
    monkeypatch.setitem(ops.OPS, "exp", broken)


def test_graph_and_gradcheck_create_the_folders_of_their_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "a * b", "--set", "a=2", "b=3", "--out", "pictures/today/g.svg"]) == 0
    assert (tmp_path / "pictures" / "today" / "g.svg").read_text().lstrip().startswith("<")
    _broken_exp(monkeypatch)
    assert main(["gradcheck", "exp(a)", "--set", "a=0.5", "--out", "failures/exp/fail.dot"]) == 1
    assert "color=red" in (tmp_path / "failures" / "exp" / "fail.dot").read_text()


@pytest.mark.parametrize("command", [["train", "--steps", "1"], ["sweep", "--lr", "0.01", "--steps", "1"]])
def test_train_and_sweep_create_nested_output_folders(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--hidden", "2", "--out", "runs/a/b", "--no-progress"]) == 0
    assert (tmp_path / "runs" / "a" / "b" / "loss.png").exists() or (tmp_path / "runs/a/b/sweep.png").exists()


def test_demo_creates_nested_output_folders(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_training, "fit", _quick_fit)
    assert main(["demo", "--out", "lecture/out", "--no-progress"]) == 0
    assert {p.name for p in (tmp_path / "lecture" / "out").iterdir()} == {"graph.svg", "loss.png", "model.json"}


def _quick_fit(model, X, y, **options):
    from jangrad.train import fit

    return fit(model, X, y, **{**options, "steps": 2})


@pytest.mark.parametrize(
    "args",
    [
        ["graph", "a", "--set", "a=1", "--out", "afile/g.svg"],
        ["gradcheck", "a", "--set", "a=1", "--out", "afile/sub/g.svg"],
        ["train", "--out", "afile/run"],
        ["sweep", "--lr", "0.1", "--out", "afile"],
        ["demo", "--out", "afile"],
    ],
    ids=lambda a: a[0],
)
def test_a_file_in_the_way_is_refused_naming_the_flag(args, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("notes")
    assert main([*args, *(["--no-progress"] if args[0] in ("train", "sweep", "demo") else [])]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "--out" in err and "'afile' is a file, not a folder" in err
    assert (tmp_path / "afile").read_text() == "notes"


def test_a_failed_run_removes_every_folder_it_made_and_only_those(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_training, "fit", lambda *a, **k: (_ for _ in ()).throw(ValueError("broken")))
    (tmp_path / "mine").mkdir()
    assert main(["train", "--out", "mine/new/deeper", "--no-progress"]) == 2
    assert (tmp_path / "mine").is_dir() and not (tmp_path / "mine" / "new").exists()


@pytest.mark.parametrize("command", ["demo", "train", "sweep", "graph", "gradcheck"])
def test_help_says_missing_folders_are_created(command, capsys):
    assert main([command, "--help"]) == 0
    option = capsys.readouterr().out.split("\n  --out ")[1].split("\n  -")[0]  # the option's own help
    words = " ".join(option.split())
    assert "missing" in words and "created" in words


def _without_dot() -> str:
    hidden = os.path.dirname(sys.executable)
    if shutil.which("dot", path=hidden):
        pytest.skip("dot sits next to the Python interpreter")
    return hidden


@pytest.mark.parametrize("name", ["g.svg", "g.png"])
def test_renderer_graphviz_without_the_program_stops_with_one_line(name, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "PATH": _without_dot()}
    result = subprocess.run(
        [sys.executable, "-m", "jangrad", "graph", "a * b", "--set", "a=2", "b=3", "--renderer", "graphviz"]
        + ["--out", name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("jangrad graph: error: --renderer graphviz needs Graphviz's 'dot' program")
    assert "--renderer builtin" in line
    assert list(tmp_path.iterdir()) == []  # no .dot written in its place, nothing at all
    assert result.stdout == ""


def test_renderer_graphviz_without_the_program_still_writes_dot_text(tmp_path, monkeypatch, capsys):
    """DOT text needs no Graphviz program: asked for a .dot file, the command writes it."""
    monkeypatch.setenv("PATH", _without_dot())
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "a * b", "--set", "a=2", "b=3", "--renderer", "graphviz", "--out", "g.dot"]) == 0
    assert "digraph" in (tmp_path / "g.dot").read_text()


def test_a_drawing_refused_at_save_time_is_one_line_too(tmp_path, monkeypatch, capsys):
    """Should the program vanish between the check and the save, the drawing still ends in the same line."""
    from jangrad.viz import graph

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(graph, "graphviz_installed", lambda: True)  # the early check believes dot is there
    monkeypatch.setenv("PATH", _without_dot())
    assert main(["graph", "a", "--set", "a=1", "--renderer", "graphviz", "--out", "sub/g.svg"]) == 2
    assert "--renderer builtin" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # the folder made for it is removed again
