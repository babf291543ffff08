"""Liquid in post bodies, through the real build: ``{% include %}`` from the site's
``_includes``, ``{% post_url %}``, ``{{ site.* }}`` and ``{{ page.* }}`` reach subscribers
rendered, never as template code; a broken tag is a warning naming the file's line; and an
incremental build equals a full one when an include or a referenced post's URL changes."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_incremental import full_build, incremental
from tests.helpers import Site, make_site, parse_feed, post_text, run_cli

BODY = """\
{% include note.html who="编辑" %}

[上一篇]({% post_url 2022-06-01-first %}) · {{ page.title }} · {{ site.title }}
"""


def _site(tmp: Path) -> Site:
    site = make_site(tmp / "site")
    (site.root / "_includes").mkdir()
    (site.root / "_includes" / "note.html").write_text(
        "<p>注：{{ include.who }}</p>\n", encoding="utf-8"
    )
    site.post("2022-06-01-first.md", post_text("第一篇", "2022-06-01 10:00 +0800", "news"))
    site.post(
        "2022-06-09-second.md", post_text("第二篇", "2022-06-09 10:00 +0800", "news", body=BODY)
    )
    return site


def _content(site: Site, title: str) -> str:
    [entry] = [e for e in parse_feed(site.out / "all.atom.xml").entries if e.title == title]
    return str(entry.content[0].value)


def test_liquid_is_rendered_in_the_feed(tmp_path: Path) -> None:
    site = _site(tmp_path)
    proc = run_cli("build", "-c", site.config)
    assert proc.returncode == 0, proc.stderr
    html = _content(site, "第二篇")
    assert "<p>注：编辑</p>" in html
    assert 'href="https://news.example.com/news/2022/06/01/first.html"' in html
    assert "第二篇 · 测试站" in html
    assert "{%" not in html and "{{" not in html


def test_broken_liquid_is_a_warning_with_the_line(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    site.post(
        "2022-06-09-broken.md",
        post_text("坏模板", "2022-06-09 10:00 +0800", "news", body="第一行\n\n{% nosuchtag %}\n"),
    )
    proc = run_cli("build", "-c", site.config)
    assert proc.returncode == 0, proc.stderr
    # front matter is lines 1-6, the body starts on line 7: the tag is on line 9
    assert "2022-06-09-broken.md:9: warning: Liquid:" in proc.stderr
    assert "nosuchtag" not in _content(site, "坏模板")


def test_changed_include_reaches_the_next_build(tmp_path: Path) -> None:
    site = _site(tmp_path)
    incremental(site)
    (site.root / "_includes" / "note.html").write_text(
        "<p>新注：{{ include.who }}</p>\n", encoding="utf-8"
    )
    files, _ = incremental(site)
    assert files == full_build(site, tmp_path)
    assert "<p>新注：编辑</p>" in _content(site, "第二篇")


def test_moved_post_url_target_reaches_the_referring_post(tmp_path: Path) -> None:
    site = _site(tmp_path)
    incremental(site)
    site.post(
        "2022-06-01-first.md",
        post_text("第一篇", "2022-06-01 10:00 +0800", "news", extra="permalink: /moved.html"),
    )
    files, _ = incremental(site)
    assert files == full_build(site, tmp_path)
    assert 'href="https://news.example.com/moved.html"' in _content(site, "第二篇")
