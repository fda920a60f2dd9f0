"""Every Python example of README.md and the docs pages runs, and prints what the page says it prints.

A page states an example's output in one of two ways, and both are compared:

* a comment on a ``print(...)`` line, or comment lines right under it: ``print(a.grad, b.grad)   # 7.0 2.0``;
* a plain fenced block (no language, or ``text``) right after the example: the whole of what it prints.

``...`` in a stated output matches anything (doctest's ELLIPSIS) and runs of spaces compare equal. An example that
cannot run on its own says so, with its reason, in an HTML comment on the line above it
(``<!-- not run: it needs a learner's own class Value -->``), or for a whole page
(``<!-- no example on this page is run: ... -->``). Each example runs in a fresh interpreter, in an empty folder,
against this checkout.
"""

from __future__ import annotations

import ast
import doctest
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
NOT_RUN = re.compile(r"^<!-- not run: (?P<why>\S.*?)\s*-->$")
PAGE_NOT_RUN = re.compile(r"<!-- no example on this page is run: (?P<why>\S.*?) -->")
CHECKER = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# Runs the example statement by statement, so that each print's output can be told apart; prints, at the end, one
# JSON list of (first line, last line, what the statement printed).
RUNNER = textwrap.dedent(
    """
    import ast, contextlib, io, json, sys
    source = sys.stdin.read()
    namespace = {"__name__": "__main__"}
    printed = []
    real_stdout = sys.stdout
    for statement in ast.parse(source).body:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(ast.Module([statement], []), "<example>", "exec"), namespace)
        printed.append((statement.lineno, statement.end_lineno, buffer.getvalue()))
    real_stdout.write("\\n" + json.dumps(printed))
    """
)


@dataclass
class Example:
    page: Path
    line: int  # where its code starts on the page
    code: str
    not_run: str | None  # the reason, for an example marked as not run
    output_block: str | None  # the plain block right after it: everything it prints

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def examples_of(page: Path) -> list[Example]:
    """The ```python blocks of a Markdown page, with their not-run reasons and the output blocks that follow."""
    lines = page.read_text(encoding="utf-8").splitlines()
    page_reason = PAGE_NOT_RUN.search("\n".join(lines))
    found: list[Example] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        if not line.startswith("```"):
            number += 1
            continue
        language = line[3:].strip()
        end = next(i for i in range(number + 1, len(lines)) if lines[i].startswith("```"))
        if language == "python":
            reason = page_reason["why"] if page_reason else _not_run_reason(lines, number)
            after = next((i for i in range(end + 1, len(lines)) if lines[i].strip()), None)
            output = None
            if after is not None and lines[after] in ("```", "```text"):
                close = next(i for i in range(after + 1, len(lines)) if lines[i].startswith("```"))
                output = "\n".join(lines[after + 1 : close]) + "\n"
            found.append(Example(page, number + 2, "\n".join(lines[number + 1 : end]) + "\n", reason, output))
        number = end + 1
    return found


def _not_run_reason(lines: list[str], fence: int) -> str | None:
    """The reason of a ``<!-- not run: ... -->`` comment ending on the line above the block opened at ``fence``
    (blank lines between are fine; the comment may wrap over several lines)."""
    end = fence - 1
    while end >= 0 and not lines[end].strip():
        end -= 1
    if end < 0 or not lines[end].rstrip().endswith("-->"):
        return None
    start = end
    while start > 0 and not lines[start].startswith("<!--") and lines[start - 1].strip():
        start -= 1
    comment = " ".join(line.strip() for line in lines[start : end + 1])
    found = NOT_RUN.match(comment)
    return found["why"] if found else None


def stated_outputs(code: str) -> dict[int, str]:
    """{line of a print statement: the output its comments state}, lines counted from 1 in ``code``."""
    comments: dict[int, tuple[str, bool]] = {}  # line -> (text, whether code comes before it on that line)
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            comments[row] = (token.string[1:].strip(), bool(token.line[:column].strip()))
    stated = {}
    for statement in ast.parse(code).body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print"):
            continue
        end = statement.end_lineno
        lines = [comments[end][0]] if end in comments and comments[end][1] else []
        following = end + 1
        while following in comments and not comments[following][1]:
            lines.append(comments[following][0])
            following += 1
        if lines:
            stated[statement.lineno] = "\n".join(lines) + "\n"
    return stated


ALL = [example for page in PAGES for example in examples_of(page)]
RUN = [example for example in ALL if example.not_run is None]


def test_the_pages_have_examples_and_every_one_runs_or_says_why_not():
    assert len(ALL) >= 10 and len(RUN) >= 5, [example.name for example in ALL]
    assert all(example.not_run.strip() for example in ALL if example.not_run is not None)
    checked = [example for example in RUN if stated_outputs(example.code) or example.output_block]
    assert len(checked) >= 3, "the README states the output of its first examples"


@pytest.mark.parametrize("example", RUN, ids=[example.name for example in RUN])
def test_the_example_prints_what_the_page_says(example: Example, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=example.code,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, f"{example.name} raised:\n{done.stderr[-3000:]}"
    printed = json.loads(done.stdout.rsplit("\n", 1)[1])
    by_line = {first: text for first, _, text in printed}
    for line, expected in stated_outputs(example.code).items():
        got = by_line[line]
        assert CHECKER.check_output(expected, got, FLAGS), (
            f"{example.name}: line {example.line + line - 1} prints {got!r}, the page says {expected!r}"
        )
    if example.output_block is not None:
        everything = "".join(text for _, _, text in printed)
        assert CHECKER.check_output(example.output_block, everything, FLAGS), (
            f"{example.name} prints:\n{everything}\nthe page says:\n{example.output_block}"
        )


# ---- the harness itself --------------------------------------------------------------------------------------------
def test_stated_outputs_reads_trailing_and_following_comments():
    code = "x = 1  # not output\nprint(x)   # 1\nprint(x, x)\n# 1 1\n# and more\n\nprint(2)\n"
    assert stated_outputs(code) == {2: "1\n", 3: "1 1\nand more\n"}


def test_a_wrong_stated_output_fails(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n```python\nprint(6 * 7)   # 41\n```\n", encoding="utf-8")
    (example,) = examples_of(page)
    example.page = ROOT / "page.md"  # only its name is read
    with pytest.raises(AssertionError, match="prints '42\\\\n', the page says '41\\\\n'"):
        test_the_example_prints_what_the_page_says(example, tmp_path)


def test_markers_and_output_blocks_are_read(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- not run: it needs a class of\nyour own -->\n```python\ncheck(Value)\n```\n\n"
        "```python\nprint('a')\n```\n\n```\na\n```\n",
        encoding="utf-8",
    )
    first, second = examples_of(page)
    assert first.not_run == "it needs a class of your own" and second.not_run is None
    assert second.output_block == "a\n"
