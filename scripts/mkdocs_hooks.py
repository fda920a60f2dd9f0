"""MkDocs hooks for jangrad's documentation site (``mkdocs.yml`` names this file under ``hooks:``).

The site reuses the README rather than copying it, so the two cannot drift apart:

* ``<!-- readme: Section title -->`` on a line of its own is replaced by that section of README.md (the heading's
  body, up to the next heading of the same or a higher level; its sub-sections come along), and
  ``<!-- readme-intro: Section title -->`` by the part before its first sub-section. A title that is not in the
  README stops the build, naming it.
* ``<!-- cli-help -->`` is replaced by the ``--help`` text of the ``jangrad`` command and of each subcommand, read
  from the parser itself (``jangrad.cli.build_parser``).
* Links written for the repository (README.md's and the tour's, relative to the repository root) are rewritten for
  the site: ``docs/x.md`` -> ``x.md``, ``examples/NN.ipynb`` -> the rendered notebook page, and a link to a source
  file (``jangrad/engine.py``, ``tests/...``) -> that path as code, or a link to it under ``repo_url`` when
  ``mkdocs.yml`` sets one.

Markers and links are rewritten in every page's Markdown before MkDocs renders it (``on_page_markdown``).
"""

from __future__ import annotations

import io
import posixpath
import re
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
README_SECTION = re.compile(r"^<!-- readme(?P<intro>-intro)?: (?P<title>.+?) -->$", re.M)
CLI_HELP = "<!-- cli-help -->"
HEADING = re.compile(r"^(?P<hashes>#{1,6}) (?P<title>.+?)\s*$")
LINK = re.compile(r"(?P<prefix>!?\[[^\]]*\]\()(?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")
NOTEBOOKS = "notebooks/"  # where the site's notebook pages live, beside the other pages


def readme_section(title: str, text: str | None = None, intro: bool = False) -> str:
    """The body of README.md's section ``title``: the lines under its heading up to the next heading of the same
    or a higher level (outside code blocks), without the heading itself; with ``intro``, up to the next heading
    of any level (the section without its sub-sections)."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    in_code, start, level = False, None, 0
    for number, line in enumerate(lines):
        if line.startswith("```"):
            in_code = not in_code
        found = None if in_code else HEADING.match(line)
        if found is None:
            continue
        if start is None and found["title"] == title:
            start, level = number + 1, len(found["hashes"])
        elif start is not None and (intro or len(found["hashes"]) <= level):
            return "\n".join(lines[start:number]).strip("\n") + "\n"
    if start is None:
        raise ValueError(f"README.md has no section titled {title!r} (a docs page asks for it)")
    return "\n".join(lines[start:]).strip("\n") + "\n"


def cli_help() -> str:
    """``jangrad --help`` and every subcommand's ``--help``, each under a heading, as the parser prints them."""
    sys.path.insert(0, str(ROOT))
    from jangrad.cli.main import build_parser

    parser = build_parser()
    commands = [action for action in parser._actions if action.__class__.__name__ == "_SubParsersAction"]
    sections = [("jangrad", parser)]
    for action in commands:
        sections += [(f"jangrad {name}", sub) for name, sub in action.choices.items()]
    parts = []
    for title, sub in sections:
        text = io.StringIO()
        with redirect_stdout(text):
            sub.print_help()
        parts.append(f"### `{title}`\n\n```text\n{text.getvalue().rstrip()}\n```\n")
    return "\n".join(parts)


def site_link(target: str, page: str, repo_url: str | None) -> str | None:
    """Where a repository-relative link of README.md or the tour points on the site, relative to ``page`` (a docs
    path such as ``check.md``); None when the link should be left alone (a web address, a page of the site)."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
        return None
    here = posixpath.dirname(page)
    if target.startswith("../"):  # a docs page's own link out of docs/ (ops.md's ../jangrad/ops.py)
        resolved = posixpath.normpath(posixpath.join("docs", here, target))
        if resolved.startswith("docs/"):
            return None
        target = resolved
    if target.startswith("docs/"):
        return posixpath.relpath(target[len("docs/") :], here or ".")
    if target.startswith("examples/") and target.endswith(".ipynb"):
        return posixpath.relpath(NOTEBOOKS + posixpath.basename(target), here or ".")
    if (ROOT / target).exists() and not (ROOT / "docs" / posixpath.normpath(posixpath.join(here, target))).exists():
        return f"{repo_url.rstrip('/')}/blob/main/{target}" if repo_url else ""
    return None


def rewrite_links(markdown: str, page: str, repo_url: str | None) -> str:
    """Rewrite the repository-relative links of ``markdown`` for the site page ``page`` (see ``site_link``). With
    no ``repo_url``, a link to a source file becomes its path as code (after its words, when they differ)."""

    def replace(found: re.Match[str]) -> str:
        target = found["target"]
        new = site_link(target, page, repo_url)
        if new is None:
            return found.group(0)
        if new == "":
            words = found["prefix"][1:-2]
            return f"`{target}`" if words.strip("`") == target else f"{words} (`{target}`)"
        return f"{found['prefix']}{new}{found['anchor'] or ''})"

    # Only outside code blocks: a link-like text inside code is code.
    parts = re.split(r"(^```.*?^```)", markdown, flags=re.M | re.S)
    return "".join(part if part.startswith("```") else LINK.sub(replace, part) for part in parts)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs calls this for every page: fill the README sections and the CLI help, then rewrite the links."""
    markdown = README_SECTION.sub(lambda found: readme_section(found["title"], intro=bool(found["intro"])), markdown)
    if CLI_HELP in markdown:
        markdown = markdown.replace(CLI_HELP, cli_help())
    return rewrite_links(markdown, page.file.src_uri, config.get("repo_url"))
