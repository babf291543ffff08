"""A full disk and a read-only output folder: a real tmpfs mount (CI runs as root, where
chmod does not stop writes). The failed feeds are named, the old files stay byte-identical,
the exit code says failure, and the next build after the fault is gone succeeds."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Site, cli, make_site, post_text


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs (CI runs as root)")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    _mount("-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(mnt))
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False, capture_output=True)


def site_on(disk: Path, tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site")
    site.write_config(
        base=f"""\
site:
  title: 测试站
  url: https://news.example.com
posts:
  dirs: [_posts]
output:
  dir: {disk / "out"}
state:
  dir: state
"""
    )
    for c in ("a", "b", "c"):
        site.post(
            f"2022-01-01-{c}.md",
            post_text(f"{c}旧", "2022-01-01", c, body="<p>" + "正文" * 500 + "</p>"),
        )
    assert cli("build", "-c", site.config).returncode == 0
    for c in ("a", "b", "c"):
        site.post(
            f"2022-01-02-{c}.md",
            post_text(f"{c}新", "2022-01-02", c, body="<p>" + "新正文" * 500 + "</p>"),
        )
    return site


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}


def test_disk_full(small_disk: Path, tmp_path: Path) -> None:
    site = site_on(small_disk, tmp_path)
    out = small_disk / "out"
    before = snapshot(out)
    filler = small_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk to the last block
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    proc = cli("build", "-c", site.config)
    assert proc.returncode == 1
    assert "No space left on device" in proc.stderr
    failed = [line for line in proc.stderr.splitlines() if "No space left" in line]
    assert failed
    for line in failed:  # each names the file, and the feed when it is one
        assert re.match(r"\S+: error: ((all|category '[abc]'): )?/\S+: write failed", line), line
    assert any(re.match(r"\S+: error: (all|category '[abc]'): ", line) for line in failed)
    after = snapshot(out)
    for name, data in before.items():
        if any(name in line for line in failed):
            assert after[name] == data, f"{name} changed although its write failed"
    assert not [p for p in out.iterdir() if p.name.startswith(".feeds-tmp-")]
    filler.unlink()
    proc = cli("build", "-c", site.config)
    assert proc.returncode == 0, proc.stderr
    assert "a新".encode() in (out / "a.atom.xml").read_bytes()


def test_read_only_output(small_disk: Path, tmp_path: Path) -> None:
    site = site_on(small_disk, tmp_path)
    out = small_disk / "out"
    before = snapshot(out)
    _mount("-o", "remount,ro", str(small_disk))
    try:
        proc = cli("build", "-c", site.config)
        assert proc.returncode == 1
        assert "Read-only file system" in proc.stderr
        assert "category 'a'" in proc.stderr and "category 'b'" in proc.stderr
        assert snapshot(out) == before
    finally:
        _mount("-o", "remount,rw", str(small_disk))
    proc = cli("build", "-c", site.config)
    assert proc.returncode == 0, proc.stderr
    assert snapshot(out) != before
