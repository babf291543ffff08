"""The job queue of a distributed site: procrastinate on PostgreSQL, the one service more.

Two kinds of process, any number of each, on any machine that reaches the database:

- ``feeds worker`` runs fetch jobs (queue ``fetch``), ``queue.concurrency`` at a time, each on
  a thread of its own (``feeds.run.queuejobs.fetch_source``).
- ``feeds run --distributed`` (the scheduler) runs procrastinate's periodic deferrer and the
  jobs it defers for itself (queues ``schedule`` and ``build``): the tick every
  ``schedule.fetch_every`` defers a fetch job per due source; the sweep retries the jobs of
  workers whose heartbeat is older than ``queue.stall_timeout``; the scheduled build marks
  every feed dirty on ``schedule.build``; a build job rebuilds the dirty feeds. The database
  keeps each periodic job to one defer per period however many schedulers run, and the
  scheduler's own jobs carry a lock each, so two of them never run at once.

Locks (procrastinate's ``lock``: one running job per key; ``queueing_lock``: one waiting job
per key): a fetch job waits once per source (``fetch:ID``) and runs in one of its host's
``fetch.per_host`` slots (``host:NETLOC#N``, the same slot for the same source, so a source is
never fetched twice at once either); a build job waits and runs once per site.

``feeds.run.queuerun`` runs the processes (restarts, signals, reloads, the post watcher). A
worker that loses the database (a restart, a failover) is started again on a fresh pool
after a short pause; the jobs it was running are retried by the sweep once its heartbeat is
stale. Procrastinate's own tables are created by ``ensure_schema`` on first start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import procrastinate
import psycopg
from procrastinate import exceptions as pe, jobs as pj
from procrastinate.schema import SchemaManager
from procrastinate.tasks import Task

from feeds.config.config import Config, SourceConfig
from feeds.errors import ConfigError
from feeds.run import queuejobs
from feeds.run.queuejobs import ALL_OUTPUTS, Runtime

log = logging.getLogger("feeds.run.queue")

FETCH, SCHEDULE, BUILD = "fetch", "schedule", "build"
# a hub that fails is asked again after 2, 4, 8, 16, 32 s (procrastinate's backoff)
PING_RETRY = procrastinate.RetryStrategy(
    max_attempts=5, exponential_wait=2, retry_exceptions={queuejobs.PingFailed}
)
BATCH = 500  # fetch jobs deferred per statement by the tick

# Our one table: outputs (category feeds) that new entries made dirty, per site. A build
# reads the marks, builds, then deletes the marks it read (a mark set again meanwhile gets
# a new number and stays for the next build).
DIRTY_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds_dirty_outputs (
    site text NOT NULL,
    output text NOT NULL,
    mark bigserial NOT NULL,
    PRIMARY KEY (site, output)
)"""
MARK_DIRTY = """
INSERT INTO feeds_dirty_outputs (site, output) SELECT %(site)s, unnest(%(outputs)s::text[])
ON CONFLICT (site, output) DO UPDATE SET mark = DEFAULT"""
READ_DIRTY = "SELECT output, mark FROM feeds_dirty_outputs WHERE site = %(site)s"
CLEAR_DIRTY = """
DELETE FROM feeds_dirty_outputs d USING unnest(%(outputs)s::text[], %(marks)s::bigint[]) r(o, m)
WHERE d.site = %(site)s AND d.output = r.o AND d.mark = r.m"""
# The fetch jobs waiting or running, by queueing lock: the tick leaves their sources alone.
# (procrastinate_jobs is procrastinate's documented table of jobs.)
BUSY = """
SELECT queueing_lock, lock FROM procrastinate_jobs
WHERE status IN ('todo', 'doing') AND queue_name = 'fetch' AND queueing_lock IS NOT NULL"""
# Procrastinate's job fetch looks, for each waiting job it considers, at the other waiting
# jobs of its lock: a tick leaves at most this many waiting per host slot (the rest of the
# due sources stay due: a later tick defers them), which bounds that look.
WAITING_PER_SLOT = 100


def database(cfg: Config) -> str:
    """The queue's PostgreSQL URL: ``queue.database``, else the store's ``state.database``."""
    url = cfg.queue.database or cfg.store.database
    if not url:
        raise ConfigError(
            "a PostgreSQL URL (postgresql://user@host/db) is needed for the job queue of "
            "feeds worker and feeds run --distributed (or state.database, for both)",
            file=str(cfg.path),
            key="queue.database",
        )
    return url


def every(seconds: float) -> str:
    """A cron line (procrastinate's, seconds in a sixth column) firing about every
    ``seconds``: rounded down to a divisor of a minute, an hour or a day."""

    def divisor(n: int, of: int) -> int:
        return max(d for d in range(1, min(n, of) + 1) if of % d == 0)

    s = max(1, int(seconds))
    if s < 60:
        return f"* * * * * */{divisor(s, 60)}"
    if s < 3600:
        return f"*/{divisor(s // 60, 60)} * * * *"
    return f"0 */{divisor(s // 3600, 24)} * * *"


def make_app(dsn: str) -> procrastinate.App:
    # the pool checks a connection before lending it, so one broken by a server restart is
    # replaced; a short timeout lets a worker notice a database that is gone
    connector = procrastinate.PsycopgConnector(conninfo=dsn, min_size=1, max_size=8, timeout=5)
    return procrastinate.App(connector=connector)


async def ensure_schema(dsn: str) -> None:
    """Procrastinate's tables when there are none yet, and ours: in one transaction under
    an advisory lock, on one connection (schedulers and workers may start together)."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await conn.execute("SELECT pg_advisory_xact_lock(4604554444)")
        cur = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
        row = await cur.fetchone()
        if not (row and row[0]):
            await conn.execute(SchemaManager.get_schema())
        await conn.execute(DIRTY_SCHEMA)
        await conn.commit()


# ----------------------------------------------------------------------------- tasks


def register(app: procrastinate.App, cfg: Config, *, scheduler: bool) -> Runtime:
    """Register the tasks on ``app`` (the periodic ones only for a scheduler, whose process
    runs the periodic deferrer) and return the runtime their jobs use."""
    rt = Runtime(cfg)
    build = _build_tasks(app, rt)

    @app.task(name="feeds.fetch", queue=FETCH)
    def fetch(source_id: str) -> str:
        return queuejobs.fetch_source(rt, source_id)

    if scheduler:
        _scheduler_tasks(app, rt, fetch.name, build)
    return rt


def _build_tasks(app: procrastinate.App, rt: Runtime) -> Task[Any, Any, Any]:
    """The build job (one waiting and one running per site) and the WebSub ping jobs; sets
    ``rt.mark_dirty``, which a fetch job calls after new entries. Returns the build task."""
    cfg, site = rt.cfg, queuejobs.site_lock(rt.cfg)

    @app.task(name="feeds.build", queue=BUILD, lock=site, queueing_lock=site)
    async def build(site: str) -> str:
        rows = await app.connector.execute_query_all_async(READ_DIRTY, site=site)
        if not rows:
            return "nothing dirty"
        outputs = [r["output"] for r in rows]
        done, pings = await asyncio.to_thread(queuejobs.build_outputs, rt, outputs)
        if done:
            marks = [r["mark"] for r in rows]
            await app.connector.execute_query_async(
                CLEAR_DIRTY, site=site, outputs=outputs, marks=marks
            )
        for feed in pings:  # one retried job per feed; one waiting for a feed covers it
            with contextlib.suppress(pe.AlreadyEnqueued):
                await websub.configure(queueing_lock=f"websub:{feed}").defer_async(feed=feed)
        return f"built {len(outputs)} outputs"

    @app.task(name="feeds.generate.websub", queue=BUILD, retry=PING_RETRY)
    def websub(feed: str) -> str:
        return queuejobs.ping(rt, feed)

    def mark_dirty(outputs: set[str]) -> None:  # on a fetch job's thread
        app.connector.execute_query(MARK_DIRTY, site=site, outputs=sorted(outputs))
        with contextlib.suppress(pe.AlreadyEnqueued):  # a waiting build will see the marks
            build.configure(schedule_in={"seconds": int(cfg.queue.build_settle)}).defer(site=site)

    rt.mark_dirty = mark_dirty
    return build


def _scheduler_tasks(
    app: procrastinate.App, rt: Runtime, fetch_task: str, build: Task[Any, Any, Any]
) -> None:
    """The scheduler's periodic jobs: the tick, the sweep of stalled jobs, the scheduled
    build."""
    cfg, site = rt.cfg, queuejobs.site_lock(rt.cfg)

    async def tick(timestamp: int) -> str:
        rows = await app.connector.execute_query_all_async(BUSY)
        busy = {r["queueing_lock"] for r in rows}
        due = await asyncio.to_thread(queuejobs.due_sources, rt, busy)
        jobs = _fetch_jobs(fetch_task, due, cfg.fetch.per_host, [r["lock"] for r in rows])
        deferred = await _defer_fetches(app, jobs)
        log.info(
            "event=tick at=%d due=%d deferred=%d busy=%d", timestamp, len(due), deferred, len(busy)
        )
        return f"deferred {deferred} of {len(due)} due sources"

    async def sweep(timestamp: int) -> str:
        return await _retry_stalled(app, cfg.queue.stall_timeout)

    async def scheduled_build(timestamp: int) -> str:
        await app.connector.execute_query_async(MARK_DIRTY, site=site, outputs=[ALL_OUTPUTS])
        with contextlib.suppress(pe.AlreadyEnqueued):
            await build.defer_async(site=site)
        return "asked for a build of every feed"

    async def cleanup(timestamp: int) -> str:  # succeeded jobs are deleted as they finish
        await app.job_manager.delete_old_jobs(
            nb_hours=24, include_failed=True, include_cancelled=True, include_aborted=True
        )
        return "removed the jobs that ended a day ago"

    _periodic(app, "feeds.cleanup", cleanup, "17 * * * *")
    _periodic(app, "feeds.tick", tick, every(cfg.schedule.fetch_every))
    _periodic(app, "feeds.sweep", sweep, every(max(1.0, cfg.queue.stall_timeout / 4)))
    seconds = cfg.schedule.build_seconds
    _periodic(
        app,
        "feeds.scheduled_build",
        scheduled_build,
        every(seconds) if seconds is not None else cfg.schedule.build,
    )


def _periodic(
    app: procrastinate.App, name: str, func: Callable[[int], Awaitable[str]], cron: str
) -> None:
    """A periodic job on the schedule queue: deferred once per period by whichever
    scheduler comes first, and never run twice at once (its lock), nor piled up while one
    waits (its queueing lock)."""
    task = app.task(name=name, queue=SCHEDULE, lock=name, queueing_lock=name)(func)
    app.periodic(cron=cron, periodic_id="")(task)


def _fetch_jobs(
    task_name: str, due: list[SourceConfig], per_host: int, busy_locks: list[str]
) -> list[pj.Job]:
    """A fetch job per due source, in its host slot, up to ``WAITING_PER_SLOT`` per slot."""
    waiting = Counter(busy_locks)
    out = []
    for s in due:
        lock = queuejobs.host_lock(s, per_host)
        if waiting[lock] >= WAITING_PER_SLOT:
            continue
        waiting[lock] += 1
        out.append(
            pj.Job(
                id=None,
                queue=FETCH,
                lock=lock,
                queueing_lock=queuejobs.fetch_lock(s.id),
                task_name=task_name,
                task_kwargs={"source_id": s.id},
            )
        )
    return out


async def _defer_fetches(app: procrastinate.App, jobs: list[pj.Job]) -> int:
    """Defer ``BATCH`` jobs per statement; a batch that meets a job already waiting is
    deferred again one job at a time, skipping the waiting ones. After many, the job
    table is analyzed: with stale statistics PostgreSQL sorts every waiting job on each
    fetch instead of walking procrastinate's index (170 ms instead of 4 at 10,000 jobs)."""
    deferred = 0
    for i in range(0, len(jobs), BATCH):
        batch = jobs[i : i + BATCH]
        try:
            await app.job_manager.batch_defer_jobs_async(batch)
            deferred += len(batch)
        except pe.AlreadyEnqueued:
            for job in batch:
                with contextlib.suppress(pe.AlreadyEnqueued):
                    await app.job_manager.defer_job_async(job)
                    deferred += 1
    if deferred >= BATCH:
        await app.connector.execute_query_async("ANALYZE procrastinate_jobs")
    return deferred


async def _retry_stalled(app: procrastinate.App, stall_timeout: float) -> str:
    """Procrastinate's recipe for stalled jobs: the running jobs of workers whose heartbeat
    is older than the stall timeout go back to the queue. One that cannot (a job with its
    queueing lock already waits: that one will do its work) is marked failed."""
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stall_timeout))
    retried = 0
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
            retried += 1
        except pe.ConnectorException:
            await app.job_manager.finish_job_by_id_async(
                job.id or 0, status=pj.Status.FAILED, delete_job=False
            )
        log.info("event=stalled job=%s task=%s action=retried", job.id, job.task_name)
    return f"retried {retried} of {len(stalled)} stalled jobs"
