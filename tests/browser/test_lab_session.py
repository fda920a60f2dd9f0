"""The network lab without a browser or a thread: the session a caller steps, the pictures both ways, the pace,
the learner's own points, the sample on screen and the optimizer's state."""

from __future__ import annotations

import base64
import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jangrad import train
from jangrad.nn import MLP
from jangrad.playground import api, pictures
from jangrad.playground.config import parse_config
from jangrad.playground.session import Session
from jangrad.recipe import build

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"data": "moons", "samples": 40, "layers": "4", "steps": 30}


def session(backend: str | None = None, compiled: bool | None = None, **fields) -> Session:
    return Session(parse_config({**SMALL, **fields}), 1, backend=backend, compiled=compiled)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "eager"])
def test_a_session_steps_exactly_as_fit(compiled):
    """fit's loop, step for step: batches, schedule, Adam, accuracy; on the tape and on the eager engine."""
    fields = {
        "data": "circles",
        "samples": 30,
        "layers": "3,3",
        "optimizer": "adam",
        "lr": 0.05,
        "batch": 7,
        "schedule": "cosine",
        "steps": 25,
        "seed": 4,
    }
    run = session(compiled=compiled, **fields)
    assert run.advance(10) == 10 and run.advance(100) == 15 and run.state == "done"
    problem = build(run.recipe)
    history = train.fit(
        problem.model,
        problem.X,
        problem.y,
        loss=problem.loss,
        progress=False,
        compiled=compiled,
        **run.recipe.fit_options(),
    )
    assert run.losses == history.loss and run.lrs == history.lr and run.accuracies == history.accuracy
    run.sync()
    assert [p.data for p in run.params] == [p.data for p in problem.model.parameters()]


def test_pictures_in_plain_python_equal_the_numpy_ones():
    box = [-1.5, 2.5, -1.2, 1.4]
    for activation, loss, sizes in [("tanh", "hinge", [5, 4, 1]), ("relu", "bce", [6, 1]), ("gelu", "ce", [4, 3])]:
        model = MLP(2, sizes, activation=activation, seed=3)
        made = {b: pictures.pictures(model, None, box, 20, 8, loss, b) for b in pictures.BACKENDS}
        assert made["numpy"] == made["python"], (activation, loss)
        heat = base64.b64decode(made["numpy"]["heat"])
        assert len(heat) == (2 + sum(sizes)) * 8 * 8 and len(set(heat)) > 10


def test_a_page_running_without_numpy_trains_and_draws(tmp_path):
    """The path a page running jangrad in a Web Worker takes (no NumPy there): the eager engine for the steps and
    the weights in plain Python for the pictures, driven by a loop instead of a thread."""
    script = textwrap.dedent(
        """
        import json, sys

        class NoNumpy:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("numpy", "sklearn", "scipy", "igraph", "matplotlib"):
                    raise ImportError(f"no {name} here")

        sys.meta_path.insert(0, NoNumpy())
        from jangrad.playground import api

        lab = api.Lab()
        summary = lab.start({"config": {"data": "xor", "layers": "4", "lr": 0.5, "steps": 200}, "paused": False,
                             "pace": "max"})
        cursor = api.FrameCursor()
        now, frames = 0.0, []
        while lab.state() == "running":
            lab.tick(now)
            if lab.frame_due(now):
                frames.append(cursor.fill(lab.frame(now), lab.session))
            now += 0.05
        frames.append(cursor.fill(lab.frame(now), lab.session))
        drawing = lab.select({"sample": 2})
        steps = lab.sample_steps({})["steps"]
        sample = lab.frame(now)["sample"]
        print(json.dumps({"summary": summary, "frames": frames, "numpy": "numpy" in sys.modules,
                          "drawing": drawing, "steps": len(steps), "sample": sample}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": str(tmp_path)},  # no Graphviz either
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["numpy"] is False
    assert result["summary"]["backend"] == "python" and result["summary"]["compiled"] is False
    last = result["frames"][-1]
    assert last["state"] == "done" and last["step"] == 200
    losses = [loss for frame in result["frames"] for loss in frame["losses"]]
    assert len(losses) == 200 and losses[-1] < losses[0] / 5
    grid = result["summary"]["grid"]
    assert len(base64.b64decode(last["boundary"])) == grid * grid and last["heat"]
    # a sample's graph cannot be laid out there (the built-in layout needs igraph), but it says so in its note, and
    # its loss and the stepper still work
    assert result["drawing"]["svg"] is None and "not drawn here: no igraph" in result["drawing"]["note"]
    assert result["steps"] > 20 and result["sample"]["index"] == 2


def test_the_pace_sets_the_steps_per_second_and_a_tick_is_bounded():
    lab = api.Lab()
    lab.start({"config": {**SMALL, "steps": 5000}, "paused": False, "pace": 10})
    ran = sum(lab.tick(t / 100) for t in range(201))  # two seconds of ticks every 10 ms
    assert 19 <= ran <= 21
    lab.control({"action": "pace", "pace": 200})
    ran = sum(lab.tick(2.0 + t / 100) for t in range(101))
    assert 190 <= ran <= 210
    lab.control({"action": "pace", "pace": "max"})
    assert lab.tick(4.0) > 1, "as fast as it goes: as many steps as fit in one tick's slice of time"
    lab.control({"action": "pause"})
    assert lab.tick(10.0) == 0
    lab.control({"action": "step"})
    assert lab.tick(10.0) == 1 and lab.tick(10.0) == 0
    with pytest.raises(ValueError, match="pace must be"):
        lab.control({"action": "pace", "pace": "fast"})


def test_the_test_curve_is_dense_at_every_length():
    short = session(test=0.25, steps=60)
    short.advance(60)
    assert [step for step, _ in short.test_losses] == list(range(61))
    long = session(test=0.25, steps=2000)
    long.advance(2000)
    steps = [step for step, _ in long.test_losses]
    assert len(steps) >= 400 and steps[0] == 0 and steps[-1] == 2000


def test_a_point_added_before_the_first_step_restarts_the_run_on_a_csv_that_repeats_it(tmp_path):
    lab = api.Lab()
    lab.start({"config": {**SMALL, "steps": 20}, "paused": True})
    before = lab.session.number
    answer = lab.edit({"action": "add", "x": 0.5, "y": 0.25, "class": 1})
    assert answer["summary"]["run"] == before + 1 and answer["edited_at"] is None
    points = answer["summary"]["points"]
    assert len(points) == 41 and [0.5, 0.25, 1, 0] in points
    assert answer["summary"]["config"]["data"] == "csv"
    lab.edit({"action": "remove", "index": 0})
    assert len(lab.session.problem.X) == 40
    csv_text = lab.edit({"action": "add", "x": -1.0, "y": 1.0, "class": 0})["csv"]
    lab.control({"action": "play"})
    lab.control({"action": "pace", "pace": "max"})
    while lab.state() == "running":
        lab.tick(0.0)
    config = {**lab.session.config.public(), "csv": csv_text}
    command = api.command({"config": config})
    assert command["note"] == "" and command["command"].startswith("cat > data.csv <<'JANGRAD_CSV'\n")
    script = tmp_path / "repeat.sh"
    out = tmp_path / "cli"
    script.write_text(
        command["command"]
        .replace("--out jangrad-out", f"--out {out} --no-progress")
        .replace("jangrad train", f"{sys.executable} -m jangrad train")
    )
    done = subprocess.run(
        ["bash", str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    cli = [float(row["loss"]) for row in csv.DictReader(io.StringIO((out / "history.csv").read_text()))]
    assert len(cli) == len(lab.session.losses) == 20
    assert all(abs(a - b) <= 1e-12 for a, b in zip(cli, lab.session.losses, strict=True))  # BLAS's own rounding


def test_a_point_added_mid_run_trains_at_once_and_the_command_says_it_cannot_repeat():
    lab = api.Lab()
    lab.start({"config": SMALL, "paused": True})
    for _ in range(5):
        lab.control({"action": "step"})
        lab.tick(0.0)
    run = lab.session
    answer = lab.edit({"action": "add", "x": 3.0, "y": 3.0, "class": 0})
    assert lab.session is run and answer["edited_at"] == 5 and len(run.problem.X) == 41
    assert run.problem.X[-1] == [3.0, 3.0] and run.problem.y[-1] == -1.0  # hinge codes class 0 as -1
    lab.control({"action": "step"})
    lab.tick(0.0)
    assert run.step == 6 and run.state == "training"
    note = api.command(
        {
            "config": {**run.config.public(), "data": "csv", "csv": answer["csv"], "target": answer["target"]},
            "edited_at": 5,
        }
    )["note"]
    assert "changed at step 5" in note and "differ" in note
    fresh = lab.control({"action": "reset"})  # the same settings, and the data as the learner left it
    assert fresh["run"] == run.number + 1 and fresh["state"] == "ready" and len(fresh["points"]) == 41
    assert fresh["config"]["data"] == "csv" and lab.session.step == 0
    with pytest.raises(ValueError, match="class must be"):
        lab.edit({"action": "add", "x": 0.0, "y": 0.0, "class": 7})
    with pytest.raises(ValueError, match="finite"):
        lab.edit({"action": "add", "x": float("nan"), "y": 0.0, "class": 0})


def test_points_cannot_be_placed_where_there_is_no_plane():
    lab = api.Lab()
    summary = lab.start({"config": {"data": "seed4", "layers": "4"}, "paused": True})
    assert "3 inputs, not 2" in summary["editable"]
    with pytest.raises(ValueError, match="3 inputs, not 2"):
        lab.edit({"action": "add", "x": 0.0, "y": 0.0, "class": 0})


def test_adam_state_of_the_chosen_parameter_moves_and_explains_the_step():
    run = session(optimizer="adam", lr=0.05)
    run.select_parameter(3)
    states = []
    for _ in range(3):
        run.advance(1)
        states.append(run.frame()["parameter"])
    assert [s["t"] for s in states] == [1, 2, 3]
    assert len({s["m"] for s in states}) == 3 and len({s["v"] for s in states}) == 3
    for state in states:
        assert state["update"] == pytest.approx(state["moved"], rel=1e-9, abs=1e-15)
        assert state["name"] == "layers.0.neurons.1.w.0"  # neuron 0 holds w.0, w.1 and b
    sgd = session()
    sgd.select_parameter(0)
    sgd.advance(2)
    state = sgd.frame()["parameter"]
    assert state["velocity"] is None and state["update"] == pytest.approx(-0.1 * state["grad"])
    assert state["moved"] == pytest.approx(state["update"], rel=1e-9)


def test_the_sample_on_screen_is_live_and_its_steps_name_their_box():
    run = session(layers="3,3", steps=200)
    drawing = run.select_sample(5)
    assert drawing["svg"].startswith("<svg") and drawing["values"]["index"] == 5
    titles = drawing["titles"]
    first = run.frame()["sample"]
    run.advance(40)
    later = run.frame()["sample"]
    assert set(first["boxes"]) == set(later["boxes"]) == set(drawing["values"]["boxes"])
    assert first["boxes"] != later["boxes"], "training moves the sample's numbers"
    steps = run.sample.steps()["steps"]
    inside = [step for step in steps if step["box"].startswith("g") and step["where"]]
    assert len(inside) > len(steps) / 2
    for step in inside:  # "v108, in layers.0.neurons.3:", the name the lit box is titled with
        assert step["lines"][0] == f"{step['name']}, in {step['where']}:"
        assert titles[step["box"]].startswith(step["where"]) and step["where"] in drawing["svg"]
    for name, box in drawing["boxes"].items():
        assert box == name or box in titles


def test_a_sample_whose_loss_is_0_says_why_every_gradient_is_0():
    run = session(layers="6,6", steps=300, samples=60)
    run.advance(300)
    zero = None
    for index in range(60):
        run.select_sample(index)
        values = run.frame()["sample"]
        if values["loss"] == "0.0":
            zero = values
            break
    assert zero is not None, "a trained hinge network has samples beyond the margin"
    assert "loss is 0" in zero["note"] and "margin" in zero["note"]
    assert {grad for _, grad in zero["boxes"].values()} <= {"0.0", "1.0"}  # only the loss's own seed is not 0
    steps = run.sample.steps()["steps"]
    assert any("loss is 0" in line for line in steps[0]["lines"])


def test_a_frame_cursor_sends_every_loss_once():
    lab = api.Lab()
    lab.start({"config": {**SMALL, "test": 0.25}, "paused": False, "pace": "max"})
    one, two = api.FrameCursor(), api.FrameCursor()
    lab.tick(0.0)
    first = one.fill(lab.frame(0.0), lab.session)
    assert first["from"] == 0 and len(first["losses"]) == first["step"] and first["points"]
    while lab.state() == "running":
        lab.tick(1.0)
    last = one.fill(lab.frame(2.0), lab.session)
    late = two.fill(lab.frame(3.0), lab.session)
    assert last["from"] == first["step"] and "points" not in last
    assert len(first["losses"]) + len(last["losses"]) == len(late["losses"]) == 30
    assert late["test_losses"] == [list(p) for p in lab.session.test_losses]
