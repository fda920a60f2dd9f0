"""Learning-rate schedules: callables mapping a step number (0, 1, 2, ...) to a learning rate.

* ``LinearSchedule(start, end, steps)``: ``start + (end - start) * step / steps``. micrograd's demo is
  ``LinearSchedule(1.0, 0.1, 100)``, i.e. its ``1.0 - 0.9 * k / 100``: the last of the 100 steps uses 0.109.
* ``StepSchedule(lr, step_size, gamma)``: multiply by ``gamma`` every ``step_size`` steps.
* ``CosineSchedule(lr, steps, min_lr)``: half a cosine from ``lr`` down to ``min_lr`` over ``steps`` steps.

``make_schedule(name, lr, steps)`` builds one by name with sensible defaults; ``jangrad.fit(schedule=...)``
accepts a name, a schedule or any function of the step.
"""

from __future__ import annotations

import math
import numbers

from .checks import real_number, whole_number

__all__ = ["LinearSchedule", "StepSchedule", "CosineSchedule", "make_schedule", "SCHEDULES"]


def _step_number(step: object) -> int:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
        raise ValueError(f"a schedule is called with a step number 0, 1, 2, ..., got {step!r}")
    return int(step)


class LinearSchedule:
    """Straight line from ``start`` (step 0) towards ``end`` (reached at step ``steps``; held after that)."""

    def __init__(self, start: float, end: float, steps: int) -> None:
        self.start = real_number(start, "start")
        self.end = real_number(end, "end")
        self.steps = whole_number(steps, "steps")

    def __call__(self, step: int) -> float:
        fraction = min(_step_number(step), self.steps) / self.steps
        return self.start + (self.end - self.start) * fraction

    def __repr__(self) -> str:
        return f"LinearSchedule({self.start!r}, {self.end!r}, {self.steps!r})"


class StepSchedule:
    """``lr * gamma ** (step // step_size)``: drop by a factor ``gamma`` every ``step_size`` steps."""

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1) -> None:
        self.lr = real_number(lr, "lr")
        self.step_size = whole_number(step_size, "step_size")
        self.gamma = real_number(gamma, "gamma")

    def __call__(self, step: int) -> float:
        return self.lr * self.gamma ** (_step_number(step) // self.step_size)

    def __repr__(self) -> str:
        return f"StepSchedule({self.lr!r}, {self.step_size!r}, gamma={self.gamma!r})"


class CosineSchedule:
    """``min_lr + (lr - min_lr) * (1 + cos(pi * step / steps)) / 2``; ``min_lr`` from step ``steps`` on."""

    def __init__(self, lr: float, steps: int, min_lr: float = 0.0) -> None:
        self.lr = real_number(lr, "lr")
        self.steps = whole_number(steps, "steps")
        self.min_lr = real_number(min_lr, "min_lr")

    def __call__(self, step: int) -> float:
        fraction = min(_step_number(step), self.steps) / self.steps
        return self.min_lr + (self.lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * fraction))

    def __repr__(self) -> str:
        return f"CosineSchedule({self.lr!r}, {self.steps!r}, min_lr={self.min_lr!r})"


SCHEDULES = ("constant", "linear", "step", "cosine")


def make_schedule(name: str, lr: float, steps: int) -> LinearSchedule | StepSchedule | CosineSchedule:
    """A schedule by name over a run of ``steps`` steps starting at ``lr``.

    "constant": always ``lr``; "linear": ``lr`` to ``lr / 10`` (micrograd's demo); "step": divide by 10 at a third
    and at two thirds of the run; "cosine": ``lr`` to 0.
    """
    lr = real_number(lr, "lr")
    steps = whole_number(steps, "steps")
    if name == "constant":
        return LinearSchedule(lr, lr, steps)
    if name == "linear":
        return LinearSchedule(lr, lr / 10.0, steps)
    if name == "step":
        return StepSchedule(lr, max(1, math.ceil(steps / 3)), 0.1)
    if name == "cosine":
        return CosineSchedule(lr, steps)
    raise ValueError(f"unknown schedule {name!r}: expected one of {', '.join(SCHEDULES)}")
