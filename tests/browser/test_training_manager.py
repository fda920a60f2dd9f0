"""The training manager without a browser: one run at a time, exact single steps, a quick stop."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jangrad.playground.config import cli_command, parse_config
from jangrad.playground.training import TrainingManager

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"data": "xor", "layers": "2", "steps": 500}


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def manager():
    made = TrainingManager(threading.Event())
    yield made
    made.stop()
    made.thread.join(timeout=2)
    assert not made.thread.is_alive(), "stop() ends the driver thread at once"


def state(manager) -> str:
    with manager.lock:
        return manager.lab.state()


def test_two_starts_at_once_leave_one_run(manager):
    answers = []
    starters = [
        threading.Thread(target=lambda: answers.append(manager.call("start", {"config": SMALL, "paused": True})))
        for _ in range(2)
    ]
    for thread in starters:
        thread.start()
    for thread in starters:
        thread.join()
    assert sorted(a["run"] for a in answers) == [1, 2]
    assert manager.lab.session.number == 2


def test_paused_run_moves_exactly_one_step_per_single_step(manager):
    manager.call("start", {"config": SMALL, "paused": True})
    run = manager.lab.session
    time.sleep(0.3)
    assert run.step == 0 and state(manager) == "ready"
    for expected in (1, 2, 3):
        manager.call("control", {"action": "step"})
        wait_until(lambda expected=expected: run.step == expected)
        time.sleep(0.1)
        assert run.step == expected and state(manager) == "paused"
    answer = manager.call("control", {"action": "reset"})
    assert answer["run"] == 2 and answer["state"] == "ready" and manager.lab.session.step == 0


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
    manager.call("start", {"config": config, "pace": "max"})
    run = manager.lab.session
    wait_until(lambda: run.state == "done", seconds=60)
    manager.stop()
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
    manager.call("start", {"config": {"data": "csv", "csv": csv, "loss": loss, "layers": "4", "steps": 20}})
    run = manager.lab.session
    wait_until(lambda: run.state == "done")
    manager.stop()
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


def test_the_test_loss_is_a_series_sent_once_to_each_stream_and_in_the_history(manager):
    config = {"data": "moons", "samples": 40, "test": 0.25, "layers": "4", "steps": 30, "seed": 1}
    manager.call("start", {"config": config, "paused": True})
    run = manager.lab.session
    for expected in (1, 2, 3):
        manager.call("control", {"action": "step"})
        wait_until(lambda expected=expected: run.step == expected)
    manager.call("control", {"action": "pace", "pace": "max"})
    manager.call("control", {"action": "play"})
    wait_until(lambda: run.state == "done", seconds=60)

    points = list(run.test_losses)
    steps = [step for step, _ in points]
    assert steps == list(range(31)), "a short run measures the test loss at every step"
    assert points[-1][1] == run.test_loss

    # A stream that connects late gets the whole series at once, then only what is new (here nothing).
    stream = manager.frames()
    manager.call("control", {"action": "pause"})  # a request: a new frame
    first = next_payload(stream)
    assert first["test_from"] == 0 and first["test_losses"] == [list(p) for p in points]
    assert first["from"] == 0 and len(first["losses"]) == 30
    manager.call("control", {"action": "pause"})
    again = next_payload(stream)
    assert again["test_from"] == len(points) and again["test_losses"] == [] and again["losses"] == []

    rows = list(csv.DictReader(io.StringIO(manager.call("history_csv"))))
    assert len(rows) == 30
    measured = {int(row["step"]): float(row["test_loss"]) for row in rows if row["test_loss"]}
    assert measured == {step: loss for step, loss in points if step < 30}


def test_without_a_test_split_there_is_no_test_series(manager):
    manager.call("start", {"config": {**SMALL, "steps": 20}, "pace": "max"})
    run = manager.lab.session
    wait_until(lambda: run.state == "done")
    assert run.test_losses == [] and run.test_loss is None
    assert "test_loss" not in manager.call("history_csv").splitlines()[0]


def test_a_run_trains_on_the_compiled_tape(manager, monkeypatch):
    """The page's run is fit's compiled path, as jangrad train's: the eager step is never taken."""
    from jangrad.playground import session

    def eager_step(*args, **kwargs):
        raise AssertionError("the eager engine was used")

    monkeypatch.setattr(session, "_loss_and_backward", eager_step)
    manager.call("start", {"config": {**SMALL, "steps": 30}, "pace": "max"})
    run = manager.lab.session
    wait_until(lambda: run.state not in ("ready", "training"), seconds=60)
    assert (run.state, run.message) == ("done", "finished: 30 steps") and len(run.losses) == 30
    assert run.run is not None


LARGEST = {"data": "moons", "samples": 2000, "layers": "32,32,32,32,32,32", "steps": 5000}


def test_a_run_whose_steps_do_too_much_is_refused_and_the_current_run_is_kept(manager):
    manager.call("start", {"config": SMALL, "paused": True})
    current = manager.lab.session
    with pytest.raises(
        ValueError,
        match="each step would run 2000 samples through 5409 parameters .*"
        "set a batch size of at most 18, or use a smaller network",
    ) as refused:
        manager.call("start", {"config": LARGEST})
    assert "\n" not in str(refused.value)
    assert manager.lab.session is current
    manager.call("start", {"config": {**LARGEST, "batch": 18}, "paused": True})  # at the limit: accepted
    assert manager.lab.session is not current


def test_a_run_that_blows_up_to_a_finite_loss_stops_as_diverged(manager):
    config = {"data": "moons", "layers": "16,16", "activation": "relu", "loss": "sse", "lr": 3.0, "steps": 200}
    manager.call("start", {"config": config, "pace": "max"})
    run = manager.lab.session
    wait_until(lambda: run.state not in ("ready", "training"), seconds=60)
    assert run.state == "diverged" and state(manager) == "diverged"
    assert "(blew up); try a smaller learning rate" in run.message and "\n" not in run.message


def test_requests_are_answered_while_the_largest_run_plays_as_fast_as_it_goes(manager):
    """A tick runs at most api.WORK_SLICE seconds of steps, so the lab answers between them."""
    manager.call("start", {"config": {**LARGEST, "batch": 18}, "pace": "max"})
    wait_until(lambda: manager.lab.session.step > 3, seconds=60)
    for _ in range(5):
        answer = manager.call("control", {"action": "pause" if _ % 2 == 0 else "play"})
        assert answer["state"] in ("paused", "running")
    manager.call("control", {"action": "pause"})
    held = manager.lab.session.step
    time.sleep(0.3)
    assert manager.lab.session.step == held
