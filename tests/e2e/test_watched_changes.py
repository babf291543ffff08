"""A build told which post files changed (the daemon's watcher) stats only those, and writes
exactly the files a build that walks every post writes; what it cannot judge from the path
alone makes it walk after all."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from feeds.collect.posts import rescan, scan_posts
from feeds.config import config
from feeds.generate import pipeline
from feeds.models import Problems
from feeds.run import once
from tests.helpers import Site, make_site, post_text

NOW = dt.datetime(2022, 6, 30, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def build(site: Site, changed: set[Path] | None) -> tuple[pipeline.Report, dict[str, bytes]]:
    cfg = config.load(site.config)
    report = once.fetch_and_build(cfg, NOW, changed=None if changed is None else frozenset(changed))
    return report, site.outputs()


def walked_build(site: Site, tmp: Path) -> dict[str, bytes]:
    """The same posts built from scratch, walking every file, in another folder."""
    other = tmp / "walked"
    shutil.rmtree(other, ignore_errors=True)
    shutil.copytree(site.root, other, ignore=shutil.ignore_patterns("output", "state"))
    return build(Site(other), None)[1]


@pytest.fixture
def site(tmp_path: Path) -> Site:
    s = make_site(tmp_path / "site", "feeds:\n  max_items: 3\n")
    for i in range(6):
        day = f"2022-01-{i + 1:02d}"
        s.post(f"{day}-p{i}.md", post_text(f"文章{i}", f"{day} 08:00:00 +0800", "ab"[i % 2]))
    s.post("2022-01-20-bad.md", post_text("坏日期", "2022-02-30", "a"))
    build(s, None)  # the first build walks: the cache starts from a full scan
    return s


def test_new_edited_renamed_and_deleted_posts_give_the_walked_output(
    site: Site, tmp_path: Path
) -> None:
    new = site.post("2022-02-01-new.md", post_text("新文章", "2022-02-01 08:00:00 +0800", "a"))
    edited = site.post("2022-01-02-p1.md", post_text("改过", "2022-01-02 08:00:00 +0800", "b"))
    old = site.posts / "2022-01-03-p2.md"
    moved = old.with_name("2022-01-03-moved.md")
    old.rename(moved)
    gone = site.posts / "2022-01-05-p4.md"
    gone.unlink()
    report, out = build(site, {new, edited, old, moved, gone})
    assert out == walked_build(site, tmp_path)
    assert "新文章" in out["a.rss.xml"].decode() and "改过" in out["b.rss.xml"].decode()
    # the bad post is not among the changed files: its problem is still reported
    assert any("2022-01-20-bad.md" in p.where for p in report.problems.errors)


def test_only_the_changed_files_are_looked_at(site: Site) -> None:
    """A file changed without the watcher saying so is not seen until a walk: the proof that
    the build stats the changed files only (the daemon walks every hour for this)."""
    unseen = site.post("2022-03-01-x.md", post_text("没看见", "2022-03-01 08:00:00 +0800", "a"))
    _, out = build(site, set())
    assert "没看见" not in out["a.rss.xml"].decode()
    _, out = build(site, {unseen})
    assert "没看见" in out["a.rss.xml"].decode()


def test_rescan_equals_the_walk_and_refuses_what_it_cannot_judge(site: Site) -> None:
    cfg = config.load(site.config)
    dirs = cfg.posts.dirs
    before = scan_posts(dirs, Problems())
    sub = site.posts / "2022"
    added = site.post("2022/2022-04-01-deep.md", post_text("深", "2022-04-01", "a"))
    (site.posts / "2022-01-01-p0.md").unlink()
    after = rescan(dirs, before, [added, site.posts / "2022-01-01-p0.md"])
    assert after is not None
    assert after[0] == scan_posts(dirs, Problems())
    assert after[1] == {str(added), str(site.posts / "2022-01-01-p0.md")}

    misnamed = site.post("notes.md", "---\ntitle: x\n---\n")
    hidden = site.post("_drafts/2022-04-02-d.md", post_text("草稿", "2022-04-02", "a"))
    link = site.posts / "2022-04-03-link.md"
    link.symlink_to(added)
    outside = site.root / "2022-04-04-out.md"
    for path in (misnamed, hidden, link, sub, outside):
        assert rescan(dirs, before, [path]) is None, path


def test_a_build_without_a_full_scan_to_start_from_walks(tmp_path: Path) -> None:
    s = make_site(tmp_path / "site")
    s.post("2022-01-01-a.md", post_text("甲", "2022-01-01 08:00:00 +0800", "a"))
    _, out = build(s, set())  # a first build: nothing cached, so it walks
    assert "甲" in out["a.rss.xml"].decode()
