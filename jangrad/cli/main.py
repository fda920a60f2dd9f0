"""The ``jangrad`` command: argument parsing and error handling for the subcommands.

``jangrad demo | train | graph | explain | gradcheck | sweep | check | serve | site``; ``python -m jangrad`` is the
same. This file only reads arguments and reports errors: the expression commands live in ``expressions.py``, the
training ones in ``training.py`` (on the run recipe, ``jangrad/recipe.py``), ``check`` in ``check.py``, ``serve`` in
``playground/cli.py`` and ``site`` in ``site.py``. A command-line user should never see a traceback: every bad
argument, unreadable expression or missing file ends with one line on stderr and exit status 2; a failed gradcheck or
a diverged run exits 1.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from .._version import __version__
from ..recipe import ACTIVATIONS, LOSSES, NAMED, OPTIMIZERS, SCHEDULES
from .errors import UsageError

__all__ = ["main", "build_parser", "UsageError"]


class _Parser(argparse.ArgumentParser):
    """argparse prints the usage block and the error on two or more lines; we want exactly one line."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _number(
    text: str, convert: Callable[[str], float], accept: Callable[[float], bool], unreadable: str, refused: str
) -> float:
    """``convert(text)`` if it reads and ``accept`` takes it; otherwise argparse's one-line error, worded
    ``unreadable`` or ``refused`` (e.g. "a positive number"), with the text as given."""
    try:
        number = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {unreadable}, got {text!r}") from None
    if not accept(number):
        raise argparse.ArgumentTypeError(f"expected {refused}, got {text!r}")
    return number


def _positive_int(text: str) -> int:
    return int(_number(text, int, lambda n: n >= 1, "a positive whole number", "a positive whole number"))


def _positive_float(text: str) -> float:
    return _number(text, float, lambda x: 0 < x < math.inf, "a positive number", "a positive finite number")


def _non_negative_float(text: str) -> float:
    return _number(text, float, lambda x: 0 <= x < math.inf, "a number", "a finite number of at least 0")


def _fraction(text: str) -> float:
    return _number(
        text, float, lambda x: 0 < x < 1, "a fraction between 0 and 1", "a fraction between 0 and 1 (both excluded)"
    )


SEED_LIMIT = 2**32 - 1  # scikit-learn's random_state, which makes and splits the data sets, takes no more


def _seed(text: str) -> int:
    wanted = f"a whole number from 0 to {SEED_LIMIT}"
    return int(_number(text, int, lambda n: 0 <= n <= SEED_LIMIT, wanted, wanted))


def _widths(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",")]
    if not any(parts) or not all(parts):  # "16,,16" is a typo, not two layers
        raise argparse.ArgumentTypeError(f"expected layer widths like 16,16, got {text!r}")
    return [_positive_int(p) for p in parts]


_EXAMPLES = {
    "demo": "example:\n  jangrad demo --out jangrad-out",
    "train": (
        "examples:\n  jangrad train --data moons --hidden 16,16 --activation relu --loss hinge --optimizer sgd "
        "--lr 0.1 --schedule linear --steps 100 --seed 0 --out runs/moons\n"
        "  jangrad train --data circles --samples 300 --noise 0.1 --test-split 0.25 --hidden 16,16 --steps 300\n"
        "  jangrad train --data my.csv --target label --loss bce --optimizer adam --lr 0.01 --out runs/csv"
    ),
    "graph": 'example:\n  jangrad graph "tanh(a * b + c)" --set a=2 b=-3 c=10 --out graph.svg',
    "explain": 'example:\n  jangrad explain "e = a * b; d = e + c" --set a=2 b=-3 c=10',
    "gradcheck": 'example:\n  jangrad gradcheck "sigmoid(a) * log(b) ** 2" --set a=0.5 b=3 --order 2',
    "sweep": "example:\n  jangrad sweep --data seed4 --lr 0.1 0.005 --steps 50 1000 --out sweep",
}

DATASETS = NAMED
_OUT_FOLDER_HELP = "output folder (default ./jangrad-out), created with any missing parent folders"


def _subparser(commands: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=_EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_expression_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "expression",
        type=str.strip,
        help="e.g. 'tanh(a * b + c)', or lines 'name = expression'; "
        "allowed: numbers, the --set names, + - * / **, and tanh exp log relu sigmoid gelu sqrt abs "
        "leaky_relu erf",
    )
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="NAME=NUMBER",
        dest="variables",
        help="the inputs, e.g. --set a=2 b=-3 c=10",
    )


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="seed4", help=f"{'|'.join(DATASETS)} or a PATH.csv (default seed4)")
    parser.add_argument("--target", default=None, help="for a CSV file: the target column (default: the last)")
    parser.add_argument(
        "--samples",
        type=_positive_int,
        default=None,
        help="for moons and circles: how many points (default 100); for spiral: per class (40)",
    )
    parser.add_argument(
        "--noise",
        type=_non_negative_float,
        default=None,
        help="for moons, circles and spiral: the noise (defaults 0.1, 0.05 and 0.2)",
    )
    parser.add_argument("--hidden", type=_widths, default=[16, 16], help="hidden layer widths (default 16,16)")
    parser.add_argument("--activation", choices=ACTIVATIONS, default="relu", help="hidden activation (relu)")
    parser.add_argument("--output-activation", choices=ACTIVATIONS, default="linear", help="output activation (linear)")
    parser.add_argument(
        "--loss",
        choices=LOSSES,
        default=None,
        help="default: sse for seed4 (as in the lecture), hinge for two classes, ce for more, mse for regression",
    )
    parser.add_argument(
        "--optimizer", choices=OPTIMIZERS, default=None, help="default: adam for seed4, sgd for the rest"
    )
    parser.add_argument("--schedule", choices=SCHEDULES, default="none", help="learning-rate schedule (default none)")
    parser.add_argument("--batch-size", type=_positive_int, default=None, help="samples per step (default all)")
    parser.add_argument("--seed", type=_seed, default=0, help=f"random seed, 0 to {SEED_LIMIT} (default 0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jangrad",
        description="jangrad: see backpropagation work, from one expression to a trained network.",
        epilog="run 'jangrad COMMAND --help' for an example of each command.",
    )
    parser.add_argument("--version", action="version", version=f"jangrad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = _subparser(
        commands,
        "demo",
        "the lecture in one run: an expression drawn with its gradients, then "
        "MLP(3, [4, 4, 1]) trained on the 4-sample dataset",
    )
    demo.add_argument("--out", default="jangrad-out", help=_OUT_FOLDER_HELP)
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")

    train = _subparser(
        commands, "train", "train an MLP and write model.json, history.csv, loss.png (and boundary.png for 2-D data)"
    )
    _add_model_arguments(train)
    train.add_argument(
        "--lr", type=_positive_float, default=None, help="learning rate (default: 0.01 for seed4, 0.1 for the rest)"
    )
    train.add_argument("--steps", type=_positive_int, default=100, help="optimizer steps (default 100)")
    train.add_argument(
        "--test-split",
        type=_fraction,
        default=None,
        metavar="FRACTION",
        help="hold out this fraction of the samples and report the model's loss and accuracy on "
        "them after training (default: train on all)",
    )
    train.add_argument("--out", default="jangrad-out", help=_OUT_FOLDER_HELP)
    train.add_argument(
        "--export-torch",
        metavar="FILE.py",
        default=None,
        help="instead of training, write a PyTorch script that trains the same model on the same "
        "data (python FILE.py, or torchrun --nproc_per_node=N FILE.py)",
    )

    for name, text in (
        ("graph", "draw an expression's graph with its gradients (SVG, PNG or DOT)"),
        ("explain", "run backward on an expression and narrate every step"),
        ("gradcheck", "compare an expression's gradients with central differences"),
    ):
        sub = _subparser(commands, name, text)
        _add_expression_arguments(sub)
        if name == "graph":
            sub.add_argument(
                "--out",
                default="graph.svg",
                help="file to write: .svg, .png or .dot (default graph.svg); missing folders are created",
            )
            sub.add_argument("--rankdir", choices=("LR", "TB"), default="LR", help="layout direction (LR)")
            sub.add_argument(
                "--renderer",
                choices=("auto", "graphviz", "builtin"),
                default="auto",
                help="who draws SVG and PNG: Graphviz's dot (an error when it is not installed), the built-in "
                "renderer, or auto (dot when installed, else built-in)",
            )
        if name == "gradcheck":
            sub.add_argument("--order", type=int, choices=(1, 2), default=1, help="1 or 2 (default 1)")
            sub.add_argument("--eps", type=_positive_float, default=1e-6, help="finite-difference step (1e-6)")
            sub.add_argument(
                "--out",
                default=None,
                metavar="FILE",
                help="on failure, draw the graph with the culprit highlighted into FILE (.svg, .png or .dot); "
                "missing folders are created",
            )

    sweep = _subparser(
        commands,
        "sweep",
        "one run per learning rate, their loss curves on one figure (sweep.png: a linear loss axis beside a log one)",
    )
    _add_model_arguments(sweep)
    sweep.add_argument("--lr", type=_positive_float, nargs="+", required=True, help="learning rates")
    sweep.add_argument(
        "--steps",
        type=_positive_int,
        nargs="+",
        default=[100],
        help="steps per run: one number for all, or one per learning rate",
    )
    sweep.add_argument("--out", default="jangrad-out", help=_OUT_FOLDER_HELP)

    from . import check

    check_parser = commands.add_parser(
        "check",
        help=check.HELP,
        description=check.HELP,
        epilog=check.EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_arguments(check_parser, _positive_float, _positive_int)

    from ..playground.cli import add_serve_command

    add_serve_command(commands)
    from .site import add_site_command

    add_site_command(commands)
    return parser


def _expression_kept_whole(argv: list[str]) -> list[str]:
    """argparse would read an expression that starts with a minus (``jangrad explain "-a*b"``) as an option: for
    the expression commands, whose only short option is -h, such an argument gets a leading space, which tells
    argparse it is a value (the expression parser ignores it)."""
    if not argv or argv[0] not in ("graph", "explain", "gradcheck"):
        return argv
    return [f" {a}" if a.startswith("-") and not a.startswith("--") and a != "-h" and len(a) > 1 else a for a in argv]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (the console script passes it to sys.exit)."""
    parser = build_parser()
    try:
        args = parser.parse_args(_expression_kept_whole(sys.argv[1:] if argv is None else list(argv)))
        if args.command is None:
            parser.error("choose a command: demo, train, graph, explain, gradcheck, sweep, check, serve or site")
    except SystemExit as stop:  # --help (0) or a one-line argument error (2)
        return int(stop.code or 0)
    try:
        if args.command in ("serve", "site"):
            return args.func(args)
        if args.command == "check":
            from . import check

            return check.run(args)
        if args.command in ("graph", "explain", "gradcheck"):
            from . import expressions

            return expressions.run(args)
        from . import training

        return training.run(args)
    except SystemExit as stop:
        return int(stop.code or 0)
    except KeyboardInterrupt:
        sys.stderr.write("jangrad: interrupted\n")
        return 130
    except BrokenPipeError:  # the reader went away (``jangrad demo | head``): nothing more to say to anyone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the interpreter's last flush is quiet
        return 0
    except Exception as error:  # never a traceback; JANGRAD_DEBUG=1 shows it for developers
        if os.environ.get("JANGRAD_DEBUG"):
            raise
        return _report(args.command, error)


def _report(command: str, error: Exception) -> int:
    from ..extras import MissingExtraError
    from ..io.expr import ExpressionError

    message = " ".join(str(error).split()) or type(error).__name__  # one line, whatever the message held
    user_errors = (UsageError, ExpressionError, MissingExtraError, ValueError, TypeError, KeyError, OSError)
    if isinstance(error, user_errors):
        if isinstance(error, FileNotFoundError) and error.filename and error.strerror:
            message = f"{error.strerror}: {error.filename}"
        sys.stderr.write(f"jangrad {command}: error: {message}\n")
        return 2
    sys.stderr.write(f"jangrad {command}: {type(error).__name__}: {message}\n")
    return 1
