"""Archive months and paths, discovery files, and the table of formats they read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lxml import etree

from feeds import timeutil, yamlutil
from feeds.config import config
from feeds.formats import FEED_SUFFIXES, FORMATS, archivable
from feeds.generate import archive, discover, generate
from feeds.models import Entry, Problems

SH = dt.timezone(dt.timedelta(hours=8))
TZ = timeutil.zone("Asia/Shanghai")


def cfg_with(extra: str = "") -> config.Config:
    doc = yamlutil.load(
        "site:\n  title: 站\n  url: https://x.example\noutput:\n  url: https://x.example/f/\n"
        + extra
    )
    return config.parse(doc, Path("config.yaml"))


def plans(cfg: config.Config) -> list[generate.FeedPlan]:
    by_category: dict[str, list[Entry]] = {"财经": [], "world": []}
    by_tag: dict[str, list[Entry]] = {"t": []}
    return [p for p, _ in generate.plan_groups(cfg, by_category, by_tag, [], Problems())]


def test_the_format_table_agrees_with_the_config() -> None:
    assert tuple(FORMATS) == config.FORMATS
    assert {f.name: f.suffix for f in FORMATS.values()} == config.SUFFIXES
    assert FEED_SUFFIXES == (".rss.xml", ".atom.xml", ".json")
    assert [f.name for f in FORMATS.values() if f.archivable] == ["rss", "atom"]


def test_months_are_site_months_and_only_closed_ones_are_archived() -> None:
    late = dt.datetime(2022, 6, 30, 16, 30, tzinfo=dt.UTC)  # 07-01 00:30 in Shanghai
    assert archive.month_of(late, TZ).key == "2022-07"
    m = archive.month_of(dt.datetime(2022, 12, 5, tzinfo=SH), TZ)
    assert (m.start.isoformat(), m.end.isoformat()) == (
        "2022-12-01T00:00:00+08:00",
        "2023-01-01T00:00:00+08:00",
    )
    times = [dt.datetime(2022, mo, 3, tzinfo=SH) for mo in (7, 5, 5, 8)]
    now = dt.datetime(2022, 8, 20, tzinfo=SH)
    assert [m.key for m in archive.closed_months(times, now, TZ)] == ["2022-05", "2022-07"]


def test_archive_paths_and_urls_follow_the_template_and_the_format() -> None:
    cfg = cfg_with("feeds:\n  archive_path: 'old/{slug}/{month}'\n")
    plan = next(p for p in plans(cfg) if p.name == "world")
    month = archive.month_of(dt.datetime(2022, 5, 3, tzinfo=SH), TZ)
    assert archive.path(cfg, plan, month, "atom") == "old/world/2022-05.atom.xml"
    assert archive.url(cfg, plan, month, "rss") == "https://x.example/f/old/world/2022-05.rss.xml"
    assert archivable(plan) == ["rss", "atom"]


def test_discovery_files_list_every_feed_with_its_media_types() -> None:
    cfg = cfg_with("categories:\n  meta:\n    财经: {slug: caijing}\n")
    when = dt.datetime(2022, 6, 9, 14, 36, tzinfo=SH)
    listed = [discover.Listed(p, 3, when) for p in plans(cfg)]
    files = discover.files(cfg, listed)
    assert sorted(files) == [
        "feed.xsl",
        "feeds.opml",
        "index.html",
        "snippets/caijing.html",
        "snippets/head.html",
        "snippets/subscribe.html",
        "snippets/world.html",
    ]
    index = files["index.html"].decode()
    assert 'type="application/feed+json" title="财经 - 站 (JSON Feed)"' in index
    assert "https://x.example/f/caijing.atom.xml" in index and "2022-06-09 14:36" in index
    # each feed's title leads to its web page; its site page is a link of its own
    assert '<a href="https://x.example/f/caijing.html">财经 - 站</a>' in index
    assert '<a href="https://x.example/category/caijing.html">网站</a>' in index
    opml = etree.fromstring(files["feeds.opml"])
    urls = [o.get("xmlUrl") for o in opml.iter("outline")]
    # by name as written in the posts: "world" sorts before "财经"
    assert urls == ["https://x.example/f/world.rss.xml", "https://x.example/f/caijing.rss.xml"]
    snippet = files["snippets/world.html"].decode()
    assert snippet.count('<link rel="alternate"') == 3


def test_discovery_can_be_turned_off() -> None:
    cfg = cfg_with("feeds:\n  discovery: false\n  stylesheet: false\n")
    when = dt.datetime(2022, 6, 9, tzinfo=SH)
    assert discover.files(cfg, [discover.Listed(p, 1, when) for p in plans(cfg)]) == {}
    cfg = cfg_with("feeds:\n  formats: [json]\n")
    opml = etree.fromstring(
        discover.files(cfg, [discover.Listed(p, 1, when) for p in plans(cfg)])["feeds.opml"]
    )
    assert [str(o.get("xmlUrl"))[-5:] for o in opml.iter("outline")] == [".json", ".json"]
