"""What a source controls is capped: a huge title, thousands of tags, entries or enclosures
never make a build slow or its files huge, an over-long tag never breaks a file name, and a
lone surrogate is dropped like the other invalid characters; every feed is still written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from feeds.collect import remote
from feeds.collect.http import FetchResult
from feeds.config import config
from feeds.models import RawFeed
from feeds.run import once
from tests import server as srv
from tests.helpers import make_site, parse_feed
from tests.server import LocalServer

T0 = dt.datetime(2022, 6, 12, 12, 0, tzinfo=dt.UTC)


def rss(items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>源</title>'
        f"<link>https://src.example/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def item(n: int, title: str = "", extra: str = "", description: str = "d") -> str:
    return (
        f"<item><title>{title or f'条目{n}'}</title><link>https://src.example/{n}</link>"
        f"<pubDate>Fri, 10 Jun 2022 02:00:00 GMT</pubDate><description>{description}"
        f"</description>{extra}</item>"
    )


def parsed(body: bytes) -> RawFeed:
    return remote.parse(FetchResult(url="http://127.0.0.1/x.xml", status=200, body=body))


def test_source_controlled_sizes_are_capped() -> None:
    """A 10 MB title, 10,000 categories, 100 enclosures and 100 authors on one item, and
    5,000 items in one document, are cut to the caps in the collector."""
    tags = "".join(f"<category>t{i}</category>" for i in range(10_000))
    encs = "".join(
        f'<enclosure url="https://src.example/{i}.mp3" length="1" type="audio/mpeg"/>'
        for i in range(100)
    )
    big = item(0, title="长" * 10_000_000, extra=tags + encs, description="摘" * 2_000_000)
    feed = parsed(rss(big + "".join(item(n) for n in range(1, 5_000))))
    first = feed.items[0]
    assert len(feed.items) == 1000
    assert first.title is not None and len(first.title) <= 1000
    assert first.summary_html is not None and len(first.summary_html) <= 1_000_000
    assert len(first.tags) == 50
    assert len(first.enclosures) == 20


def test_long_tags_get_a_hash_suffix() -> None:
    """A tag longer than a file name can be is shortened with a hash of the whole tag: the
    same tag always gives the same name, and two long tags do not collide."""
    a, b = "标" * 300 + "甲", "标" * 300 + "乙"
    extra = f"<category>{a}</category><category>{b}</category><category>短</category>"
    tags = parsed(rss(item(1, extra=extra))).items[0].tags
    assert len(tags) == 3 and tags[2] == "短"
    assert tags[0] != tags[1]
    assert all(len(t.encode()) <= 120 for t in tags)
    assert parsed(rss(item(1, extra=extra))).items[0].tags == tags


def test_lone_surrogate_is_dropped(tmp_path: Path, http_server: LocalServer) -> None:
    """A lone surrogate (&#xD800;) in any field is dropped like the other characters XML
    cannot carry; the source and every feed are still written."""
    http_server.routes["/s.xml"] = srv.static(
        rss(
            item(
                1,
                title="坏&#xD800;字",
                description="正文&#xDFFF;结束",
                extra="<category>标&#xD800;签</category><author>a&#xD800;@x.example</author>",
            )
        )
    )
    site = make_site(
        tmp_path,
        "fetch:\n  allow_networks: [127.0.0.0/8]\n  deadline: 3s\nstate:\n  dir: state\n"
        f"sources:\n  - id: s\n    url: {http_server.url('/s.xml')}\n    categories: [s]\n"
        "feeds:\n  tag_feeds: true\n",
    )
    report = once.fetch_and_build(config.load(site.config), T0)
    assert [o.status for o in report.sources] == ["ok"], report.sources
    assert not report.problems.errors, report.problems.items
    entries = parse_feed(site.out / "s.atom.xml").entries
    assert [e.title for e in entries] == ["坏字"]
