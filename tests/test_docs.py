"""Tests for the generated docs: docs/ops.md is current, code-line counts are current, and the README tour is true."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jangrad.ops import OPS

ROOT = Path(__file__).resolve().parents[1]


def _load_script(path: Path):
    """The docs generator is a script beside the package, not part of it: load it from its file."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses and inspect look modules up by name
    spec.loader.exec_module(module)
    return module


docs = _load_script(ROOT / "scripts" / "gen_docs.py")
TOUR = ROOT / "docs" / "README-tour.md"


def test_ops_page_is_current():
    page = (ROOT / "docs" / "ops.md").read_text(encoding="utf-8")
    assert page == docs.render_ops_markdown(), "docs/ops.md is stale: run `python scripts/gen_docs.py`"


def test_check_mode_passes_on_the_repository(capsys):
    assert docs.main(["--check", "--root", str(ROOT)]) == 0, capsys.readouterr().out


def test_every_op_has_a_row_and_a_section_with_its_derivation():
    page = docs.render_ops_markdown()
    for op in OPS.values():
        assert f"| [`{op.name}`](#{op.name}) |" in page
        assert f"\n## {op.name}\n\n{op.derivation}\n" in page


def test_a_changed_rule_makes_the_page_stale(monkeypatch):
    before = docs.render_ops_markdown()
    changed = dataclasses.replace(OPS["mul"], backward=lambda m, g, out, x, y: (g * y * 2.0, g * x))
    monkeypatch.setitem(OPS, "mul", changed)
    after = docs.render_ops_markdown()
    assert after != before
    assert "`g * y * 2.0`" in after
    assert "backward = lambda m, g, out, x, y: (g * y * 2.0, g * x)" in after


def test_check_mode_reports_a_stale_page(tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ops.md").write_text("old\n", encoding="utf-8")
    assert docs.main(["--check", "--root", str(tmp_path)]) == 1
    assert "ops.md" in capsys.readouterr().out
    assert docs.main(["--root", str(tmp_path)]) == 0
    assert (tmp_path / "docs" / "ops.md").read_text(encoding="utf-8") == docs.render_ops_markdown()


def test_rule_source_reads_the_lambda_body():
    rule = lambda m, x, y: m.div(x, y) + 1.0  # noqa: E731 (a rule is written as a lambda in the op table)
    assert docs.rule_source(rule) == "m.div(x, y) + 1.0"


def test_the_maths_column_rewrites_div_and_pow():
    page = docs.render_ops_markdown()
    assert "| [`div`](#div) | `/` | `x / y` | `g / y` |" in page
    rows = [line for line in page.splitlines() if line.startswith("| [")]
    assert len(rows) == len(OPS)
    assert not any("m." in row for row in rows), "the summary table shows maths, not the namespace"


def test_code_lines_skips_blanks_comments_and_docstrings(tmp_path):
    code = ["x = 1", "def f(a):", "    return (a +", "            x)", "class C:", "    y = 2"]
    noise = ['"""Module docstring,', 'two lines."""', "", "# a comment", '    """Docstring."""', "    # indented"]
    source = (
        "\n".join(
            [
                noise[0],
                noise[1],
                code[0],
                noise[2],
                noise[3],
                code[1],
                noise[4],
                code[2],
                code[3],
                noise[2],
                code[4],
                noise[5],
                code[5],
                "Z = 3",
                '"""Attribute docstring of Z."""',
            ]
        )
        + "\n"
    )
    path = tmp_path / "sample.py"
    path.write_text(source, encoding="utf-8")
    assert docs.code_lines(path) == len(code) + 1


def test_refresh_code_lines_recomputes_the_marker(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\ny = 2\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("# only a comment\nz = 3\n", encoding="utf-8")
    text = "The engine is <!-- code-lines: a.py b.py -->999<!-- /code-lines --> lines."
    assert (
        docs.refresh_code_lines(text, tmp_path)
        == "The engine is <!-- code-lines: a.py b.py -->3<!-- /code-lines --> lines."
    )


def _code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def _run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_tour_states_the_engine_size_from_the_code():
    text = TOUR.read_text(encoding="utf-8")
    markers = docs.CODE_LINES.findall(text)
    assert markers, "the tour should state the engine's size with a code-lines marker"
    assert docs.refresh_code_lines(text, ROOT) == text, "a code-lines count is stale: run `python scripts/gen_docs.py`"


def test_tour_links_to_files_that_exist():
    text = TOUR.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#]+)", text)
    assert any(link.startswith("examples/") for link in links)
    # Other branches add the rest (jangrad/compile.py, tests/...); README.md's own test checks every link once
    # the tour is pasted there. Here: the notebooks, the docs and the engine, which exist on every branch.
    own = [link for link in links if link.startswith(("examples/", "docs/", "jangrad/engine.py", "jangrad/ops.py"))]
    assert own
    missing = [link for link in own if not (ROOT / link).exists()]
    assert not missing, f"the tour links to missing files: {missing}"


def test_readme_links_to_files_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = [link for link in re.findall(r"\]\(([^)#]+)", readme) if not link.startswith("http")]
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, f"README.md links to missing files: {missing}"


def test_tour_side_by_side_snippets_print_the_same_numbers():
    blocks = _code_blocks(TOUR.read_text(encoding="utf-8"), "python")
    jangrad_code = [b for b in blocks if "from jangrad import" in b]
    torch_code = [b for b in blocks if "import torch" in b]
    assert len(jangrad_code) == 1 and len(torch_code) == 1
    ours = _run_python(jangrad_code[0])
    assert ours.split(), "the jangrad snippet should print its gradients"
    pytest.importorskip("torch")
    assert _run_python(torch_code[0]) == ours
