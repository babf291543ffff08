"""feeds.jekyll.jekyll and feeds.jekyll.post against the real Jekyll: the same front matter built by
Debian's jekyll gives the instants, categories, URLs, titles and front-matter defaults that
they compute.

Promise: when feeds follows these rules, a post's time, categories and title in the feeds are
what the Jekyll page says. Skipped only where jekyll is not installed (never in CI).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from xml.etree import ElementTree

from feeds import content, timeutil, yamlutil
from feeds.jekyll.jekyll import load_site
from feeds.jekyll.post import (
    feed_author,
    feed_excerpt_only,
    feed_summary_source,
    jekyll_instant,
    page_categories,
    page_data,
    post_excerpt,
    post_title,
    url_categories,
    url_title,
)
from feeds.textutil import plain_text
from tests.jekyll import jekyll_build
from tests.unit.test_jekyll_post import CATEGORIES, DATES, SLUGS, front_matter_date
from tests.unit.test_jekyll_site import CONFIG

ATOM = "{http://www.w3.org/2005/Atom}"
LAYOUT = (
    '{"url": {{ page.url | jsonify }}, "title": {{ page.title | jsonify }}, '
    '"date": {{ page.date | date: "%Y-%m-%dT%H:%M:%S%:z" | jsonify }}, '
    '"categories": {{ page.categories | jsonify }}, "slug": {{ page.slug | jsonify }}}'
)


def _config(defaults: list[dict[str, Any]], **more: Any) -> str:
    everything = {"scope": {"path": ""}, "values": {"layout": "post"}}
    config = {"timezone": "Asia/Shanghai", "defaults": [everything, *defaults], **more}
    return json.dumps(config)  # JSON is YAML


def _build(
    tmp: Path, posts: dict[str, str], config: str, layout: str = LAYOUT
) -> dict[str, dict[str, Any]]:
    """Build ``posts`` with the real jekyll; each page (a JSON object) by its slug."""
    site = tmp / "site"
    (site / "_layouts").mkdir(parents=True)
    (site / "_layouts" / "post.html").write_text(layout, encoding="utf-8")
    (site / "_config.yml").write_text(config, encoding="utf-8")
    for name, text in posts.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    jekyll_build(site)
    pages = [json.loads(p.read_text(encoding="utf-8")) for p in (site / "_site").rglob("*.html")]
    return {str(page["slug"]): page for page in pages}


def test_dates_agree_with_jekyll(tmp_path: Path) -> None:
    posts = {}
    for i, (raw, quoted, _) in enumerate(DATES):
        value = json.dumps(raw) if quoted else raw
        posts[f"_posts/2000-01-01-d{i}.md"] = f"---\ntitle: t\ndate: {value}\n---\nx\n"
    pages = _build(tmp_path, posts, _config([]))
    tz = timeutil.zone("Asia/Shanghai")
    for i, (raw, quoted, _) in enumerate(DATES):
        theirs = dt.datetime.fromisoformat(str(pages[f"d{i}"]["date"]))
        assert jekyll_instant(front_matter_date(raw, quoted), tz) == theirs, (raw, quoted)


def _ruby(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_categories_urls_and_titles_agree_with_jekyll(tmp_path: Path) -> None:
    posts: dict[str, str] = {}
    defaults: list[dict[str, Any]] = []
    cases = {}
    for i, (path, own_defaults, front, _, _) in enumerate(CATEGORIES):
        name = f"{path.rsplit('/', 1)[0]}/2000-01-01-c{i}-the-post.md"
        if own_defaults:
            defaults.append({"scope": {"path": name}, "values": own_defaults})
        posts[name] = "---\n" + json.dumps(front) + "\n---\nx\n"
        cases[f"c{i}-the-post"] = (name, own_defaults, front)
    pages = _build(tmp_path, posts, _config(defaults))
    for slug, (name, own_defaults, front) in cases.items():
        page = pages[slug]
        categories = page_categories(page_data(name, front, own_defaults))
        assert categories == tuple(dict.fromkeys(_ruby(c) for c in page["categories"])), name
        prefix = url_categories(categories)
        assert page["url"] == f"{quote('/' + prefix if prefix else '')}/2000/01/01/{slug}.html"
        assert page["title"] == post_title(front, slug), name


def test_defaults_agree_with_jekyll(tmp_path: Path) -> None:
    """defaults_for gives each post the values Jekyll gave it (precedence by path length,
    then by type; a glob scope; the old type spelling ``post``)."""
    names = ["x", "world/x", "world/asia/x", "world/asia/deep/x", "news/sport/x", "worldwide/x"]
    posts = {
        f"_posts/{n.rsplit('/', 1)[0] + '/' if '/' in n else ''}2000-01-01-p{i}.md": (
            "---\ntitle: t\n---\nx\n"
        )
        for i, n in enumerate(names)
    }
    keys = ("author", "categories", "comments", "section", "feed", "layout")
    layout = "{" + ", ".join(f'"{k}": {{{{ page.{k} | jsonify }}}}' for k in keys)
    layout += ', "slug": {{ page.slug | jsonify }}}'
    pages = _build(tmp_path, posts, CONFIG, layout)
    ours = load_site(tmp_path / "site" / "_config.yml")
    for i, name in enumerate(posts):
        want = ours.defaults_for(name)
        got = pages[f"p{i}"]
        for key in keys:
            if key == "categories":
                assert got[key] == list(want.get(key, [])), (name, key)
            else:
                assert got[key] == want.get(key), (name, key)


FEED_POSTS = {
    "plain": ("title: t", "First para.\n\nSecond para.\n"),
    "one-paragraph": ("title: t", "Only one paragraph with no break.\n"),
    "own-separator": ("title: t\nexcerpt_separator: <!--more-->", "One\n\nTwo <!--more--> Three\n"),
    "front-excerpt": ("title: t\nexcerpt: Given *text*", "A\n\nB\n"),
    "empty-excerpt": ("title: t\nexcerpt: ''", "A\n\nB\n"),
    "description": ("title: t\ndescription: The description", "A\n\nB\n"),
    "empty-description": ("title: t\ndescription: ''", "A\n\nB\n"),
    "excerpt-only": ("title: t\nfeed: {excerpt_only: true}", "A\n\nB\n"),
    "author-key": ("title: t\nauthor: bob", "A\n"),
    "authors-list": ("title: t\nauthors: [bob, carol]", "A\n"),
    "author-name": ("title: t\nauthor: Carol", "A\n"),
}


def test_summaries_and_authors_agree_with_jekyll_feed(tmp_path: Path) -> None:
    """jekyll-feed's <summary>, <author> and whether <content> is there, from our rules."""
    posts = {
        f"_posts/2000-01-01-{slug}.md": f"---\n{front}\n---\n{body}"
        for slug, (front, body) in FEED_POSTS.items()
    }
    posts["_data/authors.yml"] = "bob: {name: Bob Li, email: bob@example.com, uri: https://b.cn}\n"
    more = {"url": "https://x.example", "plugins": ["jekyll-feed"], "feed": {"posts_limit": 100}}
    config = _config([], **more)
    _build(tmp_path, posts, config)
    site_dir = tmp_path / "site"
    feed = site_dir / "_site" / "feed.xml"
    root = ElementTree.parse(feed).getroot()  # noqa: S314 - written by jekyll in this test
    theirs = {
        e.findtext(f"{ATOM}id", "").rsplit("/", 1)[-1]: e for e in root.iter(f"{ATOM}entry")
    }  # feedparser would copy <content> into a missing summary
    site = load_site(site_dir / "_config.yml")
    for slug, (front, body) in FEED_POSTS.items():
        data = page_data("_posts/x.md", yamlutil.load(front).value, {})
        excerpt = post_excerpt(data, body, site.excerpt_separator)
        html = None
        if excerpt is not None:
            html = content.render_markdown(excerpt.text) if excerpt.markdown else excerpt.text
        source = feed_summary_source(data, html)
        ours = " ".join(plain_text(source).split()) if source is not None else None
        entry = theirs[slug]
        summary = entry.findtext(f"{ATOM}summary")
        assert (" ".join(summary.split()) if summary is not None else None) == ours, slug
        assert (entry.find(f"{ATOM}content") is None) is feed_excerpt_only(data, site), slug
        author = feed_author(data, site)
        name = entry.findtext(f"{ATOM}author/{ATOM}name") or None  # <name></name> when none
        assert name == (author and author.name), slug
        assert entry.findtext(f"{ATOM}author/{ATOM}email") == (author and author.email), slug


def test_permalink_titles_agree_with_jekyll(tmp_path: Path) -> None:
    """The ``:title`` of a permalink from a front-matter ``slug`` or the file name."""
    posts = {
        f"_posts/2000-01-01-t{i}.md": "---\n" + json.dumps({"slug": slug}) + "\n---\nx\n"
        for i, slug in enumerate(SLUGS)
    }
    posts["_posts/2000-01-01-Spaced Name, 第二.md"] = "---\ntitle: t\n---\nx\n"
    layout = '{"url": {{ page.url | jsonify }}, "slug": {{ page.slug | jsonify }}}'
    pages = _build(tmp_path, posts, _config([], permalink="/:title/"), layout)
    assert len(pages) == len(posts)
    for page in pages.values():
        slug = str(page["slug"])
        want = url_title({"slug": slug} if slug in SLUGS else {}, slug)
        assert unquote(str(page["url"])) == f"/{want}/", slug
