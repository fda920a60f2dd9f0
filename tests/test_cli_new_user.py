"""What a new user runs into on the command line: --version, progress without a terminal, sizes a laptop cannot
do, output folders after a failure, a blow-up's history, expressions that start with a minus, more data sets."""

from __future__ import annotations

import csv
import io

import pytest

import jangrad
from jangrad import train
from jangrad.cli import main
from jangrad.cli import training as cli_training
from jangrad.train import History, TrainingDiverged, TrainingInterrupted


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        jangrad.cli.build_parser().parse_args(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"jangrad {jangrad.__version__}"
    assert main(["--version"]) == 0


@pytest.mark.parametrize("command", ["explain", "gradcheck"])
def test_an_expression_that_starts_with_a_minus(command, capsys):
    assert main([command, "-a*b", "--set", "a=1", "b=2"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert ("a.grad = -2.0" in out) if command == "explain" else ("passed" in out)


def test_an_expression_that_starts_with_a_minus_is_drawn(tmp_path, capsys):
    assert main(["graph", "-a*b", "--set", "a=1", "b=2", "--out", str(tmp_path / "g.dot")]) == 0
    assert "neg" in (tmp_path / "g.dot").read_text() or "-" in (tmp_path / "g.dot").read_text()


@pytest.mark.parametrize("name, classes", [("blobs", 3), ("iris", 3)])
def test_blobs_and_iris_train_from_the_command_line(name, classes, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data", name, "--hidden", "4", "--steps", "3", "--no-progress"]) == 0
    assert f"-> [4, {classes}]" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, words",
    [
        (["--hidden", "16,,16"], "expected layer widths like 16,16, got '16,,16'"),
        (["--data", "moons", "--samples", "10000000"], "over the limit of 100,000"),
        (["--data", "moons", "--hidden", "100000"], "use a smaller --batch-size or smaller --hidden"),
        (["--hidden", "2000,2000"], "over the limit of 1,000,000"),
        (["--steps", "99999999999"], "over the limit of 10,000,000"),
    ],
)
def test_sizes_a_laptop_cannot_do_are_refused_up_front_with_the_limit(args, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", *args, "--out", "run", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err
    assert not (tmp_path / "run").exists()


def test_a_run_that_will_take_hours_is_warned_about(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_training, "fit", lambda *a, **k: (_ for _ in ()).throw(ValueError("stop here")))
    main(["train", "--data", "digits", "--hidden", "256,256", "--steps", "100000", "--no-progress"])
    assert "may take hours; Ctrl-C stops the run and keeps what it has done" in capsys.readouterr().err


def test_a_failed_command_leaves_no_empty_output_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_training, "fit", lambda *a, **k: (_ for _ in ()).throw(ValueError("broken")))
    assert main(["train", "--out", "fresh", "--no-progress"]) == 2
    assert not (tmp_path / "fresh").exists()
    (tmp_path / "kept").mkdir()  # a folder the user had stays, even empty
    assert main(["train", "--out", "kept", "--no-progress"]) == 2
    assert (tmp_path / "kept").is_dir()


def _history(losses: list[float]) -> History:
    history = History()
    history.step = list(range(len(losses)))
    history.loss = list(losses)
    history.lr = [0.1] * len(losses)
    return history


def test_a_diverged_run_still_writes_its_history_and_loss_curve(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def blows_up(*args, **kwargs):
        raise TrainingDiverged(3, float("inf"), 0.1, _history([1.2, 40.0, 9e9]))

    monkeypatch.setattr(cli_training, "fit", blows_up)
    assert main(["train", "--out", "run", "--no-progress"]) == 1
    assert "diverged at step 3" in capsys.readouterr().err
    with open(tmp_path / "run" / "history.csv") as f:
        assert [float(row["loss"]) for row in csv.DictReader(f)] == [1.2, 40.0, 9e9]
    assert (tmp_path / "run" / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert not (tmp_path / "run" / "model.json").exists()


def test_ctrl_c_keeps_what_was_done(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def interrupted(*args, **kwargs):
        raise TrainingInterrupted(_history([1.0, 0.5]))

    monkeypatch.setattr(cli_training, "fit", interrupted)
    assert main(["train", "--out", "run", "--no-progress"]) == 130
    assert "interrupted after 2 steps" in capsys.readouterr().out
    assert {p.name for p in (tmp_path / "run").iterdir()} == {"history.csv", "loss.png", "model.json"}


def test_fit_turns_ctrl_c_into_an_interrupt_that_carries_the_history(monkeypatch):
    X, y = jangrad.data.seed4()
    calls = []

    def loss_then_interrupt(predictions, targets):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return jangrad.losses.sse(predictions, targets)

    with pytest.raises(KeyboardInterrupt) as stop:
        jangrad.fit(jangrad.nn.MLP(3, [2, 1], seed=0), X, y, loss=loss_then_interrupt, steps=10, progress=False)
    assert isinstance(stop.value, TrainingInterrupted) and len(stop.value.history) == 3


def test_progress_without_a_terminal_is_a_line_every_few_seconds():
    stream = io.StringIO()
    lines = train._ProgressLines(total=4, every=0.0, stream=stream)
    for k in range(4):
        lines.set_postfix({"loss": f"{1.0 / (k + 1):.4g}"})
        lines.update(1)
    text = stream.getvalue().splitlines()
    assert len(text) == 3  # not after the last step: the command's own summary follows
    assert text[0].startswith("training: step 1/4, loss 1, ") and text[0].endswith(" s left")
    assert "steps/s" in text[2] and "step 3/4, loss 0.3333" in text[2]
    quiet = io.StringIO()
    slow = train._ProgressLines(total=4, every=3600.0, stream=quiet)
    slow.update(1)
    assert quiet.getvalue() == ""
    assert isinstance(train._progress_bar(10, True), train._ProgressLines)  # pytest's stderr is no terminal
    assert train._progress_bar(10, False) is None


@pytest.mark.parametrize("name", ["seed4", "xor", "moons", "circles", "spiral", "digits", "blobs", "iris"])
def test_every_data_sets_defaults_converge(name, tmp_path, monkeypatch, capsys):
    """jangrad train with nothing but --data: no blow-up, and the loss ends far below where it started (seed4's
    defaults once went from 1.18 to 4.9e21 and reported success)."""
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data", name, "--no-progress"]) == 0, capsys.readouterr().err
    with open(tmp_path / "jangrad-out" / "history.csv") as f:
        losses = [float(row["loss"]) for row in csv.DictReader(f)]
    assert max(losses) < 10 * losses[0] and losses[-1] < 0.5 * losses[0], (losses[0], max(losses), losses[-1])


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    import subprocess
    import sys

    # demo prints its first line, then works for a while: head has gone by the time the next lines come
    done = subprocess.run(
        f"{sys.executable} -m jangrad demo --no-progress | head -1",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.count("\n") == 1 and done.stderr == ""
