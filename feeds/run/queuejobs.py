"""What the jobs of a distributed site do, on one worker: fetch one source, find the due
sources, build the dirty outputs. ``feeds.run.queue`` registers them as procrastinate tasks and
runs the workers; this module knows nothing of procrastinate's API but the job's arguments.

A fetch job is one source: read its state, stop if it is no longer due (an earlier job
fetched it), claim the source's fence, fetch → parse → normalize with the single-machine code
(``fetchround.fetch_one``), save with the fence. The schedule lives in the store
(``next_attempt``, from ``fetchstate.next_state``), never only in the queue: a job that is
lost leaves its source due, and the next tick defers it again.

Like ``scheduler``, this module asks the clock: a job's ``now`` is when it runs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from feeds.aggregate import fetchstate
from feeds.collect.http import Fetcher
from feeds.config.config import Config, SourceConfig
from feeds.errors import FeedsError
from feeds.generate import pipeline
from feeds.models import Problems, Severity
from feeds.run import metrics
from feeds.store.store import Store, open_store

log = logging.getLogger("feeds.run.queue")

ALL_OUTPUTS = "*"  # a dirty mark meaning every feed (a scheduled build, a changed post)
TICK_LIMIT = 20_000  # due sources a tick takes from the store besides those already queued
# The tick asks the store only about sources it has not yet seen stored (id and URL); what
# it saw is forgotten this often (seconds), in case a row went away (a restore by hand).
STORED_FORGET = 3600.0


def fetch_lock(source_id: str) -> str:
    """The queueing lock of a source's fetch job: at most one of them waits in the queue."""
    return f"fetch:{source_id}"


def host_lock(s: SourceConfig, per_host: int) -> str:
    """The lock of a source's fetch job: one of ``per_host`` slots of its host, the same slot
    for the same source always, so that at most ``per_host`` fetches of one host run at once
    across every worker and two jobs of one source never run at the same time."""
    slot = zlib.crc32(s.id.encode()) % per_host
    return f"host:{urlsplit(s.url).netloc}#{slot}"


def site_lock(cfg: Config) -> str:
    """The lock and queueing lock of a site's build job."""
    return f"build:{cfg.site.url}"


def outputs_of(s: SourceConfig) -> set[str]:
    """The category feeds a source's entries land in (its categories and routes)."""
    return set(s.categories) | {r.to for r in s.routes}


@dataclass
class Runtime:
    """A worker process's config, store and HTTP clients. Each job runs on a thread of its
    own: each thread has its own client, and its own store unless the store is PostgreSQL
    (whose pool serves every thread; a SQLite connection must not be shared)."""

    cfg: Config
    # records dirty outputs and defers a build (set by feeds.run.queue once its tasks exist)
    mark_dirty: Callable[[set[str]], None] | None = None
    _local: threading.local = field(default_factory=threading.local)
    _opened: list[Store | Fetcher] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _shared: Store | None = None
    _by_id: dict[str, SourceConfig] | None = None
    # (id, URL) of the enabled sources the tick saw stored, and when it began to gather them
    _stored: set[tuple[str, str]] = field(default_factory=set)
    _stored_since: float = 0.0

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.cfg.site.tz)

    def store(self) -> Store:
        shared = self.cfg.store.database is not None
        with self._lock:
            store = self._shared if shared else getattr(self._local, "store", None)
            if store is None:
                store = open_store(self.cfg.store)
                self._opened.append(store)
                if shared:
                    self._shared = store
                else:
                    self._local.store = store
        return store

    def fetcher(self) -> Fetcher:
        f: Fetcher | None = getattr(self._local, "fetcher", None)
        if f is None:
            f = Fetcher(self.cfg.fetch)
            f.__enter__()
            self._local.fetcher = f
            with self._lock:
                self._opened.append(f)
        return f

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for x in opened:
            if isinstance(x, Store):
                x.close()
            else:
                x.__exit__(None, None, None)

    def source(self, source_id: str) -> SourceConfig | None:
        if self._by_id is None:
            self._by_id = {s.id: s for s in self.cfg.sources}
        return self._by_id.get(source_id)


def fetch_source(rt: Runtime, source_id: str) -> str:
    """One fetch job; returns what happened, in words (procrastinate logs it)."""
    from feeds.aggregate import fetchround  # httpx and feedparser load with the first fetch

    s = rt.source(source_id)
    if s is None or not s.enabled:
        log.info("event=fetch source=%s result=skipped reason=not-in-config", source_id)
        return "skipped: not an enabled source of this config"
    now = rt.now()
    store = rt.store()
    st = store.sources.state(s.id)
    if not fetchstate.due((s,), {} if st is None else {s.id: st}, now):
        log.debug("event=fetch source=%s result=skipped reason=not-due", s.id)
        return "skipped: not due (fetched by an earlier job)"
    fence = store.sources.claim(s.id)  # from now on, an older job's late save is refused
    problems = Problems()
    outcome = fetchround.fetch_one(rt.cfg, store, rt.fetcher(), s, st, now, problems, fence=fence)
    if outcome.status == "refused":
        log.warning("event=fetch source=%s result=refused fence=%d", s.id, fence)
        return "refused: another job took the source meanwhile; nothing saved"
    log_problems(problems)
    metrics.record_outcomes((outcome,))
    log.info(
        "event=fetch source=%s status=%s new=%d changed=%d",
        s.id,
        outcome.status,
        outcome.new,
        outcome.changed,
    )
    if (outcome.new or outcome.changed) and rt.mark_dirty is not None:
        rt.mark_dirty(outputs_of(s))
    return f"{outcome.status}: new={outcome.new} changed={outcome.changed}"


def due_sources(rt: Runtime, busy: set[str]) -> list[SourceConfig]:
    """The tick: the due sources (``fetchstate.due``'s rule, asked of the store without
    reading every row: ``feeds.store.due``) without a fetch job already waiting or running,
    in config order. At most ``TICK_LIMIT`` stored rows beyond the busy ones are taken, the
    longest-waiting first; the rest stay due for a later tick."""
    now = rt.now()
    sources = rt.store().sources
    enabled = [s for s in rt.cfg.sources if s.enabled]
    ids = set(sources.due(now, TICK_LIMIT + len(busy)))
    ids.update(_unseen(rt, [(s.id, s.url) for s in enabled]))
    return [s for s in enabled if s.id in ids and fetch_lock(s.id) not in busy]


def _unseen(rt: Runtime, pairs: list[tuple[str, str]]) -> set[str]:
    """The sources with no stored row for their URL (never fetched, or moved). Those seen
    stored are not asked about again (a row, once made, stays: the due index covers it)
    until ``STORED_FORGET`` has passed: at 10^5 sources the question took 0.33 s a tick."""
    if time.monotonic() - rt._stored_since >= STORED_FORGET:
        rt._stored, rt._stored_since = set(), time.monotonic()
    asked = [p for p in pairs if p not in rt._stored]
    unseen = set(rt.store().sources.unseen(asked)) if asked else set()
    rt._stored.update(p for p in asked if p[0] not in unseen)
    return unseen


def build_outputs(rt: Runtime, outputs: Iterable[str]) -> tuple[bool, tuple[str, ...]]:
    """Rebuild the dirty outputs (``ALL_OUTPUTS``: every feed); incremental, so only what
    changed is written. Returns whether the build finished (its marks can be cleared) and
    the head feeds it wrote, for the WebSub hub (announced by jobs of their own)."""
    wanted = set(outputs)
    only = None if ALL_OUTPUTS in wanted else wanted
    started, t0 = rt.now(), time.monotonic()
    try:
        report = pipeline.run_once(rt.cfg, started, only=only, ping=False)
    except Exception:
        metrics.record_build(None, time.monotonic() - t0)
        raise
    metrics.record_build(report, time.monotonic() - t0)
    log_problems(report.problems)
    log.info(
        "event=build outputs=%s written=%d unchanged=%d errors=%d",
        json.dumps(sorted(wanted), ensure_ascii=False),
        len(report.files_written),
        len(report.files_unchanged),
        len(report.problems.errors),
    )
    pings = report.head_feeds_written if rt.cfg.feeds.websub_hub else ()
    return not report.stopped, pings


class PingFailed(FeedsError):
    """The WebSub hub did not accept a publish ping (the job is retried later)."""


def ping(rt: Runtime, feed: str) -> str:
    """One WebSub job: announce one written head feed (path in the output folder)."""
    from feeds.generate import websub  # httpx loads only where pings are sent

    problems = Problems()
    if websub.notify(rt.cfg, [feed], problems, attempts=1, deadline=websub.REQUEST_TIMEOUT):
        return f"announced {feed}"
    why = "; ".join(f"{p.where}: {p.message}" for p in problems.items)
    log.warning("event=websub feed=%s result=failed retry=later error=%s", feed, json.dumps(why))
    raise PingFailed(why)


def log_problems(problems: Problems) -> None:
    for p in problems.items:
        level = logging.ERROR if p.severity is Severity.ERROR else logging.WARNING
        log.log(
            level,
            "event=problem where=%s message=%s",
            json.dumps(p.where, ensure_ascii=False),
            json.dumps(p.message, ensure_ascii=False),
        )
