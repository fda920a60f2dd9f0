"""The docstrings' examples run as doctests, module by module, as PyTorch runs its own.

Every module of the package is imported and searched (``doctest.DocTestFinder``), except the ``__main__`` modules,
which run a command when imported. The API reference shows these same examples.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import jangrad

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(jangrad.__path__, prefix="jangrad.")
    if not info.name.endswith(".__main__")
)


def _doctests(module_name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(module_name)
    return [test for test in doctest.DocTestFinder().find(module, module_name) if test.examples]


WITH_EXAMPLES = [name for name in MODULES if _doctests(name)]


def test_the_docstrings_have_examples():
    assert "jangrad.engine" in WITH_EXAMPLES and "jangrad.autodiff" in WITH_EXAMPLES
    assert sum(len(test.examples) for name in WITH_EXAMPLES for test in _doctests(name)) >= 15


@pytest.mark.parametrize("module_name", WITH_EXAMPLES)
def test_the_docstring_examples_run(module_name):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in _doctests(module_name):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples in {module_name} failed (above)"


def test_a_wrong_example_fails():
    parser = doctest.DocTestParser()
    test = parser.get_doctest(">>> 6 * 7\n41\n", {}, "wrong", "wrong.py", 0)
    runner = doctest.DocTestRunner()
    runner.run(test, out=lambda text: None)
    assert runner.summarize(verbose=False).failed == 1
