"""The release tooling: the docs site's hooks (README sections, links rewritten for the site), the type-check
script's verdict, the pre-commit configuration and the CI stages that run them.

The docs build itself (``mkdocs build --strict``) and mypy run in ``.ci/run``; these tests check the pieces that
decide what those report, fast and without either tool.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


hooks = _load_script("mkdocs_hooks")
typecheck = _load_script("typecheck")


# ---- the docs site's hooks --------------------------------------------------------------------------------------
def test_every_readme_section_a_docs_page_asks_for_exists():
    asked = [
        (page.name, found["title"], bool(found["intro"]))
        for page in sorted((ROOT / "docs").rglob("*.md"))
        for found in hooks.README_SECTION.finditer(page.read_text(encoding="utf-8"))
    ]
    assert len(asked) >= 8
    for page, title, intro in asked:
        assert hooks.readme_section(title, intro=intro).strip(), f"{page} asks for README's {title!r}: it is empty"


def test_a_readme_section_ends_at_the_next_heading_of_its_level():
    text = "# t\n## A\none\n### A.1\ntwo\n```\n## not a heading\n```\n## B\nthree\n"
    assert hooks.readme_section("A", text) == "one\n### A.1\ntwo\n```\n## not a heading\n```\n"
    assert hooks.readme_section("A", text, intro=True) == "one\n"
    with pytest.raises(ValueError, match="no section titled 'C'"):
        hooks.readme_section("C", text)


@pytest.mark.parametrize(
    "target, page, expected",
    [
        ("docs/ops.md", "index.md", "ops.md"),
        ("docs/ops.md", "api/engine.md", "../ops.md"),
        ("docs/playground-network.png", "playground.md", "playground-network.png"),
        (
            "examples/02_neural_network_from_scratch.ipynb",
            "README-tour.md",
            "notebooks/02_neural_network_from_scratch.ipynb",
        ),
        ("jangrad/engine.py", "README-tour.md", ""),  # a source file: its path as code
        ("../jangrad/ops.py", "ops.md", ""),
        ("ops.md", "index.md", None),  # a page of the site
        ("https://example.org/x", "index.md", None),
    ],
)
def test_repository_links_point_into_the_site(target, page, expected):
    assert hooks.site_link(target, page, None) == expected


def test_a_source_link_becomes_code_or_a_link_under_the_repository():
    text = "see [jangrad/engine.py](jangrad/engine.py) and [the table](docs/ops.md#add)\n"
    text += "```\n[x](jangrad/engine.py)\n```\n"
    assert hooks.rewrite_links(text, "check.md", None) == (
        "see `jangrad/engine.py` and [the table](ops.md#add)\n```\n[x](jangrad/engine.py)\n```\n"
    )
    linked = hooks.rewrite_links("[e](jangrad/engine.py)", "check.md", "https://example.org/jangrad")
    assert linked == "[e](https://example.org/jangrad/blob/main/jangrad/engine.py)"


def test_the_command_line_page_gets_every_subcommand_help():
    text = hooks.cli_help()
    for command in ("demo", "train", "sweep", "graph", "explain", "gradcheck", "check", "serve"):
        assert f"### `jangrad {command}`" in text
    assert "usage: jangrad train" in text


# ---- the type check's verdict -----------------------------------------------------------------------------------
def test_the_strict_modules_are_the_core():
    strict = typecheck.strict_modules()
    core = {"engine", "ops", "nn", "losses", "optim", "autodiff", "train", "switches", "anomaly", "higher_order"}
    core |= {"hand_built", "checks", "schedules", "data", "recipe"}
    assert {f"jangrad.{name}" for name in core} <= strict
    assert not any(module.startswith(("jangrad.viz", "jangrad.cli", "jangrad.playground")) for module in strict)


def test_a_core_error_fails_and_an_error_elsewhere_is_reported():
    output = (
        "jangrad/engine.py:3: error: Missing type arguments  [type-arg]\n"
        "jangrad/viz/graph.py:9: error: Incompatible types  [assignment]\n"
        "jangrad/viz/graph.py:9: note: a note is not an error\n"
        "Found 2 errors in 2 files (checked 3 source files)\n"
    )
    core, other = typecheck.split_errors(output, {"jangrad.engine"})
    assert [line.split(":")[0] for line in core] == ["jangrad/engine.py"]
    assert [line.split(":")[0] for line in other] == ["jangrad/viz/graph.py"]
    assert typecheck.module_of("jangrad/viz/__init__.py") == "jangrad.viz"


def test_an_error_in_a_folder_that_must_be_clean_fails_and_one_elsewhere_is_reported():
    output = (
        "jangrad/viz/graph.py:9: error: Incompatible types  [assignment]\n"
        "jangrad/extras.py:2: error: Incompatible types  [assignment]\n"
        "jangrad/compiled/tape.py:5: error: Incompatible types  [assignment]\n"
    )
    failing, other = typecheck.split_errors(output, set(), {"jangrad/viz/", "jangrad/"})
    assert [line.split(":")[0] for line in failing] == ["jangrad/viz/graph.py", "jangrad/extras.py"]
    assert [line.split(":")[0] for line in other] == ["jangrad/compiled/tape.py"]
    # a folder is one folder: listing jangrad/ (the top-level modules) does not make every subfolder required
    failing, other = typecheck.split_errors(output, set(), {"jangrad/"})
    assert [line.split(":")[0] for line in failing] == ["jangrad/extras.py"]


def test_the_swept_folders_must_stay_clean_and_each_listed_folder_exists():
    clean = typecheck.clean_folders()
    assert {"jangrad/", "jangrad/check/", "jangrad/cli/", "jangrad/io/", "jangrad/site/", "jangrad/viz/"} <= clean
    assert clean <= typecheck.package_folders()
    assert typecheck.folder_of("jangrad/engine.py") == "jangrad/"
    assert typecheck.folder_of("jangrad/viz/graph.py") == "jangrad/viz/"


def test_every_function_outside_the_folders_in_flight_is_annotated_and_checked():
    import tomllib

    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    flags = ("disallow_untyped_defs", "disallow_incomplete_defs", "check_untyped_defs")
    assert all(mypy[flag] is True for flag in flags)
    relaxed = {
        module
        for override in mypy["overrides"]
        if any(override.get(flag) is False for flag in flags)
        for module in override["module"]
    }
    assert relaxed <= {"jangrad.compiled.*", "jangrad.playground.*"}, "only the folders still being changed"


def test_a_must_be_clean_list_that_is_not_a_list_of_names_is_refused(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.jangrad.typecheck]\nmust_be_clean = "jangrad/viz/"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="must_be_clean must be a list"):
        typecheck.clean_folders(pyproject)
    pyproject.write_text('[tool.jangrad.typecheck]\nmust_be_clean = ["jangrad/viz"]\n', encoding="utf-8")
    assert typecheck.clean_folders(pyproject) == {"jangrad/viz/"}


# ---- CI and pre-commit run the same checks ------------------------------------------------------------------------
def test_ci_and_pre_commit_run_lint_types_docs_and_the_wheel():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for stage in (
        "ruff check",
        "ruff format --check",
        "scripts/typecheck.py",
        "mkdocs build --strict",
        "release-check",
    ):
        assert stage in ci, f".ci/run has no {stage} stage"
    hooks_config = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert "repo: local" in hooks_config and "language: system" in hooks_config
    for command in ("ruff check", "ruff format --check", "scripts/typecheck.py", "gen_docs.py --check"):
        assert command in hooks_config, f"pre-commit does not run {command}"
    ci_order = [ci.index(stage) for stage in ("ruff check", "scripts/typecheck.py", "python3 -m pytest -q\n")]
    assert ci_order == sorted(ci_order), "lint and types run before the tests"


def test_the_release_check_installs_the_wheel_not_the_checkout():
    script = (ROOT / ".ci" / "release-check.sh").read_text(encoding="utf-8")
    assert "python3 -m build" in script and "venv" in script
    assert re.search(r'^wheel="[^"\n]*\.whl"$', script, flags=re.M), "the script names the wheel it built"
    assert re.search(r'pip install [^\n]*"\$wheel', script), "the fresh environment installs the built wheel"
    assert "jangrad --version" in script and "jangrad demo" in script
    assert "pip install -e" not in script
