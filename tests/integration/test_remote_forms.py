"""Sources read as they are written (issue "Every real post and feed read right", Entries and
titles): JSON Feed 1.0 and 1.1 sources like RSS and Atom; Atom ``type="text"`` content and
summaries are text (a literal ``<int>`` stays visible); first-seen times are whole seconds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from feeds.config import config
from feeds.generate import pipeline
from feeds.run import once
from tests.helpers import check_all_outputs, make_site, parse_feed

NOW = dt.datetime(2022, 6, 12, 12, 0, 0, 123456, tzinfo=dt.UTC)


def build(tmp: Path, name: str, body: str, check: bool = True) -> tuple[pipeline.Report, Path]:
    (tmp / name).write_text(body, encoding="utf-8")
    site = make_site(
        tmp, f"state: {{dir: state}}\nsources:\n  - {{id: s, path: {name}, categories: [ext]}}\n"
    )
    cfg = config.load(site.config)
    report = once.fetch_and_build(cfg, NOW)
    if check:
        check_all_outputs(cfg.output_dir)
    return report, cfg.output_dir


@pytest.mark.parametrize("version", ["1", "1.1"])
def test_json_feed_sources(tmp_path: Path, version: str) -> None:
    author = (
        {"authors": [{"name": "新华社", "url": "https://x.example/"}]}
        if version == "1.1"
        else {"author": {"name": "新华社"}}
    )
    doc = {
        "version": f"https://jsonfeed.org/version/{version}",
        "title": "JSON 源",
        "home_page_url": "https://x.example/",
        "items": [
            {
                "id": "1",
                "url": "https://x.example/1",
                "title": "第一条",
                "content_html": "<p>正文一</p>",
                "date_published": "2022-06-10T10:00:00+08:00",
                "tags": ["经济"],
                **author,
            },
            {
                "id": "2",
                "url": "https://x.example/2",
                "title": "第二条",
                "content_text": "a < b 与 vector<int>",
                "date_published": "2022-06-11T10:00:00+08:00",
            },
        ],
    }
    report, out = build(tmp_path, "f.json", json.dumps(doc, ensure_ascii=False))
    assert [o.status for o in report.sources] == ["ok"], report.problems.items
    feed = parse_feed(out / "ext.atom.xml")
    assert [e.title for e in feed.entries] == ["第二条", "第一条"]
    assert "vector&lt;int&gt;" in (out / "ext.atom.xml").read_text(encoding="utf-8")
    assert feed.entries[1].author == "新华社"


def test_invalid_json_is_a_clear_source_error(tmp_path: Path) -> None:
    report, _ = build(tmp_path, "f.json", '{"version": "https://jsonfeed.org/version/1.1", ', False)
    (outcome,) = report.sources
    assert outcome.status == "error" and "invalid JSON" in (outcome.error or "")


def test_atom_text_content_stays_text(tmp_path: Path) -> None:
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>源</title><id>urn:x</id>
<updated>2022-06-09T10:00:00+08:00</updated>
<entry><title>模板</title><id>urn:x:1</id><link href="https://src.example/1"/>
<updated>2022-06-09T10:00:00+08:00</updated>
<summary type="text">用 vector&lt;int&gt; 比较 a &lt; b</summary>
<content type="text">正文 vector&lt;int&gt; 与 &lt;b&gt;粗体&lt;/b&gt;</content></entry></feed>"""
    _, out = build(tmp_path, "a.xml", atom)
    entry = parse_feed(out / "ext.atom.xml").entries[0]
    assert "vector<int>" in entry.summary
    # escaped in the HTML content: a reader shows "<b>粗体</b>" as text, not bold
    assert "&lt;b&gt;粗体&lt;/b&gt;" in entry.content[0].value


def test_first_seen_times_are_whole_seconds(tmp_path: Path) -> None:
    rss = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>源</title>
<link>https://src.example/</link><description>d</description>
<item><title>无日期</title><link>https://src.example/1</link></item></channel></rss>"""
    _, out = build(tmp_path, "r.xml", rss)
    published = parse_feed(out / "ext.atom.xml").entries[0].published
    assert published == "2022-06-12T20:00:00+08:00"


def test_a_plain_text_title_keeps_its_text(tmp_path: Path) -> None:
    rss = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>源</title>
<link>https://src.example/</link><description>d</description>
<item><title>vector&lt;int&gt; 与 a &lt; b</title><link>https://src.example/1</link>
<pubDate>Thu, 09 Jun 2022 10:00:00 +0800</pubDate></item></channel></rss>"""
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>源</title><id>urn:y</id>
<updated>2022-06-09T10:00:00+08:00</updated>
<entry><title type="html">&lt;em&gt;重要&lt;/em&gt;&amp;nbsp;新闻</title><id>urn:y:1</id>
<link href="https://src.example/2"/><updated>2022-06-09T10:00:00+08:00</updated></entry></feed>"""
    _, out = build(tmp_path, "r.xml", rss)
    assert parse_feed(out / "ext.atom.xml").entries[0].title == "vector<int> 与 a < b"
    (tmp_path / "atom").mkdir()
    _, out = build(tmp_path / "atom", "a.xml", atom)
    assert parse_feed(out / "ext.atom.xml").entries[0].title == "重要\u00a0新闻"


def test_an_aggregated_entry_keeps_its_rights(tmp_path: Path) -> None:
    """Promise: an aggregated entry keeps its copyright (Atom ``<rights>`` of the entry, else
    the source feed's ``<rights>`` or RSS ``<copyright>``): Atom ``<rights>`` in our Atom feed,
    ``dc:rights`` in our RSS (RSS 2.0 items have no copyright element); JSON Feed has no field
    for it. A post's entry has none."""
    rss = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>源</title>
<link>https://src.example/</link><description>d</description>
<copyright>© 2022 新华社 版权所有</copyright>
<item><title>有版权</title><link>https://src.example/1</link>
<pubDate>Thu, 09 Jun 2022 10:00:00 +0800</pubDate></item></channel></rss>"""
    (tmp_path / "rss").mkdir()
    _, out = build(tmp_path / "rss", "r.xml", rss)
    assert parse_feed(out / "ext.atom.xml").entries[0].rights == "© 2022 新华社 版权所有"
    text = (out / "ext.rss.xml").read_text(encoding="utf-8")
    assert "<dc:rights>© 2022 新华社 版权所有</dc:rights>" in text
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>源</title><id>urn:x</id>
<rights>feed rights</rights><updated>2022-06-09T10:00:00+08:00</updated>
<entry><title>一</title><id>urn:x:1</id><link href="https://src.example/1"/>
<rights type="html">&lt;em&gt;CC BY&lt;/em&gt; 4.0</rights>
<updated>2022-06-09T10:00:00+08:00</updated></entry>
<entry><title>二</title><id>urn:x:2</id><link href="https://src.example/2"/>
<updated>2022-06-08T10:00:00+08:00</updated></entry></feed>"""
    (tmp_path / "atom").mkdir()
    _, out = build(tmp_path / "atom", "a.xml", atom)
    entries = parse_feed(out / "ext.atom.xml").entries
    assert [(e.title, e.rights) for e in entries] == [("一", "CC BY 4.0"), ("二", "feed rights")]
