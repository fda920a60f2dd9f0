"""What the page's check worker runs inside Pyodide: ``jangrad check`` on a class the learner typed into the page.

The command line runs the learner's code in a process it kills at a time limit (``jangrad/check/session.py``).
A browser tab has no processes to fork; it has Web Workers, which the page can end from outside. So here the
checks (``check.plan.run_checks``, the same as the command line's) get ``PageSession`` as their probe runner: it
runs each probe in this worker and tells the page as each one starts. When one runs past the time limit the page
ends the worker, starts a fresh one and asks again, naming the probe that hung. The fresh worker runs the same
probes in the same order (the check is deterministic: hypothesis is derandomized), answers "timed out" for the one
that hung instead of running it, and goes on: the checks then skip every later probe that would call the same
``backward()``, as they do on the command line, so a hang costs its limit once. Should another probe hang all the
same, ``max_hangs`` bounds the cost: after that many, later probes are not run.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import cast

from ..check.loading import EngineError, load_class, parse_target, require_value_like
from ..check.plan import run_checks
from ..check.probes import PROBES, Outcome
from ..check.program import describe_error
from ..check.report import Report

__all__ = ["PageSession", "check_source", "warm_up", "ENGINE_FILE", "LOADING"]

ENGINE_FILE = "my_engine.py"  # the learner's code is saved under this name; the report calls it so
LOADING = "loading your code"  # the name the page is told while the class is imported
MAX_SOURCE_CHARS = 200_000
Announce = Callable[[int, str, str], object]


class PageSession:
    """Runs each probe in this worker, after telling the page which one starts: ``announce(index, name, detail)``,
    index -1 for loading the class, detail the op a probe is about (if any). ``hung`` maps the index of each probe
    that ran past the time limit in an earlier worker to (its name, "timed out" or "crashed"); those are answered
    without running them."""

    isolated = True  # the time limit is the page's: it ends this worker

    def __init__(
        self,
        source: tuple[Path, str],
        timeout: float,
        announce: Announce,
        hung: dict[int, tuple[str, str]],
        max_hangs: int,
    ) -> None:
        self.source = source
        self.timeout = timeout
        self.announce = announce
        self.hung = hung
        self.max_hangs = max_hangs
        self.count = 0
        self._class: type | None = None

    def start(self) -> None:
        if self._class is not None:
            return
        if -1 in self.hung:
            raise EngineError(
                f"loading your code did not finish in {self.timeout:g} s: does it loop or train something when "
                f"it is imported? Put that under if __name__ == '__main__':"
            )
        self.announce(-1, LOADING, "")
        with _quiet():
            cls = load_class(*self.source)
            require_value_like(cls)
        self._class = cls

    def run(self, name: str, *arguments: object) -> Outcome:
        index = self.count
        self.count += 1
        earlier = self.hung.get(index)
        if earlier is not None and earlier[0] == name:
            return self._hung_outcome(earlier[1])
        if len(self.hung) >= self.max_hangs and index > max(self.hung):
            return Outcome(
                "timed out",
                f"not run: {len(self.hung)} checks already ran out of time, so the rest were skipped; fix that first",
            )
        self.start()
        self.announce(index, name, arguments[0] if arguments and isinstance(arguments[0], str) else "")
        with _quiet():
            try:
                probe = cast(Callable[..., object], PROBES[name])  # PROBES mixes signatures
                return Outcome("ok", probe(self._class, *arguments))
            except BaseException as error:  # even SystemExit: a probe must always answer
                return Outcome("raised", describe_error(error))

    def _hung_outcome(self, how: str) -> Outcome:
        if how == "crashed":
            return Outcome("crashed", "the Python running your engine in the page crashed")
        return Outcome("timed out", f"no answer within {self.timeout:g} s, so the page stopped it")

    def close(self) -> None:
        pass

    def __enter__(self) -> PageSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _quiet() -> Iterator[None]:
    """The learner's prints go nowhere (not into the report, not into the page's console)."""
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        yield


def _number(params: dict, key: str, default: float, kind: type) -> float:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:
        raise ValueError(f"{key} must be a positive number, got {value!r}")
    return kind(value)


def _hung(entries: object) -> dict[int, tuple[str, str]]:
    if not isinstance(entries, list):
        raise ValueError("hung must be a list of [index, name, how]")
    hung = {}
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], int)):
            raise ValueError(f"expected [index, name, how] in hung, got {entry!r}"[:200])
        hung[entry[0]] = (str(entry[1]), "crashed" if entry[2] == "crashed" else "timed out")
    return hung


def _save_source(source: str) -> Path:
    """Write the learner's code to ENGINE_FILE in a folder of its own, which becomes the working folder, so that
    the report names the file as the learner would ("class Value from my_engine.py")."""
    folder = Path(tempfile.gettempdir()) / "jangrad-check"
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    Path(ENGINE_FILE).write_text(source, encoding="utf-8")
    sys.modules.pop(Path(ENGINE_FILE).stem, None)  # the learner's previous version must not answer for this one
    return Path(ENGINE_FILE)


def check_source(params_json: str, announce: Announce) -> str:
    """Check the class named ``class_name`` in ``source`` and answer JSON text: ``{"result": {"text", "verdict",
    "passed", "lines", "drawings"}}``, or ``{"error": "<one line>"}`` when the engine cannot be checked at all.

    ``params``: source, class_name ("Value"), timeout (seconds per probe, 10), examples (random graphs, 200),
    hung ([index, name, how] of probes that ran past the limit in an earlier worker), max_hangs (2) and spent
    (the seconds earlier workers took, for the report's total).
    """
    try:
        params = json.loads(params_json)
        source, class_name = params.get("source"), params.get("class_name", "Value")
        if not isinstance(source, str) or not source.strip():
            raise ValueError("there is no code to check: write or paste your Value class first")
        if len(source) > MAX_SOURCE_CHARS:
            raise ValueError(f"the code is {len(source)} characters; the limit is {MAX_SOURCE_CHARS}")
        if not isinstance(class_name, str) or not class_name.isidentifier():
            raise ValueError(f"the class name must be a Python name, got {class_name!r}"[:200])
        timeout = _number(params, "timeout", 10.0, float)
        examples = int(_number(params, "examples", 200, int))
        max_hangs = int(_number(params, "max_hangs", 2, int))
        hung = _hung(params.get("hung", []))
        spent = params.get("spent", 0.0)
        if isinstance(spent, bool) or not isinstance(spent, (int, float)) or not 0 <= spent < 1e6:
            raise ValueError(f"spent must be a number of seconds, got {spent!r}"[:200])
        _save_source(source)
        session = PageSession(parse_target(f"{ENGINE_FILE}:{class_name}"), timeout, announce, hung, max_hangs)
        report = Report(f"class {class_name} from {ENGINE_FILE}")
        started = time.perf_counter()
        with session:
            session.start()
            run_checks(session, report, examples, _have_hypothesis())
        report.seconds = float(spent) + time.perf_counter() - started
    except (EngineError, ValueError, TypeError, OSError) as error:
        return json.dumps({"error": " ".join(str(error).split())[:400]})
    from ..check.drawing import case_drawing

    # One drawing per failing line, as DOT text for the engine worker's Graphviz (Report.drawings() keys them by
    # slug, and "a + b", "a - b" and "a * b" share one).
    drawings = [
        {"name": line.name, "dot": case_drawing(line.case, line.culprit).source}
        for line in report.failures
        if line.case is not None
    ]
    lines = [{"name": line.name, "status": line.status, "summary": line.summary} for line in report.lines]
    result = {
        "text": report.text(),
        "verdict": report.verdict(),
        "passed": report.passed,
        "lines": lines,
        "drawings": drawings,
    }
    return json.dumps({"result": result}, allow_nan=False)


def _have_hypothesis() -> bool:
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        return False
    return True


def warm_up() -> None:
    """Import what a check needs before the learner presses Check, so the first probe starts at once."""
    import hypothesis  # noqa: F401

    from ..check import plan  # noqa: F401
