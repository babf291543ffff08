"""Liquid in post bodies: Jekyll's variables, tags and filters; what cannot be rendered is
a warning with the post file's line, and none of its template code is left."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feeds.jekyll.liquid import includes_fingerprint, referenced_posts, render_liquid

CST = dt.timezone(dt.timedelta(hours=8))
SITE = {"title": "新闻", "url": "https://news.example", "baseurl": "/cn"}
PAGE = {"title": "标题 & 副题", "date": dt.datetime(2022, 6, 9, 14, 36, 33, tzinfo=CST)}
POSTS = {"2022-06-09-slug": "/cn/2022/06/09/slug.html"}


@pytest.fixture
def includes(tmp_path: Path) -> Path:
    folder = tmp_path / "_includes"
    (folder / "parts").mkdir(parents=True)
    (folder / "note.html").write_text(
        '<aside class="{{ include.kind }}">{{ include.text }}：{{ site.title }}</aside>',
        encoding="utf-8",
    )
    (folder / "parts" / "outer.html").write_text(
        "[{% include note.html text=include.text kind='x' %}]", encoding="utf-8"
    )
    (folder / "loop.html").write_text("x{% include loop.html %}", encoding="utf-8")
    (folder / "broken.html").write_text("{% if %}", encoding="utf-8")
    (tmp_path / "secret.html").write_text("SECRET", encoding="utf-8")
    return folder


def _render(body: str, includes: Path | None = None) -> tuple[str, list[tuple[int, str]]]:
    return render_liquid(body, page=PAGE, site=SITE, includes=includes, posts=POSTS, first_line=5)


RENDERED = [
    ("{{ site.baseurl }}/a.png", "/cn/a.png"),
    ("{{ site.title }}·{{ page.title }}", "新闻·标题 & 副题"),
    ("[{{ page.missing }}{{ nothing.at.all }}]", "[]"),
    ("{{ '/img/a.png' | relative_url }}", "/cn/img/a.png"),
    ("{{ 'img/a.png' | relative_url }}", "/cn/img/a.png"),
    ("{{ '/a/' | absolute_url }}", "https://news.example/cn/a/"),
    ("{{ 'https://other.example/x' | absolute_url }}", "https://other.example/x"),
    ("{{ page.date | date_to_xmlschema }}", "2022-06-09T14:36:33+08:00"),
    ("{{ '2022-06-09T14:36:33+08:00' | date_to_xmlschema }}", "2022-06-09T14:36:33+08:00"),
    ("{{ page.date | date: '%Y年%m月%d日' }}", "2022年06月09日"),
    ("{{ page.date | date_to_string }}", "09 Jun 2022"),
    ("{{ page.title | xml_escape }}", "标题 &amp; 副题"),
    ('{{ "it\'s <b>" | xml_escape }}', "it&apos;s &lt;b&gt;"),
    ("[{{ '' | relative_url }}]", "[/cn]"),
    ("{{ page.date | date_to_long_string }}", "09 June 2022"),
    ("{{ page.date | date_to_rfc822 }}", "Thu, 09 Jun 2022 14:36:33 +0800"),
    ("{{ 'a b&c/d' | cgi_escape }}|{{ 'a b/中' | uri_escape }}", "a+b%26c%2Fd|a%20b/%E4%B8%AD"),
    ("{{ 'Ünïcode Ça' | slugify: 'latin' }}|{{ 'a_b c' | slugify }}", "unicode-ca|a-b-c"),
    ("{{ 'one two  三' | number_of_words }}", "3"),
    ("{{ site.title | split: '' | array_to_sentence_string: '或' }}", "新 或 闻"),
    ("{{ 'Hello, World 中文!' | slugify }}", "hello-world-中文"),
    ("{{ 'Hello World' | slugify: 'pretty' }}", "hello-world"),
    ("{{ site | jsonify }}", '{"title":"新闻","url":"https://news.example","baseurl":"/cn"}'),
    ("{% raw %}{{ kept }} {% if %}{% endraw %}", "{{ kept }} {% if %}"),
    ("[a]({% post_url 2022-06-09-slug %})", "[a](/cn/2022/06/09/slug.html)"),
    ("{% post_url news/2022-06-09-slug %}", "/cn/2022/06/09/slug.html"),
    ("{% link _posts/2022-06-09-slug.md %}", "/cn/2022/06/09/slug.html"),
    ("{% assign n = 2 %}{% for i in (1..n) %}{{ i }}{% endfor %}", "12"),
    ("{% capture c %}x{% endcapture %}{{ c | upcase }}", "X"),
]


@pytest.mark.parametrize(("body", "expected"), RENDERED)
def test_rendered(body: str, expected: str) -> None:
    assert _render(body) == (expected, [])


def test_highlight_is_escaped_code_with_the_language() -> None:
    body = (
        "前\n{% highlight Python linenos %}\nif a < b:\n\n"
        "    print('{{ page.title }}')\n{% endhighlight %}\n后"
    )
    out, notes = _render(body)
    assert notes == []
    assert out == (
        '前\n<pre class="highlight"><code class="language-python" data-lang="python">'
        "if a &lt; b:\n\n    print('标题 &amp; 副题')</code></pre>\n后"
    )


def test_include_with_parameters_and_nesting(includes: Path) -> None:
    body = (
        '{% include note.html text="你好" kind=page.title %}|'
        '{% include parts/outer.html text="内" %}'
    )
    out, notes = _render(body, includes)
    assert notes == []
    assert out == (
        '<aside class="标题 & 副题">你好：新闻</aside>|[<aside class="x">内：新闻</aside>]'
    )


# Each: body (line 1 of it is line 5 of the post file), the line and words of the warning.
REFUSED = [
    ("a\n{% unknown x %}b", "a\nb", 6, "unexpected tag 'unknown'"),
    ("{% if %}a", "a", 5, "missing expression"),
    ("x {{ a | markdownify }}y", "x y", 5, "unknown filter 'markdownify'"),
    ("x {{ a | where_exp: 'i', 'i' }}y", "x y", 5, "unknown filter 'where_exp'"),
    ("\n\n{% post_url 2020-01-01-gone %}", "\n\n", 7, "no post '2020-01-01-gone'"),
    ("{% link about.md %}", "", 5, "only links to posts"),
    ("{% include nothere.html %}.", ".", 5, "include nothere.html: no such file"),
    ("{% include ../secret.html %}.", ".", 5, "include ../secret.html: no such file"),
    ("{% include /etc/passwd %}.", ".", 5, "no such file"),
    ("{% include loop.html %}.", ".", 5, "maximum context depth"),
    ("{% include broken.html %}.", ".", 5, "include broken.html: missing expression"),
    ("{% include {{ page.x }} %}.", ".", 5, "a plain file name is needed"),
    ("{% highlight %}x{% endhighlight %}", "x", 5, "highlight: missing argument"),
    ("{% for i in (1..1000000) %}a{% endfor %}", "a", 5, "loop iteration limit"),
    ("{{ 'x' | date_to_xmlschema }}", "", 5, "not a date"),
]


@pytest.mark.parametrize(("body", "expected", "line", "words"), REFUSED)
def test_what_cannot_be_rendered_is_a_warning_and_leaves_no_template_code(
    body: str, expected: str, line: int, words: str, includes: Path
) -> None:
    out, notes = _render(body, includes)
    assert out == expected
    assert notes and notes[0][0] == line and words in notes[0][1], notes
    assert "{%" not in out and "{{" not in out
    assert "SECRET" not in out


def test_without_an_includes_folder_an_include_is_a_warning() -> None:
    out, notes = _render("a{% include note.html %}b")
    assert out == "ab"
    assert notes == [
        (
            5,
            "Liquid: include note.html: the site has no _includes folder; "
            "removed '{% include note.html %}'",
        )
    ]


def test_a_hostile_body_is_bounded() -> None:
    body = "{% for i in (1..3000) %}{% for j in (1..3000) %}{% for k in (1..3000) %}x" + (
        "{% endfor %}" * 3
    )
    out, notes = _render(body)
    assert len(out) <= 10_000 and notes  # the loops past the limit are taken out
    huge = "{% capture c %}" + "y" * 1000 + "{% endcapture %}" + "{{ c }}" * 10_000
    out, notes = _render(huge)
    assert len(out) < 5_000_000 and notes


def test_the_includes_fingerprint_changes_with_an_include(includes: Path) -> None:
    before = includes_fingerprint(includes)
    assert includes_fingerprint(includes) == before
    (includes / "note.html").write_text("changed", encoding="utf-8")
    assert includes_fingerprint(includes) != before
    assert includes_fingerprint(None) == includes_fingerprint(includes / "missing")


def test_referenced_posts_are_the_ones_a_rendering_depends_on() -> None:
    body = (
        "[a]({% post_url 2022-06-09-slug %}) {%- post_url news/2021-01-01-b -%} "
        "{% link _posts/2020-05-05-c.md %} {% include x.html %}"
    )
    assert referenced_posts(body) == {"2022-06-09-slug", "2021-01-01-b", "2020-05-05-c"}
    assert referenced_posts("没有模板") == frozenset()
