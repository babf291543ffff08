"""繁體中文 variants: converted copies of the feeds, checked against OpenCC's own output for the
same text (phrases, not characters: 国家 → 國家, never 國傢; Taiwan's words: 软件 → 軟體), with
their language set, linked to the original and each other with hreflang, and listed in the
index and the OPML file; URLs, code and the original-article link are left as they are."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import opencc
import pytest
from lxml import etree

from feeds.config import config
from feeds.errors import ConfigError
from feeds.generate import variants
from feeds.run import once
from tests.helpers import Site, make_site, post_text

NOW = dt.datetime(2022, 7, 1, tzinfo=dt.UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
TW = opencc.OpenCC("s2twp").convert
HK = opencc.OpenCC("s2hk").convert
TITLE = "国家发布软件产业发展规划"
BODY = """\
国家鼓励企业使用国产软件，里面的头发问题也有了说法。

![鼠标和打印机](/img/国家.png)

```
软件 = "国家"  # 代码不转换
```

行内代码 `软件包` 不变，[链接文字软件](https://example.cn/软件?q=国家) 的地址也不变。

<https://src.example.cn/国家/软件.html>
"""


def _site(tmp_path: Path, extra: str) -> Site:
    site = make_site(tmp_path, extra)
    site.post(
        "2022-06-09-a.md",
        post_text(TITLE, "2022-06-09 10:00:00 +08:00", categories="news", tags="软件", body=BODY),
    )
    site.post("2022-06-08-b.md", post_text("其他新闻", "2022-06-08 10:00:00 +08:00", "other"))
    report = once.fetch_and_build(config.load(site.config), NOW)
    assert report.ok, [str(p) for p in report.problems.items]
    return site


def _atom(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def _alternates(root: etree._Element) -> dict[str, str]:
    links = root.findall(f"{ATOM}link[@hreflang]") or root.findall(f"channel/{ATOM}link[@hreflang]")
    return {str(ln.get("hreflang")): str(ln.get("href")) for ln in links}


@pytest.fixture
def per_category(tmp_path: Path) -> Site:
    return _site(
        tmp_path,
        "feeds:\n  tag_feeds: true\n  archives: true\n"
        "categories:\n  meta:\n    news:\n      variants: [zh-Hant-TW]\n",
    )


def test_the_variant_is_opencc_s_conversion_of_title_summary_and_content(
    per_category: Site,
) -> None:
    out = per_category.out
    original = _atom(out / "news.atom.xml").find(f"{ATOM}entry")
    variant = _atom(out / "zh-Hant-TW" / "news.atom.xml").find(f"{ATOM}entry")
    assert original is not None and variant is not None
    assert variant.findtext(f"{ATOM}title") == TW(TITLE) == "國家釋出軟體產業發展規劃"
    assert variant.findtext(f"{ATOM}summary") == TW(original.findtext(f"{ATOM}summary") or "")
    html = variant.findtext(f"{ATOM}content") or ""
    assert "國家鼓勵企業使用國產軟體，裡面的頭髮問題也有了說法。" in html
    assert "國傢" not in html and "鼠標" not in html and 'alt="滑鼠和印表機"' in html
    assert '软件 = "国家"  # 代码不转换' in html  # a code block
    assert "<code>软件包</code>" in html  # inline code
    assert "https://example.cn/%E8%BD%AF%E4%BB%B6?q=%E5%9B%BD%E5%AE%B6" in html  # the URL
    assert ">連結文字軟體</a>" in html  # the link's text is converted
    source = "https://src.example.cn/国家/软件.html"
    assert f">{source}</a>" in html  # the original article's link shows its own URL
    via = variant.find(f"{ATOM}link[@rel='via']")
    assert via is not None and via.get("href") == source
    # categories and tags name pages: kept
    assert [c.get("term") for c in variant.findall(f"{ATOM}category")] == ["news", "软件"]


def test_the_variant_has_its_language_and_links_the_original(per_category: Site) -> None:
    out = per_category.out
    base = "https://news.example.com/feeds/"
    tw_atom = _atom(out / "zh-Hant-TW" / "news.atom.xml")
    assert tw_atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-Hant-TW"
    assert _alternates(tw_atom) == {"zh-CN": base + "news.atom.xml"}
    assert _alternates(_atom(out / "news.atom.xml")) == {
        "zh-Hant-TW": base + "zh-Hant-TW/news.atom.xml"
    }
    tw_rss = _atom(out / "zh-Hant-TW" / "news.rss.xml")
    assert tw_rss.findtext("channel/language") == "zh-Hant-TW"
    assert _alternates(tw_rss) == {"zh-CN": base + "news.rss.xml"}
    assert _alternates(_atom(out / "news.rss.xml")) == {
        "zh-Hant-TW": base + "zh-Hant-TW/news.rss.xml"
    }
    doc = json.loads((out / "zh-Hant-TW" / "news.json").read_text(encoding="utf-8"))
    assert doc["language"] == "zh-Hant-TW" and doc["items"][0]["title"] == TW(TITLE)


def test_only_the_chosen_category_has_a_variant_and_no_variant_archives(
    per_category: Site,
) -> None:
    written = {p.relative_to(per_category.out).as_posix() for p in per_category.out.rglob("*")}
    assert {p for p in written if p.startswith("zh-Hant-TW/")} == {
        "zh-Hant-TW/news.rss.xml",
        "zh-Hant-TW/news.atom.xml",
        "zh-Hant-TW/news.json",
        "zh-Hant-TW/news.html",  # its web page, in 繁體
    }
    assert "archive/news/2022-06.atom.xml" in written  # the original's archive is there
    page = (per_category.out / "zh-Hant-TW" / "news.html").read_text(encoding="utf-8")
    assert '<html lang="zh-Hant-TW">' in page and TW(TITLE) in page and TITLE not in page
    assert 'hreflang="zh-CN"' in page  # the original's feeds offered beside


def test_the_index_opml_and_snippet_list_the_variant(per_category: Site) -> None:
    out = per_category.out
    url = "https://news.example.com/feeds/zh-Hant-TW/news.atom.xml"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'hreflang="zh-Hant-TW" title="news - 測試站 (Atom)" href="{url}"' in index
    assert "繁體（台灣）" in index
    outlines = etree.parse(str(out / "feeds.opml")).getroot().findall("body/outline")
    tw = [o for o in outlines if o.get("language") == "zh-Hant-TW"]
    assert [o.get("xmlUrl") for o in tw] == [
        "https://news.example.com/feeds/zh-Hant-TW/news.rss.xml"
    ]
    assert tw[0].get("title") == "news - 測試站"
    snippet = (out / "snippets" / "news.html").read_text(encoding="utf-8")
    assert 'hreflang="zh-Hant-TW"' in snippet and url in snippet
    head = (out / "snippets" / "head.html").read_text(encoding="utf-8")
    assert head.count(f'href="{url}"') == 1  # once, under the original's "when"


def test_variants_for_every_feed_and_hong_kong_words(tmp_path: Path) -> None:
    site = _site(tmp_path, "feeds:\n  tag_feeds: true\n  variants: [zh-Hant-TW, zh-Hant-HK]\n")
    for rel in ("all", "news", "other", "tags/软件"):
        for variant in ("zh-Hant-TW", "zh-Hant-HK"):
            assert (site.out / variant / f"{rel}.atom.xml").is_file(), (variant, rel)
    hk = _atom(site.out / "zh-Hant-HK" / "news.atom.xml")
    assert hk.findtext(f"{ATOM}entry/{ATOM}title") == HK(TITLE) == "國家發佈軟件產業發展規劃"
    assert set(_alternates(hk)) == {"zh-CN", "zh-Hant-TW"}


def test_convert_html_leaves_markup_and_code_alone() -> None:
    html = (
        '<p title="国家">国家<a href="https://x.cn/a">软件</a></p>'
        "<pre><code>软件\n</code></pre><p>软件</p>"
    )
    assert variants.convert_html(html, "zh-Hant-TW") == (
        '<p title="國家">國家<a href="https://x.cn/a">軟體</a></p>'
        "<pre><code>软件\n</code></pre><p>軟體</p>"
    )


def test_an_unknown_variant_is_refused(tmp_path: Path) -> None:
    site = make_site(tmp_path, "feeds:\n  variants: [zh-TW]\n")
    with pytest.raises(ConfigError) as info:
        config.load(site.config)
    assert info.value.key == "feeds.variants.0" and "zh-Hant-TW" in str(info.value)


def test_a_rebuilt_variant_equals_a_fresh_one(tmp_path: Path) -> None:
    """Incremental equals full: an edited post reaches the variants as it reaches a new build."""
    extra = "feeds:\n  variants: [zh-Hant-HK]\n"
    site = _site(tmp_path / "a", extra)
    site.post("2022-06-08-b.md", post_text("软件更新", "2022-06-08 10:00:00 +08:00", "other"))
    report = once.fetch_and_build(config.load(site.config), NOW)
    assert "zh-Hant-HK/other.atom.xml" in report.files_written
    assert "zh-Hant-HK/news.atom.xml" not in report.files_written  # not changed, not rewritten
    fresh = make_site(tmp_path / "b", extra)
    for p in site.posts.iterdir():
        fresh.post(p.name, p.read_text(encoding="utf-8"))
    once.fetch_and_build(config.load(fresh.config), NOW)
    assert site.outputs() == fresh.outputs()
    assert HK("软件更新") in (site.out / "zh-Hant-HK" / "other.atom.xml").read_text(
        encoding="utf-8"
    )
