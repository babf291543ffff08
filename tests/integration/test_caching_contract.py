"""The caching contract a CDN or a static host sees: ``feeds serve`` sends Last-Modified =
the newest entry's time, ETag = the content's hash and Cache-Control from the build schedule,
answers revalidations with 304, and the nginx snippet and ``_headers`` file the build writes
give the same values. Where nginx is installed it serves the folder with the snippet, and, as
a caching proxy in front of ``feeds serve``, revalidates an expired copy and gets a 304."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from feeds import serve
from feeds.config import config
from feeds.generate import pipeline
from feeds.run import once
from tests.helpers import BASE_CONFIG, Site, make_site, parse_feed, post_text
from tests.integration.test_subscribers import fetch

NOW = dt.datetime(2022, 9, 15, 12, 0, tzinfo=dt.UTC)
CONTROL = "public, max-age=150, stale-while-revalidate=600"  # schedule.build 10m
TAG = "tags/" + urllib.parse.quote("经济") + ".rss.xml"
SAMPLES = ("news.rss.xml", "news.atom.xml", "news.json", "feeds.opml", "feed.xsl", TAG)


def build(site: Site, now: dt.datetime = NOW) -> pipeline.Report:
    report = once.fetch_and_build(config.load(site.config), now)
    assert report.ok, report.problems.items
    return report


@pytest.fixture
def site(tmp_path: Path) -> Site:
    s = make_site(
        tmp_path, "schedule:\n  build: 10m\nfeeds:\n  tag_feeds: true\n  archives: true\n"
    )
    s.post("2022-08-05-a.md", post_text("八月", "2022-08-05 09:00:00 +0800", "news"))
    s.post("2022-09-01-b.md", post_text("九月", "2022-09-01 09:00:00 +0800", "news", "[经济]"))
    s.post("2022-09-02-c.md", post_text("九月二", "2022-09-02 10:30:00 +0800", "news", "[经济]"))
    build(s)
    return s


@contextmanager
def served(out: Path, log: list[tuple[str, int]] | None = None) -> Iterator[str]:
    def record(method: str, path: str, status: int) -> None:
        if log is not None:
            log.append((path, status))

    server = serve.make_server(out, "127.0.0.1", 0, "/feeds/", record)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feeds/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def http_date(when: dt.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)


def test_served_headers(site: Site) -> None:
    with served(site.out) as base:
        status, h, body = fetch(base + "news.atom.xml")
        assert status == 200
        assert h["ETag"] == '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        newest = dt.datetime(2022, 9, 2, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        # the newest entry's time, which the feed itself says, not when the file was written
        assert h["Last-Modified"] == http_date(newest)
        assert parse_feed(site.out / "news.atom.xml").feed.updated == newest.isoformat()
        assert h["Cache-Control"] == CONTROL and h["Vary"] == "Accept-Encoding"
        # a closed month's archive: its own newest entry; the index: the newest of all
        august = fetch(base + "archive/news/2022-08.rss.xml")[1]["Last-Modified"]
        assert august == http_date(dt.datetime(2022, 8, 5, 1, 0, tzinfo=dt.UTC))
        assert fetch(base + "index.html")[1]["Last-Modified"] == http_date(newest)
        # a later build does not read the closed archive again, and keeps what it recorded
        site.post("2022-09-10-d.md", post_text("新的", "2022-09-10 08:00:00 +0800", "news"))
        build(site, NOW + dt.timedelta(minutes=10))
        assert fetch(base + "archive/news/2022-08.rss.xml")[1]["Last-Modified"] == august
        # what the build states for readers agrees: RSS ttl (minutes) and sy: elements
        rss = (site.out / "news.rss.xml").read_text(encoding="utf-8")
        assert "<ttl>10</ttl>" in rss and "<sy:updateFrequency>6</sy:updateFrequency>" in rss


def test_a_cdn_revalidating_gets_304_until_the_feed_changes(site: Site) -> None:
    with served(site.out) as base:
        url = base + "news.rss.xml"
        _, first, _ = fetch(url)
        both = {"If-None-Match": first["ETag"], "If-Modified-Since": first["Last-Modified"]}
        build(site, NOW + dt.timedelta(minutes=10))  # the next scheduled build: nothing new
        status, h, body = fetch(url, **both)
        assert (status, body) == (304, b"")
        assert h["ETag"] == first["ETag"] and h["Cache-Control"] == CONTROL
        assert h["Last-Modified"] == first["Last-Modified"]
        # a CDN that compressed the body and weakened the tag still revalidates
        weak = "W/" + first["ETag"][:-1] + '-gz"'
        assert fetch(url, **{"If-None-Match": weak})[0] == 304
        assert fetch(url, **{"If-Modified-Since": first["Last-Modified"]})[0] == 304
        before = http_date(dt.datetime(2022, 9, 2, 2, 29, 59, tzinfo=dt.UTC))
        assert fetch(url, **{"If-Modified-Since": before})[0] == 200
        # an edit to an older entry: the newest time stays, the content's hash does not
        site.post("2022-09-01-b.md", post_text("九月改", "2022-09-01 09:00:00 +0800", "news"))
        build(site, NOW + dt.timedelta(minutes=20))
        status, h, body = fetch(url, **both)
        assert status == 200 and "九月改".encode() in body and h["ETag"] != first["ETag"]
        # a new post: a new tag and a later Last-Modified
        site.post("2022-09-10-d.md", post_text("新的", "2022-09-10 08:00:00 +0800", "news"))
        build(site, NOW + dt.timedelta(minutes=30))
        status, h, _ = fetch(url, **both)
        assert status == 200 and h["ETag"] != first["ETag"]
        assert email.utils.parsedate_to_datetime(h["Last-Modified"]) > (
            email.utils.parsedate_to_datetime(first["Last-Modified"])
        )


def test_a_future_entry_never_makes_last_modified_later_than_now(tmp_path: Path) -> None:
    s = make_site(tmp_path)
    s.write_config(base=BASE_CONFIG.replace("[_posts]\n", "[_posts]\n  future: true\n"))
    s.post("2030-01-01-f.md", post_text("未来", "2030-01-01 08:00:00 +0800", "news"))
    build(s)
    server = serve.make_server(s.out, "127.0.0.1", 0, "/feeds/", clock=lambda: 1_700_000_000)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        h = fetch(f"http://127.0.0.1:{server.server_address[1]}/feeds/news.rss.xml")[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert h["Last-Modified"] == email.utils.formatdate(1_700_000_000, usegmt=True)


def headers_rules(text: str) -> list[tuple[re.Pattern[str], dict[str, str]]]:
    """A ``_headers`` file as its hosts read it: a path line (one ``*`` splat, greedy) and
    its indented ``Name: value`` lines."""
    rules: list[tuple[re.Pattern[str], dict[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            assert line.count("*") <= 1, f"Cloudflare allows one splat per rule: {line}"
            pattern = re.compile(".*".join(re.escape(p) for p in line.split("*")) + "$")
            rules.append((pattern, {}))
        else:
            name, _, value = line.strip().partition(": ")
            rules[-1][1][name] = value
    return rules


def test_headers_file_gives_what_serve_sends(site: Site) -> None:
    rules = headers_rules((site.out / "_headers").read_text(encoding="utf-8"))
    with served(site.out) as base:
        for rel in SAMPLES:
            sent = fetch(base + rel)[1]
            matched: dict[str, list[str]] = {}
            for pattern, headers in rules:
                if pattern.match("/feeds/" + rel):
                    for name, value in headers.items():
                        matched.setdefault(name, []).append(value)
            # hosts send every matching rule's value (joined): each header exactly once
            assert matched == {
                "Cache-Control": [sent["Cache-Control"]],
                "Content-Type": [sent["Content-Type"]],
            }, rel


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def nginx(tmp: Path, server_block: str, http_extra: str = "") -> Iterator[str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).is_file():
        pytest.skip("nginx is not installed (Debian's nginx-light)")
    port = _free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    temps = " ".join(
        f"{k}_temp_path {tmp}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n {temps}\n {http_extra}\n"
        f" server {{\n  listen 127.0.0.1:{port};\n  {server_block}\n }}\n}}\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [binary, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # bounded: 10 s
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_nginx_with_the_written_snippet_sends_what_serve_sends(site: Site, tmp_path: Path) -> None:
    block = f"location /feeds/ {{ alias {site.out}/; include {site.out}/feeds-nginx.conf; }}"
    with nginx(tmp_path / "nginx", block) as host, served(site.out) as base:
        for rel in SAMPLES:
            ours, theirs = fetch(base + rel)[1], fetch(f"{host}/feeds/{rel}")[1]
            assert theirs["Content-Type"] == ours["Content-Type"], rel
            assert theirs["Cache-Control"] == ours["Cache-Control"] == CONTROL, rel
        _, h, _ = fetch(f"{host}/feeds/news.rss.xml")
        assert fetch(f"{host}/feeds/news.rss.xml", **{"If-None-Match": h["ETag"]})[0] == 304
        assert fetch(f"{host}/feeds/.feeds-manifest")[0] == 403  # dot files are not published


def test_a_caching_proxy_revalidates_with_feeds_serve_and_gets_304(
    site: Site, tmp_path: Path
) -> None:
    """nginx as the CDN: it keeps its copy for a second, then asks ``feeds serve`` with the
    copy's validators; the origin answers 304 and the proxy serves its copy again."""
    origin_log: list[tuple[str, int]] = []
    with served(site.out, origin_log) as base:
        block = (
            f"location /feeds/ {{ proxy_pass http://{urllib.parse.urlsplit(base).netloc}; "
            "proxy_cache edge; proxy_cache_revalidate on; proxy_ignore_headers Cache-Control; "
            "proxy_cache_valid 200 1s; add_header X-Cache $upstream_cache_status; }"
        )
        cache = f"proxy_cache_path {tmp_path}/edge-cache keys_zone=edge:1m;"
        with nginx(tmp_path / "nginx", block, cache) as edge:
            url = f"{edge}/feeds/news.rss.xml"
            status, h, body = fetch(url)
            assert status == 200 and h["X-Cache"] == "MISS"
            assert body == (site.out / "news.rss.xml").read_bytes()
            for _ in range(50):  # bounded: until the proxy's copy has expired (1 s)
                time.sleep(0.1)
                status, h, again = fetch(url)
                if h["X-Cache"] != "HIT":
                    break
            assert (status, h["X-Cache"], again) == (200, "REVALIDATED", body)
    assert origin_log[0] == ("/feeds/news.rss.xml", 200)
    assert origin_log[-1] == ("/feeds/news.rss.xml", 304)
