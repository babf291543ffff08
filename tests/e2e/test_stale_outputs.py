"""Nothing stale: when a category, tag or format goes from the config or the posts, the next
whole build removes the files feeds wrote for it (and ``status`` forgets the feed), and never
a file it did not write, or one someone changed after it was written. With the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from feeds import manifest
from feeds.config import config
from feeds.run import once
from tests.helpers import Site, make_site, post_text, run_cli

EXTRA = "feeds:\n  tag_feeds: true\n  archives: true\n"
FAKE_NOW = {"FEEDS_FAKE_NOW": "2022-09-15T12:00:00+08:00"}


def build(site: Site, *args: str) -> str:
    proc = run_cli("build", "-c", site.config, "-v", *args, env=FAKE_NOW)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def status(site: Site) -> dict[str, object]:
    proc = run_cli("status", "-c", site.config, "--json", env=FAKE_NOW)
    assert proc.returncode == 0, proc.stderr
    return {f["feed"]: f for f in json.loads(proc.stdout)["feeds"]}


def files(site: Site) -> set[str]:
    return {p.relative_to(site.out).as_posix() for p in site.out.rglob("*") if p.is_file()}


@pytest.fixture
def site(tmp_path: Path) -> Site:
    s = make_site(tmp_path / "site", EXTRA)
    s.post("2022-08-01-a.md", post_text("甲", "2022-08-01 09:00:00 +0800", "news", "[经济]"))
    s.post("2022-09-01-b.md", post_text("乙", "2022-09-01 09:00:00 +0800", "sport", "[足球]"))
    s.post("2022-09-02-c.md", post_text("丙", "2022-09-02 09:00:00 +0800", "news"))
    build(s)
    return s


def test_a_category_gone_from_the_posts_loses_its_files_and_its_status(site: Site) -> None:
    before = files(site)
    sport = {f for f in before if f.split("/")[-1].startswith("sport.")}  # feeds, page, snippet
    assert {"sport.rss.xml", "sport.atom.xml", "sport.json", "snippets/sport.html"} <= sport
    assert sport <= before and "category 'sport'" in status(site)
    site.post("2022-09-01-b.md", post_text("乙", "2022-09-01 09:00:00 +0800", "news", "[足球]"))
    log = build(site, "--accept-shrink")  # the validation gate would keep it (feeds.generate.gate)
    after = files(site)
    assert not sport & after
    assert "news.rss.xml" in after and "tags/足球.rss.xml" in after  # the tag is still used
    assert before - after == sport and f"{len(sport)} removed" in log
    assert "category 'sport'" not in status(site) and "category 'news'" in status(site)
    listed = manifest.from_bytes((site.out / manifest.NAME).read_bytes()).files
    assert set(listed) == after - {manifest.NAME}
    # the same files as a build from scratch
    fresh = site.root / "fresh"
    proc = run_cli(
        "build", "-c", site.config, "--output", fresh / "out", "--state", fresh / "st", env=FAKE_NOW
    )
    assert proc.returncode == 0, proc.stderr
    made = fresh / "out"
    assert {p.relative_to(made).as_posix() for p in made.rglob("*") if p.is_file()} == (after)


def test_formats_tags_and_archives_turned_off_are_removed_with_their_folders(site: Site) -> None:
    assert (site.out / "archive/news/2022-08.rss.xml").is_file()
    site.write_config("feeds:\n  formats: [rss, atom]\n")
    build(site)
    after = files(site)
    assert not {f for f in after if f.endswith(".json")}
    assert not (site.out / "tags").exists() and not (site.out / "archive").exists()
    assert {"news.rss.xml", "news.atom.xml", "all.rss.xml", "index.html"} <= after
    assert "tag '经济'" not in status(site)


def test_files_feeds_did_not_write_or_that_were_changed_are_never_removed(site: Site) -> None:
    mine = {
        "README.txt": b"published by hand\n",
        "custom.rss.xml": b"<rss/>\n",  # looks like a feed, was never written by feeds
        "tags/handmade.atom.xml": b"<feed/>\n",
        "archive/news/notes.md": b"# notes\n",
    }
    for rel, data in mine.items():
        (site.out / rel).write_bytes(data)
    edited = site.out / "sport.json"
    edited.write_bytes(edited.read_bytes().replace(b"sport", b"SPORT"))  # now theirs
    site.write_config("feeds:\n  archives: false\ncategories:\n  only: [news]\n")
    build(site)
    for rel, data in mine.items():
        assert (site.out / rel).read_bytes() == data, rel
    assert b"SPORT" in edited.read_bytes()
    assert not (site.out / "sport.rss.xml").exists()  # feeds' own, unchanged: removed
    assert not (site.out / "tags/经济.rss.xml").exists()
    assert (site.out / "tags").is_dir()  # not empty: the hand-made file is still there
    # no longer listed: a later build leaves it alone too
    assert "sport.json" not in manifest.from_bytes((site.out / manifest.NAME).read_bytes()).files


def test_a_full_build_with_a_new_state_folder_still_knows_what_it_wrote(site: Site) -> None:
    shutil.rmtree(site.root / "state")  # the build cache gone: the manifest is in the folder
    site.post("2022-09-01-b.md", post_text("乙", "2022-09-01 09:00:00 +0800", "news"))
    build(site, "--full", "--accept-shrink")
    assert not (site.out / "sport.rss.xml").exists()
    assert not (site.out / "tags/足球.rss.xml").exists()


def test_a_build_of_some_categories_removes_nothing(site: Site) -> None:
    site.post("2022-09-01-b.md", post_text("乙", "2022-09-01 09:00:00 +0800", "news"))
    cfg = config.load(site.config)
    report = once.fetch_and_build(cfg, dt.datetime(2022, 9, 15, 4, tzinfo=dt.UTC), only={"news"})
    assert report.ok and report.files_removed == () and not report.every_feed
    assert (site.out / "sport.rss.xml").is_file()  # only a whole build knows it is gone
    when = dt.datetime(2022, 9, 15, 4, tzinfo=dt.UTC)
    stopped = once.fetch_and_build(cfg, when, should_stop=lambda: True, accept_shrink=True)
    assert stopped.stopped and stopped.files_removed == ()
    assert (site.out / "sport.rss.xml").is_file()
    report = once.fetch_and_build(cfg, when, accept_shrink=True)
    assert "sport.rss.xml" in report.files_removed and not (site.out / "sport.rss.xml").exists()


@pytest.mark.parametrize(
    "planted",
    [
        {"../outside.txt": {"sha": "x"}},
        {"/etc/hostname": {"sha": "x"}},
        {"tags/../../outside.txt": {"sha": "x"}},
        {".feeds-manifest": {"sha": "x"}},
    ],
)
def test_a_planted_manifest_cannot_remove_anything_outside(
    site: Site, planted: dict[str, dict[str, str]]
) -> None:
    outside = site.root / "outside.txt"
    outside.write_text("keep me", encoding="utf-8")
    data = json.loads((site.out / manifest.NAME).read_bytes())
    data["files"].update(planted)
    (site.out / manifest.NAME).write_text(json.dumps(data), encoding="utf-8")
    site.post("2022-09-01-b.md", post_text("乙", "2022-09-01 09:00:00 +0800", "news"))
    proc = run_cli("build", "-c", site.config, env=FAKE_NOW)
    assert proc.returncode == 0, proc.stderr
    assert f"{manifest.NAME}: warning: unreadable" in proc.stderr
    assert outside.read_text(encoding="utf-8") == "keep me"
    assert (site.out / "sport.rss.xml").is_file()  # nothing removed on a manifest not ours
    build(site)  # the manifest written anew: the next change is handled again
    site.post("2022-09-03-d.md", post_text("丁", "2022-09-03 09:00:00 +0800", "news"))
    build(site)
    assert (site.out / "sport.rss.xml").is_file()  # not listed in the new manifest: left
