"""The whole check of one engine, in order, blaming the root cause first. Knows nothing of processes or time
limits: it asks a probe runner (``session.Session``, ``session.InProcess``, or a browser's Web Worker) to ``run`` one
probe at a time and reads the ``Outcome``.

The order is what makes the blame right:

1. Each op alone. Where the class is micrograd-style (``introspect.py``), the checker calls the op's rules itself,
   from the output back, so that a wrong rule is told apart from a wrong walk; and it sees which rules each op's
   graph holds. An op whose graph holds one rule of its own is listed first; an op built on others (the lecture's
   ``a - b`` is ``a + (-b)``, and ``-b`` is ``b * -1``) comes after them, and when one of those fails, it "fails
   because ``a * b`` fails" instead of being blamed for a rule it does not have.
2. A leaf used twice: do the rules add to ``.grad`` (``+=``) rather than overwrite it?
3. ``backward()``: the learner's walk, on a chain, on nodes used at different depths and on each op alone. Where
   the rules were right, a wrong grad is the walk's fault, and the order in which it called the rules says how.
4. Random graphs of the ops that passed, through ``backward()``, shrunk to the smallest failing one.
5. The limits (depth, a second ``backward()``, ``exp(1000)``), as notes.

A ``backward()`` that never returns costs its time limit once: every later probe that calls it is skipped, and one
line lists what was skipped.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Protocol

from .blame import diagnose, explain_single
from .forms import FORMS
from .probes import CALLS_BACKWARD, Outcome, RuleCheck, accumulation_program, chain_program, order_program
from .program import Case, Program
from .report import CheckLine, Report
from .walk import HANG_SUMMARY, hang_text, walk_summary, walk_text

__all__ = ["ProbeRunner", "run_checks", "DEPTHS", "WALK_CHECK"]

DEPTHS = (100, 500, 1000, 5000, 20000)
"""Chain lengths tried for the depth note, in order, stopping at the first that fails."""

WALK_CHECK = "backward()"
"""The name of the check of the learner's walk."""


class ProbeRunner(Protocol):
    """Runs one probe (``probes.PROBES``) on the learner's class and says how it went. ``isolated``: whether a probe
    has a time limit and a crash ends only the runner's worker."""

    isolated: bool

    def run(self, name: str, *arguments: object) -> Outcome: ...


def form_text(name: str) -> str:
    form = FORMS[name]
    return form.text(["a", "b"], form.constants[0] if form.constants else None)


@dataclass
class _FormResult:
    """What checking one form alone found."""

    name: str
    line: CheckLine
    rules: RuleCheck | None = None  # None: its graph could not be looked inside (or its rules never returned)
    built_on: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return not self.line.passed


def run_checks(runner: ProbeRunner, report: Report, examples: int, hypothesis: bool) -> None:
    """Run every check through ``runner`` and fill in ``report``: ``examples`` random graphs, if ``hypothesis`` is
    installed."""
    _Checks(runner, report, examples, hypothesis).run()


class _Checks:
    def __init__(self, runner: ProbeRunner, report: Report, examples: int, hypothesis: bool):
        self.runner = runner
        self.report = report
        self.examples = examples
        self.hypothesis = hypothesis
        self.forms: dict[str, _FormResult] = {}
        self.hang: str | None = None  # the graph on which backward() never returned
        self.skipped: list[str] = []
        self.walk_failed = False
        self.accumulates: bool | None = None

    # ---- running probes --------------------------------------------------------------------------------------
    def probe(self, check: str, name: str, *arguments: object) -> Outcome:
        """Run a probe that does not call backward() for the check named ``check``."""
        assert name not in CALLS_BACKWARD, name
        return self._run(check, name, *arguments)

    def probe_backward(self, check: str, name: str, *arguments: object) -> Outcome | None:
        """Run a probe that calls backward(); None (and the check noted as skipped) when backward() never returned
        before, so this would hang the same way."""
        assert name in CALLS_BACKWARD, name
        if self.hang is not None:
            if check not in self.skipped:
                self.skipped.append(check)
            return None
        return self._run(check, name, *arguments)

    def _run(self, check: str, name: str, *arguments: object) -> Outcome:
        outcome = self.runner.run(name, *arguments)
        if outcome.status == "timed out":
            self.report.waited.append(check)
        return outcome

    @property
    def failing_forms(self) -> set[str]:
        return {name for name, result in self.forms.items() if result.failed}

    @property
    def passing_forms(self) -> list[str]:
        return [name for name in self.report.supported_names if not self.forms[name].failed]

    @property
    def inspectable(self) -> bool:
        """Whether the checker can call the learner's rules itself (it could on every op that passed)."""
        passing = self.passing_forms
        return bool(passing) and all(self.forms[name].rules is not None for name in passing)

    def run(self) -> None:
        self.discover()
        self.check_forms()
        self.check_accumulation()
        self.check_walk()
        self.check_random()
        self.limits()
        if self.skipped:
            self.report.lines.append(
                CheckLine(
                    ", ".join(self.skipped),
                    "skipped",
                    explanation=f"they call backward(), which never returned on {self.hang}",
                )
            )

    # ---- 1. each op alone ------------------------------------------------------------------------------------
    def discover(self) -> None:
        for name in FORMS:
            outcome = self.probe(form_text(name), "discover", name)
            if outcome.status == "ok" and outcome.value is None:
                self.report.supported_names.append(name)
                self.report.supported.append(form_text(name))
            elif outcome.status == "ok":
                self.report.unsupported.append((form_text(name), outcome.value))
            else:  # its forward hung or crashed: that is a failure of a supported op, not a missing one
                line = CheckLine(form_text(name), "crashed", explanation=f"{form_text(name)} {outcome.value}")
                if outcome.status == "timed out":
                    line.status = "timed out"
                    line.explanation = f"{form_text(name)} never returned ({outcome.value})"
                self.report.lines.append(line)

    def check_forms(self) -> None:
        for name in self.report.supported_names:
            self.forms[name] = self.check_form(name)
        owner: dict[str, str] = {}  # a rule -> the first form whose graph is that one rule alone
        for name, result in self.forms.items():
            if result.rules is not None and result.rules.rule_nodes == 1:
                owner.setdefault(result.rules.rules[0], name)
        for name, result in self.forms.items():
            if result.rules is not None:
                used = {owner[rule] for rule in result.rules.rules if owner.get(rule, name) != name}
                result.built_on = [other for other in FORMS if other in used]
        for result in self.forms.values():
            causes = [other for other in result.built_on if self.forms[other].failed]
            if result.failed and causes:
                self.blame_on(result, causes[0])
            elif result.built_on:
                result.line.summary += f", built on {', '.join(form_text(other) for other in result.built_on)}"
        # an op built on others is listed after them, so that the first FAIL is the root cause
        ordered = [r for r in self.forms.values() if not r.built_on] + [r for r in self.forms.values() if r.built_on]
        self.report.lines.extend(result.line for result in ordered if result.line.status != "skipped")

    def blame_on(self, result: _FormResult, cause: str) -> None:
        label, cause_text = result.line.name, form_text(cause)
        others = [form_text(other) for other in result.built_on]
        result.line.summary = f"fails because {cause_text} fails"
        if len(others) == 1:
            result.line.explanation = f"{label} runs the rule of {cause_text}: fix that one first"
        else:
            result.line.explanation = f"{label} is built on {_and(others)} and runs their rules: fix {cause_text} first"
        result.line.cause = cause_text
        result.line.case = None

    def check_form(self, name: str) -> _FormResult:
        label = form_text(name)
        outcome = self.probe(label, "op_rules", name)
        if outcome.status == "timed out":
            return _FormResult(
                name,
                CheckLine(
                    label,
                    "timed out",
                    explanation=f"the rule of {label} (its _backward, called directly) never returned "
                    f"({outcome.value})",
                ),
            )
        if outcome.status != "ok":
            return _FormResult(name, _problem_line(label, outcome))
        if outcome.value is None:  # not micrograd-style: check the op through backward()
            return _FormResult(name, self.check_form_by_backward(name))
        check: RuleCheck = outcome.value
        return _FormResult(name, _form_line(label, name, check.checked, check.failing), check)

    def check_form_by_backward(self, name: str) -> CheckLine:
        label = form_text(name)
        outcome = self.probe_backward(label, "op_points", name)
        if outcome is None:
            return CheckLine(label, "skipped")
        if outcome.status == "timed out":
            hung = [r.line.name for r in self.forms.values() if r.line.status == "timed out"]
            if hung:  # two ops' own graphs both hang: it is backward(), whatever the op
                self.hang = f"{hung[0]} and {label}"
            return CheckLine(label, "timed out", explanation=f"backward() on {label} never returned ({outcome.value})")
        if outcome.status != "ok":
            return _problem_line(label, outcome)
        checked, cases = outcome.value
        return _form_line(label, name, checked, cases)

    # ---- 2. a leaf used twice --------------------------------------------------------------------------------
    def check_accumulation(self) -> None:
        name = "a leaf used twice"
        program = accumulation_program(self.passing_forms)
        if program is None:
            self.report.notes.append(f"'{name}' was not checked: it needs a + b or a * b that passed alone")
            return
        summary = "; ".join(program.lines()[len(program.leaves) :])
        case = self.run_rules(name, program) if self.inspectable else None
        if case is None:
            case = self.run_program(name, program)
        if case is None:
            return
        if not case.failed:
            self.report.lines.append(CheckLine(name, "passed", summary))
            self.accumulates = True
            return
        self.accumulates = False
        culprit, text = diagnose(case, self.failing_forms, None)
        self.report.lines.append(CheckLine(name, "failed", summary, text, case, culprit))

    # ---- 3. the walk -----------------------------------------------------------------------------------------
    def check_walk(self) -> None:
        if self.hang is not None:  # every op's own graph hung already
            self.skipped.append(WALK_CHECK)
            return
        passing = self.passing_forms
        graphs = [program for program in (chain_program(passing), order_program(passing)) if program is not None]
        if not graphs:
            self.report.notes.append(f"'{WALK_CHECK}' was not checked: it needs a + b or a * b that passed alone")
            return
        inspectable = self.inspectable
        chain = graphs[0].lines()[len(graphs[0].leaves) :]
        summary = f"{'; '.join(chain)}, nodes used at different depths, each op alone"
        line: CheckLine | None = None
        for program, where in zip(graphs, ("; ".join(chain), "nodes used at different depths"), strict=False):
            line = self.walk_on(program, where, summary, inspectable)
            if line is not None:
                break
        if line is None:
            for name in passing:
                line = self.walk_on_form(name, summary, inspectable)
                if line is not None:
                    break
        if line is None:
            line = CheckLine(WALK_CHECK, "passed", summary)
        self.walk_failed = not line.passed
        self.report.lines.append(line)

    def walk_on(self, program: Program, where: str, summary: str, inspectable: bool) -> CheckLine | None:
        """The failed walk line for ``program`` (called ``where``), or None when backward() gets it right (or its
        rules are wrong, so it says nothing about the walk)."""
        rules_case = self.run_rules(WALK_CHECK, program) if inspectable else None
        if rules_case is not None and rules_case.failed:
            return None
        outcome = self.probe_backward(WALK_CHECK, "run_program", program)
        if outcome is None:
            return None
        if outcome.status == "timed out":
            self.hang = where
            text = hang_text(where, outcome.value, rules_case is not None)
            return CheckLine(WALK_CHECK, "timed out", f"{HANG_SUMMARY} (on {where})", text)
        if outcome.status != "ok":
            return _problem_line(WALK_CHECK, outcome, summary)
        return self.walk_line(outcome.value, where, summary, rules_case is not None)

    def walk_on_form(self, name: str, summary: str, inspectable: bool) -> CheckLine | None:
        outcome = self.probe_backward(WALK_CHECK, "op_points", name)
        if outcome is None:
            return None
        if outcome.status == "timed out":
            self.hang = form_text(name)
            text = hang_text(form_text(name), outcome.value, inspectable)
            return CheckLine(WALK_CHECK, "timed out", f"{HANG_SUMMARY} (on {form_text(name)})", text)
        if outcome.status != "ok":
            return _problem_line(WALK_CHECK, outcome, summary)
        _, cases = outcome.value
        return self.walk_line(cases[0], f"{form_text(name)} alone", summary, inspectable) if cases else None

    def walk_line(self, case: Case, where: str, summary: str, rules_right: bool) -> CheckLine | None:
        if not case.failed:
            return None
        if case.problem:
            return CheckLine(WALK_CHECK, "failed", summary, case.problem, case)
        if rules_right:
            culprit, text = walk_text(case)
            summary = walk_summary(case, where)
        else:
            culprit, text = diagnose(case, self.failing_forms, self.accumulates)
        return CheckLine(WALK_CHECK, "failed", summary, text, case, culprit)

    # ---- 4. random graphs ------------------------------------------------------------------------------------
    def check_random(self) -> None:
        name = "random graphs"
        if not self.hypothesis:
            self.report.notes.append(
                "random graphs were not checked: they need hypothesis, which jangrad's [check] extra installs: "
                'pip install "jangrad[check]"'
            )
            return
        forms = self.passing_forms
        if not forms:
            self.report.notes.append("random graphs were not checked: no op passed alone")
            return
        using = f"{len(forms)} ops that passed alone"
        by_rules = (self.walk_failed or self.hang is not None) and self.inspectable
        if by_rules:  # backward() is known to be wrong: do the rules at least work together?
            using += f", through your rules alone ({WALK_CHECK} fails)"
            outcome: Outcome | None = self.probe(name, "random_rule_graphs", forms, self.examples)
        else:
            outcome = self.probe_backward(name, "random_graphs", forms, self.examples)
        if outcome is None:
            return
        if outcome.status == "timed out" and not by_rules:
            self.hang = "one of the random graphs"
        if outcome.status != "ok" or outcome.value is None:
            self.report.lines.append(_problem_line(name, outcome))
            return
        tried, case = outcome.value
        if case is None:
            self.report.lines.append(CheckLine(name, "passed", f"{tried} graphs of the {using}"))
            return
        summary = f"shrunk to {case.program.size} nodes after {tried} graphs of the {using}"
        rules_case = case if by_rules else self.run_rules(name, case.program) if self.inspectable else None
        if rules_case is not None and not rules_case.failed:  # the rules are right: the walk is wrong
            culprit, text = walk_text(case)
        else:
            culprit, text = diagnose(rules_case or case, self.failing_forms, self.accumulates)
        self.report.lines.append(CheckLine(name, "failed", summary, text, rules_case or case, culprit))

    # ---- 5. limits -------------------------------------------------------------------------------------------
    def limits(self) -> None:
        supported = self.passing_forms
        chain = next((n for n in ("add", "mul", "sub") if n in supported), None)
        if chain is not None and self.walk_failed and self.hang is None:
            self.report.notes.append(
                f"the depth backward() handles and a second backward() were not checked: {WALK_CHECK} fails above"
            )
        elif chain is not None:
            self.depth_note(chain)
            times = next(n for n in ("mul", "add", "sub") if n in supported)
            twice = self.probe_backward("a second backward()", "backward_twice", times)
            if twice is not None:
                self.report.notes.append(_twice_note(twice))
        if "exp" in self.report.supported_names:
            outcome = self.probe("exp(1000)", "exp_overflow")
            if outcome.status == "ok":
                self.report.notes.append(
                    f"exp(1000) {outcome.value}; jangrad and PyTorch give inf"
                    if not outcome.value.startswith("gives inf")
                    else "exp(1000) gives inf, as jangrad and PyTorch do"
                )
            else:
                self.report.notes.append(f"exp(1000): {outcome.value}")

    def depth_note(self, form_name: str) -> None:
        deepest = 0
        for n in DEPTHS:
            outcome = self.probe_backward("the depth backward() handles", "depth", form_name, n)
            if outcome is None:
                return
            if outcome.status == "ok" and outcome.value is None:
                deepest = n
                continue
            if outcome.status == "timed out":
                self.hang = f"a chain {n} nodes deep"
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
            self.report.notes.append(text)
            return
        self.report.notes.append(f"backward() handled a chain {DEPTHS[-1]} nodes deep")

    # ---- helpers ---------------------------------------------------------------------------------------------
    def run_rules(self, check: str, program: Program) -> Case | None:
        outcome = self.probe(check, "run_rules", program)
        return outcome.value if outcome is not None and outcome.status == "ok" else None

    def run_program(self, check: str, program: Program) -> Case | None:
        """The learner's backward() on ``program``; None (with a line saying why) when it did not answer."""
        outcome = self.probe_backward(check, "run_program", program)
        if outcome is None:
            return None
        if outcome.status == "timed out":
            self.hang = "; ".join(program.lines()[len(program.leaves) :])
        if outcome.status != "ok":
            self.report.lines.append(_problem_line(check, outcome))
            return None
        return outcome.value


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _form_line(label: str, name: str, checked: int, cases: list[Case]) -> CheckLine:
    if not cases:
        return CheckLine(label, "passed", f"{checked} points")
    how = "crashed" if all(case.problem for case in cases) else "wrong"
    return CheckLine(
        label,
        "failed",
        f"{how} at {len(cases)} of {checked} points",
        explain_single(cases[0], name),
        cases[0],
        len(cases[0].program.leaves),
    )


def _problem_line(name: str, outcome: Outcome, summary: str = "") -> CheckLine:
    return CheckLine(
        name,
        "crashed" if outcome.status != "timed out" else "timed out",
        summary,
        explanation=f"the check raised {outcome.value}" if outcome.status == "raised" else outcome.value,
    )


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
