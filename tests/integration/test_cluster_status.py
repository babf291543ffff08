"""``feeds status`` on a cluster: with ``state.database`` set it reads the whole cluster's
figures from a real PostgreSQL (sources due and by outcome, entries, the job queue with jobs
deferred through procrastinate's own API, running jobs per worker, stalled workers)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from feeds.config import config
from feeds.run import queue
from feeds.store.parts import SourceState
from feeds.store.store import open_store
from tests import services
from tests.e2e.test_postgres_store import ENV, example
from tests.helpers import ROOT, run_cli
from tests.stores import migrated

NOW = dt.datetime.fromisoformat(ENV["FEEDS_FAKE_NOW"])


async def _queue(url: str) -> None:
    """Three fetch jobs waiting and one running on a worker whose heartbeat is old."""
    await queue.ensure_schema(url)
    app = queue.make_app(url)
    async with app.open_async():
        for n in range(3):
            await app.configure_task("feeds.fetch", queue="fetch").defer_async(source_id=f"s{n}")
        worker = await app.job_manager.register_worker()
        await app.connector.execute_query_async(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %(w)s "
            "WHERE id = (SELECT min(id) FROM procrastinate_jobs)",
            w=worker,
        )
        await app.connector.execute_query_async(
            "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'"
        )


def test_status_shows_the_clusters_figures_from_postgresql(
    tmp_path: Path, database_url: str
) -> None:
    cfg_path = example(tmp_path, "pg", migrated(database_url))
    cfg = config.load(cfg_path).with_overrides(state=tmp_path / "pg" / "state")
    past, later = NOW - dt.timedelta(hours=2), NOW + dt.timedelta(hours=1)
    with open_store(cfg.store) as store:
        store.sources.save(
            SourceState("a", "https://a.example/", last_fetch=past, next_attempt=past), NOW
        )
        store.sources.save(
            SourceState("b", "https://b.example/", last_fetch=past, next_attempt=later), NOW
        )
        store.sources.save(
            SourceState(
                "c", "https://c.example/", last_fetch=past, consecutive_errors=2, next_attempt=NOW
            ),
            NOW,
        )
        store.sources.save(
            SourceState("d", "https://d.example/", gone=True, next_attempt=later), NOW
        )
    state = ["--state", str(tmp_path / "pg" / "state"), "-c", str(cfg_path)]
    before = json.loads(run_cli("status", "--json", *state, env=ENV).stdout)["cluster"]
    assert before["sources_due"] == 2 and before["sources_overdue"] == 1
    assert before["sources_by_outcome"] == {"ok": 2, "error": 1, "gone": 1, "never": 0}
    assert before["entries"] == 0 and before["queue"] is None  # no job tables yet

    asyncio.run(_queue(database_url))
    fig = json.loads(run_cli("status", "--json", *state, env=ENV).stdout)["cluster"]
    assert fig["queue"]["waiting"]["fetch"]["depth"] == 2
    (worker,) = fig["queue"]["workers"]
    assert worker["running"] == 1 and worker["stalled"]
    text = run_cli("status", *state, env=ENV)
    assert text.returncode == 0, text.stderr
    assert "2 sources due, 1 overdue" in text.stdout
    assert "queue fetch: 2 waiting" in text.stdout
    assert "1 running" in text.stdout and "STALLED" in text.stdout


async def _builds_waiting(url: str) -> None:
    """Two build jobs waiting (a worker takes only fetch jobs, so they stay)."""
    await queue.ensure_schema(url)
    app = queue.make_app(url)
    async with app.open_async():
        for site in ("a", "b"):
            await app.configure_task("feeds.build", queue="build").defer_async(site=site)


def test_a_worker_serves_the_queues_depth_and_age_read_at_scrape_time(
    tmp_path: Path, database_url: str
) -> None:
    cfg_path = example(tmp_path, "pg", migrated(database_url))
    asyncio.run(_builds_waiting(database_url))
    port = services.free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "feeds", "worker", "--metrics-port", str(port)]
    args = [*argv, "-c", str(cfg_path), "--state", str(tmp_path / "pg" / "state")]
    worker = subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL)
    try:
        text = ""
        deadline = time.monotonic() + 30
        while 'feeds_job_queue_depth{queue="build"}' not in text:
            assert time.monotonic() < deadline, "no queue depth scraped within 30 s"
            time.sleep(0.2)
            url = f"http://127.0.0.1:{port}/metrics"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as r:
                text = r.read().decode()
        assert 'feeds_job_queue_depth{queue="build"} 2.0' in text
        assert 'feeds_job_queue_depth{queue="fetch"} 0.0' in text
        assert 'feeds_job_queue_oldest_age_seconds{queue="build"}' in text
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
