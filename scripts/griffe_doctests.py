"""A griffe extension for the API reference: a docstring's doctest (``>>>`` lines and the output under them) is shown
as a Python console block, not as a Markdown quote (``>`` starts a quote in Markdown).

``mkdocs.yml`` loads it (``extensions: [scripts/griffe_doctests.py]``). jangrad's docstrings are prose with
examples in the doctest style that ``tests/test_doctests.py`` runs, so they need no ``Examples:`` sections.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """Wrap each run of doctest lines (from a ``>>>`` line to the next blank line) in a ```pycon fence."""
    lines, out, inside = text.split("\n"), [], False
    for line in lines:
        if not inside and line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            inside = True
        elif inside and not line.strip():
            out.append(f"{indent}```")
            inside = False
        out.append(line)
    if inside:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence every object's doctests before mkdocstrings renders its docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
