"""The training manager without a browser: one run at a time, exact single steps, a quick stop."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest

from jangrad.playground.config import cli_command, parse_config
from jangrad.playground.training import TrainingManager

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"data": "xor", "layers": "2", "steps": 500}


def training_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("jangrad-train-") and t.is_alive()]


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_two_starts_at_once_leave_one_run():
    manager = TrainingManager(threading.Event())
    answers = []
    starters = [
        threading.Thread(target=lambda: answers.append(manager.start({"config": SMALL, "paused": True})))
        for _ in range(2)
    ]
    for thread in starters:
        thread.start()
    for thread in starters:
        thread.join()
    assert sorted(a["run"] for a in answers) == [1, 2]
    wait_until(lambda: len(training_threads()) == 1)
    manager.stop()
    wait_until(lambda: not training_threads(), seconds=1.0)


def test_paused_run_moves_exactly_one_step_per_single_step():
    manager = TrainingManager(threading.Event())
    manager.start({"config": SMALL, "paused": True})
    run = manager.run
    time.sleep(0.3)
    assert len(run.losses) == 0 and run.state == "paused"
    for expected in (1, 2, 3):
        manager.control({"action": "step"})
        wait_until(lambda expected=expected: run.state == "paused" and len(run.losses) == expected)
        time.sleep(0.1)
        assert len(run.losses) == expected
    manager.control({"action": "reset"})
    assert manager.run is None and not run.thread.is_alive()


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("layers", "4,4,4,4,4,4,4", "at most 6 hidden layers"),
        ("layers", "64", "from 1 to 32"),
        ("steps", 10**6, "between 1 and 5000"),
        ("samples", 10**6, "between 4 and 2000"),
        ("lr", -1, "between"),
        ("lr", "nan", "finite"),
        ("data", "../../etc/passwd", "data must be one of"),
        ("loss", "eval", "loss must be one of"),
    ],
)
def test_every_size_is_capped_with_a_one_line_reason(field, value, words):
    with pytest.raises(ValueError, match=re.escape(words)) as refused:
        parse_config({field: value})
    assert "\n" not in str(refused.value)


def test_the_cli_command_says_what_it_cannot_repeat():
    command, note = cli_command(parse_config({"data": "moons", "samples": 100, "noise": 0.1, "layers": "4"}))
    assert command.startswith("jangrad train --data moons --hidden 4 ") and note == ""
    assert "--samples" not in command and "--test-split" not in command  # the command line's own defaults
    command, note = cli_command(parse_config({"data": "moons", "samples": 60, "noise": 0.3, "test": 0.2}))
    assert "--samples 60 --noise 0.3 --test-split 0.2" in command and note == ""
    _, note = cli_command(parse_config({"data": "csv", "csv": "x,target\n1,0\n2,1\n", "layers": ""}))
    assert "at least one hidden layer" in note and "data.csv" in note


def test_a_page_run_with_samples_noise_and_a_test_split_equals_its_cli_command(tmp_path):
    """What "copy CLI command" gives repeats the page's run number for number: same data, split, weights."""
    config = {
        "data": "circles",
        "samples": 50,
        "noise": 0.15,
        "test": 0.3,
        "layers": "4",
        "steps": 25,
        "optimizer": "adam",
        "lr": 0.05,
        "seed": 2,
    }
    manager = TrainingManager(threading.Event())
    manager.start({"config": config})
    run = manager.run
    wait_until(lambda: run.state == "done", seconds=60)
    command, note = cli_command(parse_config(config))
    assert note == ""
    args = command.split()[1:]
    args[args.index("--out") + 1] = str(tmp_path / "cli")
    finished = subprocess.run(
        [sys.executable, "-m", "jangrad", *args, "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    assert "(35 samples, 15 held out for testing)" in finished.stdout
    cli_losses = [
        float(row["loss"]) for row in csv.DictReader((tmp_path / "cli" / "history.csv").read_text().splitlines())
    ]
    assert len(cli_losses) == len(run.losses) == 25
    assert all(abs(a - b) <= 1e-12 for a, b in zip(run.losses, cli_losses, strict=True))
    cli_test_loss = float(re.search(r"test loss (\S+) on", finished.stdout).group(1))
    assert cli_test_loss == pytest.approx(run.test_loss, rel=1e-5)  # the command line prints 6 digits


@pytest.mark.parametrize(
    "csv, loss, expect_accuracy",
    [
        ("x,target\n" + "".join(f"{i / 10},{(i / 10) ** 2 + 0.05}\n" for i in range(-10, 11)), "mse", False),
        ("x,target\n" + "".join(f"{i / 10},{int(i > 0)}\n" for i in range(-10, 11)), "mse", True),
        ("x,target\n" + "".join(f"{i / 10},{int(i > 0)}\n" for i in range(-10, 11)), "bce", True),
    ],
    ids=["regression", "two-classes-mse", "two-classes-bce"],
)
def test_accuracy_is_reported_for_class_labels_only(csv, loss, expect_accuracy):
    manager = TrainingManager(threading.Event())
    manager.start({"config": {"data": "csv", "csv": csv, "loss": loss, "layers": "4", "steps": 20}})
    run = manager.run
    wait_until(lambda: run.state == "done")
    assert len(run.losses) == 20
    if expect_accuracy:
        assert len(run.accuracies) == 20 and all(0.0 <= a <= 1.0 for a in run.accuracies)
    else:
        assert run.accuracies == []


def next_payload(stream) -> dict:
    """The next frame an event stream sends (skipping the empty chunks it yields while nothing changes)."""
    for chunk in stream:
        if chunk.startswith(b"data: "):
            return json.loads(chunk[len(b"data: ") :])
    raise AssertionError("the stream ended")


def test_the_test_loss_is_a_series_sent_once_to_each_stream_and_in_the_history():
    config = {"data": "moons", "samples": 40, "test": 0.25, "layers": "4", "steps": 30, "seed": 1}
    manager = TrainingManager(threading.Event())
    manager.start({"config": config, "paused": True})
    run = manager.run
    for expected in (1, 2, 3):  # single steps publish every step, and a paused run more than once per step
        manager.control({"action": "step"})
        wait_until(lambda expected=expected: run.state == "paused" and len(run.losses) == expected)
    manager.control({"action": "play"})
    wait_until(lambda: run.state == "done", seconds=60)

    points = list(run.test_losses)
    steps = [step for step, _ in points]
    assert steps[:4] == [0, 1, 2, 3] and steps[-1] == 30
    assert all(a < b for a, b in pairwise(steps)), "one point per step, in order"
    assert all(math.isfinite(loss) for _, loss in points)
    run.update_test_loss()  # the final model, measured again: the last point, and no second point for its step
    assert points[-1][1] == run.test_loss and run.test_losses == points

    # A stream that connects late gets the whole series at once, then only what is new (here nothing).
    stream = manager.frames()
    first = next_payload(stream)
    assert first["test_from"] == 0 and first["test_losses"] == [list(p) for p in points]
    manager.publish(run, force=True)
    again = next_payload(stream)
    assert again["test_from"] == len(points) and again["test_losses"] == []
    manager.stop()

    rows = list(csv.DictReader(io.StringIO(manager.history_csv())))
    assert len(rows) == 30
    measured = {int(row["step"]): float(row["test_loss"]) for row in rows if row["test_loss"]}
    assert measured == {step: loss for step, loss in points if step < 30}


def test_without_a_test_split_there_is_no_test_series():
    manager = TrainingManager(threading.Event())
    manager.start({"config": {**SMALL, "steps": 20}})
    run = manager.run
    wait_until(lambda: run.state == "done")
    assert run.test_losses == [] and run.test_loss is None
    assert "test_loss" not in manager.history_csv().splitlines()[0]


def test_a_run_trains_on_the_compiled_tape(monkeypatch):
    """The page's run is fit's compiled path, as jangrad train's: the eager step is never taken."""
    from jangrad import train

    def eager_step(*args, **kwargs):
        raise AssertionError("the eager engine was used")

    monkeypatch.setattr(train, "_loss_and_backward", eager_step)
    manager = TrainingManager(threading.Event())
    manager.start({"config": {**SMALL, "steps": 30}})
    run = manager.run
    wait_until(lambda: run.state not in ("running", "paused"), seconds=60)
    assert (run.state, run.message) == ("done", "finished: 30 steps") and len(run.losses) == 30


LARGEST = {"data": "moons", "samples": 2000, "layers": "32,32,32,32,32,32", "steps": 5000}


def test_a_run_whose_steps_do_too_much_is_refused_and_the_current_run_is_kept():
    manager = TrainingManager(threading.Event())
    manager.start({"config": SMALL, "paused": True})
    current = manager.run
    with pytest.raises(
        ValueError,
        match="each step would run 2000 samples through 5409 parameters .*"
        "set a batch size of at most 18, or use a smaller network",
    ) as refused:
        manager.start({"config": LARGEST})
    assert "\n" not in str(refused.value)
    assert manager.run is current and current.thread.is_alive()
    manager.start({"config": {**LARGEST, "batch": 18}, "paused": True})  # at the limit: accepted
    assert manager.run is not current and manager.run.thread.is_alive()
    manager.control({"action": "reset"})


def test_a_run_that_blows_up_to_a_finite_loss_stops_as_diverged():
    manager = TrainingManager(threading.Event())
    manager.start(
        {"config": {"data": "moons", "layers": "16,16", "activation": "relu", "loss": "sse", "lr": 3.0, "steps": 200}}
    )
    run = manager.run
    wait_until(lambda: run.state not in ("running", "paused"), seconds=60)
    assert run.state == "diverged"
    assert "(blew up); try a smaller learning rate" in run.message and "\n" not in run.message


def test_a_reset_while_the_largest_run_builds_its_tape_does_not_wait_for_the_tape(monkeypatch):
    """Building the first tape of a big run may take seconds (here it is made to take 3); a reset answers meanwhile,
    and the run ends at its first step with its frames ignored."""
    from jangrad.compiled import training as compiled_training

    build = compiled_training.compiled_training

    def slow_build(*args, **kwargs):
        time.sleep(3.0)
        return build(*args, **kwargs)

    monkeypatch.setattr(compiled_training, "compiled_training", slow_build)
    manager = TrainingManager(threading.Event())
    manager.start({"config": {**LARGEST, "batch": 18}})
    building = manager.run
    time.sleep(0.2)
    assert manager.control({"action": "reset"}) == {"state": "idle"}
    assert manager.run is None and building.thread.is_alive() and building.losses == []
    building.thread.join(timeout=60)
    assert building.state == "stopped" and len(building.losses) <= 1
