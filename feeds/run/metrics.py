"""Prometheus metrics (prometheus-client), served by ``start_metrics_server`` (``feeds run
--metrics-port``; a worker or builder process calls it the same way).

The figures are recorded from the values a run returns — ``record_fetch(report)`` after a
fetch round, ``record_build(report, seconds)`` after a build — never from counters spread
through the code. Two are worked out when Prometheus scrapes: the age of each feed's newest
entry (from the newest time the last build of that feed returned), and the sources due and
overdue (from the store's fetch states, once ``watch_sources`` has been told the config).
The job queue's depth and oldest wait are read from procrastinate's table at each
scrape, once ``watch_queue`` has been told the database (``feeds worker --metrics-port``,
``feeds run --distributed --metrics-port``). The store and the queue's connection are
opened at the first scrape and kept for the process's life, not opened at each.

Metric names:

- ``feeds_fetches_total{outcome}``: fetches by outcome (``ok``, ``not-modified``, ``error``,
  ``gone``)
- ``feeds_fetch_duration_seconds``: a histogram of the time one fetch took
- ``feeds_entries_stored_total``: new entries stored by fetches
- ``feeds_sources_due``, ``feeds_sources_overdue``: enabled sources whose next attempt has come;
  of those, the ones waiting longer than ``schedule.misfire_grace``
- ``feeds_builds_total{result}``: builds by result (``ok``, ``problems``, ``failed``)
- ``feeds_build_duration_seconds``: a histogram of the time one build took
- ``feeds_newest_entry_age_seconds{feed}``: how old each feed's newest entry is (``feed``: its
  file without the suffix, ``all``, ``财经``, ``tags/t``)
- ``feeds_job_queue_depth{queue}``, ``feeds_job_queue_oldest_age_seconds{queue}``: jobs
  waiting, and how long the oldest has waited
- ``process_*``: the process's CPU, memory and descriptors (prometheus-client's own)
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from feeds.aggregate import fetchstate
from feeds.errors import StoreError
from feeds.formats import FEED_SUFFIXES
from feeds.httpguard import listen_error
from feeds.store.store import Store, exists, open_store

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from feeds.config.config import Config, SourceConfig, StoreConfig
    from feeds.generate.report import FeedResult, Report
    from feeds.models import SourceOutcome
    from feeds.store.clusterstatus import QueueWatch
    from feeds.store.parts import SourceState

log = logging.getLogger("feeds.daemon")

REGISTRY = CollectorRegistry()  # ours alone: nothing another library registers shows up
ProcessCollector(registry=REGISTRY)

FETCHES = Counter("feeds_fetches", "Fetches by outcome", ["outcome"], registry=REGISTRY)
FETCH_SECONDS = Histogram(
    "feeds_fetch_duration_seconds",
    "Time one fetch took",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
ENTRIES_STORED = Counter("feeds_entries_stored", "New entries stored", registry=REGISTRY)
BUILDS = Counter("feeds_builds", "Builds by result", ["result"], registry=REGISTRY)
BUILD_SECONDS = Histogram(
    "feeds_build_duration_seconds",
    "Time one build took",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
    registry=REGISTRY,
)


def record_fetch(report: Report) -> None:
    """A fetch round's outcomes: one per source fetched."""
    record_outcomes(report.sources)


def record_outcomes(outcomes: Iterable[SourceOutcome]) -> None:
    """Fetches done one by one (a worker's fetch jobs), or a round's."""
    for o in outcomes:
        FETCHES.labels(o.status).inc()
        FETCH_SECONDS.observe(o.seconds)
        ENTRIES_STORED.inc(o.new)


def record_build(report: Report | None, seconds: float) -> None:
    """A build's result (None: it raised) and how long it took; the newest entry of each
    feed it built, for the ages."""
    if report is None:
        BUILDS.labels("failed").inc()
        return
    BUILDS.labels("ok" if report.ok else "problems").inc()
    BUILD_SECONDS.observe(seconds)
    AGES.update((feed_name(f), f.newest.timestamp()) for f in report.feeds)


def feed_name(feed: FeedResult) -> str:
    """A feed as the metrics name it: its file without the format's suffix (``all``,
    ``财经``, ``tags/t``), as in its URL."""
    for path in feed.paths:
        for suffix in FEED_SUFFIXES:
            if path.endswith(suffix):
                return path.removesuffix(suffix)
    return feed.label


def count_due(
    sources: Iterable[SourceConfig],
    states: dict[str, SourceState],
    now: dt.datetime,
    grace: float,
) -> tuple[int, int]:
    """Enabled sources due at ``now`` (the fetch round's own rule), and of those the ones
    whose attempt fell due more than ``grace`` seconds ago."""
    due = fetchstate.due(tuple(sources), states, now)
    late = now - dt.timedelta(seconds=grace)
    overdue = 0
    for s in due:
        st = states.get(s.id)
        when = st.next_attempt if st is not None and st.url == s.url else None
        overdue += when is not None and when < late
    return len(due), overdue


class _Ages(Collector):
    """``feeds_newest_entry_age_seconds{feed}``, worked out at each scrape."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._newest: dict[str, float] = {}

    def update(self, newest: Iterable[tuple[str, float]]) -> None:
        with self._lock:
            self._newest.update(newest)

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "feeds_newest_entry_age_seconds", "How old each feed's newest entry is", labels=["feed"]
        )
        now = self._clock()
        with self._lock:
            for label, newest in sorted(self._newest.items()):
                family.add_metric([label], max(0.0, now - newest))
        yield family


class _Sources(Collector):
    """``feeds_sources_due`` and ``feeds_sources_overdue``, read from the store at each scrape
    (nothing before ``watch_sources``, nor while the store cannot be read).

    The store is opened once and kept (a PostgreSQL store's pool serves every scrape); it is
    opened again after an error, and when a reloaded config names another store."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.config: Callable[[], Config] | None = None
        self._lock = threading.Lock()  # scrapes come on threads of their own
        self._store: Store | None = None
        self._opened_for: StoreConfig | None = None

    def collect(self) -> Iterator[Metric]:
        if self.config is None:
            return
        cfg = self.config()
        now = dt.datetime.fromtimestamp(self._clock(), cfg.site.tz)
        try:
            states = self._states(cfg.store)
        except StoreError as e:  # no figure rather than a wrong one
            log.warning("event=metrics sources=unread error=%s", e)
            return
        due, overdue = count_due(cfg.sources, states, now, cfg.schedule.misfire_grace)
        yield GaugeMetricFamily("feeds_sources_due", "Sources due to be fetched", value=due)
        yield GaugeMetricFamily(
            "feeds_sources_overdue",
            "Due sources waiting longer than schedule.misfire_grace",
            value=overdue,
        )

    def _states(self, cfg: StoreConfig) -> dict[str, SourceState]:
        with self._lock:
            if self._store is not None and self._opened_for != cfg:
                self.close()
            if self._store is None:
                if not exists(cfg):  # none yet: every enabled source is due
                    return {}
                self._store, self._opened_for = open_store(cfg, read_only=True), cfg
            try:
                return self._store.sources.states()
            except StoreError:
                self.close()  # a fresh one at the next scrape
                raise

    def close(self) -> None:
        """Let the kept store go (the caller holds the lock, or scrapes are over)."""
        if self._store is not None:
            store, self._store, self._opened_for = self._store, None, None
            store.close()


class _Queue(Collector):
    """``feeds_job_queue_depth{queue}`` and ``feeds_job_queue_oldest_age_seconds{queue}``,
    read from procrastinate's jobs table at each scrape (nothing before ``watch_queue``)."""

    def __init__(self) -> None:
        self.watch: QueueWatch | None = None

    def collect(self) -> Iterator[Metric]:
        if self.watch is None:
            return
        depth = GaugeMetricFamily("feeds_job_queue_depth", "Jobs waiting", labels=["queue"])
        age = GaugeMetricFamily(
            "feeds_job_queue_oldest_age_seconds",
            "How long the oldest waiting job has waited",
            labels=["queue"],
        )
        try:
            waiting = self.watch.waiting()
        except StoreError as e:
            log.debug("event=metrics queue=unread error=%s", e)
            return
        for name, (n, oldest) in sorted(waiting.items()):
            depth.add_metric([name], n)
            age.add_metric([name], oldest)
        yield depth
        yield age


AGES = _Ages()
REGISTRY.register(AGES)
SOURCES = _Sources()
REGISTRY.register(SOURCES)


QUEUE = _Queue()
REGISTRY.register(QUEUE)


def watch_queue(dsn: str) -> None:
    """Report the job queue in the database at ``dsn`` (a worker's or scheduler's), read
    on one connection kept for the process's life."""
    from feeds.store.clusterstatus import QueueWatch  # psycopg loads only in these processes

    QUEUE.watch = QueueWatch(dsn)


def watch_sources(config: Callable[[], Config]) -> None:
    """Report the sources due and overdue under ``config()`` (the config in force)."""
    SOURCES.config = config


def start_metrics_server(
    port: int, host: str = "127.0.0.1", option: str = "--metrics-port"
) -> WSGIServer:
    """``GET /metrics`` (any path) on ``host``:``port``, on a thread of its own; ``shutdown()``
    stops it. A port that cannot be had is a ``ListenError`` naming it and ``option``."""
    try:
        server, _thread = start_http_server(port, addr=host, registry=REGISTRY)
    except OSError as e:
        raise listen_error(e, host, port, option) from e
    log.info("event=metrics listening=%s:%d", host, server.server_address[1])
    return server
