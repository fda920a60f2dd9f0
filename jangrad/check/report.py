"""The report card: one line per check, passed or failed, each failure with the smallest graph that shows it (a
table of the learner's numbers beside the right ones) and the rule to blame; then the notes on limits.

``str(report)`` is the text the command line prints; in Jupyter ``_repr_html_`` shows the same text with each
failing graph drawn (when the Graphviz ``dot`` program is installed). ``report.save(folder)`` writes the text
and the drawings; ``report.exit_code`` is what ``jangrad check`` exits with.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..extras import require
from .forms import number_text
from .program import Case, close

__all__ = ["CheckLine", "Report"]


@dataclass
class CheckLine:
    """One check: ``status`` is "passed", "failed", "crashed" or "timed out"; ``summary`` a short phrase;
    ``explanation`` the sentence naming the wrong rule; ``case`` the (smallest) failing graph, if any, and
    ``culprit`` the node to highlight in it."""

    name: str
    status: str
    summary: str = ""
    explanation: str = ""
    case: Case | None = None
    culprit: int | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "check"


@dataclass
class Report:
    engine: str
    supported: list[str] = field(default_factory=list)  # as written for a learner: "a + b", "2 - a", ...
    supported_names: list[str] = field(default_factory=list)  # the same forms by name ("add", "rsub")
    unsupported: list[tuple[str, str]] = field(default_factory=list)
    lines: list[CheckLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[CheckLine]:
        return [line for line in self.lines if not line.passed]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def exit_code(self) -> int:
        """0 when every check passed (notes allowed), 1 otherwise."""
        return 0 if self.passed else 1

    def text(self) -> str:
        out = [f"jangrad check: {self.engine}"]
        out.extend(_wrap(f"supported ({len(self.supported)}): {', '.join(self.supported) or 'nothing'}", "", "  "))
        if self.unsupported:
            missing = [form for form, why in self.unsupported if _simply_missing(why)]
            refused = [f"{form} ({why})" for form, why in self.unsupported if not _simply_missing(why)]
            parts = ([", ".join(missing) + " (no such operator or method)"] if missing else []) + refused
            out.extend(_wrap(f"not supported, not checked ({len(self.unsupported)}): " + "; ".join(parts), "", "  "))
        out.append("")
        width = max((len(line.name) for line in self.lines), default=0)
        for line in self.lines:
            mark = "ok  " if line.passed else "FAIL"
            summary = f"  {line.summary}" if line.summary else ""
            out.append(f"{mark}  {line.name.ljust(width)}{summary}".rstrip())
            if not line.passed:
                out.extend(_wrap(line.explanation, "      "))
                if line.case is not None and len(line.case.program.steps) > 1:
                    shrunk = line.name == "random graphs"
                    out.append("      the smallest failing graph hypothesis found:" if shrunk else "      the graph:")
                    out.extend("      " + row for row in case_table(line.case, line.culprit))
        if self.notes:
            out.append("")
            out.append("notes (limits, not failures):")
            for note in self.notes:
                out.extend(_wrap(note, "  - ", "    "))
        failed = len(self.failures)
        out.append("")
        verdict = "all passed" if not failed else f"{failed} failed"
        out.append(f"{len(self.lines)} checks, {verdict} ({self.seconds:.1f} s)")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def drawings(self) -> dict[str, str]:
        """DOT text of each failing graph, by the check's slug."""
        from .drawing import case_dot

        return {line.slug: case_dot(line.case, line.culprit) for line in self.failures if line.case is not None}

    def save(self, folder: str | os.PathLike) -> list[Path]:
        """Write report.txt and one drawing per failing graph (.svg, or .dot without the ``dot`` program) into
        ``folder`` (created if missing). Returns the paths written."""
        from ..io.files import write_bytes, write_text

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / "report.txt"]
        write_text(written[0], self.text() + "\n")
        for slug, source in self.drawings().items():
            svg = _render(source)
            if svg is None:
                path = folder / f"{slug}.dot"
                write_text(path, source)
            else:
                path = folder / f"{slug}.svg"
                write_bytes(path, svg)
            written.append(path)
        return written

    def _repr_html_(self) -> str:
        parts = [f"<pre>{html.escape(self.text())}</pre>"]
        for line in self.failures:
            if line.case is None:
                continue
            from .drawing import case_dot

            svg = _render(case_dot(line.case, line.culprit))
            if svg is not None:
                parts.append(
                    f"<p><b>{html.escape(line.name)}</b>: the graph, your numbers beside the right "
                    f"ones</p>{svg.decode('utf-8')}"
                )
        return "\n".join(parts)


def _simply_missing(why: str) -> bool:
    """Whether discovery failed only because the class has no such method or operator (Python's own message)."""
    return (why.startswith("AttributeError:") and "has no attribute" in why) or (
        why.startswith("TypeError:") and ("unsupported operand type" in why or "bad operand type" in why)
    )


def _render(source: str) -> bytes | None:
    """SVG from DOT text, or None when the Graphviz ``dot`` program is missing."""
    require("graphviz", "drawing a failing graph")
    import graphviz

    try:
        return graphviz.Source(source).pipe(format="svg")
    except graphviz.ExecutableNotFound:
        return None


def case_table(case: Case, culprit: int | None) -> list[str]:
    """The graph as rows: node, how it was made, data and grad (yours beside the right one where they differ)."""
    made = case.program.lines()
    rows = [("node", "data", "grad", "")]
    for i in range(case.program.size):
        yours_data = case.yours_data[i] if i < len(case.yours_data) else None
        yours_grad = case.yours_grad[i] if i < len(case.yours_grad) else None
        mark = (
            "<- wrong" if not (close(yours_data, case.right_data[i]) and close(yours_grad, case.right_grad[i])) else ""
        )
        if i == culprit:
            mark = "<- wrong: look here"
        rows.append((made[i], _pair(yours_data, case.right_data[i]), _pair(yours_grad, case.right_grad[i]), mark))
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    return ["  ".join(cell.ljust(widths[k]) if k < 3 else cell for k, cell in enumerate(row)).rstrip() for row in rows]


def _pair(yours: float | None, right: float) -> str:
    if close(yours, right):
        return number_text(right)
    return f"{'?' if yours is None else number_text(yours)} (right {number_text(right)})"


def _wrap(text: str, first: str, rest: str | None = None, width: int = 116) -> list[str]:
    import textwrap

    if not text:
        return []
    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest or first)
