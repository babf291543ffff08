"""``posts.jekyll_config``: the feeds take url, baseurl, timezone, permalink, the posts
folder, front-matter defaults and ``_data/authors.yml`` from the Jekyll site's own
``_config.yml``, so they cannot drift from its pages; ``feeds init --jekyll`` writes such a
config. A change to ``_config.yml`` or the authors file changes the next build's output."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.helpers import check_all_outputs, cli, parse_feed

JEKYLL_CONFIG = """\
title: 测试新闻
url: https://news.example.com
baseurl: /blog
timezone: Asia/Shanghai
permalink: /:categories/:title/
defaults:
  - scope: {path: "_posts"}
    values: {categories: [news], author: zhang}
"""
AUTHORS = "zhang: {name: 张三, email: zhang@example.com}\n"
POST = """\
---
title: 你好
date: 2022-06-09 10:00 +0800
---
正文。
"""


def _jekyll_site(root: Path) -> Path:
    site = root / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_data").mkdir()
    (site / "_config.yml").write_text(JEKYLL_CONFIG, encoding="utf-8")
    (site / "_data" / "authors.yml").write_text(AUTHORS, encoding="utf-8")
    (site / "_posts" / "2022-06-09-hello.md").write_text(POST, encoding="utf-8")
    return site


def _feeds_config(root: Path, extra: str = "") -> Path:
    cfg = root / "feeds" / "config.yaml"
    cfg.parent.mkdir(exist_ok=True)
    cfg.write_text(
        "site: {title: 测试新闻}\nposts:\n  jekyll_config: ../site/_config.yml\n"
        "output: {dir: out}\n" + textwrap.dedent(extra),
        encoding="utf-8",
    )
    return cfg


def test_url_permalink_defaults_and_authors_come_from_the_site(tmp_path: Path) -> None:
    _jekyll_site(tmp_path)
    cfg = _feeds_config(tmp_path)
    proc = cli("build", "-c", cfg, "--state", tmp_path / "state")
    assert proc.returncode == 0, proc.stderr
    [entry] = parse_feed(cfg.parent / "out" / "all.atom.xml").entries
    assert entry.link == "https://news.example.com/blog/news/hello/"  # url+baseurl, permalink
    assert [t.term for t in entry.tags] == ["news"]  # categories from the defaults
    assert entry.author_detail.name == "张三"  # _data/authors.yml
    assert entry.author_detail.email == "zhang@example.com"
    assert (cfg.parent / "out" / "news.atom.xml").is_file()


def test_a_change_to_config_or_authors_reaches_the_next_build(tmp_path: Path) -> None:
    """The post cache is keyed by what the site's files say, so nothing stale survives."""
    site = _jekyll_site(tmp_path)
    cfg = _feeds_config(tmp_path)
    state = tmp_path / "state"
    assert cli("build", "-c", cfg, "--state", state).returncode == 0
    (site / "_config.yml").write_text(
        JEKYLL_CONFIG.replace("/:categories/:title/", "/:year/:title.html"), encoding="utf-8"
    )
    (site / "_data" / "authors.yml").write_text(AUTHORS.replace("张三", "李四"), encoding="utf-8")
    proc = cli("build", "-c", cfg, "--state", state)
    assert proc.returncode == 0, proc.stderr
    [entry] = parse_feed(cfg.parent / "out" / "all.atom.xml").entries
    assert entry.link == "https://news.example.com/blog/2022/hello.html"
    assert entry.author_detail.name == "李四"


def test_keys_the_site_decides_are_refused_beside_it(tmp_path: Path) -> None:
    _jekyll_site(tmp_path)
    for key, extra in (
        ("posts.permalink", "  permalink: pretty\n"),
        ("site.url", "site_url_placeholder"),
    ):
        cfg = _feeds_config(tmp_path)
        text = cfg.read_text(encoding="utf-8")
        if key == "site.url":
            text = text.replace(
                "site: {title: 测试新闻}", "site: {title: 测试新闻, url: https://x.example}"
            )
        else:
            text = text.replace("  jekyll_config:", extra + "  jekyll_config:")
        cfg.write_text(text, encoding="utf-8")
        proc = cli("build", "-c", cfg, "--state", tmp_path / "state")
        assert proc.returncode == 2
        assert f"{key}: cannot be set together with posts.jekyll_config" in proc.stderr


def test_init_jekyll_writes_a_config_that_builds(tmp_path: Path) -> None:
    site = _jekyll_site(tmp_path)
    folder = tmp_path / "feeds-config"
    proc = cli("init", folder, "--jekyll", site)
    assert proc.returncode == 0, proc.stderr
    assert "jekyll_config" in (folder / "config.yaml").read_text(encoding="utf-8")
    build = cli("build", "-c", folder / "config.yaml")
    assert build.returncode == 0, build.stderr
    [entry] = parse_feed(site / "feeds" / "all.atom.xml").entries  # Jekyll publishes feeds/
    assert entry.link == "https://news.example.com/blog/news/hello/"
    assert entry.title == "你好"
    again = cli("init", folder, "--jekyll", site)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_site_feed_excerpt_only_as_jekyll_feed(tmp_path: Path) -> None:
    """``feed.excerpt_only`` in _config.yml: entries carry the summary, not the content;
    a post's own ``false`` cannot switch it off (jekyll-feed's ``default`` filter)."""
    site = _jekyll_site(tmp_path)
    (site / "_config.yml").write_text(
        JEKYLL_CONFIG + "feed: {excerpt_only: true}\n", encoding="utf-8"
    )
    (site / "_posts" / "2022-06-10-own.md").write_text(
        POST.replace("title: 你好", "title: 自己的\nfeed: {excerpt_only: false}"),
        encoding="utf-8",
    )
    cfg = _feeds_config(tmp_path)
    proc = cli("build", "-c", cfg, "--state", tmp_path / "state")
    assert proc.returncode == 0, proc.stderr
    entries = parse_feed(cfg.parent / "out" / "all.atom.xml").entries
    assert len(entries) == 2
    for entry in entries:
        assert "content" not in entry and entry.summary == "正文。"
    check_all_outputs(cfg.parent / "out")  # valid RSS, Atom and JSON Feed without content
