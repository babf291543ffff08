"""A walk compares only the chunks of posts it did not see the same last time: over a site of
several chunks, each kind of change gives exactly the files a full build gives, and reads
only the posts of the chunks it touched."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from feeds.collect.posts import walk_posts
from feeds.models import Problems
from tests.e2e.test_incremental import full_build, incremental
from tests.helpers import Site, make_site, post_text

POSTS = 1200  # about five chunks of 256


def _post(site: Site, i: int, title: str = "") -> None:
    day = f"2021-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
    site.post(
        f"{day}-p{i:04d}.md",
        post_text(title or f"文章{i}", f"{day} 08:{i % 60:02d}:00 +0800", ["a", "b", "c"][i % 3]),
    )


@pytest.fixture
def site(tmp_path: Path) -> Site:
    s = make_site(tmp_path / "site", "feeds:\n  max_items: 5\n")
    for i in range(POSTS):
        _post(s, i)
    first, _ = incremental(s)
    assert first == full_build(s, tmp_path)
    return s


def _parsed(log: str) -> int:
    m = re.search(r"parsed=(\d+) ", log)
    assert m, log
    return int(m.group(1))


def test_the_walk_has_several_chunks(site: Site) -> None:
    walk = walk_posts((site.posts,), Problems())
    assert walk.count == POSTS
    assert len(walk.chunks) >= 3
    again = walk_posts((site.posts,), Problems(), frozenset(walk.chunks))
    assert again.changed == []
    assert again.digest == walk.digest


def test_edited_post_reads_one(site: Site, tmp_path: Path) -> None:
    _post(site, 600, "改过的文章")
    files, log = incremental(site)
    assert _parsed(log) == 1
    assert files == full_build(site, tmp_path)


def test_added_post(site: Site, tmp_path: Path) -> None:
    site.post("2021-12-31-new.md", post_text("新文章", "2021-12-31 23:00:00 +0800", "a"))
    files, log = incremental(site)
    assert _parsed(log) == 1
    assert "新文章".encode() in files["a.atom.xml"]
    assert files == full_build(site, tmp_path)


def test_deleted_posts(site: Site, tmp_path: Path) -> None:
    newest = sorted(site.posts.iterdir())[-3:]
    for p in newest:
        p.unlink()
    files, log = incremental(site)
    assert _parsed(log) == 0
    assert files == full_build(site, tmp_path)
    files, log = incremental(site)  # and the build after it compares nothing again
    assert "nothing changed since the last build" in log


def test_renamed_post(site: Site, tmp_path: Path) -> None:
    p = sorted(site.posts.iterdir())[-1]
    p.rename(p.with_name(p.name.replace("-p", "-renamed-")))
    files, _ = incremental(site)
    assert files == full_build(site, tmp_path)


def test_touched_post_and_one_edited_back(site: Site, tmp_path: Path) -> None:
    p = sorted(site.posts.iterdir())[100]
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # same bytes, new mtime
    incremental(site)
    original = p.read_bytes()
    p.write_bytes(original.replace("文章".encode(), "改了".encode(), 1))
    incremental(site)
    p.write_bytes(original)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # the very stat the first walk saw
    files, log = incremental(site)
    assert _parsed(log) == 1
    assert files == full_build(site, tmp_path)
