"""The validation gate, with the real CLI: a build whose inputs look broken (a posts folder
missing or empty, a category that lost more than ``build.max_shrink`` of its posts) keeps the
live feeds byte for byte, says why and exits 1, unless ``--accept-shrink``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import BASE_CONFIG, Site, make_site, post_text, run_cli

FAKE_NOW = {"FEEDS_FAKE_NOW": "2022-09-15T12:00:00+08:00"}


def build(site: Site, *args: str) -> tuple[int, str]:
    proc = run_cli("build", "-c", site.config, *args, env=FAKE_NOW)
    return proc.returncode, proc.stderr


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in out.rglob("*")
        if p.is_file()
    }


@pytest.fixture
def site(tmp_path: Path) -> Site:
    s = make_site(tmp_path / "site")
    for day in range(1, 5):
        s.post(f"2022-09-0{day}-n{day}.md", post_text(f"新闻{day}", f"2022-09-0{day}", "news"))
    s.post("2022-09-05-s.md", post_text("体育", "2022-09-05", "sport"))
    assert build(s) == (0, "")
    return s


def test_a_typo_in_the_posts_folder_keeps_the_live_feeds(site: Site) -> None:
    live = snapshot(site.out)
    site.write_config(base=BASE_CONFIG.replace("[_posts]", "[_psots]"))
    for _ in range(2):  # and again: a refused build is not "nothing changed"
        code, err = build(site)
        assert code == 1
        assert "_psots: the posts folder does not exist (posts.dirs), and the live feeds " in err
        assert "were made from 5 posts, not 0; the live feeds are kept" in err
        assert "--accept-shrink" in err
        assert snapshot(site.out) == live  # not one byte, not one mtime
    proc = run_cli("status", "-c", site.config, "--json", env=FAKE_NOW)
    assert {f["feed"] for f in json.loads(proc.stdout)["feeds"]} >= {"category 'news'"}
    code, err = build(site, "--accept-shrink")  # written anyway: no posts, so no post feeds
    assert code == 1 and "posts folder does not exist" in err  # still an error, but written
    assert not (site.out / "news.rss.xml").exists()


def test_a_folder_that_was_never_there_takes_nothing_away(site: Site) -> None:
    site.write_config(base=BASE_CONFIG.replace("[_posts]", "[_posts, _drafts]"))
    code, err = build(site)
    assert code == 1 and "_drafts: error: posts folder does not exist" in err  # as before
    assert "live feeds are kept" not in err
    site.post("2022-09-06-n6.md", post_text("新闻6", "2022-09-06", "news"))
    assert build(site)[0] == 1
    assert "新闻6".encode() in (site.out / "news.rss.xml").read_bytes()


def test_an_emptied_posts_folder_keeps_the_live_feeds(site: Site, tmp_path: Path) -> None:
    live = snapshot(site.out)
    shutil.move(site.posts, tmp_path / "moved")
    site.posts.mkdir()  # an unmounted volume: the folder is there, the posts are not
    code, err = build(site, "-v")
    assert code == 1
    assert "no posts found, where the live feeds were made from 5; the live feeds are kept" in err
    assert "0 files written" in err and snapshot(site.out) == live
    assert build(site, "--accept-shrink") == (0, "")
    assert not (site.out / "news.rss.xml").exists() and not (site.out / "all.rss.xml").exists()


def test_a_category_that_lost_more_than_max_shrink_is_refused(site: Site) -> None:
    (site.posts / "2022-09-04-n4.md").unlink()  # news: 4 → 3 posts, -25 %: fine
    assert build(site) == (0, "")
    live = snapshot(site.out)
    for day in (1, 2):
        (site.posts / f"2022-09-0{day}-n{day}.md").unlink()  # news: 3 → 1, -67 %
    code, err = build(site)
    assert code == 1 and snapshot(site.out) == live
    assert (
        "category 'news': 1 posts, where the live feeds have 3 (-67%, more than "
        "build.max_shrink 0.5); the live feeds are kept"
    ) in err
    assert "sport" not in err
    site.write_config("build:\n  max_shrink: 0.7\n")
    assert build(site) == (0, "")  # a looser gate lets it through: the new baseline
    assert "新闻3".encode() in (site.out / "news.rss.xml").read_bytes()
    assert "新闻1".encode() not in (site.out / "news.rss.xml").read_bytes()


def test_a_category_taken_out_of_the_config_is_not_a_shrink(site: Site) -> None:
    site.write_config("categories:\n  only: [news]\n")
    assert build(site) == (0, "")
    assert not (site.out / "sport.rss.xml").exists()


def test_max_shrink_must_be_a_share(site: Site) -> None:
    site.write_config("build:\n  max_shrink: 2\n")
    code, err = build(site)
    assert code == 2
    assert "build.max_shrink: must be a share from 0 to 1" in err
