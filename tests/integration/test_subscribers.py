"""What subscribers get besides the feeds: JSON Feed, OPML, archives, WebSub, the server."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from lxml import etree

from feeds import serve
from feeds.config import config
from feeds.generate import pipeline
from feeds.run import once
from tests.helpers import Site, check_all_outputs, check_json_feed, make_site, parse_feed, post_text
from tests.server import LocalServer

NOW = dt.datetime(2022, 9, 15, 12, 0, tzinfo=dt.UTC)


def build(site: Site, now: dt.datetime = NOW) -> pipeline.Report:
    report = once.fetch_and_build(config.load(site.config), now)
    assert report.ok, report.problems.items
    return report


@pytest.fixture
def site(tmp_path: Path) -> Site:
    s = make_site(tmp_path, "feeds:\n  archives: true\n  max_items: 2\n")
    for month in (6, 7, 8, 9):
        for day in (3, 13, 23):
            if month == 9 and day > 13:
                continue
            s.post(
                f"2022-{month:02d}-{day:02d}-a{month}{day}.md",
                post_text(f"甲{month}月{day}日", f"2022-{month:02d}-{day:02d} 09:00:00 +0800", "a"),
            )
    s.post(
        "2022-08-05-b.md",
        post_text("乙", "2022-08-05", "b", body="<p>正文</p>\n\n<http://orig.example/b>\n"),
    )
    return s


def test_json_feed_has_the_same_entries_and_dates_as_atom(site: Site) -> None:
    build(site)
    check_all_outputs(site.out)
    doc = check_json_feed(site.out / "a.json")
    atom = parse_feed(site.out / "a.atom.xml")
    assert [i["id"] for i in doc["items"]] == [e.id for e in atom.entries]
    raw = (site.out / "a.atom.xml").read_text(encoding="utf-8")
    for item in doc["items"]:
        assert f"<published>{item['date_published']}</published>" in raw
        assert item["date_published"].endswith("+08:00")
    assert doc["feed_url"] == "https://news.example.com/feeds/a.json"
    b = check_json_feed(site.out / "b.json")
    assert b["items"][0]["external_url"] == "http://orig.example/b"


def test_opml_lists_every_category_feed(site: Site) -> None:
    build(site)
    root = etree.parse(str(site.out / "feeds.opml")).getroot()
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title")
    assert root.findtext("head/dateCreated") == "Tue, 13 Sep 2022 09:00:00 +0800"
    outlines = root.findall("body/outline")
    assert [o.get("text") for o in outlines] == ["a - 测试站", "b - 测试站"]
    for o in outlines:
        assert o.get("type") == "rss"
        xml_url = o.get("xmlUrl")
        assert xml_url is not None and xml_url.startswith("https://news.example.com/feeds/")
        assert (site.out / xml_url.rsplit("/", 1)[1]).is_file()
        assert o.get("htmlUrl", "").startswith("https://news.example.com/category/")


def test_archives_chain_from_head_to_oldest_entry(site: Site) -> None:
    build(site)
    check_all_outputs(site.out)
    for fmt in ("atom", "rss"):
        head = parse_feed(site.out / f"a.{fmt}.xml")
        seen = [e.id for e in head.entries]
        assert len(seen) == 2  # the head stays small
        links = {ln.rel: ln.href for ln in head.feed.links}
        months = []
        url = links.get("prev-archive")
        while url:
            rel = url.removeprefix("https://news.example.com/feeds/")
            doc = parse_feed(site.out / rel)
            raw = (site.out / rel).read_text(encoding="utf-8")
            assert "<fh:archive/>" in raw
            dlinks = {ln.rel: ln.href for ln in doc.feed.links}
            assert dlinks["current"] == f"https://news.example.com/feeds/a.{fmt}.xml"
            months.append(rel)
            seen += [e.id for e in doc.entries]
            url = dlinks.get("prev-archive")
        assert months == [
            f"archive/a/2022-08.{fmt}.xml",
            f"archive/a/2022-07.{fmt}.xml",
            f"archive/a/2022-06.{fmt}.xml",
        ]  # September is not over yet
        everything = {
            f"https://news.example.com/a/2022/{m:02d}/{d:02d}/a{m}{d}.html"
            for m in (6, 7, 8)
            for d in (3, 13, 23)
        }
        assert everything <= set(seen)  # backfill reaches the oldest entry


def test_closed_archives_are_written_once(site: Site) -> None:
    build(site)
    june = site.out / "archive" / "a" / "2022-06.atom.xml"
    before = (june.read_bytes(), june.stat().st_mtime_ns)
    site.post("2022-06-03-a63.md", post_text("甲6月3日（改）", "2022-06-03 09:00:00 +0800", "a"))
    build(site, NOW + dt.timedelta(days=30))  # October: September's archive appears
    assert (june.read_bytes(), june.stat().st_mtime_ns) == before
    assert (site.out / "archive" / "a" / "2022-09.atom.xml").is_file()
    head = parse_feed(site.out / "a.atom.xml")
    assert {ln.rel: ln.href for ln in head.feed.links}["prev-archive"].endswith("2022-09.atom.xml")


def test_index_snippets_and_stylesheet(site: Site) -> None:
    build(site)
    index = (site.out / "index.html").read_text(encoding="utf-8")
    assert (
        '<link rel="alternate" type="application/atom+xml" title="a - 测试站 (Atom)" '
        'href="https://news.example.com/feeds/a.atom.xml">' in index
    )
    assert 'type="application/feed+json"' in index and "feeds.opml" in index
    assert "2022-09-13 09:00" in index  # newest entry, site time
    snippet = (site.out / "snippets" / "b.html").read_text(encoding="utf-8")
    assert 'href="https://news.example.com/feeds/b.rss.xml"' in snippet
    xsl = etree.parse(str(site.out / "feed.xsl"))
    assert xsl.getroot().tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet"
    for name in ("a.rss.xml", "a.atom.xml"):
        raw = (site.out / name).read_text(encoding="utf-8")
        assert '<?xml-stylesheet type="text/xsl" href="/feeds/feed.xsl"?>' in raw
        page = etree.XSLT(xsl)(etree.parse(str(site.out / name)))  # it really transforms
        assert "甲9月13日" in str(page)
        assert str(page).startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
        assert 'href="https://news.example.com/feeds/a.html">订阅页</a>' in str(page)


class Hub:
    """A WebSub hub on 127.0.0.1 that records publish pings; can fail the first N."""

    def __init__(self, server: LocalServer, fail_first: int = 0) -> None:
        self.pings: list[dict[str, list[str]]] = []
        self.failures = fail_first
        hub = self

        def handle(h: BaseHTTPRequestHandler) -> None:
            length = int(h.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(h.rfile.read(length).decode())
            status = 503 if hub.failures > 0 else 204
            if hub.failures > 0:
                hub.failures -= 1
            else:
                hub.pings.append(form)
            h.send_response(status)
            h.send_header("Content-Length", "0")
            h.end_headers()

        server.post_routes["/hub"] = handle


def test_websub_pings_once_per_changed_feed(tmp_path: Path, http_server: LocalServer) -> None:
    hub = Hub(http_server, fail_first=1)
    s = make_site(tmp_path, f"feeds:\n  websub_hub: {http_server.url('/hub')}\n")
    s.post("2022-06-01-a.md", post_text("甲", "2022-06-01", "a"))
    s.post("2022-06-02-b.md", post_text("乙", "2022-06-02", "b"))
    build(s)
    pinged = sorted(p["hub.url"][0] for p in hub.pings)
    assert all(p["hub.mode"] == ["publish"] for p in hub.pings)
    assert pinged == sorted(
        f"https://news.example.com/feeds/{n}.{f}"
        for n in ("a", "b", "all")
        for f in ("rss.xml", "atom.xml", "json")
    )  # the 503 was retried
    for name in ("a.rss.xml", "a.atom.xml"):
        links = {ln.rel: ln.href for ln in parse_feed(s.out / name).feed.links}
        assert links["hub"] == http_server.url("/hub")
    assert json.loads((s.out / "a.json").read_text())["hubs"] == [
        {"type": "WebSub", "url": http_server.url("/hub")}
    ]
    hub.pings.clear()
    build(s)
    assert hub.pings == []  # nothing changed: no ping
    s.post("2022-06-03-a2.md", post_text("甲二", "2022-06-03", "a"))
    build(s)
    assert sorted(p["hub.url"][0].rsplit("/", 1)[1] for p in hub.pings) == [
        "a.atom.xml",
        "a.json",
        "a.rss.xml",
        "all.atom.xml",
        "all.json",
        "all.rss.xml",
    ]


@pytest.fixture
def http_output(site: Site) -> Iterator[tuple[str, Path]]:
    build(site)
    (site.out / ".feeds-tmp-1-x.xml").write_bytes(b"half")
    (site.root / "secret.txt").write_text("do not serve", encoding="utf-8")
    (site.out / "link").symlink_to(site.root / "secret.txt")
    server = serve.make_server(site.out, "127.0.0.1", 0, "/feeds/")
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site.out
    finally:
        server.shutdown()
        server.server_close()


def fetch(url: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_serve_types_conditional_gzip_head(http_output: tuple[str, Path]) -> None:
    base, out = http_output
    for name, media in (
        ("a.rss.xml", "application/rss+xml; charset=utf-8"),
        ("a.atom.xml", "application/atom+xml; charset=utf-8"),
        ("a.json", "application/feed+json; charset=utf-8"),
        ("feeds.opml", "text/x-opml; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
    ):
        status, headers, body = fetch(f"{base}/feeds/{name}")
        assert status == 200 and headers["Content-Type"] == media
        assert body == (out / name).read_bytes()
    status, headers, _ = fetch(f"{base}/feeds/a.atom.xml")
    assert fetch(f"{base}/feeds/a.atom.xml", **{"If-None-Match": headers["ETag"]})[0] == 304
    assert (
        fetch(f"{base}/feeds/a.atom.xml", **{"If-Modified-Since": headers["Last-Modified"]})[0]
        == 304
    )
    status, gz_headers, gz_body = fetch(f"{base}/feeds/a.atom.xml", **{"Accept-Encoding": "gzip"})
    assert gz_headers["Content-Encoding"] == "gzip" and gz_headers["ETag"] != headers["ETag"]
    assert gzip.decompress(gz_body) == (out / "a.atom.xml").read_bytes()
    status, head_headers, head_body = fetch(f"{base}/feeds/a.atom.xml", method="HEAD")
    assert status == 200 and head_body == b""
    assert int(head_headers["Content-Length"]) == len((out / "a.atom.xml").read_bytes())
    assert fetch(f"{base}/feeds/")[2] == (out / "index.html").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/../config.yaml",
        "/feeds/%2e%2e/config.yaml",
        "/feeds/link",
        "/feeds/.feeds-tmp-1-x.xml",
        "/config.yaml",
        "/feeds/..%2fsecret.txt",
        "/feeds/missing.xml",
    ],
)
def test_serve_never_leaves_the_folder(http_output: tuple[str, Path], path: str) -> None:
    base, _ = http_output
    status, _, body = fetch(base + path)
    assert status == 404 and b"do not serve" not in body
