"""``feeds worker --metrics-port`` and ``feeds run --distributed --metrics-port``: the same
Prometheus figures from the processes of a distributed site (PostgreSQL started by the
tests): the worker counts the fetches its jobs did, the scheduler the builds it ran and the
sources due in the store."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import psycopg
import pytest

from tests import server as srv
from tests.e2e.test_metrics import scrape
from tests.faults.test_distributed import (
    ITEMS,
    Proc,
    all_fetched,
    cluster,
    database,
    processes,
    rss,
    site_for,
    wait_for,
)
from tests.server import LocalServer
from tests.services import postgres_bin

__all__ = ["cluster", "database"]  # fixtures
pytestmark = pytest.mark.skipif(postgres_bin() is None, reason="needs PostgreSQL")


def port_of(p: Proc, logs: list[Proc]) -> int:
    wait_for(lambda: "event=metrics listening=" in p.text(), "metrics server", logs)
    return int(p.text().split("event=metrics listening=127.0.0.1:")[1].split()[0])


def test_worker_and_scheduler_metrics(
    tmp_path: Path, http_server: LocalServer, database: str
) -> None:
    ids = ["a", "b", "c"]
    for i in ids:
        http_server.routes[f"/{i}.xml"] = srv.static(rss(i))
    site = site_for(tmp_path, http_server, database, ids, settle="0.5s")
    with processes(site) as start:
        scheduler = start("run", "--distributed", "--metrics-port", "0")
        worker = start("worker", "--metrics-port", "0")
        logs = [scheduler, worker]
        at_worker, at_scheduler = port_of(worker, logs), port_of(scheduler, logs)
        wait_for(partial(all_fetched, site, ids), "every source fetched", logs)
        wait_for(
            lambda: scrape(at_worker).get(("feeds_fetches_total", (("outcome", "ok"),))) == 3,
            "the worker's fetches counted",
            logs,
        )
        got = scrape(at_worker)
        assert got[("feeds_fetch_duration_seconds_count", ())] == 3
        assert got[("feeds_entries_stored_total", ())] == 3 * ITEMS
        wait_for(
            lambda: (
                ("feeds_newest_entry_age_seconds", (("feed", "remote"),)) in scrape(at_scheduler)
            ),
            "a build with the fetched entries",
            logs,
        )
        got = scrape(at_scheduler)
        assert got[("feeds_builds_total", (("result", "ok"),))] >= 1
        assert got[("feeds_sources_due", ())] == 0  # fetched, next in an hour
        assert ("feeds_fetches_total", (("outcome", "ok"),)) not in got  # not its work


def sessions(database: str) -> int:
    """Sessions ever opened to ``database`` (PostgreSQL's count; a closed one is in it)."""
    name = database.rsplit("/", 1)[1]
    with psycopg.connect(database, autocommit=True) as db:
        row = db.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_scrapes_reuse_one_store_and_one_queue_connection(
    tmp_path: Path, http_server: LocalServer, database: str
) -> None:
    http_server.routes["/a.xml"] = srv.static(rss("a"))
    site = site_for(tmp_path, http_server, database, ["a"])
    with processes(site) as start:
        scheduler = start("run", "--distributed", "--metrics-port", "0")
        logs = [scheduler]
        port = port_of(scheduler, logs)
        wait_for(
            lambda: ("feeds_builds_total", (("result", "ok"),)) in scrape(port),
            "the first build",
            logs,
        )
        before = sessions(database)
        for _ in range(10):
            got = scrape(port)
            assert got[("feeds_sources_due", ())] == 1  # no worker: a stays due
            assert ("feeds_job_queue_depth", (("queue", "fetch"),)) in got
        after = sessions(database)
    # each scrape used to open the store's pool and a queue connection: 20 sessions or more
    assert after - before < 5, (before, after)
