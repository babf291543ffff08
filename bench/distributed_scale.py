#!/usr/bin/env python3
"""Benchmark what grows with the number of sources in the distributed mode (issue 13 asks
10^5 sources in PostgreSQL); prints figures, asserts nothing.

    .venv/bin/python bench/distributed_scale.py [--sources 100000] [--feeds 1000] [--hosts 4]
                                                [--workers 2] [--window 60]

A full fetch round of 10^5 sources takes most of an hour on this 2-core machine, so this
measures the parts whose cost follows the source count, on a store seeded with every source
already fetched once (an ETag each, so the farm answers 304):

- loading the config of N sources (every process does it at start and on SIGHUP);
- the tick's due query (``queuejobs.due_sources``: the store's due index, and the check for
  sources never seen), with none due and with every source due;
- a tick (``feeds.tick``, in this process, through procrastinate): with every source due
  (it defers a job per free host slot place), again at once (every slot full), and with
  none due (the cost the scheduler pays every ``schedule.fetch_every`` when idle);
- then ``feeds run --distributed`` and W ``feeds worker`` processes for a bounded window with
  every source due: jobs deferred and completed per second (304 answers), the scheduler's
  and workers' CPU, their memory.

The farm (``bench/distributed.py``'s) serves generated feeds with ETags on 127.0.0.1 … N;
PostgreSQL is a private cluster (tests/services.py).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from distributed import Farm, cpu_seconds, write_config  # noqa: E402
from measure import WORK  # noqa: E402

from feeds.config import config  # noqa: E402
from feeds.run import queue, queuejobs  # noqa: E402
from tests.services import postgres_cluster  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
FEEDS = [sys.executable, "-m", "feeds"]  # the real limits: 10^5 sources fit in 16 MB


def timed(func: Callable[[], object], runs: int = 3) -> tuple[float, float]:
    """Median wall and this process's CPU seconds of ``runs`` calls."""
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        func()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def seed(db: str, farm: Farm, sources: int, feeds: int) -> None:
    """Every source fetched once an hour ago: its ETag stored, its next attempt in an hour."""
    rows = io.StringIO()
    for i in range(sources):
        etag = f'"{i % feeds}"'
        rows.write(f"s{i:06d}\t{farm.url(i)}\t{etag}\n")
    with psycopg.connect(db) as c, c.cursor() as cur:
        with cur.copy("COPY sources (id, url, etag) FROM STDIN") as copy:
            copy.write(rows.getvalue())
        cur.execute(
            "UPDATE sources SET last_fetch = now() - interval '1 hour', "
            "last_success = now() - interval '1 hour', next_attempt = now() + interval '1 hour'"
        )
        cur.execute("ANALYZE sources")


def set_due(db: str, due: bool) -> None:
    when = "now() - interval '1 second'" if due else "now() + interval '1 hour'"
    with psycopg.connect(db) as c:
        c.execute(f"UPDATE sources SET next_attempt = {when}")  # noqa: S608 (two constants)
        c.execute("DELETE FROM procrastinate_jobs")


def in_process(cfg: config.Config, db: str) -> list[str]:
    """The due query and the tick, measured in this process."""
    rt = queuejobs.Runtime(cfg)
    out = []
    try:
        for due in (False, True):
            set_due(db, due)
            wall, cpu = timed(lambda: queuejobs.due_sources(rt, set()))
            n = len(queuejobs.due_sources(rt, set()))
            label = "every source due" if due else "none due"
            out.append(f"| due query ({label}: {n:,} returned) | {wall:.3f} | {cpu:.3f} |")
        store = rt.store().sources
        enabled = [(s.id, s.url) for s in cfg.sources if s.enabled]
        wall, cpu = timed(lambda: store.unseen(enabled))
        what = f"… of which the never-seen check over {len(enabled):,} ids"
        out.append(f"| {what} | {wall:.3f} | {cpu:.3f} |")
        out += asyncio.run(_ticks(cfg, db))
    finally:
        rt.close()
    return out


async def _ticks(cfg: config.Config, db: str) -> list[str]:
    app = queue.make_app(db)
    queue.register(app, cfg, scheduler=True)
    tick: Callable[[int], Awaitable[str]] = app.tasks["feeds.tick"].func
    out = []
    async with app.open_async():
        await queue.ensure_schema(db)

        async def one(label: str) -> None:
            w, c = time.perf_counter(), time.process_time()
            said = await tick(int(time.time()))
            wall, cpu = time.perf_counter() - w, time.process_time() - c
            out.append(f"| tick, {label}: {said} | {wall:.3f} | {cpu:.3f} |")

        set_due(db, True)
        await one("every source due")
        await one("again at once (host slots full)")
        set_due(db, False)
        for _ in range(3):
            await one("none due (idle)")
    return out


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.findall(r"VmRSS:\s+(\d+)", text)[0]) / 1024


def window(cfg_path: Path, db: str, workers: int, seconds: float) -> list[str]:
    """Scheduler and workers for ``seconds`` with every source due: jobs per second."""
    set_due(db, True)
    log = (cfg_path.parent / "procs.log").open("ab")
    procs: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(
            [*FEEDS, *args, "-c", str(cfg_path)],
            stdout=log,
            stderr=log,
            env=ENV,
        )
        procs.append(p)
        return p

    def fetched_since(mark: float) -> int:
        with psycopg.connect(db) as c:
            row = c.execute(
                "SELECT count(*) FROM sources WHERE last_fetch >= to_timestamp(%s)", (mark,)
            ).fetchone()
        return int(row[0]) if row else 0

    def queued() -> int:  # succeeded jobs are deleted: deferred = completed + queue growth
        with psycopg.connect(db) as c:
            row = c.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'fetch'"
            ).fetchone()
        return int(row[0]) if row else 0

    try:
        scheduler = start("run", "--distributed", "-q")
        ws = [start("worker", "-q") for _ in range(workers)]
        t0 = time.time()
        deadline = time.monotonic() + 300
        while fetched_since(t0) == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        started = time.time() - t0
        mark, queued0 = time.time(), queued()
        cpu0 = {p.pid: cpu_seconds(p.pid) for p in procs}
        time.sleep(seconds)
        done = fetched_since(mark)
        deferred = done + queued() - queued0
        cpu = {p.pid: cpu_seconds(p.pid) - cpu0[p.pid] for p in procs}
        rss = {p.pid: rss_mb(p.pid) for p in procs}
        wcpu = sum(cpu[p.pid] for p in ws)
        return [
            f"| start to first fetch (config load, schema, first tick) | {started:.1f} | – |",
            f"| window of {seconds:g} s, {workers} workers: jobs completed (304) | "
            f"{done / seconds:,.0f} /s | {done:,} jobs |",
            f"| … jobs deferred in the window (completed + growth of the queue) | "
            f"{deferred / seconds:,.0f} /s | {deferred:,} jobs |",
            f"| … scheduler CPU | {cpu[scheduler.pid]:.1f} s | "
            f"{cpu[scheduler.pid] / seconds * 100:.0f} % of a core |",
            f"| … worker CPU per 1,000 jobs | {wcpu / max(done, 1) * 1000:.1f} s | "
            f"{wcpu:.1f} s over {workers} workers |",
            f"| … memory (RSS) | scheduler {rss[scheduler.pid]:.0f} MB | "
            f"workers {', '.join(f'{rss[p.pid]:.0f}' for p in ws)} MB |",
        ]
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            p.wait(timeout=30)
        log.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=100_000)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--window", type=float, default=60.0, help="seconds of the fetch window")
    a = ap.parse_args()
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; load {os.getloadavg()[0]:.2f}")
    print(f"### {a.sources:,} sources in PostgreSQL, {a.feeds:,} feeds on {a.hosts} addresses")
    print("(the config under the real limits: 16 MB, aliases counted apart)\n")
    print("| what | wall s | CPU s (this process) |")
    print("| --- | ---: | ---: |")
    farm = Farm(a.feeds, a.hosts)
    folder = WORK / f"distributed-scale-{a.sources}"
    try:
        with postgres_cluster() as pg:
            name = "scale_" + uuid.uuid4().hex[:8]
            with psycopg.connect(pg.url, autocommit=True) as c:
                c.execute(f"CREATE DATABASE {name}")  # a generated name
            db = pg.url.rsplit("/", 1)[0] + "/" + name
            extra = (
                f"state: {{dir: state, database: '{db}'}}\n"
                "queue: {concurrency: 8, heartbeat: 1s, stall_timeout: 5s}"
            )
            cfg_path = write_config(folder, farm, a.sources, extra)
            subprocess.run(
                [*FEEDS, "db", "migrate", "-q", "-c", str(cfg_path)],
                check=True,
                env=ENV,
            )
            asyncio.run(queue.ensure_schema(db))  # procrastinate's tables
            wall, cpu = timed(lambda: config.load(cfg_path), runs=1)
            size = cfg_path.stat().st_size / 1e6
            print(
                f"| config load ({a.sources:,} sources, {size:.1f} MB) | {wall:.2f} | {cpu:.2f} |",
                flush=True,
            )
            cfg = config.load(cfg_path)
            w, c = time.perf_counter(), time.process_time()
            seed(db, farm, a.sources, a.feeds)
            print(
                f"| seeding the store (COPY) | {time.perf_counter() - w:.2f} | "
                f"{time.process_time() - c:.2f} |",
                flush=True,
            )
            for line in in_process(cfg, db):
                print(line, flush=True)
            print("\n| fetching | figure | detail |\n| --- | ---: | --- |")
            for line in window(cfg_path, db, a.workers, a.window):
                print(line, flush=True)
            print(f"\nfarm answers: {farm.take_counts()}")
    finally:
        farm.close()


if __name__ == "__main__":
    main()
