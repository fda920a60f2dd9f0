"""``check_engine``: the whole check of a learner's engine, from finding what it supports to the report card.

The order matters for the diagnosis: every form alone first (its local rule), then the graphs that need several
rules to cooperate (a leaf used twice, nodes used at different depths, generated graphs using only the forms that
passed alone), so that a failure in a bigger graph can be blamed on accumulation or order rather than on a rule
already known to be wrong. The limits come last and only ever produce notes.
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import time

from .blame import diagnose, explain_single
from .forms import FORMS
from .loading import EngineError, parse_target
from .probes import accumulation_program, order_program
from .report import CheckLine, Report
from .session import Outcome, Session

__all__ = ["check_engine", "DEPTHS"]

DEPTHS = (100, 500, 1000, 5000, 20000)
"""Chain lengths tried for the depth note, in order, stopping at the first that fails."""


def check_engine(engine: type | str | os.PathLike, *, timeout: float = 10.0, examples: int = 200) -> Report:
    """Check a micrograd-style ``Value`` class: every op it supports alone, a leaf used twice, nodes used at
    different depths, and ``examples`` generated graphs (shrunk to the smallest failing one), against jangrad's op
    table and central differences. Returns a ``Report``; print it, or let Jupyter display it.

    ``engine`` is the class, or a file name ``'my_engine.py'`` / ``'my_engine.py:Scalar'`` (the file is imported
    as a module, so its ``if __name__ == "__main__":`` block does not run). The learner's code runs in a worker
    process and each check gets ``timeout`` seconds. Raises EngineError (a ValueError) when the engine cannot be
    checked at all, FileNotFoundError for a missing file.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ValueError(f"examples must be a positive whole number, got {examples!r}")
    if isinstance(engine, (str, os.PathLike)):
        path, class_name = parse_target(os.fspath(engine))
        source: type | tuple = (path, class_name)
        label = f"class {class_name} from {path}"
    elif inspect.isclass(engine):
        module = getattr(engine, "__module__", "__main__")
        source = engine
        label = f"class {engine.__qualname__}" + (f" from module {module}" if module != "__main__" else "")
    else:
        raise EngineError(
            f"expected a class like micrograd's Value or a file name, got {engine!r} (a {type(engine).__name__})"
        )
    try:  # load it before the worker starts, so that every (re)started worker has it already
        import hypothesis  # noqa: F401

        have_hypothesis = True
    except ImportError:
        have_hypothesis = False

    started = time.perf_counter()
    report = Report(label)
    with Session(source, timeout) as session:
        session.start()
        if not session.isolated:
            report.notes.append(
                "this platform cannot fork a worker process, so the checks ran without a time limit in this process"
            )
        _discover(session, report)
        failing_forms = _check_forms(session, report)
        accumulates = _check_graph(
            session, report, "a leaf used twice", accumulation_program(report.supported_names), failing_forms, None
        )
        _check_graph(
            session,
            report,
            "nodes used at different depths",
            order_program(report.supported_names),
            failing_forms,
            accumulates,
            "d and e, each used next to the output and 3 steps below it",
        )
        if have_hypothesis:
            _check_random(session, report, failing_forms, accumulates, examples)
        else:
            report.notes.append(
                "random graphs were not checked: they need hypothesis, which jangrad's [check] extra installs: "
                'pip install "jangrad[check]"'
            )
        _limits(session, report)
    report.seconds = time.perf_counter() - started
    return report


def _form_text(name: str) -> str:
    form = FORMS[name]
    return form.text(["a", "b"], form.constants[0] if form.constants else None)


def _discover(session: Session, report: Report) -> None:
    for name in FORMS:
        outcome = session.run("discover", name)
        if outcome.status == "ok" and outcome.value is None:
            report.supported_names.append(name)
            report.supported.append(_form_text(name))
        elif outcome.status == "ok":
            report.unsupported.append((_form_text(name), outcome.value))
        else:  # its forward hung or crashed: that is a failure of a supported op, not a missing one
            report.lines.append(
                CheckLine(_form_text(name), "crashed", explanation=f"{_form_text(name)} {outcome.value}")
            )


def _problem_line(name: str, outcome: Outcome) -> CheckLine:
    return CheckLine(
        name,
        "crashed" if outcome.status != "timed out" else "timed out",
        explanation=f"the check raised {outcome.value}" if outcome.status == "raised" else outcome.value,
    )


def _check_forms(session: Session, report: Report) -> set[str]:
    failing = set()
    for name in report.supported_names:
        label = _form_text(name)
        outcome = session.run("op_points", name)
        if outcome.status != "ok":
            report.lines.append(_problem_line(label, outcome))
            failing.add(name)
            continue
        checked, cases = outcome.value
        if not cases:
            report.lines.append(CheckLine(label, "passed", f"{checked} points"))
            continue
        failing.add(name)
        how = "crashed" if all(case.problem for case in cases) else "wrong"
        report.lines.append(
            CheckLine(
                label,
                "failed",
                f"{how} at {len(cases)} of {checked} points",
                explain_single(cases[0], name),
                cases[0],
                len(cases[0].program.leaves),
            )
        )
    return failing


def _check_graph(
    session: Session,
    report: Report,
    name: str,
    program,
    failing_forms: set[str],
    accumulates: bool | None,
    summary: str | None = None,
) -> bool | None:
    """Run one fixed graph and add its line; returns whether it passed (None when it could not run)."""
    if program is None:
        report.notes.append(f"'{name}' was not checked: it needs a + b or a * b between two Values")
        return None
    outcome = session.run("run_program", program)
    if outcome.status != "ok":
        report.lines.append(_problem_line(name, outcome))
        return None
    case = outcome.value
    summary = summary or "; ".join(program.lines()[len(program.leaves) :])
    if not case.failed:
        report.lines.append(CheckLine(name, "passed", summary))
        return True
    culprit, text = diagnose(case, failing_forms, accumulates)
    report.lines.append(CheckLine(name, "failed", summary, text, case, culprit))
    return False


def _check_random(
    session: Session, report: Report, failing_forms: set[str], accumulates: bool | None, examples: int
) -> None:
    forms = [name for name in report.supported_names if name not in failing_forms]
    name = "random graphs"
    if not forms:
        report.notes.append("random graphs were not checked: no op passed alone")
        return
    outcome = session.run("random_graphs", forms, examples)
    if outcome.status != "ok":
        report.lines.append(_problem_line(name, outcome))
        return
    tried, case = outcome.value
    using = f"{len(forms)} ops that passed alone"
    if case is None:
        report.lines.append(CheckLine(name, "passed", f"{tried} graphs of the {using}"))
        return
    culprit, text = diagnose(case, failing_forms, accumulates)
    report.lines.append(
        CheckLine(
            name,
            "failed",
            f"shrunk to {case.program.size} nodes after {tried} graphs of the {using}",
            text,
            case,
            culprit,
        )
    )


def _limits(session: Session, report: Report) -> None:
    supported = report.supported_names
    chain = next((n for n in ("add", "mul", "sub") if n in supported), None)
    if chain is not None:
        _depth_note(session, report, chain)
        twice = session.run("backward_twice", next(n for n in ("mul", "add", "sub") if n in supported))
        report.notes.append(_twice_note(twice))
    if "exp" in supported:
        outcome = session.run("exp_overflow")
        if outcome.status == "ok":
            report.notes.append(
                f"exp(1000) {outcome.value}; jangrad and PyTorch give inf"
                if not outcome.value.startswith("gives inf")
                else "exp(1000) gives inf, as jangrad and PyTorch do"
            )
        else:
            report.notes.append(f"exp(1000): {outcome.value}")


def _depth_note(session: Session, report: Report, form_name: str) -> None:
    deepest = 0
    for n in DEPTHS:
        outcome = session.run("depth", form_name, n)
        if outcome.status == "ok" and outcome.value is None:
            deepest = n
            continue
        problem = outcome.value
        if deepest:
            text = f"backward() works on a chain {deepest} nodes deep but not on one {n} nodes deep ({problem})"
        else:
            text = f"backward() fails on a chain {n} nodes deep ({problem})"
        if "RecursionError" in str(problem) or outcome.status == "crashed":
            text += (
                f": a recursive topological sort stops near Python's recursion limit "
                f"({sys.getrecursionlimit()} calls). The lecture's graphs are far shallower; a long chain "
                f"(an RNN, many steps) needs a sort that keeps its own stack in a loop"
            )
        report.notes.append(text)
        return
    report.notes.append(f"backward() handled a chain {DEPTHS[-1]} nodes deep")


def _twice_note(outcome: Outcome) -> str:
    if outcome.status != "ok" or isinstance(outcome.value, str):
        return f"a second backward() on the same graph fails: {outcome.value}"
    first, second = outcome.value
    if all(abs(s - f) <= 1e-12 * max(1.0, abs(f)) for f, s in zip(first, second, strict=True)):
        return "a second backward() on the same graph leaves the gradients as they were (your engine resets them)"
    if all(abs(s - 2 * f) <= 1e-9 * max(1.0, abs(f)) for f, s in zip(first, second, strict=True)):
        return (
            f"a second backward() on the same graph doubles the gradients (a: {first[0]:g} -> {second[0]:g}): "
            f"it adds to .grad, as PyTorch does, so zero the gradients before each backward, as the lecture's "
            f"training loop does"
        )
    return (
        f"a second backward() on the same graph changes a's gradient from {first[0]:g} to {second[0]:g}, not "
        f"exactly double: the inner nodes kept their .grad from the first call and passed it on again. Zero "
        f"every gradient, or build the graph afresh, before calling it again"
    )
