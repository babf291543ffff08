"""A Jekyll site's _config.yml and _data/authors read as Jekyll reads them.

The defaults cases follow Jekyll 4.3.1's FrontmatterDefaults; tests/e2e/test_jekyll_dates.py
builds CONFIG with the real jekyll and checks that defaults_for gives every post what Jekyll
gave it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feeds import yamlutil
from feeds.config.config import load as load_config
from feeds.errors import ConfigError
from feeds.jekyll.jekyll import PERMALINK_STYLES, load_site, starter_config

CONFIG = """\
title: 财经新闻
description: 每日要闻
lang: zh-CN
url: https://news.example.com/
baseurl: blog/
timezone: Asia/Shanghai
permalink: pretty
feed: {excerpt_only: true}
defaults:
  - scope: {path: ""}
    values: {layout: post, author: site-desk, feed: {a: 1}}
  - scope: {path: "_posts/world", type: posts}
    values: {categories: [world], author: bob, feed: {b: 2}}
  - scope: {path: "_posts/world"}
    values: {author: not-this-one, comments: true}
  - scope: {path: "_posts/world/asia"}
    values: {author: carol}
  - scope: {path: "/_posts/world/asia/deep"}
    values: {author: never}
  - scope: {path: "_posts/*/sport", type: post}
    values: {section: sport}
  - scope: {type: pages}
    values: {layout: page}
"""


def _site(tmp: Path, config: str = CONFIG, **files: str) -> Path:
    site = tmp / "site"
    (site / "_data").mkdir(parents=True)
    (site / "_config.yml").write_text(config, encoding="utf-8")
    for name, text in files.items():
        (site / "_data" / name).write_text(text, encoding="utf-8")
    return site / "_config.yml"


def test_settings_are_taken_from_the_config(tmp_path: Path) -> None:
    site = load_site(_site(tmp_path, **{"authors.yml": "bob: {name: Bob Li, email: b@x.cn}\n"}))
    assert site.url == "https://news.example.com"
    assert site.baseurl == "/blog"
    assert site.site_url == "https://news.example.com/blog"
    assert site.timezone == "Asia/Shanghai"
    assert site.permalink == PERMALINK_STYLES["pretty"] == "/:categories/:year/:month/:day/:title/"
    assert site.excerpt_separator == "\n\n"  # Jekyll's default
    assert site.authors == {"bob": {"name": "Bob Li", "email": "b@x.cn"}}
    assert site.posts_dir == tmp_path / "site" / "_posts"
    assert site.includes_dir == tmp_path / "site" / "_includes"
    assert site.feed_excerpt_only is True
    assert (site.title, site.lang) == ("财经新闻", "zh-CN")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # only the site-wide scope
        ("_posts/2022-06-09-x.md", {"layout": "post", "author": "site-desk", "feed": {"a": 1}}),
        # the longer path wins; at equal length the scope with a type wins; mappings merge
        (
            "_posts/world/2022-06-09-x.md",
            {
                "layout": "post",
                "author": "bob",
                "categories": ["world"],
                "comments": True,
                "feed": {"a": 1, "b": 2},
            },
        ),
        # a still longer path wins again
        ("_posts/world/asia/2022-06-09-x.md", {"author": "carol"}),
        # a path written with a leading slash matches nothing (Jekyll 4.3.1 did not apply it)
        ("_posts/world/asia/deep/2022-06-09-x.md", {"author": "carol"}),
        # a glob scope; "post" is the old spelling of "posts"
        ("_posts/news/sport/2022-06-09-x.md", {"section": "sport"}),
    ],
)
def test_defaults_for_a_post(tmp_path: Path, path: str, expected: dict[str, object]) -> None:
    got = load_site(_site(tmp_path)).defaults_for(path)
    for key, value in expected.items():
        assert got[key] == value, key
    assert "section" not in got or "sport" in path


def test_defaults_by_type(tmp_path: Path) -> None:
    site = load_site(_site(tmp_path))
    assert site.defaults_for("about.md", "pages")["layout"] == "page"
    assert site.defaults_for("_posts/2022-06-09-x.md", "posts")["layout"] == "post"
    assert "categories" not in site.defaults_for("_posts/world/x.md", "pages")


def test_collections_dir_moves_posts_and_scopes(tmp_path: Path) -> None:
    config = (
        "url: https://x.example\nsource: src\ncollections_dir: my_collections\n"
        "collections: {posts: {permalink: /news/:title/}}\npermalink: date\n"
        "excerpt_separator: <!--more-->\nincludes_dir: parts\n"
        "defaults: [{scope: {path: my_collections/_posts/a}, values: {x: 1}}]\n"
    )
    config_path = _site(tmp_path, config)
    (config_path.parent / "src" / "_data").mkdir(parents=True)
    (config_path.parent / "src" / "_data" / "authors.json").write_text(
        json.dumps({"amy": {"name": "Amy"}}), encoding="utf-8"
    )
    site = load_site(config_path)
    assert site.posts_dir == config_path.parent / "src" / "my_collections" / "_posts"
    assert site.includes_dir == config_path.parent / "src" / "parts"
    assert site.permalink == "/news/:title/"  # collections.posts.permalink wins
    assert site.excerpt_separator == "<!--more-->"
    assert site.authors == {"amy": {"name": "Amy"}}
    assert site.defaults_for("_posts/a/2022-06-09-x.md") == {"x": 1}
    assert site.defaults_for("my_collections/_posts/a/2022-06-09-x.md") == {"x": 1}
    assert site.defaults_for("_posts/b/2022-06-09-x.md") == {}


def test_a_minimal_config_gets_jekylls_defaults(tmp_path: Path) -> None:
    site = load_site(_site(tmp_path, "url: https://x.example\n"))
    assert site.permalink == "/:categories/:year/:month/:day/:title:output_ext"
    assert (site.baseurl, site.timezone, site.defaults, site.authors) == ("", None, (), {})
    assert site.excerpt_separator == "\n\n"
    empty = load_site(_site(tmp_path / "b", "excerpt_separator: ''\npermalink: /:title\n"))
    assert empty.excerpt_separator == "" and empty.permalink == "/:title"


@pytest.mark.parametrize(
    ("config", "line", "words"),
    [
        ("url: https://x.example\nurl: https://y.example\n", 2, "duplicate key 'url'"),
        ("url: https://x.example\ntitle: 'unclosed\n", 2, "invalid YAML"),
        ("url: https://x.example\ntimezone: Mars/Olympus\n", 2, "timezone: unknown timezone"),
        ("url: //x.example\n", 1, "url: must be an absolute http(s) URL"),
        ("permalink: [a]\n", 1, "permalink: must be a style"),
        ("defaults:\n  - scope: {path: x}\n", 2, "defaults[0]: needs a mapping 'values'"),
        ("baseurl: 3\n", 1, "baseurl: must be text"),
    ],
)
def test_bad_config_names_file_line_and_key(
    tmp_path: Path, config: str, line: int, words: str
) -> None:
    path = _site(tmp_path, config)
    with pytest.raises(ConfigError) as info:
        load_site(path)
    assert info.value.file == str(path) and info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: ") and words in str(info.value)


def test_missing_config_and_bad_authors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_site(tmp_path / "nowhere" / "_config.yml")
    assert "nowhere/_config.yml: cannot read the Jekyll config" in str(info.value)
    path = _site(tmp_path, "url: https://x.example\n", **{"authors.yml": "a: 1\na: 2\n"})
    with pytest.raises(ConfigError) as info:
        load_site(path)
    assert str(info.value).startswith(f"{path.parent / '_data' / 'authors.yml'}:2: duplicate key")


def test_starter_config_points_at_the_site(tmp_path: Path) -> None:
    site = load_site(_site(tmp_path))
    text = starter_config(site, tmp_path)
    doc = yamlutil.load(text).value
    assert doc["output"] == {"dir": "site/feeds"}  # output.url follows the site's url
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    assert (
        load_config(tmp_path / "config.yaml").output_url == "https://news.example.com/blog/feeds/"
    )
    assert doc["posts"] == {"jekyll_config": "site/_config.yml"}
    assert doc["site"] == {"title": "财经新闻", "description": "每日要闻", "language": "zh-CN"}
    with pytest.raises(ConfigError, match="url: not set"):
        starter_config(load_site(_site(tmp_path / "b", "title: x\n")), tmp_path)
