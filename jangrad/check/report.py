"""The report card: one line per check, passed or failed, each failure with the smallest graph that shows it (a
table of the learner's numbers beside the right ones) and the rule to blame; then the notes on limits.

``str(report)`` is the text the command line prints; Jupyter shows the same text, then each failing graph drawn
(by Graphviz, or by the built-in renderer without the ``dot`` program). ``report.save(folder)`` writes the text
and the drawings; ``report.exit_code`` is what ``jangrad check`` exits with.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .forms import number_text
from .program import Case, close

if TYPE_CHECKING:
    from ..viz.graph import Drawing

__all__ = ["CheckLine", "Report"]


@dataclass
class CheckLine:
    """One check: ``status`` is "passed", "failed", "crashed", "timed out" or "skipped" (not run: it would have
    hung as an earlier check did); ``summary`` a short phrase; ``explanation`` the sentence naming the wrong rule;
    ``case`` the (smallest) failing graph, if any, and ``culprit`` the node to highlight in it. ``cause`` names
    the check whose failure this one follows from (``a - b`` fails because ``a * b`` does), None for a root cause."""

    name: str
    status: str
    summary: str = ""
    explanation: str = ""
    case: Case | None = None
    culprit: int | None = None
    cause: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def skipped(self) -> bool:
        return self.status == "skipped"

    @property
    def slug(self) -> str:
        """The check's name as a file name: ``a - b`` is ``a-minus-b``, so that ``a + b``, ``a - b`` and ``a * b``
        never share one."""
        name = self.name.lower()
        for symbol, word in _SYMBOL_WORDS:
            name = name.replace(symbol, f" {word} ")
        return re.sub(r"[^a-z0-9]+", "-", name).strip("-") or "check"


# Operators spelt out in file names, longest first (``**`` before ``*``).
_SYMBOL_WORDS = (("**", "pow"), ("+", "plus"), ("-", "minus"), ("*", "times"), ("/", "div"))


@dataclass
class Report:
    engine: str
    supported: list[str] = field(default_factory=list)  # as written for a learner: "a + b", "2 - a", ...
    supported_names: list[str] = field(default_factory=list)  # the same forms by name ("add", "rsub")
    unsupported: list[tuple[str, str]] = field(default_factory=list)
    lines: list[CheckLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    waited: list[str] = field(default_factory=list)  # the checks that waited out their time limit

    @property
    def failures(self) -> list[CheckLine]:
        """The checks that failed, the root causes among them before what follows from them."""
        return [line for line in self.lines if not line.passed and not line.skipped]

    @property
    def skipped(self) -> list[CheckLine]:
        return [line for line in self.lines if line.skipped]

    @property
    def passed(self) -> bool:
        return not self.failures and not self.skipped

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
        width = max((len(line.name) for line in self.lines if not line.skipped), default=0)
        for line in self.lines:
            if line.skipped:
                out.extend(_wrap(f"{line.name}: {line.explanation}", "skip  ", "      "))
                continue
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
        out.append("")
        out.append(f"{self.verdict()} ({self.seconds:.1f} s)")
        return "\n".join(out)

    def verdict(self) -> str:
        """``22 checks, 5 failed, 4 of them only because another did``."""
        counted = [line for line in self.lines if not line.skipped]
        failed = self.failures
        if not failed and not self.skipped:
            return f"{len(counted)} checks, all passed"
        text = f"{len(counted)} checks, {len(failed)} failed"
        following = sum(1 for line in failed if line.cause)
        if following:
            text += f", {following} of them only because another did"
        if self.skipped:
            names = sum(len(line.name.split(", ")) for line in self.skipped)
            text += f", {names} not run"
        return text

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def drawings(self) -> dict[str, Drawing]:
        """A drawing of each failing graph, by the check's slug."""
        from .drawing import case_drawing

        return {line.slug: case_drawing(line.case, line.culprit) for line in self.failures if line.case is not None}

    def save(self, folder: str | os.PathLike) -> list[Path]:
        """Write report.txt and one SVG drawing per failing graph into ``folder`` (created if missing): drawn by
        Graphviz, or by the built-in renderer where the ``dot`` program is missing. Returns the paths written."""
        from ..io.files import write_text

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / "report.txt"]
        write_text(written[0], self.text() + "\n")
        for slug, drawing in self.drawings().items():
            written.append(drawing.save(folder / f"{slug}.svg"))
        return written

    def display_bundles(self) -> list[dict[str, str]]:
        """What Jupyter shows, one output each: the report card, then for each failing graph a caption and its
        drawing (SVG, and PNG, which survives sanitized HTML exports). Never raises: a graph that cannot be drawn
        gets a caption saying why.

        The text goes out as text/plain only, which every front end and every HTML export shows in a ``<pre>``,
        so its tables stay lined up; an HTML ``<pre>`` of our own would be escaped into visible tags by a strict
        sanitizer (nbconvert's SanitizeHTML keeps only bleach's default tags)."""
        bundles = [{"text/plain": self.text()}]
        drawings = self.drawings()
        told_builtin = False
        for line in self.failures:
            if line.case is None:
                continue
            caption = f"{line.name}: the graph, your numbers beside the right ones, the node to look at in red"
            images: dict[str, str] = {}
            try:
                drawing = drawings[line.slug]
                images = {
                    "image/svg+xml": drawing.pipe("svg").decode("utf-8"),
                    "image/png": base64.b64encode(drawing.pipe("png")).decode("ascii"),
                    "text/plain": f"[the graph of '{line.name}']",
                }
                if drawing.renderer_used() == "builtin" and not told_builtin:
                    caption += " (drawn by jangrad's built-in renderer: the Graphviz 'dot' program is not installed)"
                    told_builtin = True
            except Exception as error:  # a display hook must never raise: say why, keep the text
                caption += f": could not draw it ({type(error).__name__}: {error})"
            bundles.append({"text/plain": caption})
            if images:
                bundles.append(images)
        return bundles

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for bundle in self.display_bundles():
            display(bundle, raw=True)


def _simply_missing(why: str) -> bool:
    """Whether discovery failed only because the class has no such method or operator (Python's own message)."""
    return (why.startswith("AttributeError:") and "has no attribute" in why) or (
        why.startswith("TypeError:") and ("unsupported operand type" in why or "bad operand type" in why)
    )


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
        if i == culprit:  # its own numbers may end up right: the wrong share passed through it
            mark = "<- wrong: look here" if mark else "<- look here"
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
