from __future__ import annotations

import os

import pytest

from feeds.textutil import excerpt, plain_text, shown, slugify, xml_safe


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("zhongguofazhanwang", "zhongguofazhanwang"),
        ("中国发展网新闻", "中国发展网新闻"),
        ("中国 发展网", "中国-发展网"),
        ("R&D News", "r-d-news"),
        ("a/b\\c", "a-b-c"),
        ("../etc", "etc"),
        ("  Tech  ", "tech"),
        ("x__y", "x-y"),
        ("!!!", ""),
    ],
)
def test_slugify_keeps_unicode_and_is_path_safe(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_xml_safe_strips_controls_keeps_text() -> None:
    assert xml_safe("标题\x00\x08\x0b\x1f\ufffe") == "标题"
    assert xml_safe("a\tb\nc\r") == "a\tb\nc\r"


def test_plain_text() -> None:
    html = "<p>第一段&amp;<b>加粗</b></p><p>第二段</p><script>x()</script>"
    assert plain_text(html) == "第一段&加粗 第二段"


def test_excerpt_counts_characters_not_bytes() -> None:
    text = "一" * 300
    out = excerpt(text, 200)
    assert out == "一" * 200 + "…"
    assert excerpt("短文本。", 200) == "短文本。"


def test_excerpt_prefers_sentence_end() -> None:
    text = "甲" * 170 + "。" + "乙" * 100
    assert excerpt(text, 200) == "甲" * 170 + "。"


def test_excerpt_does_not_split_latin_words() -> None:
    text = "alpha beta gamma delta epsilon"
    assert excerpt(text, 20) == "alpha beta gamma…"


def test_excerpt_zero() -> None:
    assert excerpt("任何文字", 0) == ""


def test_shown_escapes_what_a_terminal_would_act_on() -> None:
    """Control characters, terminal escapes and undecodable file-name bytes are shown as
    escapes; ordinary text (CJK included) is kept as it is, and escaping twice changes
    nothing."""
    name = os.fsdecode(b"_posts/2022-01-01-\xff\x1b[31m\x07\x9b.md")
    assert shown(name) == "_posts/2022-01-01-\\xff\\x1b[31m\\x07\\x9b.md"
    assert shown("_posts/2022-06-09-新闻.md") == "_posts/2022-06-09-新闻.md"
    assert shown(shown(name)) == shown(name)
