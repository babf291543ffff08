"""Running a distributed site's processes: ``feeds worker`` and ``feeds run --distributed``
(``feeds.run.queue`` has their tasks). A ``Supervisor`` runs one procrastinate worker at a time
on a fresh pool, started again after a short pause whenever it loses the database.

Signals: SIGTERM/SIGINT stop it gracefully (running jobs finish). SIGHUP re-reads the
config, as the one-machine daemon does: a broken one is refused (logged with its file, line
and key) and the old one kept; a good one stops the procrastinate worker gracefully and
starts it again on the new config, so new and removed sources, their intervals (from each
source's next fetch on), ``schedule.fetch_every`` and the build schedule take effect; the
scheduler then asks for a build of every feed, as at a start. The databases and
``state.dir`` cannot change while running (a restart can).

The scheduler watches the post folders (``schedule.watch``, through ``feeds.run.watch``): a saved
post marks every feed dirty and defers a build at once; the build job's queueing lock keeps
it to one waiting per site (one already waiting, settling after new entries, takes the post
along).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import procrastinate
import psycopg
from procrastinate import exceptions as pe, jobs as pj

from feeds.config.config import Config
from feeds.errors import FeedsError
from feeds.run import queue
from feeds.run.queuejobs import ALL_OUTPUTS, site_lock
from feeds.run.watch import PostWatcher

log = logging.getLogger("feeds.run.queue")

RESTART_PAUSES = (1.0, 2.0, 5.0)  # between starts of a worker that lost the database


def unchangeable(old: Config, new: Config) -> str | None:
    """Why ``new`` cannot replace ``old`` in a running process, or None when it can."""
    if queue.database(new) != queue.database(old):
        return "queue.database cannot change while running; restart instead"
    if new.store.database != old.store.database:
        return "state.database cannot change while running; restart instead"
    if new.store.state_dir.resolve() != old.store.state_dir.resolve():
        return "state.dir cannot change while running; restart instead"
    return None


class Supervisor:
    """A worker (or, with ``scheduler``, the scheduler) and the config in force (``cfg``,
    replaced by each accepted reload); ``load_config`` reads the config file again."""

    def __init__(self, cfg: Config, load_config: Callable[[], Config], *, scheduler: bool) -> None:
        self.cfg = cfg
        self.load_config = load_config
        self.scheduler = scheduler
        self.role = "scheduler" if scheduler else "worker"
        self.queues = [queue.SCHEDULE, queue.BUILD] if scheduler else [queue.FETCH]

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; returns the exit status."""
        return asyncio.run(self._supervise())

    async def _supervise(self) -> int:
        loop = asyncio.get_running_loop()
        self._stop, self._reload = asyncio.Event(), asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload.set)
        dsn = queue.database(self.cfg)
        pauses = iter(RESTART_PAUSES)
        while not self._stop.is_set():
            # every fetch job is a thread: enough of them for queue.concurrency jobs and the
            # tick (a new pool per start: a reload may change the concurrency)
            executor = ThreadPoolExecutor(self.cfg.queue.concurrency + 4, "job")
            loop.set_default_executor(executor)
            app = queue.make_app(dsn)
            rt = queue.register(app, self.cfg, scheduler=self.scheduler)
            reloaded = None
            try:
                async with app.open_async():
                    await queue.ensure_schema(dsn)
                    log.info("event=start role=%s queues=%s", self.role, ",".join(self.queues))
                    pauses = iter(RESTART_PAUSES)
                    reloaded = await self._run_started(app)
            except (pe.ConnectorException, psycopg.Error, OSError) as e:  # PoolTimeout is one
                why = str(e) or type(e).__name__
                log.warning("event=database-lost role=%s error=%s", self.role, why)
            finally:
                rt.close()
                executor.shutdown(wait=False)
            if reloaded is not None:
                self.cfg = reloaded
                continue  # at once, on the new config
            if not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), next(pauses, RESTART_PAUSES[-1]))
        log.info("event=stop role=%s", self.role)
        return 0

    async def _run_started(self, app: procrastinate.App) -> Config | None:
        """The scheduler's first build and its watcher, then the worker until a stop or
        an accepted reload (returned)."""
        watcher = None
        if self.scheduler:  # as the daemon does: what changed while down is built now
            with contextlib.suppress(pe.AlreadyEnqueued):
                await app.tasks["feeds.scheduled_build"].defer_async(timestamp=0)
            watcher = await self._watch(app)
        try:
            return await self._run_until(app)
        finally:
            if watcher is not None:
                await asyncio.to_thread(watcher.stop)

    async def _run_until(self, app: procrastinate.App) -> Config | None:
        """One procrastinate worker until a stop (a graceful one: running jobs finish), an
        accepted reload (the new config is returned), or its own end (it lost the
        database: a side task failed; raised)."""
        cfg = self.cfg
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=self.queues,
                name=self.role,
                concurrency=cfg.queue.concurrency if not self.scheduler else 3,
                install_signal_handlers=False,
                update_heartbeat_interval=cfg.queue.heartbeat,
                stalled_worker_timeout=cfg.queue.stall_timeout,
                fetch_job_polling_interval=min(5.0, cfg.queue.heartbeat),
                delete_jobs=pj.DeleteJobCondition.SUCCESSFUL,
            )
        )
        reloaded = None
        while reloaded is None and not self._stop.is_set() and not worker.done():
            signals = [asyncio.create_task(e.wait()) for e in (self._stop, self._reload)]
            await asyncio.wait({worker, *signals}, return_when=asyncio.FIRST_COMPLETED)
            for waiting in signals:
                waiting.cancel()
            if self._reload.is_set() and not self._stop.is_set():
                self._reload.clear()
                reloaded = await asyncio.to_thread(self._reloaded)
        if not worker.done():
            worker.cancel()  # procrastinate stops gracefully when its run is cancelled
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        if reloaded is None and not self._stop.is_set():
            raise pe.ConnectorException("the worker stopped by itself")
        return reloaded

    def _reloaded(self) -> Config | None:
        """The config file read again, or None (logged) when it is refused."""
        try:
            new = self.load_config()
            why = unchangeable(self.cfg, new)
        except FeedsError as e:
            why = str(e)
        if why is not None:
            log.error(
                "event=reload role=%s result=refused keeping=old error=%s",
                self.role,
                json.dumps(why, ensure_ascii=False),
            )
            return None
        log.info(
            "event=reload role=%s result=ok config=%s fetch_every=%gs build=%s sources=%d",
            self.role,
            new.path,
            new.schedule.fetch_every,
            json.dumps(new.schedule.build),
            len(new.sources),
        )
        return new

    # ------------------------------------------------------------------ watching

    async def _watch(self, app: procrastinate.App) -> PostWatcher | None:
        """Watch the post folders (``schedule.watch``): a saved post defers a build."""
        if not self.cfg.schedule.watch:
            return None
        loop = asyncio.get_running_loop()
        site = site_lock(self.cfg)

        def changed(paths: frozenset[Path]) -> None:  # on the watcher's thread
            log.debug("event=watch changed=%d", len(paths))
            asyncio.run_coroutine_threadsafe(_build_now(app, site), loop)

        watcher = PostWatcher(self.cfg.posts.dirs, changed)
        return watcher if await asyncio.to_thread(watcher.start) else None


async def _build_now(app: procrastinate.App, site: str) -> None:
    """Mark every feed dirty and defer a build at once (one waiting already will do)."""
    try:
        await app.connector.execute_query_async(queue.MARK_DIRTY, site=site, outputs=[ALL_OUTPUTS])
        with contextlib.suppress(pe.AlreadyEnqueued):
            await app.tasks["feeds.build"].defer_async(site=site)
    except (pe.ConnectorException, psycopg.Error, OSError) as e:  # the next start builds it
        log.warning("event=watch result=unqueued error=%s", str(e) or type(e).__name__)
    else:
        log.info("event=watch result=build-deferred")
