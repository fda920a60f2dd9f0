"""Saving files safely: a crash or an error while writing never leaves a half-written file or loses the old one.

Everything jangrad writes (model files, histories, drawings, plots, generated docs) goes through here: the data
goes to a temporary file in the same folder, which is flushed to disk and then renamed over the target in one
step; the folder is then flushed too, so the rename itself survives a power cut.

A temporary file is named ``.<target name>.<process id>-<random>.tmp``. A process killed mid-save leaves its
temporary behind; the next save of the same target removes it (a temporary is stale when the process that made
it is gone, or when it is this process's and no save in this process is using it).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

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


# Temporaries this process is writing now: a save on another thread must not take them for stale ones.
_in_use: set[str] = set()
_in_use_lock = threading.Lock()
# Temporaries named before the process id was part of the name (``.name.<random>.tmp``) carry no owner; they are
# taken for stale after this long.
_UNOWNED_STALE_SECONDS = 3600.0


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or no way to tell: leave its file alone
    return True


def _remove_stale_temporaries(target: Path) -> None:
    """Remove temporaries of ``target`` left by saves that were killed (see the module docstring)."""
    owned = re.compile(re.escape(f".{target.name}.") + r"(\d+)-[A-Za-z0-9_]+\.tmp")
    unowned = re.compile(re.escape(f".{target.name}.") + r"[A-Za-z0-9_]{8}\.tmp")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        candidate = target.parent / name
        match = owned.fullmatch(name)
        if match:
            pid = int(match.group(1))
            with _in_use_lock:
                busy = str(candidate) in _in_use
            stale = not busy if pid == os.getpid() else not _process_alive(pid)
        elif unowned.fullmatch(name):
            try:
                stale = time.time() - os.lstat(candidate).st_mtime > _UNOWNED_STALE_SECONDS
            except OSError:
                continue
        else:
            continue
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(candidate)


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries to disk, so the rename is kept. Not every system can open a folder (Windows)."""
    try:
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


@contextlib.contextmanager
def replace_atomically(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary file name beside ``path``; when the block succeeds, rename that file over ``path``.

    If the block raises, the temporary file is removed and ``path`` is left exactly as it was.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {str(target)!r}: the folder {str(folder)!r} does not exist")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp")
    os.close(handle)
    with _in_use_lock:
        _in_use.add(temporary)
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
    finally:
        with _in_use_lock:
            _in_use.discard(temporary)
    _sync_folder(folder)
    _remove_stale_temporaries(target)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with replace_atomically(path) as temporary:
        Path(temporary).write_bytes(data)


def write_text(path: str | os.PathLike, text: str, newline: str | None = None) -> None:
    with replace_atomically(path) as temporary, open(temporary, "w", encoding="utf-8", newline=newline) as file:
        file.write(text)
