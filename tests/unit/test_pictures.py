"""Pictures in the feeds: Media RSS (``media:content``, ``media:thumbnail``) in RSS and Atom and
JSON Feed ``image`` from front matter ``image`` or the first image of the content; enclosures
with the real length and type of files under the site; other sites' lazy-loaded images
repaired, sent without a referrer and, with ``output.image_proxy``, loaded through a proxy."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from lxml import etree

from feeds import content
from feeds.config import config
from feeds.errors import ConfigError
from feeds.run import once
from tests.helpers import BASE_CONFIG, Site, make_site, post_text

NOW = dt.datetime(2022, 7, 1, tzinfo=dt.UTC)
MEDIA = "{http://search.yahoo.com/mrss/}"
ATOM = "{http://www.w3.org/2005/Atom}"
JPEG = b"\xff\xd8\xff\xe0" + bytes(1234)


def _build(site: Site) -> None:
    report = once.fetch_and_build(config.load(site.config), NOW)
    assert report.ok, [str(p) for p in report.problems.items]


def _rss_items(site: Site, name: str = "news") -> list[etree._Element]:
    return etree.parse(str(site.out / f"{name}.rss.xml")).getroot().findall("channel/item")


def _atom_entries(site: Site, name: str = "news") -> list[etree._Element]:
    return etree.parse(str(site.out / f"{name}.atom.xml")).getroot().findall(f"{ATOM}entry")


def _json_items(site: Site, name: str = "news") -> list[dict[str, object]]:
    items: list[dict[str, object]] = json.loads((site.out / f"{name}.json").read_text())["items"]
    return items


# --------------------------------------------------------------------------- lazy images


@pytest.mark.parametrize("attr", ["data-src", "data-original", "data-actualsrc"])
@pytest.mark.parametrize(
    "src",
    ["", ' src="data:image/gif;base64,R0lGODlhAQABAAAAACw="', ' src="/static/img/blank.gif"'],
)
def test_a_lazy_image_gets_its_real_url(attr: str, src: str) -> None:
    html = f'<p>图</p><img{src} {attr}="https://img.example.cn/a.jpg?w=1&amp;h=2" alt="现场">'
    fixed = content.sanitize(content.repair_lazy_images(html), "https://s.example.cn/p.html")
    assert '<img src="https://img.example.cn/a.jpg?w=1&amp;h=2" alt="现场">' in fixed


def test_an_image_with_a_real_src_keeps_it() -> None:
    html = '<img src="https://a.example.cn/real.jpg" data-src="https://a.example.cn/other.jpg">'
    assert content.repair_lazy_images(html) == html


def test_referrerpolicy_is_kept_on_images_and_videos_and_iframes_still_go() -> None:
    html = (
        '<img src="https://a.example.cn/1.jpg" referrerpolicy="no-referrer">'
        '<video src="https://a.example.cn/v.mp4" poster="javascript:alert(1)" '
        'referrerpolicy="no-referrer" onplay="x()"></video>'
        '<iframe src="https://player.example.cn/1" referrerpolicy="no-referrer"></iframe>'
    )
    out = content.sanitize(html, "https://s.example.cn/")
    assert '<img src="https://a.example.cn/1.jpg" referrerpolicy="no-referrer">' in out
    assert '<video src="https://a.example.cn/v.mp4" referrerpolicy="no-referrer"></video>' in out
    assert "iframe" not in out and "javascript" not in out and "onplay" not in out


# --------------------------------------------------------------------------- posts


def test_front_matter_image_under_the_site_has_its_size_and_type(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "封面.jpg").write_bytes(JPEG)
    site.post(
        "2022-06-09-a.md",
        post_text(
            "有图",
            "2022-06-09 10:00:00 +08:00",
            extra="image: /assets/封面.jpg",
            body='<p><img src="https://other.example.cn/x.png"></p>',
        ),
    )
    _build(site)
    url = "https://news.example.com/assets/%E5%B0%81%E9%9D%A2.jpg"
    for item in (_rss_items(site)[0], _atom_entries(site)[0]):
        media = item.find(f"{MEDIA}content")
        assert media is not None and {k: str(v) for k, v in media.attrib.items()} == {
            "url": url,
            "type": "image/jpeg",
            "medium": "image",
            "fileSize": str(len(JPEG)),
        }
        thumb = item.find(f"{MEDIA}thumbnail")
        assert thumb is not None and thumb.get("url") == url
    assert _json_items(site)[0]["image"] == url


def test_without_front_matter_image_the_first_image_of_the_content(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.post(
        "2022-06-09-a.md",
        post_text(
            "有图",
            "2022-06-09 10:00:00 +08:00",
            body="文字\n\n![图](/img/a.png)\n\n![](/img/b.png)",
        ),
    )
    site.post("2022-06-08-b.md", post_text("无图", "2022-06-08 10:00:00 +08:00"))
    _build(site)
    with_pic, without = _rss_items(site)
    thumb = with_pic.find(f"{MEDIA}thumbnail")
    assert thumb is not None and thumb.get("url") == "https://news.example.com/img/a.png"
    assert without.find(f"{MEDIA}thumbnail") is None
    assert [i.get("image") for i in _json_items(site)] == [
        "https://news.example.com/img/a.png",
        None,
    ]


def test_a_feed_without_pictures_has_no_media_namespace(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.post("2022-06-08-b.md", post_text("无图", "2022-06-08 10:00:00 +08:00"))
    _build(site)
    assert b"mrss" not in (site.out / "news.rss.xml").read_bytes()


def test_enclosures_of_local_files_have_their_length_and_type(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "ep1.mp3").write_bytes(bytes(4321))
    site.post(
        "2022-06-09-a.md",
        post_text(
            "播客",
            "2022-06-09 10:00:00 +08:00",
            extra="enclosure:\n  - /audio/ep1.mp3\n"
            "  - {url: 'https://cdn.example.cn/x.pdf', length: 99}\n  - /audio/missing.ogg",
        ),
    )
    _build(site)
    enc = _rss_items(site)[0].find("enclosure")
    assert enc is not None and {k: str(v) for k, v in enc.attrib.items()} == {
        "url": "https://news.example.com/audio/ep1.mp3",
        "length": "4321",
        "type": "audio/mpeg",
    }
    links = [ln.attrib for ln in _atom_entries(site)[0].findall(f"{ATOM}link[@rel='enclosure']")]
    assert [(a["href"], a.get("length"), a["type"]) for a in links] == [
        ("https://news.example.com/audio/ep1.mp3", "4321", "audio/mpeg"),
        ("https://cdn.example.cn/x.pdf", "99", "application/pdf"),
        ("https://news.example.com/audio/missing.ogg", None, "audio/ogg"),
    ]


def test_an_image_outside_the_site_folder_is_never_read(tmp_path: Path) -> None:
    root = tmp_path / "site"
    site = make_site(root)
    (tmp_path / "secret.jpg").write_bytes(JPEG)
    site.post(
        "2022-06-09-a.md",
        post_text("有图", "2022-06-09 10:00:00 +08:00", extra="image: ../secret.jpg"),
    )
    _build(site)
    media = _rss_items(site)[0].find(f"{MEDIA}content")
    assert media is not None and "fileSize" not in media.attrib


# --------------------------------------------------------------------------- other sites

SOURCE = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>来源</title><link>https://src.example.cn/</link><description>d</description>
<item><title>懒加载</title><link>https://src.example.cn/1.html</link>
<pubDate>Thu, 09 Jun 2022 02:00:00 GMT</pubDate>
<description><![CDATA[<p>正文</p><img src="https://src.example.cn/blank.gif"
 data-original="https://wx.sinaimg.cn/large/a.jpg"><img src="https://src.example.cn/b.png">]]>
</description></item>
<item><title>缩略图</title><link>https://src.example.cn/2.html</link>
<pubDate>Wed, 08 Jun 2022 02:00:00 GMT</pubDate>
<media:thumbnail url="https://src.example.cn/thumb.jpg"/>
<description>没有图片的正文</description></item>
</channel></rss>
"""


def _aggregating(tmp_path: Path, extra: str = "") -> Site:
    site = make_site(
        tmp_path,
        extra + "sources:\n  - {id: s, path: source.xml, categories: [news]}\n",
    )
    (tmp_path / "source.xml").write_text(SOURCE, encoding="utf-8")
    return site


def test_remote_images_are_repaired_and_sent_without_a_referrer(tmp_path: Path) -> None:
    site = _aggregating(tmp_path)
    _build(site)
    lazy, thumbed = _json_items(site)
    html = str(lazy["content_html"])
    assert '<img src="https://wx.sinaimg.cn/large/a.jpg" referrerpolicy="no-referrer">' in html
    assert '<img src="https://src.example.cn/b.png" referrerpolicy="no-referrer">' in html
    assert lazy["image"] == "https://wx.sinaimg.cn/large/a.jpg"  # the first image
    assert thumbed["image"] == "https://src.example.cn/thumb.jpg"  # the source's own


def test_the_image_proxy_carries_every_remote_image(tmp_path: Path) -> None:
    site = _aggregating(tmp_path, "  image_proxy: https://img.example.org/?url={url}\n")
    _build(site)
    proxy = "https://img.example.org/?url="
    lazy, thumbed = _json_items(site)
    html = str(lazy["content_html"])
    assert f'<img src="{proxy}https%3A%2F%2Fwx.sinaimg.cn%2Flarge%2Fa.jpg"' in html
    assert f'<img src="{proxy}https%3A%2F%2Fsrc.example.cn%2Fb.png"' in html
    assert lazy["image"] == proxy + "https%3A%2F%2Fwx.sinaimg.cn%2Flarge%2Fa.jpg"
    assert thumbed["image"] == proxy + "https%3A%2F%2Fsrc.example.cn%2Fthumb.jpg"
    thumb = _rss_items(site)[1].find(f"{MEDIA}thumbnail")
    assert thumb is not None and thumb.get("url") == thumbed["image"]


@pytest.mark.parametrize("value", ["https://img.example.org/", "ftp://p/{url}", "{url}{url}"])
def test_an_image_proxy_needs_an_http_url_with_url_once(tmp_path: Path, value: str) -> None:
    site = make_site(tmp_path)
    site.write_config(base=BASE_CONFIG + f"  image_proxy: '{value}'\n")
    with pytest.raises(ConfigError) as info:
        config.load(site.config)
    assert info.value.key == "output.image_proxy" and "{url}" in str(info.value)
