from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from feeds.errors import WriteError
from feeds.write import TEMP_PREFIX, remove_if_holds, remove_stale_temps, write_if_changed


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


def test_remove_if_holds_removes_only_our_regular_files_inside(tmp_path: Path) -> None:
    root = tmp_path / "out"
    (root / "tags" / "deep").mkdir(parents=True)
    (root / "tags" / "deep" / "a.rss.xml").write_bytes(b"ours")
    (root / "keep.txt").write_bytes(b"theirs")
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"ours")
    (root / "link.xml").symlink_to(outside)
    (root / "linked").symlink_to(tmp_path)
    os.mkfifo(root / "fifo.xml")

    def ours(data: bytes) -> bool:
        return data == b"ours"

    for rel in ("keep.txt", "link.xml", "linked/outside.txt", "../outside.txt", "fifo.xml"):
        assert not remove_if_holds(root, rel, ours), rel
    assert outside.read_bytes() == b"ours" and (root / "keep.txt").exists()
    assert remove_if_holds(root, "tags/deep/a.rss.xml", ours)
    assert not (root / "tags").exists() and root.is_dir()  # emptied folders go, not the root
    assert not remove_if_holds(root, "tags/deep/a.rss.xml", ours)  # gone already
