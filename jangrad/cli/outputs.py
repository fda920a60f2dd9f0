"""Where the commands write: every ``--out`` behaves the same, and creates the folders it names.

A folder output (``demo``, ``train``, ``sweep``) is made with any missing parent folders; so are the parent folders
of a file output (``graph``, ``gradcheck``). A path that runs into a file (``--out notes.txt/run``) is refused up
front, naming the flag. A command that fails having written nothing removes again the folders it made, so a
failed run leaves no empty folders behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from .errors import UsageError

__all__ = ["check_folder", "check_file_folder", "made_folder"]


def _blocking_file(folder: Path) -> Path | None:
    """The first existing path of ``folder`` and its parents, if it is a file rather than a folder."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def check_folder(text: str, flag: str = "--out") -> Path:
    """``text`` as a folder to write into (made later), refused if it or one of its parents is a file."""
    folder = Path(text)
    blocking = _blocking_file(folder)
    if blocking == folder:
        raise UsageError(f"{flag} {text!r} is a file, not a folder")
    if blocking is not None:
        raise UsageError(f"{flag} {text!r}: {str(blocking)!r} is a file, not a folder")
    return folder


def check_file_folder(path: Path, flag: str = "--out") -> Path:
    """The folder ``path`` is to be written in (made later), refused if one of its parents is a file."""
    blocking = _blocking_file(path.parent)
    if blocking is not None:
        raise UsageError(f"{flag} {str(path)!r}: {str(blocking)!r} is a file, not a folder")
    return path.parent


@contextlib.contextmanager
def made_folder(folder: Path) -> Iterator[Path]:
    """``folder``, made with its missing parents for the block; if the block fails with nothing written in them,
    the folders it made are removed again (the innermost first)."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    except BaseException:
        for made in missing:
            try:
                made.rmdir()
            except OSError:  # something was written in it: keep it, and every folder above it
                break
        raise
