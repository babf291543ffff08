"""Hostile files in the site: files that never end, symlink loops and links to outside, file
names that are not UTF-8 or carry terminal escapes, and symlinks planted at our own lock and
temp files. Each is refused or reported, in bounded time; every other post is published."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feeds.write import TEMP_PREFIX, write_if_changed
from tests.faults.hostile import cli, titles
from tests.helpers import Site, make_site, post_text


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site")
    site.post("2022-01-01-good.md", post_text("好文章", "2022-01-01 10:00:00 +0800"))
    return site


def test_fifo_post_is_refused(site: Site) -> None:
    """A post that is a FIFO is that post's error ("not a regular file", naming it); the
    build does not wait for a writer that never comes, and the other posts are published."""
    os.mkfifo(site.posts / "2022-01-02-fifo.md")
    proc = cli("build", "-c", site.config, timeout=30)
    assert proc.returncode == 1, proc.stderr
    assert "2022-01-02-fifo.md: error: not a regular file (a FIFO)" in proc.stderr
    assert titles(site) == {"好文章"}


def test_symlink_to_fifo_inside_posts_is_refused(site: Site) -> None:
    """A post that is a symlink to a FIFO inside the posts folder is refused like the FIFO:
    the check is on what the link points to."""
    os.mkfifo(site.posts / "_pipe")
    (site.posts / "2022-01-02-link.md").symlink_to("_pipe")
    proc = cli("build", "-c", site.config, timeout=30)
    assert proc.returncode == 1, proc.stderr
    assert "2022-01-02-link.md: error: not a regular file (a FIFO)" in proc.stderr
    assert titles(site) == {"好文章"}


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "device"])
def test_config_that_never_ends_is_refused(site: Site, kind: str) -> None:
    """A config that is a FIFO, a symlink to /dev/zero or a device is refused as "not a
    regular file", naming the file, instead of hanging or reading without end."""
    config = site.root / "hostile.yaml"
    if kind == "fifo":
        os.mkfifo(config)
    else:
        config.symlink_to("/dev/zero" if kind == "dev-zero" else "/dev/null")
    proc = cli("check", "-c", config, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert f"{config}: cannot read config: not a regular file" in proc.stderr


def test_post_symlinks_to_outside_are_not_followed(site: Site, tmp_path: Path) -> None:
    """Like Jekyll's safe mode, a post (or folder) symlinked from outside the posts folders is
    not followed — /dev/zero included — and each link is named in a warning."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "2022-01-03-secret.md").write_text(post_text("外面的文章", "2022-01-03"))
    (site.posts / "2022-01-03-secret.md").symlink_to(outside / "2022-01-03-secret.md")
    (site.posts / "2022-01-04-zero.md").symlink_to("/dev/zero")
    (site.posts / "more").symlink_to(outside)
    proc = cli("build", "-c", site.config, timeout=30)
    assert proc.returncode == 0, proc.stderr
    for name in ("2022-01-03-secret.md", "2022-01-04-zero.md", "more"):
        assert (
            f"{site.posts / name}: warning: a symlink to outside the posts folders; not followed"
            in proc.stderr
        )
    assert titles(site) == {"好文章"}


def test_symlink_loops_are_read_once(site: Site) -> None:
    """Two symlink loops in the posts folder do not make the build walk without end: every
    folder is read once, each loop is reported once (not once per level), and a post is
    published once."""
    (site.posts / "a").mkdir()
    (site.posts / "b").mkdir()
    site.post("a/2022-01-05-deep.md", post_text("深处的文章", "2022-01-05"))
    (site.posts / "a" / "up").symlink_to("..")
    (site.posts / "b" / "up").symlink_to("..")
    proc = cli("build", "-c", site.config, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("a folder already read (a symlink loop") == 2, proc.stderr
    assert titles(site) == {"好文章", "深处的文章"}


def test_post_name_not_utf8_is_that_posts_error(site: Site) -> None:
    """A post whose file name is not valid UTF-8 is that post's error, named with the bytes
    escaped; the build does not stop and every other post is published."""
    bad = Path(os.fsdecode(os.fsencode(site.posts) + b"/2022-01-06-\xff\xfe.md"))
    bad.write_text(post_text("坏名字", "2022-01-06"), encoding="utf-8")
    proc = cli("build", "-c", site.config, timeout=30)
    assert proc.returncode == 1, proc.stderr
    assert f"{site.posts}/2022-01-06-\\xff\\xfe.md: error: the file name is not valid UTF-8" in (
        proc.stderr
    )
    assert titles(site) == {"好文章"}


def test_control_characters_in_file_names_are_escaped(site: Site) -> None:
    """A file name with an ANSI escape (or another control character) is shown escaped in
    every message: the terminal never receives the raw escape."""
    site.post("2022-01-07-\x1b[2J\x1b[31mred\x07.md", "---\ntitle: [broken\n---\n")
    proc = cli("build", "-c", site.config, timeout=30)
    assert proc.returncode == 1, proc.stderr
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
    assert "2022-01-07-\\x1b[2J\\x1b[31mred\\x07.md" in proc.stderr


def test_symlink_at_lock_path_is_refused(site: Site, tmp_path: Path) -> None:
    """A symlink planted at state/feeds.lock is refused (naming it); the file it points to
    keeps its bytes."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    site.write_config("state:\n  dir: state\n")
    (site.root / "state").mkdir()
    (site.root / "state" / "feeds.lock").symlink_to(victim)
    proc = cli("build", "-c", site.config, timeout=30)
    assert victim.read_text() == "precious"
    assert proc.returncode == 2, proc.stderr
    assert "feeds.lock: cannot open the lock file: it is a symbolic link" in proc.stderr


def test_symlink_at_temp_name_is_not_followed(tmp_path: Path) -> None:
    """A symlink planted at the temp name a write would use never has its target written:
    temp files get unpredictable names and are created exclusively, without following links."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    target = out / "feed.xml"
    for name in (f"{TEMP_PREFIX}{os.getpid()}-feed.xml", f"{TEMP_PREFIX}feed.xml"):
        (out / name).symlink_to(victim)
    assert write_if_changed(target, b"<feed/>")
    assert victim.read_text() == "precious"
    assert target.read_bytes() == b"<feed/>" and not target.is_symlink()
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_state_file_that_never_ends_is_ignored(site: Site) -> None:
    """``feeds status`` does not hang on a FIFO planted at a state file (build.json): the
    file is read as missing."""
    site.write_config("state:\n  dir: state\n")
    (site.root / "state").mkdir()
    os.mkfifo(site.root / "state" / "build.json")
    proc = cli("status", "-c", site.config, timeout=30)
    assert proc.returncode == 0, proc.stderr
