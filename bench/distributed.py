#!/usr/bin/env python3
"""Benchmark distributed fetching (issue 13, smaller scale); prints figures, asserts nothing.

    .venv/bin/python bench/distributed.py [--sources 10000] [--feeds 1000] [--hosts 4]
                                          [--workers 1 2 4] [--stall 5]

A farm of generated feeds (ETag/304) on 127.0.0.1 … 127.0.0.N; a private PostgreSQL
(tests/services.py) holding the store (``state.database``) and the queue. For each number of
workers: a fresh database, ``feeds run --distributed`` and W ``feeds worker`` processes; a
cold round (every source answers 200), a round of 304s (the scheduling overhead: jobs
deferred and finished per second), CPU per 1,000 fetches (the workers' user + system time),
then a round during which one worker is SIGKILLed (seconds from the kill until every source
is fetched: about the stall timeout), duplicates (stored entries beyond one per item) and lost
schedules (sources without a future next attempt). Baseline: the single-machine round
(``feeds fetch --all``, SQLite) on the same farm, cold and 304.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from measure import WORK, run_feeds  # noqa: E402

from tests.services import postgres_cluster  # noqa: E402

ITEMS = 5


def feed(n: int) -> bytes:
    items = "".join(
        f"<item><title>源{n} 第{k}条</title><guid>f{n}-{k}</guid>"
        f"<link>https://farm.example/{n}/{k}</link>"
        f"<pubDate>Fri, 10 Jun 2022 0{k}:00:00 GMT</pubDate></item>"
        for k in range(ITEMS)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>源{n}'
        f"</title><link>https://farm.example/{n}</link><description>d</description>{items}"
        "</channel></rss>"
    ).encode()


class Farm:
    def __init__(self, feeds: int, hosts: int) -> None:
        self.bodies = [feed(n) for n in range(feeds)]
        self.lock = threading.Lock()
        self.counts: dict[int, int] = {}
        self.servers = [self._serve(f"127.0.0.{i + 1}") for i in range(hosts)]

    def _serve(self, host: str) -> ThreadingHTTPServer:
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                n = int(re.findall(r"\d+", self.path.split("?")[0])[0])
                body, etag = farm.bodies[n], f'"{n}"'
                status = 304 if self.headers.get("If-None-Match") == etag else 200
                self.send_response(status)
                self.send_header("ETag", etag)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", "0" if status == 304 else str(len(body)))
                self.end_headers()
                if status == 200:
                    self.wfile.write(body)
                with farm.lock:
                    farm.counts[status] = farm.counts.get(status, 0) + 1

            def log_message(self, *args: object) -> None:
                pass

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a SIGKILLed worker's connections reset: expected here

        httpd = Quiet((host, 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return httpd

    def url(self, i: int) -> str:
        host, port = self.servers[i % len(self.servers)].server_address[:2]
        return f"http://{host}:{port}/f{i % len(self.bodies)}.xml?s={i}"

    def take_counts(self) -> str:
        with self.lock:
            counts, self.counts = self.counts, {}
        return ", ".join(f"{n}× {s}" for s, n in sorted(counts.items()))

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


def write_config(folder: Path, farm: Farm, sources: int, extra: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        "site: {title: bench, url: 'https://bench.example.com'}",
        "posts: {dirs: [_posts]}",
        "fetch: {allow_networks: [127.0.0.0/8], per_host: 8, concurrency: 16}",
        "schedule: {build: 1h, fetch_every: 2s}",
        extra,
        "sources:",
    ]
    for i in range(sources):
        lines.append(f"  - {{id: s{i:06d}, url: '{farm.url(i)}', categories: [c{i % 20}]}}")
    (folder / "_posts").mkdir(exist_ok=True)
    config = folder / "config.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def cpu_seconds(pid: int) -> float:
    """User + system seconds of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Cluster:
    """A scheduler and workers on one database; every process killed at the end."""

    def __init__(self, config: Path, db: str, workers: int) -> None:
        self.config, self.db = config, db
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.log = (config.parent / "procs.log").open("ab")

        def start(*args: str) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", "feeds", *args, "-c", str(config)],
                stdout=self.log,
                stderr=self.log,
                env=env,
            )

        self.start = start
        self.scheduler = start("run", "--distributed", "-q")
        self.workers = [start("worker", "-q") for _ in range(workers)]

    def done_since(self, mark: float) -> int:
        with psycopg.connect(self.db) as c:
            row = c.execute(
                "SELECT count(*) FROM sources WHERE last_fetch >= to_timestamp(%s)", (mark,)
            ).fetchone()
        return int(row[0]) if row else 0

    def wait_round(
        self, mark: float, total: int, timeout: float, on: Callable[[int], None]
    ) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            n = self.done_since(mark)
            on(n)
            if n >= total:
                return time.monotonic() - start
            time.sleep(0.2)
        raise SystemExit(f"round not finished after {timeout} s ({self.done_since(mark)}/{total})")

    def last_fetched(self, ids: list[str]) -> float:
        """When the last of these sources was fetched (epoch seconds)."""
        with psycopg.connect(self.db) as c:
            row = c.execute(
                "SELECT extract(epoch FROM max(last_fetch)) FROM sources WHERE id = ANY(%s)",
                (ids,),
            ).fetchone()
        return float(row[0]) if row and row[0] is not None else float("nan")

    def make_due(self) -> float:
        mark = time.time()
        with psycopg.connect(self.db) as c:
            c.execute("UPDATE sources SET next_attempt = now() - interval '1 second'")
        return mark

    def close(self) -> None:
        for p in [self.scheduler, *self.workers]:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            p.wait(timeout=30)
        self.log.close()


def one(farm: Farm, sources: int, workers: int, stall: float, url: str) -> list[str]:
    name = f"bench_{workers}w_{int(time.time())}"
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")  # a generated name
    db = url.rsplit("/", 1)[0] + "/" + name
    folder = WORK / f"distributed-{sources}-{workers}"
    extra = (
        f"state: {{dir: state, database: '{db}'}}\n"
        f"queue: {{concurrency: 8, heartbeat: {stall / 4:g}s, stall_timeout: {stall:g}s}}"
    )
    config = write_config(folder, farm, sources, extra)
    subprocess.run(
        [sys.executable, "-m", "feeds", "db", "migrate", "-c", str(config)],
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    cluster = Cluster(config, db, workers)
    out = []
    try:
        mark = time.time() - 1
        cpu0 = [cpu_seconds(p.pid) for p in cluster.workers]
        cold = cluster.wait_round(mark, sources, 1800, lambda n: None)
        cpu = sum(cpu_seconds(p.pid) for p in cluster.workers) - sum(cpu0)
        out.append(
            f"| {workers} | cold | {cold:.1f} | {sources / cold:,.0f} | "
            f"{cpu / sources * 1000:.1f} | {farm.take_counts()} |"
        )
        cpu0 = [cpu_seconds(p.pid) for p in cluster.workers]
        mark = cluster.make_due()
        again = cluster.wait_round(mark, sources, 1800, lambda n: None)
        cpu = sum(cpu_seconds(p.pid) for p in cluster.workers) - sum(cpu0)
        out.append(
            f"| {workers} | 304s | {again:.1f} | {sources / again:,.0f} | "
            f"{cpu / sources * 1000:.1f} | {farm.take_counts()} |"
        )
        out.append(recovery(cluster, farm, sources, workers))
    finally:
        cluster.close()
    return out


def recovery(cluster: Cluster, farm: Farm, sources: int, workers: int) -> str:
    """A 304 round with one worker SIGKILLed a third of the way through (started again at
    once, as systemd would): seconds until every source it was fetching is fetched again
    (about the stall timeout), then duplicates and lost schedules."""
    killed: list[tuple[float, list[str]]] = []

    def kill_at_a_third(n: int) -> None:
        if not killed and n >= sources // 3:
            cluster.workers[0].send_signal(signal.SIGKILL)
            cluster.workers[0].wait()
            at = time.time()
            with psycopg.connect(cluster.db) as c:  # its jobs, and the others' under way
                rows = c.execute(
                    "SELECT args->>'source_id' FROM procrastinate_jobs WHERE status = 'doing'"
                ).fetchall()
            killed.append((at, [r[0] for r in rows]))
            cluster.workers[0] = cluster.start("worker", "-q")

    mark = cluster.make_due()
    cluster.wait_round(mark, sources, 1800, kill_at_a_third)
    at, taken = killed[0]  # the round is over: every source was fetched after the kill
    again = cluster.last_fetched(taken) - at
    with psycopg.connect(cluster.db) as c:
        entries = c.execute("SELECT count(*) FROM entries").fetchone()
        lost = c.execute(
            "SELECT count(*) FROM sources WHERE next_attempt IS NULL OR next_attempt < now()"
        ).fetchone()
    dupes = (int(entries[0]) if entries else 0) - sources * ITEMS
    return (
        f"| {workers} | SIGKILL at ⅓ | {again:.1f} s until its {len(taken)} jobs under way "
        f"were fetched again | duplicates {dupes} | lost schedules "
        f"{int(lost[0]) if lost else -1} | {farm.take_counts()} |"
    )


def baseline(farm: Farm, sources: int) -> list[str]:
    folder = WORK / f"distributed-{sources}-sqlite"
    config = write_config(folder, farm, sources, "state: {dir: state}")
    subprocess.run(["rm", "-rf", str(folder / "state")], check=True)
    out = []
    for label in ("cold", "304s"):
        seconds, _, code = run_feeds("fetch", "--all", "-q", "-c", str(config))
        out.append(
            f"| SQLite daemon round (`feeds fetch --all`) | {label} | {seconds:.1f} | "
            f"{sources / seconds:,.0f} | – | {farm.take_counts()} (exit {code}) |"
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=10000)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=4)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--stall", type=float, default=5.0, help="queue.stall_timeout, seconds")
    a = ap.parse_args()
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}")
    print(f"### {a.sources:,} sources over {a.feeds:,} feeds on {a.hosts} loopback addresses\n")
    print("| workers | round | wall s | fetches/s | CPU s per 1,000 | responses |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    farm = Farm(a.feeds, a.hosts)
    try:
        for line in baseline(farm, a.sources):
            print(line, flush=True)
        with postgres_cluster() as cluster:
            for w in a.workers:
                for line in one(farm, a.sources, w, a.stall, cluster.url):
                    print(line, flush=True)
    finally:
        farm.close()


if __name__ == "__main__":
    main()
