from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from feeds.errors import WriteError
from feeds.write import TEMP_PREFIX, remove_stale_temps, write_if_changed


def test_writes_mode_0644_even_with_strict_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        target = tmp_path / "sub" / "a.xml"
        assert write_if_changed(target, b"<x/>") is True
    finally:
        os.umask(old)
    assert target.read_bytes() == b"<x/>"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert not [p for p in target.parent.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_unchanged_file_is_not_touched(tmp_path: Path) -> None:
    target = tmp_path / "a.xml"
    write_if_changed(target, b"same")
    os.utime(target, (1_000_000_000, 1_000_000_000))
    assert write_if_changed(target, b"same") is False
    assert target.stat().st_mtime == 1_000_000_000
    assert write_if_changed(target, b"different") is True
    assert target.read_bytes() == b"different"


def test_failure_keeps_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "a.xml"
    target.write_bytes(b"old")
    blocker = tmp_path / "b.xml"
    blocker.mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(WriteError, match=r"b\.xml"):
        write_if_changed(blocker, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)] == []


def test_remove_stale_temps(tmp_path: Path) -> None:
    (tmp_path / "tags").mkdir()
    (tmp_path / "tags" / f"{TEMP_PREFIX}123-x.xml").write_bytes(b"half")
    (tmp_path / "keep.xml").write_bytes(b"ok")
    assert remove_stale_temps(tmp_path) == 1
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["keep.xml"]
