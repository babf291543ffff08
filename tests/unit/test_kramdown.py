"""kramdown syntax in Markdown posts, rendered and sanitized as a feed carries it: each
construct gives what Jekyll's page shows, or disappears without a trace."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from feeds import content

BASE = "https://news.example/2022/06/09/slug.html"


def _feed_html(markdown: str) -> str:
    return content.sanitize(content.render_markdown(markdown), BASE)


CASES = [
    # attribute lists: kept where the sanitizer keeps the attribute, removed cleanly otherwise
    (
        '[原文](https://a.example/x){:target="_blank"}',
        '<p><a href="https://a.example/x">原文</a></p>\n',
    ),
    (
        '[原文](https://a.example/x){: title="来源" rel="nofollow"}',
        '<p><a href="https://a.example/x" title="来源">原文</a></p>\n',
    ),
    (
        '![图](/img/a.png){: width="300" .center}',
        '<p><img src="https://news.example/img/a.png" alt="图" width="300"></p>\n',
    ),
    ("*重点*{:.red} 文字", "<p><em>重点</em> 文字</p>\n"),
    ("## 小标题 {#intro}", "<h2>小标题</h2>\n"),
    ('第一段\n{: .lead title="导语"}', '<p title="导语">第一段</p>\n'),
    ('{: title="引"}\n> 引文', '<blockquote title="引">\n<p>引文</p>\n</blockquote>\n'),
    ("第一段\n\n{: .lonely}\n\n第二段", "<p>第一段</p>\n<p>第二段</p>\n"),
    ("文字 {: .nothing}", "<p>文字 </p>\n"),
    ("{: .x}{:.y} **粗**体", "<p><strong>粗</strong>体</p>\n"),
    ("{:ref: .x}\n段落", "<p>段落</p>\n"),
    # table of contents marker
    ("* TOC\n{:toc}\n\n正文", "<p>正文</p>\n"),
    ("1. 目录\n{:toc}\n\n正文", "<p>正文</p>\n"),
    # extensions
    ("a {::comment}内部备注{:/comment}b", "<p>a b</p>\n"),
    ("{::comment}\n多行\n\n备注\n{:/comment}\n正文", "<p>正文</p>\n"),
    ("a {::nomarkdown}<b>*原样*</b>{:/nomarkdown} b", "<p>a <b>*原样*</b> b</p>\n"),
    ("{::nomarkdown}\n<div>\n*原样*\n\n行</div>\n{:/}\n", "<div>\n*原样*\n\n行</div>\n"),
    ('{::options parse_block_html="true" /}\n正文', "<p>正文</p>\n"),
    ("a {::comment}never closed", "<p>a never closed</p>\n"),
    ("a {:/comment} b {:/}", "<p>a  b</p>\n"),
    # definition lists
    (
        "术语 *一*\n: 定义 **一**\n: 定义二\n  续行",
        "<dl>\n<dt>术语 <em>一</em></dt>\n<dd>定义 <strong>一</strong></dd>\n"
        "<dd>定义二\n续行</dd>\n</dl>\n",
    ),
    # abbreviations
    (
        "使用HTML技术，`HTML` 代码，HTMLX 不是。\n\n*[HTML]: Hyper Text Markup Language",
        '<p>使用<abbr title="Hyper Text Markup Language">HTML</abbr>技术，<code>HTML</code> 代码，'
        "HTMLX 不是。</p>\n",
    ),
    ("{::comment}x{:/}术语\n: 定义", "<dl>\n<dt>术语</dt>\n<dd>定义</dd>\n</dl>\n"),
    ("{:\n: 定义 {::nomarkdown}<b>b</b>{:/}", "<dl>\n<dt>{:</dt>\n<dd>定义 <b>b</b></dd>\n</dl>\n"),
    # code keeps what looks like kramdown
    ('`{:target="_blank"}`', '<p><code>{:target="_blank"}</code></p>\n'),
    ("```\n{: .x}\n术语\n: 定义\n```", "<pre><code>{: .x}\n术语\n: 定义\n</code></pre>\n"),
    ("{::comment}x{:/} **粗**", "<p><strong>粗</strong></p>\n"),
    ("{::nomarkdown}<b>b</b>{:/} **粗**", "<p><b>b</b> <strong>粗</strong></p>\n"),
]


@pytest.mark.parametrize(("markdown", "expected"), CASES)
def test_kramdown_construct(markdown: str, expected: str) -> None:
    assert _feed_html(markdown) == expected


def test_footnotes_are_a_section_with_kramdown_anchors() -> None:
    out = _feed_html("正文[^1]，再看[^note]。\n\n[^1]: 第一条*注*。\n[^note]: 第二条。\n")
    assert out.startswith(
        f'<p>正文<sup><a href="{BASE}#fn:1">1</a></sup>，'
        f'再看<sup><a href="{BASE}#fn:note">2</a></sup>。</p>\n<div>\n<ol>\n<li>\n'
        f'<p>第一条<em>注</em>。 <a href="{BASE}#fnref:1">↩</a></p>'
    )
    assert f'<p>第二条。 <a href="{BASE}#fnref:note">↩</a></p>' in out
    assert "第一条" not in out.split("<div>")[0]  # no made-up link to the note's text


def test_raw_markup_is_kramdowns_before_sanitizing() -> None:
    html = content.render_markdown('x[^a]\n\n[^a]: n\n\n[l](u){:target="_blank"}')
    assert '<div class="footnotes" role="doc-endnotes">' in html
    assert 'id="fn:a"' in html and 'href="#fnref:a"' in html
    assert "{:" not in html and "feeds-kd" not in html


def test_plain_markdown_is_untouched() -> None:
    text = "标题：内容\n\n- 一：二\n\n[链接](https://a.example/x:y)\n"
    assert content.render_markdown(text) == content._cmark(text)


PIECES = [
    "{:",
    "{::comment}",
    "{::nomarkdown}",
    "{:/}",
    "{: .x}",
    '{:title="t"}',
    "}",
    "[^1]",
    "[^1]: n",
    "\n",
    "\n\n",
    ": ",
    "```",
    "    ",
    "#",
    "## h {#i}",
    "`",
    "[a](b)",
    "<p>",
    "*",
    "TOC",
    "{:toc}",
    "字",
]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_no_marker_or_kramdown_syntax_leaks(pieces: list[str]) -> None:
    text = "".join(pieces)
    html = content.render_markdown(text)
    assert "feeds-kd" not in html and "\ue000" not in html
