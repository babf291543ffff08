"""Jekyll itself as the oracle: the same posts built by Debian's ``jekyll`` with
``jekyll-feed`` and by feeds must give the same permalinks, titles, instants and categories.

Promise: a subscriber of our feed and a reader of the Jekyll site see the same article at the
same URL with the same title and time. Every difference is either fixed or listed in the
README ("Differences from Jekyll") with its reason; the known ones are pinned below as
``xfail(strict=True)``, so fixing one makes its test say so.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import pytest

from tests.helpers import ROOT, make_site, run_cli
from tests.jekyll import jekyll_build

SITE_URL = "https://news.example.com"
EXAMPLE_POSTS = ROOT / "example" / "_posts"


# A layout that makes every Jekyll page print what Jekyll knows of it, as JSON.
ORACLE_LAYOUT = (
    '{"url": {{ page.url | absolute_url | jsonify }}, "title": {{ page.title | jsonify }}, '
    '"date": {{ page.date | date: "%Y-%m-%dT%H:%M:%S%:z" | jsonify }}, '
    '"categories": {{ page.categories | jsonify }}, "tags": {{ page.tags | jsonify }}}'
)


@dataclass(frozen=True)
class Seen:
    title: str
    published: dt.datetime
    terms: frozenset[str]  # categories and tags (an Atom feed lists both as categories)


LAYOUT_DEFAULT = "{scope: {path: ''}, values: {layout: post}}"


def _jekyll_build(
    tmp: Path, posts: dict[str, str], config: str = "", defaults: str = LAYOUT_DEFAULT
) -> dict[str, Seen]:
    """Every post as Jekyll's own pages say it: URL → title, instant, categories and tags."""
    site = tmp / "jekyll"
    (site / "_posts").mkdir(parents=True)
    (site / "_layouts").mkdir()
    for name, text in posts.items():
        (site / "_posts" / name).write_text(text, encoding="utf-8")
    for layout in ("post", "default"):
        (site / "_layouts" / f"{layout}.html").write_text(ORACLE_LAYOUT, encoding="utf-8")
    (site / "_config.yml").write_text(
        f"url: {SITE_URL}\ntimezone: Asia/Shanghai\nplugins: [jekyll-feed]\n"
        f"defaults: [{defaults}]\n" + config,
        encoding="utf-8",
    )
    jekyll_build(site)
    assert (site / "_site" / "feed.xml").is_file(), "jekyll-feed did not run"
    out = {}
    for page in (site / "_site").rglob("*.html"):
        data = json.loads(page.read_text(encoding="utf-8"))
        published = dt.datetime.fromisoformat(data["date"])
        terms = frozenset(data["categories"]) | frozenset(data["tags"])
        out[data["url"]] = Seen(data["title"], published, terms)
    return out


def _feeds_build(tmp: Path, posts: dict[str, str]) -> dict[str, Seen]:
    site = make_site(tmp / "feeds", "feeds: {formats: [atom], max_items: 1000}\n")
    for name, text in posts.items():
        site.post(name, text)
    proc = run_cli("build", "--config", site.config, "-q")
    assert proc.returncode in (0, 1), proc.stderr
    parsed: Any = feedparser.parse((site.out / "all.atom.xml").read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return {
        e.link: Seen(
            e.title,
            dt.datetime.fromisoformat(e.published),
            frozenset(t.term for t in e.get("tags", [])),
        )
        for e in parsed.entries
    }


def _feed_title(title: str) -> str:
    """A page's title as jekyll-feed writes it (``normalize_whitespace``: runs of ASCII white
    space, Ruby's ``\\s``, folded; no-break and ideographic spaces kept)."""
    return re.sub(r"[ \t\r\n\f\v]+", " ", title).strip(" \t\r\n\f\v")


def _compare(tmp: Path, posts: dict[str, str]) -> None:
    theirs = _jekyll_build(tmp, posts)
    ours = _feeds_build(tmp, posts)
    assert sorted(ours) == sorted(theirs), "permalinks differ"
    for link, seen in theirs.items():
        assert ours[link].title == _feed_title(seen.title), link
        assert ours[link].published == seen.published, link
        assert ours[link].terms == seen.terms, link


def test_example_site_posts_agree_with_jekyll(tmp_path: Path) -> None:
    """The example site's posts (the real seed post among them) read as Jekyll reads them."""
    posts = {p.name: p.read_text(encoding="utf-8") for p in sorted(EXAMPLE_POSTS.glob("*.md"))}
    assert len(posts) >= 6
    _compare(tmp_path, posts)


def _post(front: str, body: str = "<p>正文。</p>\n") -> str:
    return "---\n" + textwrap.dedent(front).strip("\n") + "\n---\n" + body


AGREEING = {
    "slash-date": _post("title: 斜线日期\ndate: 2022/06/09 10:00\ncategories: news"),
    "zone-offset": _post("title: 带时区\ndate: 2022-06-09 14:36:33 +0800\ncategories: news"),
    "utc-date": _post("title: UTC\ndate: 2022-06-09T06:36:33Z\ncategories: news"),
    "date-only": _post("title: 只有日期\ndate: 2022-06-09\ncategories: news"),
    "no-date": _post("title: 文件名日期\ncategories: news"),
    "two-categories": _post("title: 两个类别\ndate: 2022-06-09 10:00\ncategories: [news, world]"),
    "space-categories": _post("title: 空格分隔\ndate: 2022-06-09 10:00\ncategories: news world"),
    "tags": _post("title: 标签\ndate: 2022-06-09 10:00\ncategories: news\ntags: [a, b]"),
    "permalink": _post(
        "title: 固定链接\ndate: 2022-06-09 10:00\ncategories: news\npermalink: /special/page.html"
    ),
    "quoted-title": _post('title: "引号: 标题"\ndate: 2022-06-09 10:00\ncategories: news'),
    # an unquoted time without an offset is UTC in Jekyll (the URL's day follows from it)
    "naive-date": _post("title: 无时区\ndate: 2022-06-09 14:36:33\ncategories: news"),
    "naive-evening": _post("title: 晚上\ndate: 2022-06-09 20:00:00\ncategories: news"),
    "no-title": _post("date: 2022-06-09 10:00\ncategories: news"),
    "category-and-categories": _post(
        "title: 两种写法\ndate: 2022-06-09 10:00\ncategory: world\ncategories: news"
    ),
    # Jekyll 4: `tag` when given (one tag, not split) and then `tags` is not read
    "tag-and-tags": _post(
        "title: 两种标签\ndate: 2022-06-09 10:00\ncategories: news\ntag: 一 二\ntags: [a, b]"
    ),
    "tag-string": _post("title: 单个标签\ndate: 2022-06-09 10:00\ncategories: news\ntag: 一 二"),
    "tags-string": _post("title: 标签串\ndate: 2022-06-09 10:00\ncategories: news\ntags: 一 二"),
    "null-tag-and-tags": _post(
        "title: 空标签\ndate: 2022-06-09 10:00\ncategories: news\ntag:\ntags: 一 二"
    ),
    # a title's U+3000 (a headline's separator) and no-break space stay, as in Jekyll's page
    "ideographic-space": _post("title: 前半\u3000后半\ndate: 2022-06-09 10:00\ncategories: news"),
    "no-break-space": _post("title: 'A\u00a0B  C'\ndate: 2022-06-09 10:00\ncategories: news"),
}

# Deliberate differences, each listed with its reason in the README ("Differences from Jekyll").
DIFFERING = {
    # Jekyll keeps a blank title blank; a feed entry needs one, so feeds uses the slug's
    "blank-title": _post('title: ""\ndate: 2022-06-09 10:00\ncategories: news'),
}


@pytest.mark.parametrize("case", sorted(AGREEING))
def test_post_forms_agree_with_jekyll(tmp_path: Path, case: str) -> None:
    """Each front-matter form gives Jekyll's URL, title, instant and categories."""
    _compare(tmp_path, {"2022-06-09-dec-the-second.md": AGREEING[case]})


@pytest.mark.parametrize("case", sorted(DIFFERING))
@pytest.mark.xfail(strict=True, reason="a deliberate difference from Jekyll (README)")
def test_post_forms_that_differ_on_purpose(tmp_path: Path, case: str) -> None:
    """Pinned differences: should one stop differing this test fails, and the case moves up."""
    _compare(tmp_path, {"2022-06-09-dec-the-second.md": DIFFERING[case]})


SUMMARIES = {
    "first-paragraph": _post(
        "title: 段落\ndate: 2022-06-09 10:00\ncategories: news", "第一段。\n\n第二段。\n"
    ),
    "description": _post(
        "title: 描述\ndate: 2022-06-09 10:00\ncategories: news\n"
        "description: 描述文字\nexcerpt: 摘要",
        "第一段。\n\n第二段。\n",
    ),
    "excerpt": _post(
        "title: 摘要\ndate: 2022-06-09 10:00\ncategories: news\nexcerpt: 摘要文字", "第一段。\n"
    ),
    # jekyll-feed's normalize_whitespace folds ASCII white space only (Ruby's \s)
    "wide-spaces": _post(
        "title: 空白\ndate: 2022-06-09 10:00\ncategories: news",
        "\u3000\u3000第一段，\u00a0不换行\u3000全角  两个空格\n第二行。\n\n第二段。\n",
    ),
    "separator": _post(
        "title: 分隔\ndate: 2022-06-09 10:00\ncategories: news\nexcerpt_separator: <!--more-->",
        "第一段。\n\n第二段。<!--more-->第三段。\n",
    ),
}


@pytest.mark.parametrize("case", sorted(SUMMARIES))
def test_summaries_agree_with_jekyll_feed(tmp_path: Path, case: str) -> None:
    """The entry's summary is jekyll-feed's (all short enough that our length cut is moot)."""
    posts = {"2022-06-09-dec-the-second.md": SUMMARIES[case]}
    _jekyll_build(tmp_path, posts)
    theirs: Any = feedparser.parse((tmp_path / "jekyll" / "_site" / "feed.xml").read_bytes())
    _feeds_build(tmp_path, posts)
    ours: Any = feedparser.parse((tmp_path / "feeds" / "out" / "all.atom.xml").read_bytes())
    [their_entry], [our_entry] = theirs.entries, ours.entries
    assert our_entry.summary == their_entry.summary.strip(" \t\r\n\f\v")


def test_posts_read_through_the_sites_config_agree_with_jekyll(tmp_path: Path) -> None:
    """With ``posts.jekyll_config`` pointing at the very site Jekyll builds: baseurl,
    permalink and front-matter defaults (a category, a title-less post) give Jekyll's URL,
    title, instant and categories."""
    posts = {
        "2022-06-09-dec-the-second.md": _post("date: 2022-06-09 20:00:00"),
        "2022-06-10-second.md": _post("title: 第二\ndate: 2022-06-10 10:00\ncategory: world"),
    }
    config = "baseurl: /blog\npermalink: /:categories/:year/:title/\n"
    defaults = LAYOUT_DEFAULT + ", {scope: {path: '_posts'}, values: {categories: [news]}}"
    theirs = _jekyll_build(tmp_path, posts, config, defaults)
    feeds_cfg = tmp_path / "feeds.yaml"
    feeds_cfg.write_text(
        "site: {title: 站}\nposts: {jekyll_config: jekyll/_config.yml}\n"
        "output: {dir: feeds-out}\nfeeds: {formats: [atom]}\n",
        encoding="utf-8",
    )
    proc = run_cli("build", "-c", feeds_cfg, "-q", "--state", tmp_path / "state")
    assert proc.returncode in (0, 1), proc.stderr
    parsed: Any = feedparser.parse((tmp_path / "feeds-out" / "all.atom.xml").read_bytes())
    ours = {
        e.link: Seen(
            e.title,
            dt.datetime.fromisoformat(e.published),
            frozenset(t.term for t in e.get("tags", [])),
        )
        for e in parsed.entries
    }
    assert len(theirs) == 2 and all("/blog/news/" in url for url in theirs)
    assert ours == theirs
