"""The wall clock jumps between runs (FEEDS_FAKE_NOW stands in for it): back an hour, then
forward a day. No entry is duplicated or lost, first-seen dates stay put, dates stay right."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser

from tests import server as srv
from tests.helpers import check_all_outputs, cli, make_site, post_text
from tests.server import LocalServer

FEED = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>源</title>'
    "<link>https://src.example/</link><description>d</description>"
    "<item><title>有日期</title><link>https://src.example/1</link>"
    "<pubDate>Fri, 10 Jun 2022 02:00:00 GMT</pubDate></item>"
    "<item><title>无日期</title><link>https://src.example/2</link></item>"
    "</channel></rss>"
).encode()
T0 = "2022-06-12T12:00:00+08:00"
BACK = "2022-06-12T11:00:00+08:00"  # an hour earlier
AHEAD = "2022-06-13T12:00:00+08:00"  # a day later


def entries(out: Path, name: str) -> list[tuple[str, str, str]]:
    parsed = feedparser.parse((out / name).read_bytes())
    raw = (out / name).read_text(encoding="utf-8")
    assert parsed.bozo == 0
    ids = [e.id for e in parsed.entries]
    assert len(ids) == len(set(ids)), f"duplicate entries in {name}"
    return [
        (
            e.id,
            e.title,
            raw.split(f"<id>{e.id}</id>")[1].split("<published>")[1].split("</published>")[0],
        )
        for e in parsed.entries
    ]


def test_clock_back_and_forward(tmp_path: Path, http_server: LocalServer) -> None:
    http_server.routes["/feed.xml"] = srv.static(FEED)
    site = make_site(
        tmp_path,
        f"""fetch:
  allow_networks: [127.0.0.0/8]
sources:
  - id: src
    url: {http_server.url("/feed.xml")}
    categories: [news]
    interval: 1m
""",
    )
    site.post("2022-06-11-a.md", post_text("昨天的文章", "2022-06-11 09:00:00 +0800", "news"))
    site.post("2022-06-13-b.md", post_text("明天的文章", "2022-06-13 09:00:00 +0800", "news"))
    runs = []
    for now in (T0, BACK, AHEAD):
        proc = cli("build", "-c", site.config, env={"FEEDS_FAKE_NOW": now})
        assert proc.returncode == 0, proc.stderr
        check_all_outputs(site.out)
        runs.append(entries(site.out, "news.atom.xml"))
    first, back, ahead = runs
    by_title = {title: when for _, title, when in first}
    assert by_title["有日期"] == "2022-06-10T10:00:00+08:00"
    assert by_title["无日期"] == "2022-06-12T12:00:00+08:00"  # first seen at T0
    assert "明天的文章" not in by_title  # not due yet at T0
    assert back == first  # an hour back: nothing lost, nothing doubled, first-seen kept
    titles = {title: when for _, title, when in ahead}
    assert titles["无日期"] == "2022-06-12T12:00:00+08:00"  # still the first sighting
    assert titles["明天的文章"] == "2022-06-13T09:00:00+08:00"  # its time has come
    assert {t for _, t, _ in first} <= set(titles)
    status = json.loads(
        cli("status", "-c", site.config, "--json", env={"FEEDS_FAKE_NOW": AHEAD}).stdout
    )
    assert status["sources"][0]["entries"] == 2  # stored once each, whatever the clock did
