"""A bad value of a training flag, said in the command line's words: every message names the flag.

argparse already checks each flag's own form (``--steps 0``, ``--lr nan``). What it cannot know is checked here,
before any work: a flag that does not apply to the chosen data set (``--samples`` for seed4, ``--target`` for a
named set). The rest is only found while the run is built (a set too small to hold out ``--test-split``, a CSV file
without the ``--target`` column, 1 sample for moons), by the library, which speaks of its own parameters (``n``,
``test_split``, ``loss``): ``reworded`` puts the flag in their place.
"""

from __future__ import annotations

import argparse
import re

from ..data import CSVError
from ..recipe import GENERATED, NAMED
from .errors import UsageError

__all__ = ["check_applicable", "reworded"]

# The library's parameter names, as the flags that set them. ``n`` is a generator's sample count (per class for
# spiral), which --samples sets.
_FLAGS = {
    "data": "--data",
    "target": "--target",
    "samples": "--samples",
    "n": "--samples",
    "noise": "--noise",
    "test_split": "--test-split",
    "hidden": "--hidden",
    "activation": "--activation",
    "output_activation": "--output-activation",
    "loss": "--loss",
    "optimizer": "--optimizer",
    "lr": "--lr",
    "schedule": "--schedule",
    "steps": "--steps",
    "batch_size": "--batch-size",
    "seed": "--seed",
}
_LEADING_NAME = re.compile(r"[a-z_]+(?=[ :])")
_ABOUT_THE_TARGET = ("no column named", "target column")  # load_csv's words for a --target that is not there


def check_applicable(args: argparse.Namespace) -> None:
    """Refuse a flag given for a data set it does not apply to, rather than ignore it."""
    if args.data not in GENERATED:
        given = [flag for flag, value in (("--samples", args.samples), ("--noise", args.noise)) if value is not None]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise UsageError(f"{' and '.join(given)} {verb} only to {', '.join(GENERATED)}, not to --data {args.data}")
    if args.target is not None and args.data in NAMED:
        raise UsageError(f"--target applies only to a CSV file, not to --data {args.data}")


def reworded(error: ValueError, args: argparse.Namespace) -> UsageError:
    """``error``, raised while building the run the flags describe, as a message naming the flag."""
    message = " ".join(str(error).split())
    if isinstance(error, CSVError):  # its message starts with the file's name, the value of --data
        if args.target is not None and any(about in message for about in _ABOUT_THE_TARGET):
            return UsageError(f"--target {args.target}: {message}")
        return UsageError(f"--data {message}")
    name = _LEADING_NAME.match(message)
    if name and name.group() in _FLAGS:
        flag = _FLAGS[name.group()]
        rest = message[name.end() :].replace(f"use {name.group()} ", f"use {flag} ")  # "use loss ce"
        return UsageError(flag + rest)
    return UsageError(f"--data {args.data}: {message}")  # about the data itself ("a single class")
