"""No entry disappears without a word, and no tag spelling costs a feed.

Promises (issue "Every real post and feed read right", Entries and titles): two items of one
source with the same title are two entries (duplicates are looked for across sources only, and
each merge is said); tags that differ only in case are one feed named by the common spelling;
``C``, ``C++`` and ``C#`` are three feeds; a tag with no letter or digit still gets a feed file
with a stable, visible name.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import check_all_outputs, cli, make_site, parse_feed, post_text

SOURCE = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>快讯源</title><link>https://wire.example/</link><description>d</description>
{items}</channel></rss>"""


def item(n: int, title: str, link: str | None = None) -> str:
    link = link or f"https://wire.example/{n}"
    return (
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>Thu, 09 Jun 2022 0{n}:00:00 +0800</pubDate></item>"
    )


def test_same_title_twice_in_one_source_is_two_entries(tmp_path: Path) -> None:
    wire = SOURCE.format(items=item(1, "每日快讯") + item(2, "每日快讯") + item(3, "另一条"))
    other = SOURCE.format(items=item(4, "每日快讯", "https://other.example/x"))
    site = make_site(
        tmp_path,
        "state: {dir: state}\nsources:\n"
        "  - {id: wire, path: wire.xml, categories: [wire]}\n"
        "  - {id: other, path: other.xml, categories: [wire]}\n",
    )
    (tmp_path / "wire.xml").write_text(wire, encoding="utf-8")
    (tmp_path / "other.xml").write_text(other, encoding="utf-8")
    site.post("2022-06-01-a.md", post_text("本站文章", "2022-06-01 10:00:00 +0800"))
    proc = cli("build", "--config", site.config, "-v")
    assert proc.returncode == 0, proc.stderr
    links = sorted(e.link for e in parse_feed(site.out / "wire.rss.xml").entries)
    # all three of the first source, and the second source's copy (same title, same hour,
    # another source) accounted for in the log
    assert links == ["https://wire.example/1", "https://wire.example/2", "https://wire.example/3"]
    assert "duplicates merged" in proc.stderr


def test_status_counts_each_sources_undated_and_merged_entries(tmp_path: Path) -> None:
    """Promise: ``feeds status`` says, per source, how many stored entries are dated by the
    time they were first seen (no usable date: missing, or unreadable) and how many were
    merged into another source's copy, so no fallback and no merge is silent."""
    undated = (
        "<item><title>无日期</title><link>https://wire.example/u</link>"
        "<guid>https://wire.example/u</guid></item>"
        "<item><title>坏日期</title><link>https://wire.example/b</link>"
        "<guid>https://wire.example/b</guid><pubDate>明天</pubDate></item>"
    )
    wire = SOURCE.format(items=item(1, "每日快讯") + item(3, "另一条") + undated)
    other = SOURCE.format(
        items=item(4, "每日快讯", "https://other.example/x")
        + item(5, "独家", "https://o.example/5")
    )
    site = make_site(
        tmp_path,
        "state: {dir: state}\nsources:\n"
        "  - {id: wire, path: wire.xml, categories: [wire]}\n"
        "  - {id: other, path: other.xml, categories: [wire]}\n",
    )
    (tmp_path / "wire.xml").write_text(wire, encoding="utf-8")
    (tmp_path / "other.xml").write_text(other, encoding="utf-8")
    assert cli("build", "--config", site.config).returncode == 0
    rows = {
        r["id"]: r for r in json.loads(cli("status", "-c", site.config, "--json").stdout)["sources"]
    }
    assert (rows["wire"]["entries"], rows["wire"]["undated"], rows["wire"]["merged"]) == (4, 2, 0)
    # the same article in the category feed and in the feed of everything: two placements
    assert (rows["other"]["entries"], rows["other"]["undated"], rows["other"]["merged"]) == (
        2,
        0,
        2,
    )
    text = cli("status", "-c", site.config).stdout
    assert "UNDATED  MERGED" in text


def test_tags_that_differ_in_case_are_one_feed(tmp_path: Path) -> None:
    site = make_site(tmp_path, "feeds: {tag_feeds: true}\n")
    site.post("2022-06-01-a.md", post_text("一", "2022-06-01 10:00:00 +0800", tags="[Git]"))
    site.post("2022-06-02-b.md", post_text("二", "2022-06-02 10:00:00 +0800", tags="[git]"))
    site.post("2022-06-03-c.md", post_text("三", "2022-06-03 10:00:00 +0800", tags="[git]"))
    proc = cli("build", "--config", site.config)
    assert proc.returncode == 0, proc.stderr  # before: exit 1, both tag feeds lost
    feed = parse_feed(site.out / "tags" / "git.rss.xml")
    assert len(feed.entries) == 3
    assert feed.feed.title.startswith("git")  # the spelling two of three posts use
    check_all_outputs(site.out)


def test_c_cpp_csharp_and_symbol_only_tags_get_their_own_files(tmp_path: Path) -> None:
    site = make_site(tmp_path, "feeds: {tag_feeds: true}\n")
    for i, tag in enumerate(["C", "C++", "C#", "！！"], 1):
        site.post(
            f"2022-06-0{i}-p{i}.md",
            post_text(f"文{i}", f"2022-06-0{i} 10:00:00 +0800", tags=f'["{tag}"]'),
        )
    proc = cli("build", "--config", site.config)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (site.out / "tags").glob("*.rss.xml"))
    assert names[:3] == ["c-plus-plus.rss.xml", "c-sharp.rss.xml", "c.rss.xml"]
    assert len(names) == 4 and names[3].startswith("x-") and not names[3].startswith(".")
    check_all_outputs(site.out)


def test_remote_tags_make_feeds_only_up_to_their_share(tmp_path: Path) -> None:
    """2,000 tags on one remote item do not make 2,000 files (``feeds.remote_tag_feeds``);
    a tag a post has keeps its feed, and a source's ``T1`` joins the post's ``t1``."""
    cats = "".join(f"<category>标签{i:04d}</category>" for i in range(200))
    wire = SOURCE.format(
        items=item(1, "很多标签").replace("</item>", f"<category>T1</category>{cats}</item>")
    )
    (tmp_path / "wire.xml").write_text(wire, encoding="utf-8")
    site = make_site(
        tmp_path,
        "state: {dir: state}\nfeeds: {tag_feeds: true, remote_tag_feeds: 5}\n"
        "sources:\n  - {id: wire, path: wire.xml, categories: [wire]}\n",
    )
    site.post("2022-06-01-a.md", post_text("本站", "2022-06-01 10:00:00 +0800", tags="[t1]"))
    proc = cli("build", "--config", site.config)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (site.out / "tags").glob("*.rss.xml"))
    assert "t1.rss.xml" in names
    assert len(names) <= 5 + 1  # the source's share, and the post's own tag
    t1 = parse_feed(site.out / "tags" / "t1.rss.xml")
    assert sorted(e.title for e in t1.entries) == ["很多标签", "本站"]
