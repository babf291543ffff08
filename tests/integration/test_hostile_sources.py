"""Hostile and broken sources: each ends as that source's recorded error or a repaired entry,
in bounded time, naming the URL; the other sources and every category are still written."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
from pathlib import Path

from feeds.config import config
from feeds.run import once
from feeds.store.store import Store
from tests import server as srv
from tests.helpers import check_all_outputs, make_site, parse_feed, run_cli
from tests.server import LocalServer

T0 = dt.datetime(2022, 6, 12, 12, 0, tzinfo=dt.UTC)
GOOD = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>好源</title>'
    "<link>https://good.example/</link><description>d</description>"
    "<item><title>正常条目</title><link>https://good.example/1</link>"
    "<pubDate>Fri, 10 Jun 2022 02:00:00 GMT</pubDate></item></channel></rss>"
).encode()
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>
<rss version="2.0"><channel><title>&f;</title><item><title>&f;</title></item></channel></rss>"""
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "' + b"x" * 50_000 + b'">]>'
    b'<rss version="2.0"><channel><title>t</title><item><title>'
    + b"&x;" * 5_000
    + b"</title></item></channel></rss>"
)
XXE_FILE = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<rss version="2.0"><channel><title>&x;</title></channel></rss>'
)


def rss(items: str, title: str = "源") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://src.example/</link><description>d"
        f"</description><language>zh-cn</language>{items}</channel></rss>"
    ).encode()


def site_with(tmp_path: Path, server: LocalServer, routes: dict[str, srv.Handler]) -> Path:
    lines = [
        "fetch:",
        "  allow_networks: [127.0.0.0/8]",
        "  deadline: 1.5s",
        "  max_bytes: 1048576",
        "state:",
        "  dir: state",
        "sources:",
    ]
    for name, handler in routes.items():
        server.routes[f"/{name}"] = handler
        lines += [
            f"  - id: {name}",
            f"    url: {server.url('/' + name)}",
            f"    categories: [{name}]",
        ]
    site = make_site(tmp_path, "\n".join(lines) + "\n")
    return site.config


def test_every_hostile_source_is_contained(
    tmp_path: Path, http_server: LocalServer, second_server: LocalServer
) -> None:
    second_server.routes["/evil.dtd"] = srv.static(b'<!ENTITY x "pwned">', "text/plain")
    external_dtd = (
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{second_server.url("/evil.dtd")}">'
        '<rss version="2.0"><channel><title>外部DTD</title><link>https://d.example/'
        "</link><description>d</description><item><title>条目</title>"
        "<link>https://d.example/1</link></item></channel></rss>"
    ).encode()
    xxe_remote = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM '
        f'"{second_server.url("/steal")}">]><rss version="2.0"><channel>'
        f"<title>&x;</title></channel></rss>"
    ).encode()
    routes = {
        "good": srv.static(GOOD),
        "xxeremote": srv.static(xxe_remote),
        "laughs": srv.static(LAUGHS),
        "quadratic": srv.static(QUADRATIC),
        "xxe": srv.static(XXE_FILE),
        "dtd": srv.static(external_dtd),
        "big": srv.huge(50 * 1024 * 1024),
        "bomb": srv.static(
            gzip.compress(b"\0" * (100 * 1024 * 1024)), headers={"Content-Encoding": "gzip"}
        ),
        "drip": srv.drip(total=1000, interval=0.1, max_seconds=10),
        "loop": srv.redirect("/loop"),
        "metadata": srv.redirect("http://169.254.169.254/latest/meta-data/"),
        "missing": srv.static(b"no", "text/plain", status=404),
        "broken": srv.static(b"boom", "text/plain", status=500),
        "html": srv.static(
            b"<!doctype html><html><head><title>Home</title></head><body>"
            b"<p>not a feed</p></body></html>",
            "text/html; charset=utf-8",
        ),
        "empty": srv.static(rss("")),
        "notxml": srv.static(b"\x00\x01binary garbage", "application/octet-stream"),
    }
    cfg = config.load(site_with(tmp_path, http_server, routes))
    start = time.monotonic()
    report = once.fetch_and_build(cfg, T0)
    assert time.monotonic() - start < 20
    status = {o.source_id: o.status for o in report.sources}
    assert status["good"] == "ok" and status["empty"] == "ok" and status["dtd"] == "ok"
    for name in (
        "laughs",
        "quadratic",
        "xxe",
        "xxeremote",
        "big",
        "bomb",
        "drip",
        "loop",
        "metadata",
        "missing",
        "broken",
        "html",
        "notxml",
    ):
        assert status[name] == "error", name
    messages = {o.source_id: o.error or "" for o in report.sources}
    assert "declares XML entities" in messages["laughs"]
    assert "declares XML entities" in messages["quadratic"]
    assert "declares XML entities" in messages["xxe"]
    assert "too large" in messages["big"] and "after decompression" in messages["bomb"]
    assert "timed out" in messages["drip"] and "more than 5 redirects" in messages["loop"]
    assert "169.254.169.254" in messages["metadata"] and "HTTP 404" in messages["missing"]
    assert "HTML page" in messages["html"]
    problems = "\n".join(map(str, report.problems.items))
    assert (
        f"source 'broken' ({http_server.url('/broken')}): error: fetch failed: HTTP 500" in problems
    )
    assert "declares XML entities" in messages["xxeremote"]
    assert second_server.requests == []  # neither the external entity nor the DTD was fetched
    assert [e.title for e in parse_feed(cfg.output_dir / "good.rss.xml").entries] == ["正常条目"]
    assert [e.title for e in parse_feed(cfg.output_dir / "dtd.rss.xml").entries] == ["条目"]
    check_all_outputs(cfg.output_dir)


def test_repaired_entries(tmp_path: Path, http_server: LocalServer) -> None:
    items = (
        "<item><title>重复一</title><guid>same</guid><link>https://src.example/1</link>"
        "<pubDate>Fri, 10 Jun 2022 02:00:00 GMT</pubDate></item>"
        "<item><title>重复二</title><guid>same</guid><link>https://src.example/2</link>"
        "<pubDate>Fri, 10 Jun 2022 03:00:00 GMT</pubDate></item>"
        "<item><title>一九七零</title><link>https://src.example/3</link>"
        "<pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate></item>"
        "<item><title>二一零零</title><link>https://src.example/4</link>"
        "<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>"
        "<item><title>脚本</title><link>javascript:alert(1)</link><description>"
        '&lt;a href="java&amp;#115;cript:alert(1)"&gt;x&lt;/a&gt;&lt;script&gt;alert(2)'
        "&lt;/script&gt;正文</description><pubDate>Fri, 10 Jun 2022 04:00:00 GMT</pubDate>"
        "</item>"
        "<item><title>控制\x01字符</title><link>https://src.example/6</link>"
        "<pubDate>Fri, 10 Jun 2022 05:00:00 GMT</pubDate></item>"
    )
    body = rss(items).replace("控制\x01字符".encode(), "控制&#1;字符".encode())
    cfg = config.load(site_with(tmp_path, http_server, {"src": srv.static(body)}))
    report = once.fetch_and_build(cfg, T0)
    assert [o.status for o in report.sources] == ["ok"]
    feed = parse_feed(cfg.output_dir / "src.atom.xml")
    by_title = {e.title: e for e in feed.entries}
    assert {"重复一", "重复二", "一九七零", "二一零零", "脚本"} <= set(by_title)
    assert by_title["重复一"].id != by_title["重复二"].id
    first_seen = "2022-06-12T20:00:00+08:00"
    raw = (cfg.output_dir / "src.atom.xml").read_text(encoding="utf-8")
    assert raw.count(f"<published>{first_seen}</published>") == 2  # 1970 and 2100 clamped
    assert "alert" not in raw and "javascript" not in raw.lower()
    assert by_title["脚本"].link == "https://src.example/"
    problems = "\n".join(map(str, report.problems.items))
    assert "implausibly old" in problems and "in the future" in problems
    assert "not http(s)" in problems
    check_all_outputs(cfg.output_dir)


def test_gbk_body_labelled_utf8(tmp_path: Path, http_server: LocalServer) -> None:
    body = rss(
        "<item><title>国标编码的标题</title><link>https://src.example/1</link>"
        "<pubDate>Fri, 10 Jun 2022 02:00:00 GMT</pubDate></item>",
        "中文源",
    )
    gbk = body.decode("utf-8").encode("gbk")
    cfg = config.load(
        site_with(
            tmp_path, http_server, {"gbk": srv.static(gbk, "application/rss+xml; charset=utf-8")}
        )
    )
    report = once.fetch_and_build(cfg, T0)
    assert [o.status for o in report.sources] == ["ok"]
    assert [e.title for e in parse_feed(cfg.output_dir / "gbk.rss.xml").entries] == [
        "国标编码的标题"
    ]
    assert any("gb18030" in str(p).lower() for p in report.problems.items)


def test_malformed_but_recoverable_keeps_entries(tmp_path: Path, http_server: LocalServer) -> None:
    body = rss(
        "<item><title>A & B 未转义</title><link>https://src.example/1</link>"
        "<pubDate>Fri, 10 Jun 2022 02:00:00 GMT</pubDate></item>"
    )
    cfg = config.load(site_with(tmp_path, http_server, {"loose": srv.static(body)}))
    report = once.fetch_and_build(cfg, T0)
    assert [o.status for o in report.sources] == ["ok"]
    assert any("not well-formed, entries kept" in str(p) for p in report.problems.items)
    assert parse_feed(cfg.output_dir / "loose.rss.xml").entries[0].title == "A & B 未转义"
    with Store(cfg.store.path) as store:
        assert store.entries.counts()["loose"] == 1


def test_a_big_round_parses_in_worker_processes(tmp_path: Path, http_server: LocalServer) -> None:
    """Worker processes are only used by a single-threaded process (the test runner has the
    server's thread), so this runs the real CLI in a subprocess."""
    from feeds.aggregate import fetchround

    routes: dict[str, srv.Handler] = {}
    for i in range(fetchround.PARSE_PROCESSES_AT + 5):
        routes[f"s{i:02d}"] = srv.static(
            rss(
                f"<item><title>条目{i}</title><link>https://src.example/{i}</link>"
                f"<pubDate>Fri, 10 Jun 2022 02:00:00 GMT</pubDate></item>"
            )
        )
    routes["broken"] = srv.static(LAUGHS)  # a ParseError raised in a worker process
    config_path = site_with(tmp_path, http_server, routes)
    proc = run_cli("fetch", "-c", config_path, "-vv")
    assert proc.returncode == 1
    assert "parsing in worker processes=" in proc.stderr
    assert "source 'broken'" in proc.stderr and "declares XML entities" in proc.stderr
    status = json.loads(run_cli("status", "-c", config_path, "--json").stdout)["sources"]
    assert {s["id"]: s["entries"] for s in status if s["id"] != "broken"} == {
        f"s{i:02d}": 1 for i in range(fetchround.PARSE_PROCESSES_AT + 5)
    }
