"""Saving files: the permissions a written file ends up with, and the umask read that decides them."""

from __future__ import annotations

import os
import stat
import sys

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
