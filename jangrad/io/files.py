"""Saving files safely: a crash or an error while writing never leaves a half-written file or loses the old one.

Everything jangrad writes (model files, histories, drawings, plots, generated docs) goes through here: the data
goes to a temporary file in the same folder, which is flushed to disk and then renamed over the target in one
step.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Iterator

__all__ = ["replace_atomically", "write_text", "write_bytes"]


def _umask() -> int:
    """The process's umask. Linux shows it in /proc; elsewhere the only way is to set it and put it back, which
    for that moment would give files that other threads create the wrong permissions."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _mode_for(target: Path) -> int:
    """An existing file keeps its permissions; a new one gets an ordinary file's (mkstemp makes files private)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


@contextlib.contextmanager
def replace_atomically(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary file name beside ``path``; when the block succeeds, rename that file over ``path``.

    If the block raises, the temporary file is removed and ``path`` is left exactly as it was.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {str(target)!r}: the folder {str(folder)!r} does not exist")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield temporary
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with replace_atomically(path) as temporary:
        Path(temporary).write_bytes(data)


def write_text(path: str | os.PathLike, text: str, newline: str | None = None) -> None:
    with replace_atomically(path) as temporary:
        with open(temporary, "w", encoding="utf-8", newline=newline) as file:
            file.write(text)
