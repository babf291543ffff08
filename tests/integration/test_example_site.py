"""The shipped example site (config.yaml + example/_posts) builds valid feeds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feeds.config import config
from feeds.run import once
from tests.helpers import ROOT, check_all_outputs, parse_feed

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("example")
    state = tmp_path_factory.mktemp("state")
    cfg = config.load(ROOT / "config.yaml").with_overrides(output=target, state=state)
    report = once.fetch_and_build(cfg, NOW)
    # the one post with a naive date is kept so: it shows the Jekyll rule (read as UTC)
    assert report.ok, report.problems.items
    assert [(Path(p.where).name, p.line) for p in report.problems.items] == [
        ("2022-06-10-xinhua-wending-jiuye.md", 4)
    ], report.problems.items
    assert "no UTC offset; read as UTC as Jekyll does" in report.problems.items[0].message
    return target


def test_every_feed_validates(out: Path) -> None:
    files = check_all_outputs(out)
    # all + 4 categories + 11 tags in RSS and Atom, and each category's May and June 2022
    # archives
    assert len(files) == 2 * (1 + 4 + 11) + 2 * 4 * 2
    assert len(list(out.rglob("*.json"))) == 1 + 4 + 11


def test_dates_of_every_kind_come_out_in_shanghai_time(out: Path) -> None:
    raw = (out / "all.atom.xml").read_text(encoding="utf-8")
    for stamp in (
        "2022-06-10T17:15:00+08:00",  # unquoted without an offset: UTC, as in Jekyll
        "2022-06-08T00:00:00+08:00",  # date only
        "2022-06-11T08:00:00+08:00",  # ISO 8601 with +08:00
        "2022-06-12T16:20:00+08:00",  # "+0800" string
        "2022-06-07T00:00:00+08:00",
    ):  # no date: the file name's
        assert f"<published>{stamp}</published>" in raw


def test_all_feed_is_newest_first_and_complete(out: Path) -> None:
    feed = parse_feed(out / "all.rss.xml")
    dates = [e.published_parsed for e in feed.entries]
    assert len(dates) == 12 and dates == sorted(dates, reverse=True)  # 10 posts + 2 aggregated


def test_chinese_category_and_tag_paths(out: Path) -> None:
    feed = parse_feed(out / "caijing.atom.xml")  # 财经 with its configured ASCII slug
    assert feed.feed.title == "财经 - 财经新闻聚合"
    assert {ln.rel: ln.href for ln in feed.feed.links}[
        "alternate"
    ] == "https://finews.withounder.com/category/caijing.html"
    tag = parse_feed(out / "tags" / "中国发展网新闻.atom.xml")  # Unicode file name
    assert len(tag.entries) == 3
    self_link = {ln.rel: ln.href for ln in tag.feed.links}["self"]
    assert self_link == (
        "https://finews.withounder.com/feeds/tags/"
        "%E4%B8%AD%E5%9B%BD%E5%8F%91%E5%B1%95%E7%BD%91%E6%96%B0%E9%97%BB.atom.xml"
    )


def test_markdown_post_is_rendered_with_absolute_urls(out: Path) -> None:
    feed = parse_feed(out / "xinhuawang.atom.xml")
    html = feed.entries[0].content[0].value
    assert "<strong>持续加大</strong>" in html and "<h2>主要举措</h2>" in html
    assert 'src="https://finews.withounder.com/images/2022/06/zhaopinhui.jpg"' in html
    assert 'href="https://www.mohrss.gov.cn/"' in html
    assert "返回首页" not in html
    assert feed.entries[0].author == "新华网记者"


def test_excerpt_from_front_matter_wins(out: Path) -> None:
    feed = parse_feed(out / "zhongguofazhanwang.atom.xml")
    newest = feed.entries[0]
    assert newest.summary == "数字经济与实体经济深度融合，企业研发投入持续增长。"
    assert newest.title == "数字经济赋能实体经济：R&D 投入持续增长 <观察>"


def test_aggregated_local_source(out: Path) -> None:
    renmin = parse_feed(out / "renminwang.atom.xml")
    assert [e.title for e in renmin.entries][:1] == ["多地出台措施提振消费"]
    raw = (out / "caijing.atom.xml").read_text(encoding="utf-8")
    assert "<title>A股收盘：三大指数集体上涨</title>" in raw  # routed by its own category 股市
    assert "<published>2022-06-10T15:05:00+08:00</published>" in raw  # CST in a Chinese feed
    assert "<title>人民网财经</title>" in raw  # Atom <source>


def _links(path: Path) -> dict[str, str]:
    return {ln.rel: ln.href for ln in parse_feed(path).feed.links}


def test_each_category_archive_is_a_chain_of_two_months(out: Path) -> None:
    """Each category has posts in May and June 2022: the head links June's archive, June's
    links May's before it, May's the June one after it, and both link back to the head."""
    base = "https://finews.withounder.com/feeds/"
    for slug in ("caijing", "renminwang", "xinhuawang", "zhongguofazhanwang"):
        head = _links(out / f"{slug}.atom.xml")
        may = _links(out / "archive" / slug / "2022-05.atom.xml")
        june = _links(out / "archive" / slug / "2022-06.atom.xml")
        assert head["prev-archive"] == june["self"] == f"{base}archive/{slug}/2022-06.atom.xml"
        assert june["prev-archive"] == may["self"] and "next-archive" not in june
        assert may["next-archive"] == june["self"] and "prev-archive" not in may
        assert may["current"] == june["current"] == head["self"] == f"{base}{slug}.atom.xml"
