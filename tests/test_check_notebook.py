"""``check_engine`` in a notebook on a machine without the Graphviz program: the cell runs, the report card keeps
its tables lined up in a ``<pre>`` in any HTML export (nbconvert plain, with ``--sanitize-html``, and after the
stricter SanitizeHTML preprocessor), and the failing graph is drawn by the built-in renderer, says so in one
line, and survives the sanitizers as an image instead of leaking as escaped markup.

Needs nbclient, nbformat, nbconvert and ipykernel (a python3 Jupyter kernel).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
nbconvert = pytest.importorskip("nbconvert")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ROOT / "tests" / "fixtures" / "engines"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook a learner would write, run headless with no Graphviz program on PATH."""
    folder = tmp_path_factory.mktemp("notebook")
    bare = folder / "bin"
    bare.mkdir()
    (bare / "python3").symlink_to(sys.executable)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(f"import sys\nsys.path.insert(0, {str(ENGINES)!r})\nimport jangrad"),
        nbformat.v4.new_code_cell("from mul_own_data import Value\nreport = jangrad.check_engine(Value, examples=30)"),
        nbformat.v4.new_code_cell("report"),
        nbformat.v4.new_code_cell("assert report.failures[0].name == 'a * b'"),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    saved = {name: os.environ.get(name) for name in ("PATH", "PYTHONPATH", "MPLBACKEND")}
    os.environ.update(PATH=str(bare), PYTHONPATH=str(ROOT), MPLBACKEND="Agg")  # the kernel inherits these
    try:
        nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return notebook


def test_the_cell_runs_and_shows_the_report_then_the_drawing(executed):
    errors = [out for cell in executed.cells for out in cell.outputs if out.output_type == "error"]
    assert not errors
    text, caption, picture = [out.data for out in executed.cells[2].outputs]
    assert text["text/plain"].startswith("jangrad check: class Value from module mul_own_data")
    assert caption["text/plain"].startswith("a * b: the graph, your numbers beside the right ones")
    assert caption["text/plain"].endswith(
        "(drawn by jangrad's built-in renderer: the Graphviz 'dot' program is not installed)"
    )
    assert "yours 2, right -3" in picture["image/svg+xml"]
    assert "image/png" in picture


def _html(notebook, how: str) -> str:
    """The notebook as nbconvert's HTML: plain, with ``--sanitize-html`` (HTML outputs cleaned by bleach), or after
    the stricter SanitizeHTML preprocessor, which also drops every output type but text, PNG and JPEG."""
    import copy

    from nbconvert import HTMLExporter
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    notebook = copy.deepcopy(notebook)
    if how == "sanitize preprocessor":
        notebook, _ = SanitizeHTML().preprocess(notebook, {})
    body, _ = HTMLExporter(sanitize_html=how != "html").from_notebook_node(notebook)
    return body


@pytest.mark.parametrize("how", ["html", "sanitized html", "sanitize preprocessor"])
def test_html_exports_keep_the_table_in_a_pre_and_leak_no_markup(executed, how):
    page = _html(executed, how)
    pre = re.search(r"<pre>jangrad check:.*?</pre>", page, re.S)  # nbconvert writes text/plain in a <pre>
    assert pre is not None, "the report card must stay preformatted"
    assert re.search(r"\nFAIL  a \* b +wrong at 4 of 4 points\n", pre.group(0))  # columns kept, one line
    assert re.search(r"\nFAIL  a - b +fails because a \* b fails\n", pre.group(0))
    for junk in ("&lt;svg", "&lt;img", "&lt;p&gt;", "&lt;pre", "&lt;?xml"):
        assert junk not in page, junk
    if how == "sanitize preprocessor":  # SVG outputs are dropped, PNG ones kept: the drawing survives
        assert 'src="data:image/png;base64,' in page and 'src="data:image/svg+xml' not in page
    else:
        assert 'src="data:image/svg+xml;base64,' in page  # the lab template shows an SVG output as an image
