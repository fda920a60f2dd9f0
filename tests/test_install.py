"""The light install, as a user gets it: the built wheel in a fresh virtual environment with its core dependencies
only (NumPy), none of the extras. The engine, nn, fit and compile work; a feature that needs an extra says which,
in one line, from the library (``MissingExtraError``, an ImportError) and from the command line (exit status 2).

Also the extras machinery itself, in this process: a missing package becomes that one line, anything else that
goes wrong inside an import keeps its own error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import jangrad
from jangrad.extras import EXTRAS, MissingExtraError, require

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
NETWORK_TROUBLE = ("Could not find a version", "No matching distribution", "NewConnectionError", "Temporary failure")


# ---- the machinery, in this process ----------------------------------------------------------------------------
def test_a_missing_package_names_the_extra_that_installs_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # `import sklearn` now raises ModuleNotFoundError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # (an earlier test may have imported it)
    with pytest.raises(MissingExtraError) as caught:
        require("sklearn.datasets", "the moons data set")
    message = str(caught.value)
    assert message == (
        'the moons data set needs scikit-learn, which jangrad\'s [data] extra installs: pip install "jangrad[data]"'
    )
    assert "\n" not in message and isinstance(caught.value, ImportError) and caught.value.extra == "data"


def test_the_data_sets_say_so_from_the_library_and_the_command_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(MissingExtraError, match=r"blobs .*\[data\]"):
        jangrad.data.blobs()
    assert jangrad.cli.main(["train", "--data", "blobs", "--steps", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "jangrad[data]"' in err and err.startswith("jangrad train: error:")


def test_without_tqdm_a_terminal_gets_the_plain_progress_lines(monkeypatch):
    from jangrad import train

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    pytest.importorskip("tqdm")
    bar = train._progress_bar(10, True)
    assert bar is not None and not isinstance(bar, train._ProgressLines)  # a terminal gets tqdm's bar
    bar.close()
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert isinstance(train._progress_bar(10, True), train._ProgressLines)
    assert train._progress_bar(10, False) is None


def test_a_broken_package_keeps_its_own_error(tmp_path, monkeypatch):
    """Only a package that is not there becomes "install the extra": one that fails inside its own import (here a
    dependency of its own is missing) raises what it raised, which says more."""
    package = tmp_path / "graphviz"
    package.mkdir()
    (package / "__init__.py").write_text("import a_dependency_that_is_not_there\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "graphviz", raising=False)
    with pytest.raises(ModuleNotFoundError) as caught:
        require("graphviz", "drawing with Graphviz")
    assert not isinstance(caught.value, MissingExtraError)
    assert caught.value.name == "a_dependency_that_is_not_there"


def test_every_optional_package_has_an_extra_in_pyproject():
    extras = PYPROJECT["project"]["optional-dependencies"]
    listed = {extra: " ".join(requirements) for extra, requirements in extras.items()}
    for module, (_, extra) in EXTRAS.items():
        pip_name = {"sklearn": "scikit-learn"}.get(module, module)
        assert pip_name in listed[extra], f"{module} should be installed by the [{extra}] extra"
    assert set(PYPROJECT["project"]["dependencies"]) == {"numpy>=1.24"}, "the core install is NumPy at most"
    assert "jangrad[viz,data,check]" in extras["all"] and "jangrad[all]" in extras["test"]


def test_the_version_comes_from_one_place():
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "jangrad._version.__version__"}
    assert "version" not in PYPROJECT["project"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{jangrad.__version__}]" in changelog, "CHANGELOG.md has no section for this version"


# ---- the wheel in a fresh environment ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def core_env(tmp_path_factory) -> Path:
    """A fresh venv with the wheel built from this checkout and the core dependencies only; its python."""
    where = tmp_path_factory.mktemp("core-install")
    # Built as pip builds it for a user: in an isolated environment with the build requirements of pyproject.toml.
    _pip_or_skip(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(where), str(ROOT)],
        "cannot fetch the build requirements (no package index?)",
    )
    wheel = next(where.glob("jangrad-*.whl"))
    assert wheel.name.startswith(f"jangrad-{jangrad.__version__}-")
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True, timeout=300, env=_clean_env())
    python = where / "venv" / "bin" / "python"
    _pip_or_skip(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        "cannot install NumPy into a fresh environment (no package index?)",
    )
    return python


def _pip_or_skip(command: list[str], why_skipped: str) -> None:
    """Run a pip command; skip the test, saying ``why_skipped``, when it failed for want of a package index."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=_clean_env())
    if done.returncode != 0 and any(trouble in done.stderr for trouble in NETWORK_TROUBLE):
        pytest.skip(f"{why_skipped}: {done.stderr[-300:]}")
    assert done.returncode == 0, done.stderr


def _clean_env() -> dict[str, str]:
    """This process's environment without what points at the checkout (PYTHONPATH would let pip and Python see the
    working tree's jangrad instead of the wheel's)."""
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "MPLBACKEND")}


def _run(python: Path, *args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    env = _clean_env()
    command = [str(python), "-c", textwrap.dedent(code)] if code else [str(python), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=python.parents[2])


def test_the_core_install_has_numpy_and_none_of_the_extras(core_env):
    done = _run(core_env, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check")
    installed = {line.split("==")[0].lower() for line in done.stdout.split()}
    assert {"jangrad", "numpy"} <= installed
    heavy = {"matplotlib", "graphviz", "igraph", "tqdm", "scikit-learn", "scipy", "hypothesis", "torch"}
    assert not installed & heavy


def test_the_engine_nn_fit_and_compile_work_on_the_core_install(core_env):
    done = _run(
        core_env,
        code="""
        import sys
        import jangrad
        from jangrad import Value, data, losses, nn, optim

        assert jangrad.__file__.startswith(sys.prefix), jangrad.__file__  # the wheel, not the checkout
        a, b = Value(2.0), Value(3.0)
        e = a * a + a * b
        e.backward()
        print(a.grad, b.grad)
        X, y = data.seed4()
        model = nn.MLP(3, [4, 4, 1], seed=0)
        opt = optim.SGD(model.parameters(), lr=0.05)
        for _ in range(20):
            loss = losses.sse([model(x) for x in X], y)
            opt.zero_grad(); loss.backward(); opt.step()
        tape = jangrad.compile(loss)
        replayed = tape.forward()
        history = jangrad.fit(nn.MLP(3, [4, 4, 1], seed=0), X, y, loss="sse", lr=0.05, steps=50, progress=True)
        assert history.loss[-1] < history.loss[0]
        print(round(replayed, 9) == round(loss.data, 9), len(history))
        print(sorted(m for m in ("matplotlib", "graphviz", "igraph", "tqdm", "sklearn") if m in sys.modules))
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["7.0 2.0", "True 50", "[]"]


def test_a_feature_needing_an_extra_says_which_from_the_library(core_env):
    done = _run(
        core_env,
        code="""
        import jangrad
        for attempt in (lambda: jangrad.data.blobs(), lambda: jangrad.draw(jangrad.Value(1.0)).pipe("svg")):
            try:
                attempt()
            except ImportError as error:
                print(type(error).__name__, error)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "MissingExtraError the blobs data set needs scikit-learn, which jangrad's [data] extra installs: "
        'pip install "jangrad[data]"',
        "MissingExtraError drawing with Graphviz needs the graphviz Python package, which jangrad's [viz] extra "
        'installs: pip install "jangrad[viz]"',
    ]


@pytest.mark.parametrize(
    "command, extra",
    [
        (["train", "--data", "blobs", "--steps", "5", "--no-progress"], "data"),
        (["graph", "a*b", "--set", "a=1", "b=2", "--out", "g.svg"], "viz"),
        (["demo", "--no-progress", "--out", "demo-out"], "viz"),
    ],
    ids=["train-blobs", "graph", "demo"],
)
def test_a_feature_needing_an_extra_says_which_from_the_command_line(core_env, command, extra):
    done = _run(core_env.parent / "jangrad", *command)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"jangrad {command[0]}: error: ")
    assert done.stderr.endswith(f'pip install "jangrad[{extra}]"\n')


def test_the_version_of_the_installed_command(core_env):
    done = _run(core_env.parent / "jangrad", "--version")
    assert (done.returncode, done.stdout) == (0, f"jangrad {jangrad.__version__}\n")
