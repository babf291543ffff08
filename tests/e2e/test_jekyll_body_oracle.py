"""Jekyll as the oracle for post bodies: a post using Liquid (variables, filters, include,
raw, highlight, post_url) and kramdown (attribute lists, footnotes, definition lists,
extensions) reads the same in our feed as on Jekyll's page: the same text, no template code.

Markup is not compared (Rouge colours code with spans; the sanitizer drops classes and ids).
The ``{:toc}`` marker is left out here: Jekyll puts a list of the headings there, we remove it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import lxml.html

from feeds import content
from feeds.jekyll.liquid import render_liquid
from tests.jekyll import jekyll_build

SITE = {"url": "https://news.example.com", "baseurl": "/cn", "title": "新闻站"}
FRONT = "---\ntitle: 全部\n---\n"
BODY = """\
站点 {{ site.title }}，图片 ![图]({{ "/img/a.png" | relative_url }})，\
[上一篇]({% post_url 2022-06-01-first %}){:target="_blank"}。

{% include note.html text="提示" %}

{% raw %}模板 {{ page.title }} 原样{% endraw %}

{% highlight python %}
def f(a, b):

    return a < b  # *not* Markdown
{% endhighlight %}

## 小标题 {#sub}

正文[^1]，日期 {{ page.date | date_to_xmlschema }}，{{ page.title | xml_escape }}。
{: .lead}

术语
: 定义

a {::comment}备注{:/comment}b {::nomarkdown}<b>*原样*</b>{:/nomarkdown}

使用HTML技术。

[^1]: 脚注内容。
*[HTML]: Hyper Text Markup Language
"""
INCLUDE = "<aside>{{ include.text }}：{{ site.title }}</aside>\n"


def _text(fragment: str) -> str:
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return " ".join(root.text_content().split())


def _jekyll_page(tmp: Path, name: str = "2022-06-09-all.md", text: str = FRONT + BODY) -> str:
    site = tmp / "site"
    for folder in ("_posts", "_includes", "_layouts"):
        (site / folder).mkdir(parents=True)
    (site / "_config.yml").write_text(
        "url: https://news.example.com\nbaseurl: /cn\ntitle: 新闻站\ntimezone: Asia/Shanghai\n"
        "defaults: [{scope: {path: ''}, values: {layout: post}}]\n"
        "arr: [a, b, c]\nobj: {k: 中, n: 1}\n",
        encoding="utf-8",
    )
    (site / "_layouts" / "post.html").write_text("{{ content }}", encoding="utf-8")
    (site / "_includes" / "note.html").write_text(INCLUDE, encoding="utf-8")
    (site / "_posts" / "2022-06-01-first.md").write_text(
        "---\ntitle: 第一篇\n---\n第一篇。\n", encoding="utf-8"
    )
    (site / "_posts" / name).write_text(text, encoding="utf-8")
    jekyll_build(site)
    stem = name.rsplit(".", 1)[0]
    page = site / "_site" / "2022" / "06" / "09" / f"{stem[11:]}.html"
    return page.read_text(encoding="utf-8")


def _our_body(tmp: Path) -> tuple[str, list[tuple[int, str]]]:
    includes = tmp / "_includes"
    includes.mkdir()
    (includes / "note.html").write_text(INCLUDE, encoding="utf-8")
    cst = dt.timezone(dt.timedelta(hours=8))
    rendered, notes = render_liquid(
        BODY,
        page={"title": "全部", "date": dt.datetime(2022, 6, 9, tzinfo=cst)},
        site=SITE,
        includes=includes,
        posts={"2022-06-01-first": "/cn/2022/06/01/first.html"},
        first_line=FRONT.count("\n") + 1,
    )
    html = content.sanitize(
        content.render_markdown(rendered), "https://news.example.com/cn/2022/06/09/all.html"
    )
    return html, notes


def test_post_body_reads_as_on_jekylls_page(tmp_path: Path) -> None:
    theirs = _jekyll_page(tmp_path)
    ours, notes = _our_body(tmp_path)
    assert notes == []
    assert _text(ours) == _text(theirs)
    # The one "{{" is the raw block's, which Jekyll shows too; nothing else is template code.
    assert ours.count("{{") == 1 and "{{ page.title }} 原样" in ours
    assert "{%" not in ours and "{:" not in ours and "[^" not in ours
    assert '<a href="https://news.example.com/cn/2022/06/01/first.html">上一篇</a>' in ours
    assert '<abbr title="Hyper Text Markup Language">HTML</abbr>' in ours


FILTERS = """\
{{ site.baseurl }}/a.png
{{ 'img/a.png' | relative_url }}|{{ '' | relative_url }}|{{ '/a/' | absolute_url }}
{{ page.date | date_to_xmlschema }}|{{ page.date | date_to_rfc822 }}
{{ page.date | date_to_string }}|{{ page.date | date_to_long_string }}
{{ page.title | xml_escape }}|{{ "it's" | xml_escape }}
{{ 'Hello, World 中文!' | slugify }}|{{ 'Hello World.x' | slugify: 'pretty' }}|{{ 'a_b' | slugify }}
{{ "a b&c/d" | cgi_escape }}|{{ "a b/中" | uri_escape }}
{{ "one two  三" | number_of_words }}|{{ " a  b " | normalize_whitespace }}
{{ site.arr | array_to_sentence_string }}|{{ site.obj | jsonify }}|{{ page.missing }}|
{% assign n = site.arr | size %}{% for i in (1..n) %}{{ i }}{% endfor %}
"""


def test_filters_print_what_jekyll_prints(tmp_path: Path) -> None:
    front = "---\ntitle: 标题 & 副题\ndate: 2022-06-09 14:36:33 +0800\n---\n"
    theirs = _jekyll_page(tmp_path, "2022-06-09-filters.html", front + FILTERS)
    cst = dt.timezone(dt.timedelta(hours=8))
    ours, notes = render_liquid(
        FILTERS,
        page={"title": "标题 & 副题", "date": dt.datetime(2022, 6, 9, 14, 36, 33, tzinfo=cst)},
        site={**SITE, "arr": ["a", "b", "c"], "obj": {"k": "中", "n": 1}},
        includes=None,
        posts={},
    )
    assert notes == []
    assert ours.strip().split("\n") == theirs.strip().split("\n")
