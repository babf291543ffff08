"""Hostile HTTP servers on 127.0.0.1 (raw sockets, so they can break HTTP the way attackers
do) against the fetcher: none of them holds a fetch past its deadline or loses entries in
silence. ``FEEDS_LONG_FAULTS=1`` runs the long variants (a 3 s deadline against 40 s drips)."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from feeds.collect.http import Fetcher, FetchError
from feeds.config import config
from feeds.config.config import FetchConfig
from feeds.errors import FetchStopped
from feeds.run import once
from tests import server as srv
from tests.helpers import make_site
from tests.server import LocalServer

LOOPBACK = ("127.0.0.0/8",)
LONG = os.environ.get("FEEDS_LONG_FAULTS") == "1"
DEADLINE = 3.0 if LONG else 1.0
DRIP_FOR = 40.0 if LONG else 8.0  # how long each server is willing to drip
RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<item><title>a</title><guid>a</guid></item></channel></rss>"
)

Talk = Callable[[socket.socket, threading.Event], None]


def _read_request(conn: socket.socket) -> None:
    data = b""
    conn.settimeout(5)
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


@pytest.fixture
def raw_server() -> Iterator[Callable[[Talk], str]]:
    """``start(talk)`` → a URL; ``talk(conn, stop)`` answers each connection (bounded)."""
    stop = threading.Event()
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(talk: Talk) -> str:
        lsock = socket.create_server(("127.0.0.1", 0))
        lsock.settimeout(0.2)
        listeners.append(lsock)

        def serve() -> None:
            for _ in range(20):  # at most 20 connections per test
                while not stop.is_set():
                    try:
                        conn, _addr = lsock.accept()
                        break
                    except TimeoutError:
                        continue
                else:
                    return
                with conn:
                    try:
                        _read_request(conn)
                        talk(conn, stop)
                    except OSError:
                        pass  # the client hung up: what a deadline does

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        threads.append(t)
        return f"http://127.0.0.1:{lsock.getsockname()[1]}/feed.xml"

    yield start
    stop.set()
    for t in threads:
        t.join(5)
    for s in listeners:
        s.close()


def _drip(conn: socket.socket, stop: threading.Event, data: bytes, every: float) -> None:
    start = time.monotonic()
    for byte in data:
        if stop.is_set() or time.monotonic() - start > DRIP_FOR:
            return
        conn.sendall(bytes([byte]))
        time.sleep(every)


def drip_headers(conn: socket.socket, stop: threading.Event) -> None:
    _drip(conn, stop, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 4000 + b"\r\n\r\n", 0.25)


def endless_102(conn: socket.socket, stop: threading.Event) -> None:
    start = time.monotonic()
    while not stop.is_set() and time.monotonic() - start < DRIP_FOR:
        conn.sendall(b"HTTP/1.1 102 Processing\r\n\r\n")
        time.sleep(0.05)


def drip_chunk_size(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    _drip(conn, stop, b"0" * 4000 + b"10\r\n", 0.25)


def fetcher(**kw: object) -> Fetcher:
    base = {"user_agent": "feeds-test/1", "deadline": DEADLINE, "connect_timeout": 2.0}
    return Fetcher(FetchConfig(**{**base, **kw}))  # type: ignore[arg-type]


@pytest.mark.parametrize("talk", [drip_headers, endless_102, drip_chunk_size])
def test_the_deadline_covers_the_whole_exchange(
    raw_server: Callable[[Talk], str], talk: Talk
) -> None:
    """Promise: a server dripping its headers, sending 102 Processing for ever or dripping a
    chunk-size line cannot hold a fetch past ``fetch.deadline`` (a wall-clock total, not a
    per-read timeout); the error says it timed out after the deadline."""
    url = raw_server(talk)
    start = time.monotonic()
    with fetcher() as f, pytest.raises(FetchError) as info:
        f.fetch(url, allow_networks=LOOPBACK)
    elapsed = time.monotonic() - start
    assert f"timed out after {DEADLINE:g} s" in str(info.value)
    assert info.value.url == url and info.value.network
    assert elapsed < DEADLINE + DRIP_FOR / 2  # bounded: without a total it runs DRIP_FOR


def test_dns_is_inside_the_deadline() -> None:
    """Promise: a resolver that never answers costs no more than the fetch deadline."""
    release = threading.Event()

    def stuck(host: str, port: int | None) -> list[str]:
        release.wait(DRIP_FOR)  # a resolver that does not answer (bounded for the test)
        return ["127.0.0.1"]

    try:
        cfg = FetchConfig(user_agent="t", deadline=DEADLINE, connect_timeout=2.0)
        start = time.monotonic()
        with Fetcher(cfg, resolve=stuck) as f, pytest.raises(FetchError) as info:
            f.fetch("http://feed.invalid/x.xml", allow_networks=LOOPBACK)
        assert time.monotonic() - start < DEADLINE + DRIP_FOR / 2
        assert f"timed out after {DEADLINE:g} s" in str(info.value) and info.value.network
    finally:
        release.set()


def _stopped_soon(after: float = 0.3) -> Callable[[], bool]:
    """A stop check that says stop ``after`` seconds from now (as SIGTERM sets the daemon's)."""
    at = time.monotonic() + after
    return lambda: time.monotonic() >= at


@pytest.fixture
def syn_sink() -> Iterator[str]:
    """A URL whose host never completes a TCP handshake: a listener with a full backlog that
    never accepts, so the kernel drops further SYNs (a host that is down or filtered)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    fillers = []
    port = lsock.getsockname()[1]
    try:
        for _ in range(4):  # more than the backlog holds
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
        yield f"http://127.0.0.1:{port}/feed.xml"
    finally:
        for c in fillers:
            c.close()
        lsock.close()


@pytest.mark.parametrize("talk", [drip_headers, endless_102, drip_chunk_size, None])
def test_a_stopping_fetch_ends_within_a_moment_not_at_its_deadline(
    raw_server: Callable[[Talk], str], syn_sink: str, talk: Talk | None
) -> None:
    """Promise: once the stop check says stop (the daemon got SIGTERM), a fetch under way
    ends within a moment with ``FetchStopped`` — whatever the server does (drips headers,
    sends 102 for ever, drips a chunk size, never completes the handshake) — not when its
    deadline (here 60 s) would end it."""
    url = raw_server(talk) if talk is not None else syn_sink
    cfg = FetchConfig(user_agent="t", deadline=60.0, connect_timeout=60.0)
    start = time.monotonic()
    with Fetcher(cfg, should_stop=_stopped_soon()) as f, pytest.raises(FetchStopped):
        f.fetch(url, allow_networks=LOOPBACK)
    assert time.monotonic() - start < DRIP_FOR / 2  # bounded: without it, DRIP_FOR or 60 s


def test_a_stopping_fetch_does_not_wait_for_a_stuck_resolver() -> None:
    """Promise: name resolution that never answers does not hold a stopping fetch either."""
    release = threading.Event()

    def stuck(host: str, port: int | None) -> list[str]:
        release.wait(DRIP_FOR)
        return ["127.0.0.1"]

    try:
        cfg = FetchConfig(user_agent="t", deadline=60.0, connect_timeout=2.0)
        start = time.monotonic()
        with (
            Fetcher(cfg, resolve=stuck, should_stop=_stopped_soon()) as f,
            pytest.raises(FetchStopped),
        ):
            f.fetch("http://feed.invalid/x.xml", allow_networks=LOOPBACK)
        assert time.monotonic() - start < DRIP_FOR / 2
    finally:
        release.set()


def _respond(body: bytes, headers: bytes) -> Talk:
    def talk(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n" + headers + b"\r\n" + body)

    return talk


def test_every_gzip_member_is_decoded(raw_server: Callable[[Talk], str]) -> None:
    """Promise: a gzip body of two members (legal, RFC 1952) gives the whole document."""
    half = len(RSS) // 2
    body = gzip.compress(RSS[:half]) + gzip.compress(RSS[half:])
    url = raw_server(_respond(body, b"Content-Encoding: gzip\r\n"))
    with fetcher() as f:
        assert f.fetch(url, allow_networks=LOOPBACK).body == RSS


def test_gzip_members_share_one_size_cap(raw_server: Callable[[Talk], str]) -> None:
    """Promise: the decompressed-size cap holds across members (no bomb in many parts)."""
    body = gzip.compress(b"\0" * 600_000) * 4
    url = raw_server(_respond(body, b"Content-Encoding: gzip\r\n"))
    with (
        fetcher(max_bytes=1_000_000) as f,
        pytest.raises(FetchError, match="after decompression"),
    ):
        f.fetch(url, allow_networks=LOOPBACK)


def test_a_body_labelled_gzip_but_plain_is_read_as_it_is(
    raw_server: Callable[[Talk], str],
) -> None:
    """Promise: a server that says gzip but sends the plain document still gives its entries."""
    url = raw_server(_respond(RSS, b"Content-Encoding: gzip\r\n"))
    with fetcher() as f:
        assert f.fetch(url, allow_networks=LOOPBACK).body == RSS


@pytest.mark.parametrize(
    "head, body",
    [
        (b"Content-Length: 5000\r\n", RSS),
        (b"Transfer-Encoding: chunked\r\n", b"%x\r\n" % len(RSS) + RSS + b"\r\n"),
        (b"Content-Encoding: gzip\r\n", gzip.compress(RSS)[:-20]),
    ],
    ids=["content-length", "chunked", "gzip"],
)
def test_a_truncated_body_is_reported_as_truncated(
    raw_server: Callable[[Talk], str], head: bytes, body: bytes
) -> None:
    """Promise: a body cut off before its end is an error that says "truncated", not
    "cannot connect" (the host was reached; the document is incomplete)."""
    url = raw_server(_respond(body, head))
    with fetcher() as f, pytest.raises(FetchError, match="truncated") as info:
        f.fetch(url, allow_networks=LOOPBACK)
    assert "cannot connect" not in str(info.value) and not info.value.network


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """A guard, not a stand-in: any connection to an address outside loopback is stopped
    here and recorded, so a regression in the address checks sends no packet anywhere."""
    attempts: list[object] = []
    real = socket.create_connection

    def guarded(address: tuple[str, int], *args: object, **kw: object) -> socket.socket:
        if address[0] not in ("127.0.0.1", "::1"):
            attempts.append(address)
            raise ConnectionRefusedError("test guard: not a loopback address")
        return real(address, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "create_connection", guarded)
    return attempts


SSRF_FORMS = [
    ("64:ff9b::808:808", "NAT64"),  # well-known NAT64 prefix, embeds public 8.8.8.8
    ("64:ff9b::7f00:1", "NAT64"),  # ... embeds 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "NAT64"),  # ... embeds the metadata address 169.254.169.254
    ("64:ff9b:1:7f00:0:100::", "NAT64"),  # local-use NAT64 /48 (RFC 8215), 127.0.0.1
    ("64:ff9b:1:808:8:800::", "NAT64"),  # ... public 8.8.8.8
    ("2002:7f00:1::1", "6to4"),  # 6to4 of 127.0.0.1
    ("2002:808:808::1", "6to4"),  # 6to4 of public 8.8.8.8
    ("::7f00:1", "IPv4-compatible"),  # deprecated IPv4-compatible ::127.0.0.1
    ("::808:808", "IPv4-compatible"),  # ... ::8.8.8.8
    ("::ffff:10.0.0.1", "IPv4-mapped .*private"),  # IPv4-mapped private address
    ("::ffff:a9fe:a9fe", "IPv4-mapped .*private"),  # IPv4-mapped metadata address
    ("fec0::1", "site-local"),  # deprecated site-local
    ("ff02::1", "multicast"),  # link-local multicast
    ("ff0e::1", "multicast"),  # global-scope multicast
    ("224.0.0.1", "multicast"),  # IPv4 multicast
    ("239.255.255.250", "multicast"),  # IPv4 administratively scoped multicast (SSDP)
    ("2001::1", "Teredo"),  # Teredo
]


@pytest.mark.parametrize("address, kind", SSRF_FORMS, ids=[a for a, _ in SSRF_FORMS])
def test_every_ssrf_address_form_is_refused_before_connecting(
    http_server: LocalServer, loopback_only: list[object], address: str, kind: str
) -> None:
    """Promise: a host resolving to a translated (NAT64, 6to4, IPv4-compatible), mapped,
    site-local or multicast address is refused before any connection, like the private and
    loopback ones; an address that embeds an IPv4 address is judged by that address too."""
    http_server.routes["/x.xml"] = srv.static(RSS)
    cfg = FetchConfig(user_agent="t", deadline=DEADLINE, connect_timeout=1.0)
    with (
        Fetcher(cfg, resolve=lambda host, port: [address]) as f,
        pytest.raises(FetchError, match=f"refused: feed.test resolves to .*{kind}"),
    ):
        f.fetch(f"http://feed.test:{http_server.port}/x.xml", allow_networks=LOOPBACK)
    assert http_server.requests == [] and loopback_only == []


def test_a_nat64_prefix_can_be_allowed_and_its_embedded_address_is_still_judged(
    loopback_only: list[object],
) -> None:
    """Promise: on an IPv6-only host behind DNS64 the operator can allow 64:ff9b::/96; a
    NAT64 address is then judged by the IPv4 address it embeds (loopback still refused)."""
    cfg = FetchConfig(user_agent="t", deadline=DEADLINE, connect_timeout=1.0)
    with Fetcher(cfg, resolve=lambda host, port: ["64:ff9b::7f00:1"]) as f:
        with pytest.raises(FetchError, match=r"embeds 127\.0\.0\.1, a private"):
            f.fetch("http://feed.test/x.xml", allow_networks=("64:ff9b::/96",))
        with pytest.raises(FetchError, match="cannot connect"):  # allowed: it tries (guarded)
            f.fetch("http://feed.test/x.xml", allow_networks=("64:ff9b::/96", "127.0.0.0/8"))
    assert loopback_only == [("64:ff9b::7f00:1", 80)]


def test_validators_with_non_ascii_bytes_are_sent_back_byte_for_byte(
    tmp_path: Path, http_server: LocalServer
) -> None:
    """Promise: an ETag or Last-Modified with non-ASCII bytes (obs-text, RFC 9110) never stops
    a source: the next request is sent, with the validators exactly as the server sent them."""
    etag = '"\xe9t\xe9-\xff"'  # sent as the latin-1 bytes E9 74 E9 2D FF
    modified = "Thu, 09 Jun 2022 06:36:33 GMT \xe0"
    seen: list[tuple[str | None, str | None]] = []

    def handle(h: BaseHTTPRequestHandler) -> None:  # http.server reads headers as latin-1
        seen.append((h.headers.get("If-None-Match"), h.headers.get("If-Modified-Since")))
        if h.headers.get("If-None-Match") == etag:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        srv.send(h, 200, RSS, headers={"ETag": etag, "Last-Modified": modified})

    http_server.routes["/v.xml"] = handle
    extra = (
        "fetch:\n  allow_networks: [127.0.0.0/8]\n  deadline: 2s\nstate:\n  dir: state\n"
        f"sources:\n  - id: v\n    url: {http_server.url('/v.xml')}\n    categories: [v]\n"
    )
    cfg = config.load(make_site(tmp_path, extra).config)
    now = dt.datetime(2022, 6, 12, 12, 0, tzinfo=dt.UTC)
    for i in range(3):
        report = once.fetch(cfg, now + dt.timedelta(hours=i), force=True)
        assert [o.status for o in report.sources] != ["error"], report.problems.items
    assert seen == [(None, None), (etag, modified), (etag, modified)]


def test_a_304_to_an_unconditional_request_is_a_warning(
    http_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Promise: a server answering 304 Not Modified to a request that named no validator
    (a broken cache in front of it) is reported, not taken silently as "nothing new"."""
    http_server.routes["/n.xml"] = srv.static(b"", status=304)
    with fetcher() as f, caplog.at_level("WARNING", logger="feeds.collect.http"):
        r = f.fetch(http_server.url("/n.xml"), allow_networks=LOOPBACK)
    assert r.not_modified
    assert any("304 to an unconditional request" in m for m in caplog.messages), caplog.messages


def test_a_source_file_that_never_ends_is_refused(tmp_path: Path) -> None:
    """Promise: a local source (``sources[].path``) that is a FIFO or a device (a symlink to
    /dev/zero) is refused as "not a regular file" at once; it never hangs the fetch."""
    fifo = tmp_path / "fifo.xml"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.xml"
    zero.symlink_to("/dev/zero")
    results: list[str] = []

    def run() -> None:
        with fetcher() as f:
            for p in (fifo, zero):
                try:
                    f.fetch(p.as_uri())
                    results.append("read")
                except FetchError as e:
                    results.append(str(e))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(5)
    if t.is_alive():  # hung on the FIFO: open it for writing once, so the thread ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        t.join(5)
    assert len(results) == 2 and all("not a regular file" in r for r in results), results
