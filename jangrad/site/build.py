"""Building the static folder: the playground's page with its worker transport, Pyodide, Graphviz for the web,
jangrad and the wheels it imports in the browser, and a manifest the page's workers read at start.

The folder's layout::

    index.html            the playground's page (the same HTML as ``jangrad serve``), relative links, site hooks
    static/               the playground's scripts and style, transport.js replaced by the worker transport,
                          and the site's own modules (the workers, the check tab, ``window.jangrad``)
    pyodide/              Pyodide's core runtime (no NumPy: nothing in the page needs it)
    vendor/viz.js         Graphviz compiled to WebAssembly: lays out and draws the graphs in the page
    python/               jangrad as a zip of its package, and the pure-Python wheels (hypothesis, graphviz, ...)
    jangrad-site.json     what the workers install, with each file's hash (a rebuilt file gets a new URL)
    THIRD-PARTY.md        what came from where, under which licence

The folder is built beside ``out_dir`` and moved into place when it is whole, so a failed build never loses the
previous site; a folder that holds anything else is never replaced.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .._version import __version__
from .inputs import PYODIDE, VIZ, WHEELS, InputError, default_cache, npm_package, wheels

__all__ = ["build_site", "SiteError", "SiteSummary", "MANIFEST", "site_index", "package_archive"]

MANIFEST = "jangrad-site.json"
_PAGE_FILE = re.compile(r"^[a-z0-9_-]{1,64}\.(html|js|css|svg|png|ico)$")  # what the playground serves from static/
# The page may load and talk to nothing but its own origin; WebAssembly needs 'wasm-unsafe-eval' to compile.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; connect-src 'self'; "
    "img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'"
)
# Shown until site.js runs: a page opened as a file gets no module scripts, so it says what to do instead.
NEEDS_A_SERVER = (
    '<p id="site-needs-server" class="site-note">This page runs jangrad in your browser, and browsers run it only '
    "from a web server: in this folder run <code>python3 -m http.server</code> and open "
    "<code>http://127.0.0.1:8000/</code>, or put the folder on any static web host.</p>\n"
)
_HOOKS = (
    '<link rel="stylesheet" href="static/site.css">\n'
    '<script type="module" src="static/site.js"></script>\n'  # after app.js: module scripts run in document order
)


class SiteError(ValueError):
    """The site cannot be built: one line saying why and what to do (the command line exits with status 2)."""


@dataclass
class SiteSummary:
    """What was built: the folder, its file count and size in bytes, and the versions inside."""

    folder: Path
    files: int
    bytes: int
    versions: dict[str, str]

    def text(self) -> str:
        parts = ", ".join(f"{name} {version}" for name, version in self.versions.items())
        return f"wrote {self.folder}: {self.files} files, {self.bytes / 1e6:.1f} MB ({parts})"


def site_index(page: str) -> str:
    """The playground's index.html for the static folder: links relative to the page (a static host may serve it
    under a sub-path, as GitHub Pages does), a Content-Security-Policy that keeps every request on the page's own
    origin, the site's stylesheet and module, and a note for a page opened as a file (which runs no modules)."""
    head = re.search(r"<meta charset=[^>]*>", page) or re.search(r"<head[^>]*>", page)
    if head is None or "</head>" not in page:
        raise SiteError("the playground's index.html has no <head>: cannot add the site's hooks to it")
    policy = f'\n<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
    page = page[: head.end()] + policy + page[head.end() :]
    page = re.sub(r'(\b(?:src|href)=")/(static/)', r"\1\2", page)
    page = page.replace("</head>", _HOOKS + "</head>", 1)
    body = re.search(r"<body[^>]*>\n?", page)
    if body is None:
        raise SiteError("the playground's index.html has no <body>: cannot add the site's note to it")
    return page[: body.end()] + NEEDS_A_SERVER + page[body.end() :]


def package_archive() -> bytes:
    """jangrad's installed package as a zip for the browser: its files in sorted order with fixed timestamps, so
    the same code always gives the same bytes (and the same URL hash)."""
    root = Path(__file__).resolve().parents[1]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
                continue
            info = zipfile.ZipInfo(str(Path("jangrad") / path.relative_to(root)), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _short_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} is a file: expected a folder to write the site into")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise SiteError(
            f"{out} holds other files and is not a jangrad site (it has no {MANIFEST}): choose a new or empty "
            f"folder, since building replaces the whole folder"
        )


def _copy_page(static: Path) -> None:
    """The playground's page files, then the site's own (its transport.js replaces the server's)."""
    static.mkdir()
    for package in ("jangrad.playground", "jangrad.site"):
        for entry in resources.files(package).joinpath("static").iterdir():
            if _PAGE_FILE.match(entry.name) and entry.is_file() and entry.name != "index.html":
                (static / entry.name).write_bytes(entry.read_bytes())


def _third_party(versions: dict[str, str]) -> str:
    lines = [
        "# What this folder holds, and where it came from",
        "",
        f"Built by `jangrad site` (jangrad {__version__}, MIT licence). Nothing here is fetched from anywhere",
        "else when the page runs.",
        "",
        "| folder | what | version | licence | from |",
        "|---|---|---|---|---|",
        f"| pyodide/ | Pyodide, CPython for WebAssembly | {versions['pyodide']} | {PYODIDE.license} "
        f"(CPython: PSF) | npm `{PYODIDE.name}` |",
        f"| vendor/viz.js | viz.js, Graphviz for WebAssembly | {versions['viz.js']} | {VIZ.license} "
        f"| npm `{VIZ.name}` |",
        f"| python/ | jangrad | {__version__} | MIT | this jangrad installation |",
    ]
    for wheel in WHEELS:
        lines.append(
            f"| python/ | {wheel.project} | {versions.get(wheel.project, wheel.version)} | {wheel.license} | PyPI |"
        )
    return "\n".join(lines) + "\n"


def _npm_version(folder: Path, pinned: str) -> str:
    """The version an npm package folder says it is (one passed by hand may not be the pinned one)."""
    try:
        return str(json.loads((folder / "package.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return pinned


def _wheel_version(path: Path) -> tuple[str, str]:
    project, version = path.name.split("-")[:2]
    return project, version


def _fill(folder: Path, pyodide_dir: Path, viz_dir: Path, wheel_files: list[Path]) -> dict[str, str]:
    """Write the whole site into the empty ``folder``; returns the versions inside."""
    static = folder / "static"
    _copy_page(static)
    page = resources.files("jangrad.playground").joinpath("static", "index.html").read_text(encoding="utf-8")
    (folder / "index.html").write_text(site_index(page), encoding="utf-8")

    (folder / "pyodide").mkdir()
    for name in PYODIDE.files:
        shutil.copyfile(pyodide_dir / name, folder / "pyodide" / name)
    (folder / "vendor").mkdir()
    shutil.copyfile(viz_dir / VIZ.files[0], folder / "vendor" / "viz.js")

    python = folder / "python"
    python.mkdir()
    archives = []
    jangrad_zip = package_archive()
    (python / f"jangrad-{__version__}.zip").write_bytes(jangrad_zip)
    archives.append({"path": f"python/jangrad-{__version__}.zip", "format": "zip", "hash": _short_hash(jangrad_zip)})
    versions = {
        "jangrad": __version__,
        "pyodide": _npm_version(pyodide_dir, PYODIDE.version),
        "viz.js": _npm_version(viz_dir, VIZ.version),
    }
    for wheel in wheel_files:
        data = wheel.read_bytes()
        (python / wheel.name).write_bytes(data)
        archives.append({"path": f"python/{wheel.name}", "format": "wheel", "hash": _short_hash(data)})
        project, version = _wheel_version(wheel)
        versions[project] = version
    manifest = {"jangrad": __version__, "pyodide": versions["pyodide"], "viz": versions["viz.js"], "python": archives}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (folder / "THIRD-PARTY.md").write_text(_third_party(versions), encoding="utf-8")
    (folder / ".nojekyll").write_text("")  # GitHub Pages: serve the folder as it is
    return versions


def _replace(staging: Path, out: Path) -> None:
    """Move the finished ``staging`` folder to ``out``; the previous site is removed only once the new one is in."""
    if not out.exists():
        os.replace(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except OSError:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def build_site(
    out_dir: str | os.PathLike,
    *,
    pyodide: str | os.PathLike | None = None,
    viz: str | os.PathLike | None = None,
    wheel_folder: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
) -> SiteSummary:
    """Write the static site into ``out_dir`` (created, or replaced when it holds an earlier site).

    ``pyodide`` and ``viz`` are a ``.tgz`` from ``npm pack`` or its unpacked folder, ``wheel_folder`` a folder of
    wheels; each one left out is taken from ``cache`` (default ``~/.cache/jangrad/site``) or downloaded into it.
    Raises SiteError when the folder cannot be written or an input cannot be had.
    """
    out = Path(out_dir).resolve()
    _check_target(out)
    cache_dir = Path(cache) if cache is not None else default_cache()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        pyodide_dir = npm_package(PYODIDE, Path(pyodide) if pyodide is not None else None, cache_dir)
        viz_dir = npm_package(VIZ, Path(viz) if viz is not None else None, cache_dir)
        wheel_files = wheels(Path(wheel_folder) if wheel_folder is not None else None, cache_dir)
    except InputError as error:
        raise SiteError(str(error)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a web server must read it
        versions = _fill(staging, pyodide_dir, viz_dir, wheel_files)
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = [p for p in out.rglob("*") if p.is_file()]
    return SiteSummary(out, len(files), sum(p.stat().st_size for p in files), versions)
