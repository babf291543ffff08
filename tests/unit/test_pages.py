"""A feed's web page: what it shows, that nothing of an entry reaches it unescaped, and that
every feed file links it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import lxml.html
from lxml import etree

from feeds import yamlutil
from feeds.config import config
from feeds.formats import page_path
from feeds.generate import generate, pages
from feeds.generate.output import DryWriter, write_head
from feeds.generate.plan import Rendered
from feeds.models import Entry, Problems, SourceRef

ATOM = "{http://www.w3.org/2005/Atom}"


def cfg_with(extra: str = "") -> config.Config:
    doc = yamlutil.load(
        "site:\n  title: 站\n  url: https://x.example\noutput:\n  url: https://x.example/f/\n"
        "categories:\n  meta:\n    财经: {slug: caijing, description: 财经要闻}\n" + extra
    )
    return config.parse(doc, Path("config.yaml"))


def entry(title: str, when: dt.datetime, **kw: object) -> Entry:
    fields: dict[str, object] = {
        "id": "https://x.example/1",
        "title": title,
        "link": "https://x.example/1",
        "published": when,
        "updated": when,
        "summary": "摘要",
        "content_html": "<p>x</p>",
        "categories": ("财经",),
    }
    fields.update(kw)
    return Entry(**fields)  # type: ignore[arg-type]


def category_plan(cfg: config.Config, entries: list[Entry]) -> generate.FeedPlan:
    planned = generate.plan(cfg, entries, Problems())
    return next(p for p, _ in planned if p.kind == "category")


def test_the_page_shows_the_feed_its_entries_in_site_time_and_ways_to_subscribe() -> None:
    cfg = cfg_with()
    e = entry(
        "资本市场服务实体经济",
        dt.datetime(2022, 6, 12, 8, 20, tzinfo=dt.UTC),  # 16:20 in Shanghai
        source_link="https://orig.example/a",
    )
    plan = category_plan(cfg, [e])
    assert page_path(plan) == "caijing.html"
    data = pages.render(cfg, plan, [e])
    assert data.startswith(b'<!DOCTYPE html>\n<html lang="zh-CN">')
    doc: Any = lxml.html.fromstring(data)
    assert doc.findtext(".//h1") == "财经 - 站"
    assert "财经要闻" in doc.text_content()
    article = doc.find(".//article")
    assert article.findtext(".//h3/a") == "资本市场服务实体经济"
    assert article.find(".//h3/a").get("href") == "https://x.example/1"
    assert article.findtext(".//time") == "2022-06-12 16:20"
    assert article.find(".//time").get("datetime") == "2022-06-12T16:20:00+08:00"
    assert [a.get("href") for a in article.iter("a") if a.text == "原文"] == [
        "https://orig.example/a"
    ]
    codes = [c.text for c in doc.iter("code")]
    assert codes == [
        "https://x.example/f/caijing.rss.xml",
        "https://x.example/f/caijing.atom.xml",
        "https://x.example/f/caijing.json",
    ]
    copy = [b.get("data-copy") for b in doc.iter("button")]
    assert copy == codes
    links: dict[str, str] = {a.text: a.get("href") for a in doc.iter("a")}
    assert links["用本机阅读器订阅"] == "feed:https://x.example/f/caijing.rss.xml"
    for name in ("Feedly", "Inoreader", "NewsBlur", "The Old Reader", "Feedbin"):
        assert links[name].startswith("https://")
        assert "https://x.example/f/caijing.rss.xml" in unquote(links[name])
        assert "/f/caijing" not in links[name]  # the feed's URL is encoded whole
    assert links["在网站上阅读"] == "https://x.example/category/caijing.html"
    discovered = [
        (x.get("type"), x.get("href")) for x in doc.iter("link") if x.get("rel") == "alternate"
    ]
    assert discovered[0] == ("application/rss+xml", "https://x.example/f/caijing.rss.xml")
    assert len(discovered) == 3


def test_nothing_from_a_hostile_entry_reaches_the_page_as_markup() -> None:
    cfg = cfg_with()
    e = entry(
        '<script>alert("t")</script><img src=x onerror=alert(1)>',
        dt.datetime(2022, 6, 12, tzinfo=dt.UTC),
        summary='"><script>alert("s")</script>',
        source=SourceRef(id="s", title="<b>源</b>", url=None, link="javascript:alert(1)"),
    )
    data = pages.render(cfg, category_plan(cfg, [e]), [e])
    doc: Any = lxml.html.fromstring(data)
    scripts = list(doc.iter("script"))
    assert len(scripts) == 1 and "alert" not in (scripts[0].text or "")  # only the copy script
    assert not list(doc.iter("img")) and not list(doc.iter("b"))
    assert all(not a.get("href", "").startswith("javascript:") for a in doc.iter("a"))
    article = doc.find(".//article")
    assert article.findtext(".//h3/a") == e.title
    assert e.summary in article.text_content() and "来源：<b>源</b>" in article.text_content()


def test_every_feed_file_links_its_page_and_the_page_is_written_with_the_feed() -> None:
    cfg = cfg_with()
    e = entry("标题", dt.datetime(2022, 6, 12, tzinfo=dt.UTC))
    plan = category_plan(cfg, [e])
    writer = DryWriter()
    results = write_head(cfg, writer, Problems(), Rendered(plan, [e], []), lambda r, f: None)
    assert [r.path for r in results] == [
        "caijing.rss.xml",
        "caijing.atom.xml",
        "caijing.json",
        "caijing.html",
    ]
    page = "https://x.example/f/caijing.html"
    site_page = "https://x.example/category/caijing.html"
    atom = etree.fromstring(generate.render(cfg, plan, [e], "atom"))
    links = {(x.get("rel"), x.get("type")): x.get("href") for x in atom.iter(f"{ATOM}link")}
    assert links[("related", "text/html")] == page
    assert links[("alternate", "text/html")] == site_page  # the website, for readers
    rss = etree.fromstring(generate.render(cfg, plan, [e], "rss"))
    channel: Any = rss.find("channel")
    assert channel.findtext("link") == site_page
    related = [x.get("href") for x in channel.iter(f"{ATOM}link") if x.get("rel") == "related"]
    assert related == [page]
    doc = json.loads(generate.render(cfg, plan, [e], "json"))
    assert doc["home_page_url"] == site_page


def test_no_page_without_discovery_or_where_the_index_is() -> None:
    cfg = cfg_with("feeds:\n  discovery: false\n")
    e = entry("标题", dt.datetime(2022, 6, 12, tzinfo=dt.UTC))
    plan = category_plan(cfg, [e])
    results = write_head(cfg, DryWriter(), Problems(), Rendered(plan, [e], []), lambda r, f: None)
    assert not [r for r in results if r.path.endswith(".html")]
    assert b'rel="related"' not in generate.render(cfg, plan, [e], "atom")

    cfg = cfg_with("feeds:\n  all_path: index\n")
    everything = next(p for p, _ in generate.plan(cfg, [e], Problems()) if p.kind == "all")
    problems = Problems()
    results = write_head(
        cfg, DryWriter(), problems, Rendered(everything, [e], []), lambda r, f: None
    )
    assert [r.path for r in results] == ["index.rss.xml", "index.atom.xml", "index.json"]
    assert "would be written over index.html" in problems.items[0].message
    assert b'rel="related"' not in generate.render(cfg, everything, [e], "atom")
