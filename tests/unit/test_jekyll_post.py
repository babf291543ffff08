"""Jekyll's post rules, table-tested. Every expected value marked "Jekyll 4.3.1" was read from
the pages and feed.xml that Debian's jekyll 4.3.1 with jekyll-feed 0.17.0 built from the same
front matter (site timezone Asia/Shanghai); tests/e2e/test_jekyll_dates.py re-checks the dates
against the real jekyll when it is installed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from feeds import timeutil, yamlutil
from feeds.errors import DateError
from feeds.jekyll.jekyll import JekyllSite
from feeds.jekyll.post import (
    Excerpt,
    excerpt_head,
    feed_author,
    feed_excerpt_only,
    feed_summary_source,
    jekyll_instant,
    jekyll_slugify,
    page_categories,
    page_data,
    permalink_gaps,
    post_excerpt,
    post_title,
    title_from_slug,
    url_categories,
    url_title,
)
from feeds.models import Author

SHANGHAI = timeutil.zone("Asia/Shanghai")


def _site(**kw: Any) -> JekyllSite:
    values: dict[str, Any] = {
        "folder": Path("site"),
        "source": Path("site"),
        "url": "https://news.example.com",
        "baseurl": "",
        "timezone": "Asia/Shanghai",
        "permalink": "/:categories/:year/:month/:day/:title:output_ext",
        "excerpt_separator": "\n\n",
        "defaults": (),
        "authors": {"bob": {"name": "Bob Li", "email": "bob@example.com", "uri": "https://b.cn"}},
        "collections_dir": "",
    }
    values.update(kw)
    return JekyllSite(**values)


# (raw text, quoted in YAML?, page.date as Jekyll 4.3.1 printed it)
DATES = [
    ("2022-06-10 09:15", False, "2022-06-10T09:15:00+08:00"),  # no seconds: a string, site time
    ("2022-06-10 09:15", True, "2022-06-10T09:15:00+08:00"),
    ("2022-06-10 09:15:00", False, "2022-06-10T17:15:00+08:00"),  # a YAML timestamp: UTC
    ("2022-06-10 09:15:00", True, "2022-06-10T09:15:00+08:00"),  # quoted: site time
    ("2022-06-10 20:15:00", False, "2022-06-11T04:15:00+08:00"),  # the URL's day moves too
    ("2022-06-10T09:15:00", False, "2022-06-10T17:15:00+08:00"),
    ("2022-06-10T09:15", False, "2022-06-10T09:15:00+08:00"),
    ("2022-06-10 09:15:00.5", False, "2022-06-10T17:15:00+08:00"),
    ("2022-6-1 9:15:00", False, "2022-06-01T17:15:00+08:00"),
    ("2022-6-1 9:15", False, "2022-06-01T09:15:00+08:00"),
    ("2022-06-10", False, "2022-06-10T00:00:00+08:00"),  # a date alone: site midnight
    ("2022-06-10", True, "2022-06-10T00:00:00+08:00"),
    ("2022-06-10 09:15:00 +0800", False, "2022-06-10T09:15:00+08:00"),
    ("2022-06-10 09:15 +0000", False, "2022-06-10T17:15:00+08:00"),
    ("2022-06-10T01:15:00Z", False, "2022-06-10T09:15:00+08:00"),
    ("2022/06/10 09:15", False, "2022-06-10T09:15:00+08:00"),
    ("2022/06/10 09:15:00", False, "2022-06-10T09:15:00+08:00"),
    ("2022-06-10 09:15:00 +8", False, "2022-06-10T09:15:00+08:00"),
]


def front_matter_date(raw: str, quoted: bool) -> object:
    """The ``date`` value as our YAML reader gives it for that line of front matter."""
    text = "date: " + (json.dumps(raw) if quoted else raw)
    return yamlutil.load(text).value["date"]


@pytest.mark.parametrize(("raw", "quoted", "expected"), DATES)
def test_front_matter_dates_as_jekyll_reads_them(raw: str, quoted: bool, expected: str) -> None:
    value = front_matter_date(raw, quoted)
    fast = yamlutil.load_flat("date: " + (json.dumps(raw) if quoted else raw))
    assert fast is not None and type(fast.value["date"]) is type(value)
    got = jekyll_instant(value, SHANGHAI)
    assert got.isoformat() == expected
    assert got.utcoffset() == dt.timedelta(hours=8)


def test_dates_from_a_timestamp_resolving_loader() -> None:
    naive = dt.datetime(2022, 6, 10, 9, 15, 0, 500000)  # noqa: DTZ001 - PyYAML's naive timestamp
    assert jekyll_instant(naive, SHANGHAI).isoformat() == "2022-06-10T17:15:00+08:00"
    assert jekyll_instant(dt.date(2022, 6, 10), SHANGHAI).isoformat() == "2022-06-10T00:00:00+08:00"


def test_ruby_rolls_a_day_past_the_month_end_over() -> None:
    # Ruby: Time.parse("2024-02-30 10:00") is 2024-03-01 10:00 (ruby 3.1, TZ=Asia/Shanghai)
    got = jekyll_instant("2024-02-30 10:00", SHANGHAI)
    assert got.isoformat() == "2024-03-01T10:00:00+08:00"


@pytest.mark.parametrize("raw", ["yesterday", "2022-06-10 25:00", "2022-13-01", "2022-06-32", 5])
def test_unreadable_dates_are_date_errors(raw: object) -> None:
    with pytest.raises(DateError):
        jekyll_instant(raw, SHANGHAI)


def test_title_from_slug() -> None:
    # Jekyll 4.3.1: 2022-06-10-dec-the-second.md without a title → "Dec The Second"
    assert title_from_slug("dec-the-second") == "Dec The Second"
    assert title_from_slug("iPhone-x-") == "Iphone X"  # Ruby's capitalize; trailing "-" dropped
    assert post_title({}, "dec-the-second") == "Dec The Second"
    assert post_title({"title": None}, "a-b") == "A B"
    assert post_title({"title": ""}, "a-b") == ""  # Jekyll 4.3.1 keeps a blank title blank
    assert post_title({"title": 2022}, "a-b") == "2022"


# (path, defaults, front matter, page.categories and URL prefix as Jekyll 4.3.1 built them)
CATEGORIES: list[tuple[str, dict[str, Any], dict[str, Any], tuple[str, ...], str]] = [
    (
        "_posts/x.md",
        {},
        {"category": "World", "categories": "news"},
        ("news", "World"),
        "news/world",
    ),
    (
        "_posts/x.md",
        {},
        {"category": ["x", "y"], "categories": ["news", "sport"]},
        ("news", "sport", "x", "y"),
        "news/sport/x/y",
    ),
    ("_posts/x.md", {}, {"category": "foo bar"}, ("foo bar",), "foo bar"),
    ("_posts/x.md", {}, {"categories": "foo Bar"}, ("foo", "Bar"), "foo/bar"),
    ("_posts/x.md", {}, {"category": "news", "categories": ["news", "x"]}, ("news", "x"), "news/x"),
    ("_posts/x.md", {}, {"categories": [2022, True]}, ("2022", "true"), "2022/true"),
    (
        "_posts/world/x.md",
        {"categories": ["defcat"]},
        {"categories": ["news"]},
        ("defcat", "news"),
        "defcat/news",
    ),
    (
        "_posts/world/x.md",
        {"categories": ["defcat"]},
        {"category": "solo"},
        ("defcat", "solo"),
        "defcat/solo",
    ),
    ("news/_posts/x.md", {}, {"categories": "local"}, ("news", "local"), "news/local"),
    ("_posts/x.md", {}, {}, (), ""),
]


@pytest.mark.parametrize(("path", "defaults", "front", "categories", "url"), CATEGORIES)
def test_category_and_categories_as_jekyll_combines_them(
    path: str,
    defaults: dict[str, Any],
    front: dict[str, Any],
    categories: tuple[str, ...],
    url: str,
) -> None:
    data = page_data(path, front, defaults)
    assert page_categories(data) == categories
    assert url_categories(page_categories(data)) == url


def test_front_matter_wins_over_defaults() -> None:
    data = page_data(
        "_posts/x.md", {"title": "D", "feed": {"a": 1}}, {"layout": "post", "title": "X"}
    )
    assert data["title"] == "D" and data["layout"] == "post" and data["feed"] == {"a": 1}


# front-matter slug → the :title of a permalink (Jekyll 4.3.1's page.url, unescaped)
SLUGS = {
    "Hello World!": "Hello-World!",
    "中国 发展网—新闻": "中国-发展网-新闻",
    "C++ & C#": "C++-&-C",
    "café au lait": "café-au-lait",
    "  spaced  ": "spaced",
    "x.y/z": "x.y-z",
    "100%": "100",
}


@pytest.mark.parametrize(("slug", "expected"), sorted(SLUGS.items()))
def test_url_title(slug: str, expected: str) -> None:
    assert url_title({"slug": slug}, "ignored") == expected


def test_slugify_default_mode() -> None:
    assert jekyll_slugify("Hello, World! 新闻") == "hello-world-新闻"
    assert url_title({}, "dec-the-second") == "dec-the-second"


def test_permalink_gaps() -> None:
    assert permalink_gaps("/:w_year/W:week/:w_day/:title/") == ("w_day", "w_year")
    assert permalink_gaps("/:categories/:year/:title:output_ext") == ()


BODY = "First para.\n\nSecond para.\n"


@pytest.mark.parametrize(
    ("front", "body", "site_separator", "expected"),
    [
        # Jekyll 4.3.1 page.excerpt for each (rendered, in the comment)
        ({}, BODY, "\n\n", Excerpt("First para.", True)),  # <p>First para.</p>
        ({}, "Only one paragraph.\n", "\n\n", Excerpt("Only one paragraph.\n", True)),
        (
            {"excerpt_separator": "<!--more-->"},
            "One\n\nTwo <!--more--> Three\n",
            "\n\n",
            Excerpt("One\n\nTwo ", True),  # <p>One</p>\n\n<p>Two</p>
        ),
        ({"excerpt": "Given *text*"}, BODY, "\n\n", Excerpt("Given *text*", False)),  # as written
        ({"excerpt": ""}, BODY, "\n\n", Excerpt("", False)),  # ""
        ({}, BODY, "", None),  # excerpt_separator: "" → no excerpt
        ({"excerpt_separator": ""}, BODY, "\n\n", None),
    ],
)
def test_excerpt(
    front: dict[str, Any], body: str, site_separator: str, expected: Excerpt | None
) -> None:
    assert post_excerpt(front, body, site_separator) == expected


def test_excerpt_keeps_the_link_definitions_it_uses() -> None:
    body = "See [the report][r].\n\nMore.\n\n[r]: https://x.cn/r\n[s]: https://x.cn/s\n"
    assert excerpt_head(body, "\n\n") == "See [the report][r].\n\n[r]: https://x.cn/r"


@pytest.mark.parametrize(
    ("front", "excerpt_html", "expected"),
    [
        # jekyll-feed 0.17.0's <summary> from Jekyll 4.3.1's feed.xml
        ({}, "<p>First para.</p>\n", "<p>First para.</p>\n"),  # "First para."
        ({"description": "The description"}, "<p>First para.</p>\n", "The description"),
        ({"description": ""}, "<p>First para.</p>\n", "<p>First para.</p>\n"),
        ({"excerpt": ""}, "", None),  # no <summary>
        ({"excerpt": "", "description": "D"}, "", "D"),
        ({}, None, None),
    ],
)
def test_feed_summary(
    front: dict[str, Any], excerpt_html: str | None, expected: str | None
) -> None:
    assert feed_summary_source(front, excerpt_html) == expected


@pytest.mark.parametrize(
    ("post", "site", "expected"),
    [
        ({"feed": {"excerpt_only": True}}, None, True),  # Jekyll 4.3.1: no <content>
        ({}, None, False),
        ({}, True, True),
        ({"feed": {"excerpt_only": False}}, True, True),  # Jekyll 4.3.1: still no <content>
        ({"feed": "x"}, None, False),
    ],
)
def test_feed_excerpt_only(post: dict[str, Any], site: object, expected: bool) -> None:
    assert feed_excerpt_only(post, _site(feed_excerpt_only=site)) is expected


@pytest.mark.parametrize(
    ("front", "site_author", "expected"),
    [
        # jekyll-feed 0.17.0 <author> in Jekyll 4.3.1's feed.xml
        ({"author": "bob"}, None, Author("Bob Li", "bob@example.com", "https://b.cn")),
        ({"authors": ["bob", "carol"]}, None, Author("Bob Li", "bob@example.com", "https://b.cn")),
        ({"author": "Carol"}, None, Author("Carol")),
        ({}, None, None),  # <name></name>
        ({}, {"name": "编辑部", "email": "e@x.cn"}, Author("编辑部", "e@x.cn")),
        ({}, "bob", Author("Bob Li", "bob@example.com", "https://b.cn")),
        (
            {"author": {"name": "Dan", "uri": "https://d.cn"}},
            None,
            Author("Dan", None, "https://d.cn"),
        ),
        ({"author": ""}, "Site", Author("Site")),
    ],
)
def test_feed_author(front: dict[str, Any], site_author: object, expected: Author | None) -> None:
    assert feed_author(front, _site(author=site_author)) == expected
