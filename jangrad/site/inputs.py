"""Where the static site's build inputs come from, and the cache that keeps them.

* Pyodide (the Python runtime for the browser) and viz.js (Graphviz compiled to WebAssembly, which lays out and
  draws the graphs) come from the npm registry, by ``npm pack NAME@VERSION``;
* the pure-Python wheels the page imports (hypothesis for the check, with its one dependency, and the graphviz
  package that writes DOT text) come from PyPI, by ``pip download --only-binary :all: --no-deps``.

Each is pinned by version and by the hash the registry publishes, and kept in a cache folder (``--cache``, else
``$XDG_CACHE_HOME/jangrad/site`` or ``~/.cache/jangrad/site``), so a rebuild downloads nothing. A file the user
passes (``--pyodide``, ``--viz``: a ``.tgz`` from ``npm pack`` or its unpacked folder; ``--wheels``: a folder of
wheels) replaces a download, for a machine without npm or without the network; those are taken as given.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "NpmPackage",
    "Wheel",
    "PYODIDE",
    "VIZ",
    "WHEELS",
    "InputError",
    "default_cache",
    "npm_package",
    "wheels",
]

DOWNLOAD_SECONDS = 600  # npm pack or pip download of everything: a slow line, not a hung one


class InputError(RuntimeError):
    """A build input cannot be had: one line saying which, why, and what to pass instead."""


@dataclass(frozen=True)
class NpmPackage:
    """An npm package the site copies files from: ``files`` are paths inside its ``package/`` folder."""

    name: str
    version: str
    integrity: str  # the registry's "dist.integrity" of the tarball (sha512, base64)
    files: tuple[str, ...]
    license: str
    flag: str  # the option that passes it by hand

    @property
    def tarball_name(self) -> str:
        """What ``npm pack`` calls the tarball: ``@viz-js/viz`` becomes ``viz-js-viz-3.31.0.tgz``."""
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"


@dataclass(frozen=True)
class Wheel:
    project: str
    version: str
    filename: str
    sha256: str
    license: str


# Pyodide 314 runs CPython 3.14; its core runtime has no NumPy, which the page does not need. pyodide-lock.json is
# read by loadPyodide at start.
PYODIDE = NpmPackage(
    "pyodide",
    "314.0.8",
    "sha512-74Wq1kXOC+CCEzAfxuRAO701nAcCMLjf8NrwvWpu8S41dVMXwXmLQ05dYB+F4e46AdnGo0oq7YHSVUpHsoarLQ==",
    ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"),
    "MPL-2.0",
    "--pyodide",
)
VIZ = NpmPackage(
    "@viz-js/viz",
    "3.31.0",
    "sha512-r7zlQdRvcwvIpjHGgs+KNWHeE/P5/Dq7k8ZAKaMCbZqomxCBJV78gVuQYaHzFVca+kB0mX0fMW9UFevCOBG50A==",
    ("dist/viz.js",),
    "MIT (Graphviz: EPL-1.0)",
    "--viz",
)
WHEELS = (
    Wheel(
        "hypothesis",
        "6.155.2",
        "hypothesis-6.155.2-py3-none-any.whl",
        "c85ce6dcd630a90ce501f1d1dd1bc84b97f5649ca8a27e134c8cbf5aa480b1a5",
        "MPL-2.0",
    ),
    Wheel(
        "sortedcontainers",
        "2.4.0",
        "sortedcontainers-2.4.0-py2.py3-none-any.whl",
        "a163dcaede0f1c021485e957a39245190e74249897e2ae4b2aa38595db237ee0",
        "Apache-2.0",
    ),
    Wheel(
        "graphviz",
        "0.21",
        "graphviz-0.21-py3-none-any.whl",
        "54f33de9f4f911d7e84e4191749cac8cc5653f815b06738c54db9a15ab8b1e42",
        "MIT",
    ),
)


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jangrad" / "site"


# ---- npm packages ---------------------------------------------------------------------------------------------------
def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode("ascii")


def _npm_pack(package: NpmPackage, cache: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise InputError(
            f"npm is not installed, so {package.name} {package.version} cannot be fetched from the npm registry: "
            f"install Node.js and npm, or pass {package.flag} with a {package.tarball_name} from 'npm pack "
            f"{package.name}@{package.version}'"
        )
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        try:
            done = subprocess.run(
                [npm, "pack", f"{package.name}@{package.version}", "--pack-destination", scratch, "--silent"],
                cwd=scratch,
                capture_output=True,
                text=True,
                timeout=DOWNLOAD_SECONDS,
            )
        except subprocess.TimeoutExpired:
            raise InputError(f"npm pack {package.name}@{package.version} took over {DOWNLOAD_SECONDS} s") from None
        fetched = Path(scratch) / package.tarball_name
        if done.returncode != 0 or not fetched.is_file():
            reason = " ".join((done.stderr or done.stdout).split())[:300] or f"exit status {done.returncode}"
            raise InputError(
                f"npm pack {package.name}@{package.version} failed ({reason}); pass {package.flag} with the "
                f"tarball or its unpacked folder instead"
            )
        if _integrity(fetched) != package.integrity:
            raise InputError(
                f"{package.tarball_name} from the npm registry does not have the pinned hash "
                f"{package.integrity[:24]}...: refusing to use it"
            )
        target = cache / package.tarball_name
        os.replace(fetched, target)
    return target


def _unpack(tarball: Path, into: Path) -> Path:
    """Unpack an npm tarball's regular files (nothing outside ``package/``, no links) into ``into``; returns the
    package folder."""
    into.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if not member.isfile() or member.name.startswith("/") or ".." in parts or parts[:1] != ("package",):
                    continue
                target = into.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                if source is not None:
                    target.write_bytes(source.read())
    except (tarfile.TarError, OSError, EOFError) as error:
        raise InputError(f"{tarball} is not a readable npm tarball ({error})") from None
    return into / "package"


def npm_package(package: NpmPackage, given: Path | None, cache: Path) -> Path:
    """The folder holding ``package``'s files: from ``given`` (a tarball or a folder) when passed, else from the
    cache, else fetched with ``npm pack`` into the cache. Raises InputError when it cannot be had."""
    if given is not None:
        given = Path(given)
        if given.is_dir():
            folder = given / "package" if (given / "package" / package.files[0]).is_file() else given
        elif given.is_file():
            scratch = cache / "unpacked" / f"given-{_integrity(given)[7:23].replace('/', '_')}"
            folder = scratch / "package" if (scratch / "package").is_dir() else _unpack(given, scratch)
        else:
            raise InputError(f"{package.flag} {given}: no such file or folder")
        origin = str(given)
    else:
        cache.mkdir(parents=True, exist_ok=True)
        tarball = cache / package.tarball_name
        unpacked = cache / "unpacked" / package.tarball_name[:-4]
        if not tarball.is_file() or _integrity(tarball) != package.integrity:
            shutil.rmtree(unpacked, ignore_errors=True)
            tarball = _npm_pack(package, cache)
        folder = unpacked / "package"
        if not all((folder / name).is_file() for name in package.files):  # never unpacked, or not whole
            shutil.rmtree(unpacked, ignore_errors=True)
            folder = _unpack(tarball, unpacked)
        origin = f"npm {package.name}@{package.version}"
    missing = [name for name in package.files if not (folder / name).is_file()]
    if missing:
        raise InputError(f"{origin} is not the {package.name} package: it has no {', '.join(missing)}")
    return folder


# ---- wheels ---------------------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _normalised(project: str) -> str:
    return project.lower().replace("-", "_")


def _given_wheels(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise InputError(f"--wheels {folder}: expected a folder of .whl files")
    found = []
    for wheel in WHEELS:
        matches = sorted(folder.glob(f"{_normalised(wheel.project)}-*-none-any.whl"))
        if not matches:
            raise InputError(
                f"--wheels {folder} has no pure-Python wheel of {wheel.project} (for instance {wheel.filename})"
            )
        found.append(matches[-1])
    return found


def wheels(given: Path | None, cache: Path) -> list[Path]:
    """The wheels the page installs, in ``WHEELS`` order: from the folder ``given``, else the cache, else
    downloaded from PyPI with pip into the cache."""
    if given is not None:
        return _given_wheels(Path(given))
    folder = cache / "wheels"
    folder.mkdir(parents=True, exist_ok=True)
    missing = [w for w in WHEELS if not (folder / w.filename).is_file() or _sha256(folder / w.filename) != w.sha256]
    if missing:
        _pip_download(missing, folder)
    return [folder / w.filename for w in WHEELS]


def _pip_download(missing: list[Wheel], folder: Path) -> None:
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
        command += ["--only-binary", ":all:", "--no-deps", "--dest", scratch]
        command += [f"{w.project}=={w.version}" for w in missing]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_SECONDS)
        except subprocess.TimeoutExpired:
            raise InputError(f"pip download took over {DOWNLOAD_SECONDS} s") from None
        if done.returncode != 0:
            reason = " ".join((done.stderr or done.stdout).split())[-300:] or f"exit status {done.returncode}"
            names = ", ".join(w.filename for w in missing)
            raise InputError(f"pip could not download {names} ({reason}); pass --wheels with a folder holding them")
        for wheel in missing:
            fetched = Path(scratch) / wheel.filename
            if not fetched.is_file():
                raise InputError(f"pip download did not give {wheel.filename}")
            if _sha256(fetched) != wheel.sha256:
                raise InputError(f"{wheel.filename} from PyPI does not have the pinned sha256: refusing to use it")
            os.replace(fetched, folder / wheel.filename)
