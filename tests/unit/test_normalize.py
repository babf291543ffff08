from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from feeds import yamlutil
from feeds.config import config
from feeds.models import Author, Problems, RawPost
from feeds.normalize import normalize

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def cfg(tmp_path: Path) -> config.Config:
    path = tmp_path / "config.yaml"
    doc = yamlutil.load(
        "site:\n  title: 站\n  url: https://news.example.com\n"
        "  author: 编辑部\nfeeds:\n  summary_length: 10\n"
    )
    return config.parse(doc, path)


def raw(
    meta: dict[str, Any], body: str = "正文", name: str = "2022-06-09-hello-world.md"
) -> RawPost:
    return RawPost(
        path=Path(name),
        slug=name[11:].rsplit(".", 1)[0],
        file_date=(2022, 6, 9),
        ext="." + name.rsplit(".", 1)[1],
        meta=meta,
        lines={(k,): i + 2 for i, k in enumerate(meta)},
        body=body,
    )


def prepare(
    cfg: config.Config, meta: dict[str, Any], **kw: Any
) -> tuple[normalize.PostInfo | None, Problems]:
    problems = Problems()
    return normalize.prepare(raw(meta, **kw), normalize.PostSettings.of(cfg), problems), problems


def test_categories_and_tags_as_string_or_list(cfg: config.Config) -> None:
    info, problems = prepare(
        cfg, {"title": "t", "category": "a", "categories": "b a c", "tags": ["x", 2024, "x"]}
    )
    assert info is not None and problems.items == []
    assert info.categories == ("b", "a", "c")  # Jekyll's order: categories, then category
    assert info.tags == ("x", "2024")


def test_category_and_categories_give_jekylls_url(cfg: config.Config) -> None:
    """``category`` is one name (not split) after ``categories``; the URL's categories are
    lower case, each once (a post with both used to get a broken link)."""
    info, _ = prepare(cfg, {"title": "t", "categories": "News", "category": "World news"})
    assert info is not None
    assert info.categories == ("News", "World news")
    info2, _ = prepare(cfg, {"title": "t", "categories": ["News", "news"], "category": "news"})
    assert info2 is not None
    assert info2.link.startswith("https://news.example.com/news/2022/")


@pytest.mark.parametrize("title", [None, False, "", "  "])
def test_missing_title_is_titleized_slug_with_a_warning(cfg: config.Config, title: object) -> None:
    meta = {} if title is None else {"title": title}
    info, problems = prepare(
        cfg, {**meta, "categories": "news"}, name="2022-06-09-dec-the-second.md"
    )
    assert info is not None and info.title == "Dec The Second"
    [warning] = problems.items
    assert "from the file name, as Jekyll does" in warning.message


def test_unquoted_date_without_offset_is_utc_as_in_jekyll(cfg: config.Config) -> None:
    """Jekyll reads an unquoted YAML timestamp without an offset as UTC: the page shows
    17:15 in Asia/Shanghai, and the URL's day follows. Quoted or seconds-less forms are
    site time. The naive form gets a warning naming the line and the fix."""
    doc = yamlutil.load("date: 2022-06-09 20:15:00\ncategories: news\n")
    info, problems = prepare(cfg, {"title": "t", **doc.value})
    assert info is not None
    assert info.published.isoformat() == "2022-06-10T04:15:00+08:00"
    assert info.link == "https://news.example.com/news/2022/06/10/hello-world.html"
    [warning] = problems.items
    assert warning.line == 3
    assert warning.message == (
        "date: 2022-06-09 20:15:00 has no UTC offset; read as UTC as Jekyll does "
        "(2022-06-10 04:15:00 in site time): add +0800"
    )
    for text in (
        'date: "2022-06-09 20:15:00"',
        "date: 2022-06-09 20:15",
        "date: 2022-06-09 20:15:00 +0800",
    ):
        doc = yamlutil.load(text + "\n")
        info, problems = prepare(cfg, {"title": "t", "categories": "news", **doc.value})
        assert info is not None and problems.items == [], text
        assert info.published.isoformat() == "2022-06-09T20:15:00+08:00", text


def test_permalink_placeholders(cfg: config.Config) -> None:
    info, _ = prepare(cfg, {"title": "t", "categories": "News Tech", "date": "2022-06-09 08:05"})
    assert info is not None
    assert info.link == "https://news.example.com/news/tech/2022/06/09/hello-world.html"
    cfg2 = config.Config(
        **{
            **cfg.__dict__,
            "posts": config.PostsConfig(
                dirs=(), permalink="/:year/:i_month/:i_day/:hour:minute/:slug/"
            ),
        }
    )
    info2, _ = prepare(cfg2, {"title": "t", "date": "2022-06-09 08:05", "slug": "Hi There"})
    assert info2 is not None and info2.link == "https://news.example.com/2022/6/9/0805/hi-there/"


def test_chinese_permalink_is_percent_encoded(cfg: config.Config) -> None:
    info, _ = prepare(cfg, {"title": "t", "categories": "财经"}, name="2022-06-09-新闻.md")
    assert info is not None
    assert info.link == (
        "https://news.example.com/%E8%B4%A2%E7%BB%8F/2022/06/09/%E6%96%B0%E9%97%BB.html"
    )


def test_front_matter_permalink_wins(cfg: config.Config) -> None:
    info, _ = prepare(cfg, {"title": "t", "permalink": "/a/b c.html"})
    assert info is not None and info.link == "https://news.example.com/a/b%20c.html"


def test_updated_dates(cfg: config.Config) -> None:
    info, _ = prepare(
        cfg,
        {
            "title": "t",
            "date": "2022-06-09 10:00 +0800",
            "last_modified_at": "2022-06-10 10:00 +0800",
        },
    )
    assert info is not None and info.updated.isoformat() == "2022-06-10T10:00:00+08:00"
    info, problems = prepare(cfg, {"title": "t", "date": "2022-06-09", "updated": "soon"})
    assert info is not None and info.updated == info.published
    assert "updated: unreadable date" in str(problems.items[0])


def test_authors(cfg: config.Config) -> None:
    info, _ = prepare(cfg, {"title": "t"})
    assert info is not None and info.authors == (Author("编辑部"),)
    info, _ = prepare(cfg, {"title": "t", "author": [{"name": "甲", "email": "a@b.c"}, "乙"]})
    assert info is not None and info.authors == (Author("甲", "a@b.c"), Author("乙"))


def test_unpublished_and_draft_are_skipped_quietly(cfg: config.Config) -> None:
    for meta in ({"title": "t", "published": False}, {"title": "t", "draft": True}):
        info, problems = prepare(cfg, meta)
        assert info is None and problems.items == []
    info, _ = prepare(cfg, {"title": "t", "date": "2030-01-01"})  # future: the caller decides
    assert info is not None and info.published.year == 2030


def test_render_summary_and_source_link(cfg: config.Config) -> None:
    body = "第一句话很长很长。第二句更长更长更长\n\n<https://orig.example/a?x=1&y=2>\n\n[返回首页](/)\n"
    info, _ = prepare(cfg, {"title": "t", "categories": "a"}, body=body)
    assert info is not None
    entry = normalize.render(info, normalize.PostSettings.of(cfg), Problems())
    assert entry is not None
    assert entry.summary == "第一句话很长很长。"
    assert entry.source_link == "https://orig.example/a?x=1&y=2"
    assert entry.content_html.endswith(
        '<p><a href="https://orig.example/a?x=1&amp;y=2">https://orig.example/a?x=1&amp;y=2'
        "</a></p>\n"
    )
    assert "返回首页" not in entry.content_html
    assert entry.published.tzinfo is not None and entry.updated.tzinfo is not None


def test_html_posts_are_not_markdown_rendered(cfg: config.Config) -> None:
    info, _ = prepare(cfg, {"title": "t"}, body="*不是强调*", name="2022-06-09-p.html")
    assert info is not None
    entry = normalize.render(info, normalize.PostSettings.of(cfg), Problems())
    assert entry is not None and entry.content_html == "*不是强调*"


def _remote(cfg: config.Config, published: str, first_seen: dt.datetime, **kw: Any) -> Any:
    from feeds.config.config import SourceConfig
    from feeds.models import RawFeed, RawItem

    item = RawItem(
        guid="https://src.example/1", title="标题", title_is_html=False,
        link="https://src.example/1", published=published, updated=None, summary_html=None,
        content_html=None, authors=(), tags=(), enclosures=(),
    )  # fmt: skip
    feed = RawFeed(url="https://src.example/feed", title="源", link=None, language="zh-cn",
                   items=(item,))  # fmt: skip
    (ref,) = normalize.remote_ids("src", cfg.site.url, (item,))
    problems = Problems()
    entry = normalize.remote_entry(
        ref, feed, SourceConfig(id="src", url=feed.url), cfg, first_seen, problems, **kw
    )
    return entry, problems


def test_remote_relative_dates_are_read_against_the_fetch_time(cfg: config.Config) -> None:
    first_seen = dt.datetime(2022, 6, 12, 12, 0, tzinfo=dt.UTC)
    entry, problems = _remote(cfg, "3小时前", first_seen)  # new entry: fetched when first seen
    assert entry.published.isoformat() == "2022-06-12T17:00:00+08:00"
    later = first_seen + dt.timedelta(hours=2)
    entry, problems = _remote(cfg, "3小时前", first_seen, now=later)
    assert entry.published.isoformat() == "2022-06-12T19:00:00+08:00"
    assert not problems.items


def test_remote_date_out_of_range_is_first_seen_with_a_warning(cfg: config.Config) -> None:
    first_seen = dt.datetime(2022, 6, 12, 12, 0, tzinfo=dt.UTC)
    entry, problems = _remote(cfg, "Fri, 31 Dec 9999 23:00:00 -0500", first_seen)
    assert entry.published.isoformat() == "2022-06-12T20:00:00+08:00"
    (p,) = problems.items
    assert "source 'src'" in str(p) and "https://src.example/1" in str(p)
    assert "'Fri, 31 Dec 9999 23:00:00 -0500'" in str(p) and "first seen" in str(p)


def _summary(cfg: config.Config, meta: dict[str, Any], body: str, separator: str = "\n\n") -> str:
    settings = dataclasses.replace(normalize.PostSettings.of(cfg), excerpt_separator=separator)
    problems = Problems()
    info = normalize.prepare(
        raw({"title": "t", "categories": "a", **meta}, body), settings, problems
    )
    assert info is not None
    entry = normalize.render(info, settings, problems)
    assert entry is not None
    return entry.summary


def test_summary_is_jekylls_excerpt_cut_at_summary_length(cfg: config.Config) -> None:
    """The summary ends where Jekyll's excerpt does (the first blank line, or the post's or
    the site's excerpt_separator), then is cut at feeds.summary_length (10 here)."""
    body = "甲乙。\n\n丙丁戊己庚辛壬癸子丑寅卯。\n"
    assert _summary(cfg, {}, body) == "甲乙。"
    assert _summary(cfg, {}, body, separator="") == "甲乙。 丙丁戊己庚辛…"  # no excerpts
    more = "甲乙。\n\n丙丁。<!--more-->后文很长很长很长很长。\n"
    assert _summary(cfg, {"excerpt_separator": "<!--more-->"}, more) == "甲乙。 丙丁。"
    assert _summary(cfg, {}, "一段话，没有空行。\n") == "一段话，没有空行。"


def test_description_then_excerpt_as_jekyll_feed(cfg: config.Config) -> None:
    body = "正文第一段。\n\n第二段。\n"
    both = {"description": "描述", "excerpt": "摘要"}
    assert _summary(cfg, both, body) == "描述"
    assert _summary(cfg, {"description": "", "excerpt": "摘要"}, body) == "摘要"
    assert _summary(cfg, {"excerpt": ""}, body) == ""  # jekyll-feed writes no summary
    assert _summary(cfg, {"description": "  "}, body) == "正文第一段。"


def test_feed_excerpt_only_leaves_the_content_out(cfg: config.Config) -> None:
    settings = normalize.PostSettings.of(cfg)
    for feed, expected in (({"excerpt_only": True}, ""), ({"excerpt_only": False}, "<p>")):
        problems = Problems()
        meta = {"title": "t", "categories": "a", "feed": feed}
        info = normalize.prepare(raw(meta, "第一段。\n\n第二段。\n"), settings, problems)
        assert info is not None
        entry = normalize.render(info, settings, problems)
        assert entry is not None and entry.summary == "第一段。"
        assert entry.content_html[:3] == expected
