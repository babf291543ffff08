"""Fetching never starves building (``feeds run`` as a real subprocess, sources on a local
HTTP server that drips its body): a post saved during a slow fetch round is in its feed
before the round ends; SIGTERM during it exits promptly, starting no further source; and
``/health`` turns 503, saying why, while a wanted build cannot finish."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests import server as srv
from tests.e2e.test_daemon import Daemon, running, titles
from tests.helpers import Site, make_site, post_text
from tests.server import LocalServer


def slow(seconds: float, done: threading.Event) -> srv.Handler:
    """A source whose body takes ``seconds`` to arrive, one byte every 0.1 s; ``done`` is
    set once it has all been sent."""
    drip = srv.drip(int(seconds * 10), 0.1, max_seconds=seconds + 5)

    def handle(h: BaseHTTPRequestHandler) -> None:
        try:
            drip(h)
        finally:
            done.set()

    return handle


def stalled_site(
    tmp_path: Path,
    server: LocalServer,
    paths: list[str],
    schedule: str = "build: 1h",
    deadline: str = "10s",
) -> Site:
    text = (
        f"schedule:\n  {schedule}\n  fetch_every: 1h\n"
        f"fetch:\n  allow_networks: [127.0.0.0/8]\n  deadline: {deadline}\n  concurrency: 1\n"
        "sources:\n"
    )
    for i, path in enumerate(paths):
        text += f"  - id: slow{i}\n    url: {server.url(path)}\n    categories: [remote]\n"
    site = make_site(tmp_path, text)
    site.post("2022-06-01-a.md", post_text("旧文章", "2022-06-01", "local"))
    return site


@pytest.mark.parametrize(
    "schedule",
    ["build: 1h", "build: 1s\n  watch: false"],
    ids=["build asked by the watcher", "scheduled build"],
)
def test_a_post_saved_during_a_slow_fetch_is_published_before_it_ends(
    tmp_path: Path, http_server: LocalServer, schedule: str
) -> None:
    done = threading.Event()
    http_server.routes["/slow.xml"] = slow(8, done)
    site = stalled_site(tmp_path, http_server, ["/slow.xml"], schedule)
    feed = site.out / "local.rss.xml"
    with running(site) as d:
        d.wait_for(lambda: http_server.hits("/slow.xml") == 1, message="the slow fetch")
        d.wait_for(lambda: titles(feed) == ["旧文章"], message="the start-up build")
        assert not done.is_set()
        site.post("2022-06-02-b.md", post_text("新文章", "2022-06-02", "local"))
        d.wait_for(lambda: titles(feed)[:1] == ["新文章"], 15, "the post saved meanwhile")
        assert not done.is_set(), "the post waited for the slow fetch"
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=20) == 0


def test_sigterm_during_a_slow_fetch_exits_and_starts_no_other_source(
    tmp_path: Path, http_server: LocalServer
) -> None:
    done = [threading.Event(), threading.Event()]
    http_server.routes["/slow0.xml"] = slow(4, done[0])
    http_server.routes["/slow1.xml"] = slow(4, done[1])
    site = stalled_site(tmp_path, http_server, ["/slow0.xml", "/slow1.xml"])
    with running(site) as d:
        d.wait_for(
            lambda: http_server.hits("/slow0.xml") + http_server.hits("/slow1.xml") == 1,
            message="the first slow fetch",
        )
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=10) == 0  # the source under way ends; no other starts
        assert http_server.hits("/slow0.xml") + http_server.hits("/slow1.xml") == 1
    assert "event=stop" in d.text()


def test_sigterm_mid_fetch_exits_within_seconds_not_at_the_fetch_deadline(
    tmp_path: Path, http_server: LocalServer
) -> None:
    """Promise: SIGTERM while a fetch is under way ends the daemon within a few seconds, not
    when the fetch deadline (here 2 minutes) or the slow server would end it: the fetch is
    given up and its connection closed. The store stays consistent and records nothing for
    the source given up (no error, no error count): the next round fetches it again."""
    done = threading.Event()
    http_server.routes["/slow0.xml"] = slow(60, done)
    site = stalled_site(tmp_path, http_server, ["/slow0.xml"], deadline="120s")
    with running(site) as d:
        d.wait_for(lambda: http_server.hits("/slow0.xml") == 1, message="the slow fetch")
        d.wait_for(lambda: "event=build" in d.text(), message="the start-up build")
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=8) == 0, d.text()  # without the stop check: 60 s
        assert done.wait(5), "the slow server is still sending: the connection is open"
    assert "event=stop" in d.text() and "fetch failed" not in d.text()
    db = sqlite3.connect(site.root / "state" / "feeds.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        row = db.execute(
            "SELECT consecutive_errors, last_error FROM sources WHERE id = 'slow0'"
        ).fetchone()
        assert row in (None, (0, None))
    finally:
        db.close()


def health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def health_port(d: Daemon) -> int:
    d.wait_for(lambda: "listening=127.0.0.1:" in d.text(), message="the health server")
    return int(d.text().split("listening=127.0.0.1:")[1].split()[0])


def test_health_is_503_while_a_wanted_build_cannot_finish(tmp_path: Path) -> None:
    """Another process holds the store's write lock (as a backup tool or a stuck `feeds`
    command might): the build a save asks for waits on it (state.lock_timeout), and once it
    has waited longer than schedule.misfire_grace the daemon is unhealthy, and says why."""
    site = make_site(
        tmp_path, "schedule:\n  build: 1h\n  misfire_grace: 2s\nstate:\n  lock_timeout: 60s\n"
    )
    site.post("2022-06-01-a.md", post_text("旧文章", "2022-06-01", "local"))
    feed = site.out / "local.rss.xml"
    with running(site, "--health-port", "0") as d:
        port = health_port(d)
        d.wait_for(lambda: titles(feed) == ["旧文章"], message="the start-up build")
        d.wait_for(lambda: "event=watch result=started" in d.text(), message="watching")
        d.wait_for(lambda: health(port)[0] == 200, message="healthy at first")
        db = sqlite3.connect(site.root / "state" / "feeds.sqlite3", isolation_level=None)
        try:
            db.execute("BEGIN EXCLUSIVE")
            site.post("2022-06-02-b.md", post_text("新文章", "2022-06-02", "local"))
            d.wait_for(lambda: health(port)[0] == 503, 20, "503 while the build waits")
            status, body = health(port)
            assert status == 503 and body["build_overdue"].startswith("build overdue")
            assert body["unhealthy"] == [body["build_overdue"]]
            assert titles(feed) == ["旧文章"]
        finally:
            db.execute("ROLLBACK")
            db.close()
        d.wait_for(lambda: titles(feed)[:1] == ["新文章"], 20, "the build once the lock is gone")
        d.wait_for(lambda: health(port)[0] == 200, 10, "healthy again")
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=15) == 0


def _tgkill(pid: int, tid: int, sig: int) -> None:
    """Sends ``sig`` to one thread of process ``pid`` (Linux ``tgkill``)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    sys_tgkill = 234  # x86-64; the test is skipped elsewhere
    if libc.syscall(sys_tgkill, pid, tid, sig) != 0:
        raise OSError(ctypes.get_errno(), "tgkill")


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="tgkill's number is x86-64's")
def test_sigterm_delivered_to_a_worker_thread_still_stops_the_daemon(
    tmp_path: Path, http_server: LocalServer
) -> None:
    """Promise: SIGTERM stops the daemon whichever of its threads the kernel hands it to.
    Python runs signal handlers on the main thread only; a main thread blocked on a lock with
    no timeout never wakes for a signal another thread received (the soak test once waited
    30 s and more for a SIGTERM this way)."""
    done = threading.Event()
    http_server.routes["/slow0.xml"] = slow(60, done)
    site = stalled_site(tmp_path, http_server, ["/slow0.xml"], deadline="120s")
    with running(site) as d:
        d.wait_for(lambda: http_server.hits("/slow0.xml") == 1, message="the slow fetch")
        d.wait_for(lambda: "event=build" in d.text(), message="the start-up build")
        pid = d.proc.pid
        # the main thread asleep in its wait for a signal, not running Python code
        # (a futex wait that lasts: waiting for the GIL is a futex wait too, but a short one)
        asleep = Path(f"/proc/{pid}/wchan")
        d.wait_for(lambda: "futex" in asleep.read_text(), message="asleep")
        time.sleep(1.0)
        d.wait_for(lambda: "futex" in asleep.read_text(), message="still asleep")
        others = sorted(int(t.name) for t in Path(f"/proc/{pid}/task").iterdir())[1:]
        assert others, "the daemon runs its jobs on threads of its own"
        _tgkill(pid, others[0], signal.SIGTERM)  # the scheduler's thread: started first
        assert d.proc.wait(timeout=8) == 0, d.text()
    assert "event=signal signal=SIGTERM action=stop" in d.text()
