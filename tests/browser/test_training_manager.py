"""The training manager without a browser: one run at a time, exact single steps, a quick stop."""

from __future__ import annotations

import threading
import time

from jangrad.playground.training import TrainingManager

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
    starters = [threading.Thread(target=lambda: answers.append(manager.start({"config": SMALL, "paused": True})))
                for _ in range(2)]
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
        wait_until(lambda: run.state == "paused" and len(run.losses) == expected)
        time.sleep(0.1)
        assert len(run.losses) == expected
    manager.control({"action": "reset"})
    assert manager.run is None and not run.thread.is_alive()
