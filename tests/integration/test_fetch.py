"""The fetcher against a real HTTP server on 127.0.0.1: every response kind, every hostile one."""

from __future__ import annotations

import gzip
import time
import zlib

import pytest

from feeds.collect.http import Fetcher, FetchError, parse_retry_after
from feeds.config.config import FetchConfig
from tests import server as srv
from tests.server import LocalServer

LOOPBACK = ("127.0.0.0/8",)
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def fetcher(**kw: object) -> Fetcher:
    base = {"user_agent": "feeds-test/1", "deadline": 3.0, "connect_timeout": 2.0}
    return Fetcher(FetchConfig(**{**base, **kw}))  # type: ignore[arg-type]


def test_200_with_headers_and_user_agent(http_server: LocalServer) -> None:
    http_server.routes["/a.xml"] = srv.with_etag(RSS)
    with fetcher() as f:
        r = f.fetch(http_server.url("/a.xml"), allow_networks=LOOPBACK)
    assert r.status == 200 and r.body == RSS
    assert r.etag == '"v1"' and r.last_modified == "Thu, 09 Jun 2022 06:36:33 GMT"
    assert r.headers["content-type"].startswith("application/rss+xml")
    req = http_server.requests[-1]
    assert req.headers["user-agent"] == "feeds-test/1"
    assert req.headers["host"] == f"127.0.0.1:{http_server.port}"
    assert "gzip" in req.headers["accept-encoding"]


def test_conditional_get_gives_304(http_server: LocalServer) -> None:
    http_server.routes["/a.xml"] = srv.with_etag(RSS)
    with fetcher() as f:
        r = f.fetch(
            http_server.url("/a.xml"), etag='"v1"', last_modified="x", allow_networks=LOOPBACK
        )
    assert r.not_modified and r.body == b"" and r.etag == '"v1"'
    assert http_server.requests[-1].headers["if-none-match"] == '"v1"'
    assert http_server.requests[-1].headers["if-modified-since"] == "x"


def test_loopback_refused_unless_allowed(http_server: LocalServer) -> None:
    http_server.routes["/a.xml"] = srv.static(RSS)
    with fetcher() as f, pytest.raises(FetchError, match=r"127\.0\.0\.1, a private, loopback"):
        f.fetch(http_server.url("/a.xml"))
    assert http_server.requests == []  # refused before connecting


@pytest.mark.parametrize("status", [404, 410, 500])
def test_http_errors_name_status_and_url(http_server: LocalServer, status: int) -> None:
    http_server.routes["/e"] = srv.static(b"no", "text/plain", status=status)
    with fetcher() as f, pytest.raises(FetchError) as info:
        f.fetch(http_server.url("/e"), allow_networks=LOOPBACK)
    assert info.value.status == status
    assert f"HTTP {status}" in str(info.value) and http_server.url("/e") in str(info.value)
    assert info.value.gone is (status == 410) and not info.value.network


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after(http_server: LocalServer, status: int) -> None:
    http_server.routes["/busy"] = srv.static(
        b"", "text/plain", status=status, headers={"Retry-After": "120"}
    )
    with fetcher() as f, pytest.raises(FetchError) as info:
        f.fetch(http_server.url("/busy"), allow_networks=LOOPBACK)
    assert info.value.retry_after == 120.0


def test_retry_after_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480.0 - 60) == 60.0
    assert parse_retry_after("soon", 0) is None and parse_retry_after(None, 0) is None


def test_redirects_followed_and_final_url_kept(http_server: LocalServer) -> None:
    http_server.routes["/old"] = srv.redirect("/mid", 301)
    http_server.routes["/mid"] = srv.redirect(http_server.url("/new.xml"), 307)
    http_server.routes["/new.xml"] = srv.static(RSS)
    with fetcher() as f:
        r = f.fetch(http_server.url("/old"), allow_networks=LOOPBACK)
    assert r.body == RSS and r.url == http_server.url("/new.xml")


def test_redirect_loop_stops(http_server: LocalServer) -> None:
    http_server.routes["/a"] = srv.redirect("/b")
    http_server.routes["/b"] = srv.redirect("/a")
    with fetcher(max_redirects=5) as f, pytest.raises(FetchError, match="more than 5 redirects"):
        f.fetch(http_server.url("/a"), allow_networks=LOOPBACK)
    assert len(http_server.requests) == 6


def test_redirect_to_link_local_metadata_refused(http_server: LocalServer) -> None:
    http_server.routes["/a"] = srv.redirect("http://169.254.169.254/latest/meta-data/")
    with fetcher() as f, pytest.raises(FetchError, match=r"169\.254\.169\.254"):
        f.fetch(http_server.url("/a"), allow_networks=LOOPBACK)


def test_gzip_and_deflate(http_server: LocalServer) -> None:
    http_server.routes["/gz"] = srv.gzipped(RSS)
    http_server.routes["/zlib"] = srv.static(
        zlib.compress(RSS), headers={"Content-Encoding": "deflate"}
    )
    raw = zlib.compressobj(wbits=-15)
    http_server.routes["/raw"] = srv.static(
        raw.compress(RSS) + raw.flush(), headers={"Content-Encoding": "deflate"}
    )
    with fetcher() as f:
        for path in ("/gz", "/zlib", "/raw"):
            assert f.fetch(http_server.url(path), allow_networks=LOOPBACK).body == RSS


def test_gzip_bomb_stops_at_the_cap(http_server: LocalServer) -> None:
    bomb = gzip.compress(b"\0" * (200 * 1024 * 1024))  # 200 MiB of zeros, ~200 KB on the wire
    http_server.routes["/bomb"] = srv.static(bomb, headers={"Content-Encoding": "gzip"})
    with (
        fetcher(max_bytes=1024 * 1024) as f,
        pytest.raises(FetchError, match="after decompression"),
    ):
        f.fetch(http_server.url("/bomb"), allow_networks=LOOPBACK)


def test_big_body_refused(http_server: LocalServer) -> None:
    http_server.routes["/declared"] = srv.static(b"x" * (2 * 1024 * 1024))
    http_server.routes["/streamed"] = srv.huge(50 * 1024 * 1024)
    with fetcher(max_bytes=1024 * 1024) as f:
        with pytest.raises(FetchError, match="2,097,152 bytes declared"):
            f.fetch(http_server.url("/declared"), allow_networks=LOOPBACK)
        with pytest.raises(FetchError, match="more than 1,048,576 bytes"):
            f.fetch(http_server.url("/streamed"), allow_networks=LOOPBACK)


def test_slow_drip_is_cut_at_the_deadline(http_server: LocalServer) -> None:
    http_server.routes["/drip"] = srv.drip(total=100, interval=0.2, max_seconds=10)
    start = time.monotonic()
    with fetcher(deadline=1.0) as f, pytest.raises(FetchError, match="timed out") as info:
        f.fetch(http_server.url("/drip"), allow_networks=LOOPBACK)
    assert time.monotonic() - start < 2.5
    assert info.value.network


def test_connection_refused_is_a_network_error() -> None:
    with fetcher() as f, pytest.raises(FetchError, match="cannot connect") as info:
        f.fetch("http://127.0.0.1:9/feed.xml", allow_networks=LOOPBACK)
    assert info.value.network


def test_local_file_and_its_304(tmp_path: object) -> None:
    from pathlib import Path

    p = Path(str(tmp_path)) / "f.xml"
    p.write_bytes(RSS)
    with fetcher() as f:
        r = f.fetch(p.as_uri())
        assert r.body == RSS and r.last_modified
        assert f.fetch(p.as_uri(), last_modified=r.last_modified).not_modified
        with pytest.raises(FetchError, match="cannot read"):
            f.fetch((p.parent / "missing.xml").as_uri())
