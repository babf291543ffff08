"""Distributed fetching under faults: real PostgreSQL (tests/services.py), real ``feeds worker``
and ``feeds run --distributed`` processes, sources on a local HTTP server.

Promises: a worker SIGKILLed mid-fetch loses nothing (its sources are fetched again once its
heartbeat is stale, every entry is stored once, every source keeps a next attempt); a
PostgreSQL restart during a round is survived (the workers come back on a fresh pool and the
round finishes); two schedulers defer each periodic job once per period; new entries reach
their feeds through one build for a burst. Every wait is bounded; every process is stopped.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import psycopg
import pytest

from feeds.config import config
from feeds.store.store import SourceState, exists, open_store
from tests import server as srv
from tests.e2e.test_daemon import titles
from tests.helpers import ROOT, Site, make_site, run_cli
from tests.server import LocalServer
from tests.services import Cluster, postgres_bin, postgres_cluster

pytestmark = pytest.mark.skipif(postgres_bin() is None, reason="needs PostgreSQL")

ITEMS = 3  # entries per source


def rss(source: str, version: int = 1) -> bytes:
    items = "".join(
        f"<item><title>{source} 第{i}条 v{version}</title><guid>{source}-{i}</guid>"
        f"<link>https://src.example/{source}/{i}</link>"
        f"<pubDate>Fri, 10 Jun 2022 0{i}:00:00 GMT</pubDate></item>"
        for i in range(ITEMS)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{source}'
        f"</title><link>https://src.example/</link><description>d</description>{items}"
        f"</channel></rss>"
    ).encode()


def slow_first(body: Callable[[], bytes], seconds: float) -> srv.Handler:
    """A source whose first answer takes ``seconds`` (the worker is mid-fetch meanwhile);
    later answers are at once."""
    calls = [0]
    lock = threading.Lock()

    def handle(h: BaseHTTPRequestHandler) -> None:
        with lock:
            calls[0] += 1
            first = calls[0] == 1
        if first:
            time.sleep(seconds)
        srv.send(h, 200, body())

    return handle


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with postgres_cluster() as c:
        yield c


@pytest.fixture
def database(cluster: Cluster) -> str:
    """A fresh database of the module's cluster for each test."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(cluster.url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")  # a generated name, not input
    return cluster.url.rsplit("/", 1)[0] + "/" + name


def site_for(
    tmp: Path,
    server: LocalServer,
    database: str,
    ids: list[str],
    *,
    settle: str = "1s",
    store: str = "postgresql",
    extra: str = "",
) -> Site:
    """Sources ``ids`` on ``server``; the queue in ``database``, and the store there too
    (made by ``feeds db migrate``) unless ``store`` is "sqlite"."""
    state = f"state:\n  database: {database}\n" if store == "postgresql" else ""
    sources = "".join(
        f"  - id: {i}\n    url: {server.url(f'/{i}.xml')}\n    categories: [remote]\n"
        "    interval: 1h\n"
        for i in ids
    )
    site = make_site(
        tmp,
        f"{state}schedule:\n  build: 1h\n  fetch_every: 1s\n"
        f"queue:\n  database: {database}\n  heartbeat: 0.5s\n  stall_timeout: 2s\n"
        f"  build_settle: {settle}\n  concurrency: 3\n"
        "fetch:\n  allow_networks: [127.0.0.0/8]\n  deadline: 10s\n  per_host: 4\n"
        f"{extra}sources:\n{sources}",
    )
    if state:
        assert run_cli("db", "migrate", "-c", site.config).returncode == 0
    return site


class Proc:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc = proc
        self.log = log

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def processes(site: Site) -> Iterator[Callable[..., Proc]]:
    """Start ``feeds`` processes (``start("worker")``, ``start("run", "--distributed")``);
    every one is killed at the end, whatever happened."""
    started: list[Proc] = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def start(*args: str) -> Proc:
        log = site.root / f"proc-{len(started)}.log"
        with log.open("wb") as sink:
            p = subprocess.Popen(
                [sys.executable, "-m", "feeds", *args, "-c", str(site.config)],
                stdout=sink,
                stderr=sink,
                env=env,
            )
        started.append(Proc(p, log))
        return started[-1]

    try:
        yield start
    finally:
        for p in started:
            if p.proc.poll() is None:
                os.kill(p.proc.pid, signal.SIGCONT)  # a stopped one cannot die otherwise
                p.proc.kill()
            p.proc.wait(timeout=10)


def wait_for(what: Callable[[], bool], message: str, logs: list[Proc], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return
        time.sleep(0.1)
    text = "\n".join(f"--- {p.log.name}\n{p.text()}" for p in logs)
    pytest.fail(f"timed out after {timeout} s waiting for: {message}\n{text}")


def stored(site: Site) -> tuple[dict[str, SourceState], dict[str, int]]:
    """Each source's state and its number of stored entries (in either store)."""
    cfg = config.load(site.config)
    if not exists(cfg.store):
        return {}, {}
    with open_store(cfg.store, read_only=True) as store:
        return store.sources.states(), store.entries.counts()


def stored_titles(site: Site, source: str) -> list[str]:
    cfg = config.load(site.config)
    with open_store(cfg.store, read_only=True) as store:
        keys = [(source, r.entry_id) for r in store.entries.index(source)]
        return sorted(e.title for e in store.load_entries(keys).values())


def all_fetched(site: Site, ids: list[str]) -> bool:
    states, _ = stored(site)
    return all(i in states and states[i].last_success is not None for i in ids)


@pytest.mark.parametrize("store", ["postgresql", "sqlite"])
def test_worker_killed_mid_fetch_loses_nothing(
    tmp_path: Path, http_server: LocalServer, database: str, store: str
) -> None:
    ids = [f"s{i}" for i in range(6)]
    for i in ids:
        http_server.routes[f"/{i}.xml"] = slow_first(partial(rss, i), 3.0)
    site = site_for(tmp_path, http_server, database, ids, store=store)
    with processes(site) as start:
        scheduler = start("run", "--distributed")
        doomed = start("worker")
        logs = [scheduler, doomed]
        wait_for(
            lambda: len({r.path for r in http_server.requests}) >= 3,
            "the first worker is fetching",
            logs,
        )
        taken = {r.path for r in http_server.requests}
        doomed.proc.kill()  # between taking its jobs and finishing them
        doomed.proc.wait(timeout=10)
        logs.append(start("worker"))
        wait_for(lambda: all_fetched(site, ids), "every source fetched", logs)
    states, counts = stored(site)
    assert counts == dict.fromkeys(ids, ITEMS)  # every entry once
    for path in taken:  # the killed worker's sources were fetched again
        assert http_server.hits(path) >= 2, path
    for i in ids:  # no schedule lost: each source comes back after its interval
        assert states[i].next_attempt is not None, i


def test_worker_frozen_past_the_stall_timeout_changes_nothing_late(
    tmp_path: Path, http_server: LocalServer, database: str
) -> None:
    answers = iter([1, 2])  # the frozen worker is answered v1; the one after it v2
    lock = threading.Lock()

    def handle(h: BaseHTTPRequestHandler) -> None:
        with lock:
            version = next(answers, 2)
        if version == 1:
            time.sleep(1.0)  # long enough to be frozen while waiting for it
        srv.send(h, 200, rss("x", version))

    http_server.routes["/x.xml"] = handle
    site = site_for(tmp_path, http_server, database, ["x"])
    with processes(site) as start:
        logs = [start("run", "--distributed")]
        frozen = start("worker")
        logs.append(frozen)
        wait_for(lambda: http_server.hits("/x.xml") >= 1, "the first worker is fetching", logs)
        os.kill(frozen.proc.pid, signal.SIGSTOP)
        logs.append(start("worker"))
        v2 = [f"x 第{i}条 v2" for i in range(ITEMS)]
        wait_for(lambda: stored_titles(site, "x") == sorted(v2), "the second fetch", logs)
        before = stored(site)
        os.kill(frozen.proc.pid, signal.SIGCONT)
        wait_for(lambda: "result=refused" in frozen.text(), "the late save refused", logs)
        assert stored(site) == before  # not a row written by the late worker
    assert stored_titles(site, "x") == sorted(v2)
    assert stored(site)[1] == {"x": ITEMS}


def test_postgres_restart_during_a_round(
    tmp_path: Path, http_server: LocalServer, database: str, cluster: Cluster
) -> None:
    ids = [f"r{i}" for i in range(8)]
    for i in ids:
        http_server.routes[f"/{i}.xml"] = slow_first(partial(rss, i), 1.5)
    site = site_for(tmp_path, http_server, database, ids)
    with processes(site) as start:
        logs = [start("run", "--distributed"), start("worker")]
        wait_for(lambda: len(http_server.requests) >= 2, "the round has begun", logs)
        cluster.restart()
        wait_for(lambda: all_fetched(site, ids), "every source fetched", logs, timeout=60)
        assert all(p.proc.poll() is None for p in logs), "a process died with the database"
    _, counts = stored(site)
    assert counts == dict.fromkeys(ids, ITEMS)


def test_two_schedulers_defer_each_tick_once_and_stop_on_sigterm(
    tmp_path: Path, http_server: LocalServer, database: str
) -> None:
    http_server.routes["/t.xml"] = srv.static(rss("t"))
    site = site_for(tmp_path, http_server, database, ["t"])
    with processes(site) as start:
        a, b = start("run", "--distributed"), start("run", "--distributed")

        def ticks() -> list[str]:
            return re.findall(r"event=tick at=(\d+)", a.text() + b.text())

        wait_for(lambda: len(ticks()) >= 4, "four ticks", [a, b])
        for p in (a, b):  # as systemd stops them: SIGTERM, and they are gone, cleanly
            p.proc.send_signal(signal.SIGTERM)
        assert [p.proc.wait(timeout=20) for p in (a, b)] == [0, 0]
    seen = ticks()
    assert len(seen) == len(set(seen)), f"a tick ran twice: {sorted(seen)}"
    assert "event=stop role=scheduler" in a.text()


def test_a_burst_of_new_entries_is_one_build_then_pings(
    tmp_path: Path, http_server: LocalServer, database: str
) -> None:
    ids = [f"b{i}" for i in range(6)]
    for i in ids:
        http_server.routes[f"/{i}.xml"] = srv.static(rss(i))
    pings: list[int] = []

    def hub(h: BaseHTTPRequestHandler) -> None:  # down at first: the ping job is retried
        pings.append(503 if not pings else 204)
        srv.send(h, pings[-1], b"", "text/plain")

    http_server.post_routes["/hub"] = hub
    hub_url = http_server.url("/hub")
    site = site_for(
        tmp_path,
        http_server,
        database,
        ids,
        settle="3s",
        extra=f"feeds:\n  websub_hub: {hub_url}\n",
    )
    feed = site.out / "remote.rss.xml"
    with processes(site) as start:
        scheduler = start("run", "--distributed")
        logs = [scheduler, start("worker")]
        wait_for(lambda: len(titles(feed)) == len(ids) * ITEMS, "every entry in its feed", logs)
        wait_for(lambda: 204 in pings, "a ping accepted after the hub failed", logs)
        builds = re.findall(r"event=build outputs=", scheduler.text())
    assert 1 <= len(builds) < len(ids), scheduler.text()
    assert pings[0] == 503
