from __future__ import annotations

from feeds import content
from tests.helpers import REAL_POST


def _split(body: str) -> content.Trailer:
    return content.split_trailer(body, source_link=True, drop_nav=True, nav_prefix="返回")


def test_real_post_trailer() -> None:
    body = REAL_POST.read_text(encoding="utf-8").split("---", 2)[2]
    t = _split(body)
    assert t.source_link == (
        "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202206092407071065"
    )
    assert t.dropped_nav
    assert "返回首页" not in t.body
    assert "finews.zning.xyz" not in t.body
    assert t.body.rstrip().endswith("（文章来源：中国发展网）</p>")


def test_link_in_the_middle_is_not_touched() -> None:
    body = "第一段\n\n<http://a.example/x>\n\n最后一段。\n"
    t = _split(body)
    assert t.source_link is None and not t.dropped_nav and t.body == body


def test_nav_line_with_other_links_is_kept() -> None:
    body = "正文\n\n[相关阅读](//x.example/a)｜[返回首页](//x.example/)\n"
    assert _split(body).body == body


def test_cleanup_can_be_turned_off() -> None:
    body = "正文\n\n<http://a.example/x>\n\n[返回首页](//x.example/)\n"
    t = content.split_trailer(body, source_link=False, drop_nav=False, nav_prefix="返回")
    assert t.body == body and t.source_link is None


def test_order_link_after_nav() -> None:
    t = _split("正文\n\n[返回新闻](/c.html) | [返回首页](/)\n\n<https://a.example/y?a=1&b=2>\n")
    assert t.source_link == "https://a.example/y?a=1&b=2"
    assert t.dropped_nav and t.body == "正文\n"


def test_sanitize_makes_urls_absolute_and_removes_scripts() -> None:
    html = (
        '<p onclick="x()">a <a href="//cdn.example/x">x</a> <a href="/c/a.html">y</a>'
        ' <img src="img/p.png"> <a href="javascript:alert(1)">j</a></p><script>bad()</script>'
    )
    assert content.has_active_content(html) is not None
    out = content.sanitize(html, "https://news.example.com/news/2022/06/09/p.html")
    assert "script" not in out and "onclick" not in out and "javascript" not in out
    assert 'href="https://cdn.example/x"' in out
    assert 'href="https://news.example.com/c/a.html"' in out
    assert 'src="https://news.example.com/news/2022/06/09/img/p.png"' in out


def test_markdown_keeps_inline_html() -> None:
    out = content.render_markdown("**粗体** <span>内联</span>\n\n<p>块</p>\n")
    assert "<strong>粗体</strong>" in out and "<span>内联</span>" in out and "<p>块</p>" in out
