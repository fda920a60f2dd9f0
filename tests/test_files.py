"""Saving files: the permissions a written file ends up with, the umask read that decides them, stale temporaries
and the folder flush."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jangrad.io import files


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_gets_ordinary_permissions_under_the_umask(tmp_path):
    target = tmp_path / "new.json"
    files.write_text(target, "{}")
    assert _mode(target) == 0o666 & ~files._umask()


def test_an_existing_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "model.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    files.write_text(target, "new")
    assert target.read_text() == "new"
    assert _mode(target) == 0o640


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, which only Linux has")
def test_the_umask_is_read_without_setting_it(monkeypatch):
    previous = os.umask(0o027)
    try:

        def refuse(mask: int) -> int:
            raise AssertionError("os.umask was called: for that moment other threads' files get mode 0o666")

        monkeypatch.setattr(os, "umask", refuse)
        assert files._umask() == 0o027
    finally:
        monkeypatch.undo()
        os.umask(previous)


def _temporaries(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def test_a_save_killed_midway_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    target = tmp_path / "model.json"
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import os, sys\n"
                "from jangrad.io.files import replace_atomically\n"
                "with replace_atomically(sys.argv[1]) as temporary:\n"
                "    open(temporary, 'w').write('half a mod')\n"
                "    os._exit(9)\n"
            ),
            str(target),
        ],
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert killed.returncode == 9
    assert len(_temporaries(tmp_path)) == 1 and not target.exists()
    files.write_text(target, "{}")
    assert os.listdir(tmp_path) == ["model.json"]


def test_a_temporary_in_use_in_this_process_is_not_taken_for_stale(tmp_path):
    target = tmp_path / "model.json"
    with files.replace_atomically(target) as outer:
        files.write_text(target, "inner")  # another save of the same file, as another thread might make
        assert os.path.exists(outer)
        Path(outer).write_text("outer")
    assert target.read_text() == "outer" and os.listdir(tmp_path) == ["model.json"]


def test_temporaries_of_other_files_and_fresh_unowned_ones_are_kept(tmp_path):
    other = tmp_path / ".notes.txt.1-abcdefgh.tmp"
    fresh = tmp_path / ".model.json.abcdefgh.tmp"  # the old naming, with no process id: kept for an hour
    old = tmp_path / ".model.json.zyxwvuts.tmp"
    for path in (other, fresh, old):
        path.write_text("x")
    os.utime(old, (time.time() - 2 * 3600, time.time() - 2 * 3600))
    files.write_text(tmp_path / "model.json", "{}")
    assert _temporaries(tmp_path) == sorted([fresh.name, other.name])


def test_the_folder_is_flushed_after_the_rename(tmp_path, monkeypatch):
    flushed = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        flushed.append((stat.S_ISDIR(os.fstat(fd).st_mode), os.path.exists(tmp_path / "model.json")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    files.write_text(tmp_path / "model.json", "{}")
    assert flushed == [(False, False), (True, True)]  # the data before the rename, then the folder after it
