"""The real post from the site, through the whole build, checked field by field."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from feeds.config import config
from feeds.run import once
from tests.helpers import REAL_POST, check_all_outputs, make_site, parse_feed

TITLE = "全国“消费帮扶·每周一播”行动：探索消费帮扶全新路径，拓宽乡村振兴参与渠道"
ORIGINAL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202206092407071065"
PERMALINK = "https://finews.withounder.com/zhongguofazhanwang/2022/06/09/25100f8fd1580674.html"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = make_site(tmp_path_factory.mktemp("real"))
    site.write_config(
        base="site:\n  title: 财经新闻聚合\n  url: https://finews.withounder.com\n"
        "posts:\n  dirs: [_posts]\noutput:\n  dir: out\n"
    )
    shutil.copy(REAL_POST, site.posts / REAL_POST.name)
    report = once.fetch_and_build(config.load(site.config), NOW)
    assert report.ok, report.problems.items
    assert report.problems.items == []
    return site.out


def test_outputs_validate(built: Path) -> None:
    files = check_all_outputs(built)
    names = sorted(f.name for f in files)
    assert names == [
        "all.atom.xml",
        "all.rss.xml",
        "zhongguofazhanwang.atom.xml",
        "zhongguofazhanwang.rss.xml",
    ]


def test_rss_fields(built: Path) -> None:
    raw = (built / "zhongguofazhanwang.rss.xml").read_text(encoding="utf-8")
    assert "<pubDate>Thu, 09 Jun 2022 14:36:33 +0800</pubDate>" in raw
    assert "<lastBuildDate>Thu, 09 Jun 2022 14:36:33 +0800</lastBuildDate>" in raw
    feed = parse_feed(built / "zhongguofazhanwang.rss.xml")
    (item,) = feed.entries
    assert item.title == TITLE
    assert item.link == PERMALINK
    assert item.id == PERMALINK
    assert f'<guid isPermaLink="true">{PERMALINK}</guid>' in raw
    assert [t.term for t in item.tags] == ["zhongguofazhanwang", "中国发展网新闻"]
    content = item.content[0].value
    assert ORIGINAL in content
    assert "返回首页" not in content and "返回中国发展网新闻" not in content
    assert "（文章来源：中国发展网）" in content
    assert item.summary.startswith("中国经济导报中国发展网讯记者潘晓娟报道 2022年")
    assert len(item.summary) <= 201


def test_atom_fields(built: Path) -> None:
    raw = (built / "zhongguofazhanwang.atom.xml").read_text(encoding="utf-8")
    assert "<published>2022-06-09T14:36:33+08:00</published>" in raw
    assert "<updated>2022-06-09T14:36:33+08:00</updated>" in raw
    feed = parse_feed(built / "zhongguofazhanwang.atom.xml")
    assert feed.feed.language == "zh-CN"
    links = {ln.rel: ln.href for ln in feed.feed.links}
    assert links["self"] == "https://finews.withounder.com/feeds/zhongguofazhanwang.atom.xml"
    assert links["alternate"] == "https://finews.withounder.com/category/zhongguofazhanwang.html"
    (entry,) = feed.entries
    assert entry.title == TITLE
    assert entry.id == PERMALINK
    entry_links = {ln.rel: ln.href for ln in entry.links}
    assert entry_links == {"alternate": PERMALINK, "via": ORIGINAL}
    assert entry.content[0].type == "text/html"
    assert "返回首页" not in entry.content[0].value
    assert feed.feed.author == "财经新闻聚合"  # the site title stands in for a missing author
