"""``feeds run``: the daemon. APScheduler 3's BackgroundScheduler, in the site timezone, runs
builds on one thread (executor "build") and fetches on another ("fetch"), so a slow fetch round
never delays a build: the scheduled build (an interval or a cron expression), a build as soon as
a post file is saved (``schedule.watch``, through ``feeds.run.watch``), and a fetch check (every
``schedule.fetch_every``) that fetches the sources that are due and then asks the build thread
to rebuild only the categories that got new entries. Builds asked for while one is under way
merge into one pending build.

Signals: SIGTERM/SIGINT finish the file being written, release the lock and exit 0; SIGHUP
reloads the config (a broken one is reported and the old one kept). The handlers only set
flags and wake the main thread, which acts on them (a reload re-adds jobs through the
scheduler's public, thread-safe API); the scheduler's own loop runs in its thread. This is
APScheduler's public way to get what overriding BlockingScheduler's private ``_main_loop``
gave: nothing in a signal handler touches the scheduler's locks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.interval import IntervalTrigger

from feeds.config import config
from feeds.errors import FeedsError
from feeds.generate import pipeline, runstate
from feeds.lock import ProcessLock
from feeds.models import Severity
from feeds.run import health, metrics, once
from feeds.run.triggers import build_trigger
from feeds.run.watch import Changes, PostWatcher
from feeds.runtime import Runtime
from feeds.store.store import open_store
from feeds.write import remove_stale_temps

log = logging.getLogger("feeds.daemon")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
SIGNAL_POLL = 0.5  # seconds: the longest a signal waits for the main thread to notice it


class Daemon:
    def __init__(
        self,
        cfg: config.Config,
        load_config: Callable[[], config.Config],
        *,
        health_port: int | None = None,
        metrics_port: int | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        self.cfg = cfg
        self.runtime = runtime or Runtime()  # the clock and the file writes' fault hook
        self.load_config = load_config
        self.health_port, self.metrics_port = health_port, metrics_port
        self.stop = threading.Event()
        self.reload = threading.Event()
        self.wake = threading.Event()  # set by the signal handlers, after their flag
        self.last_build: dict[str, Any] | None = None
        self.last_fetch: dict[str, Any] | None = None
        self.started = self.now()
        self.failed_runs = 0
        self.job_failed: dict[str, str | None] = {"build": None, "fetch": None}
        self.wants = health.BuildWants()
        # a build asked for (saved posts, new entries) and not yet started: its categories
        # (None: all); ``queued`` while a job to run it waits in the build executor
        self.asked = threading.Lock()
        self.pending: set[str] | None = set()
        self.pending_reasons: set[str] = set()
        self.queued = False
        self.watcher: PostWatcher | None = None
        self.changes = Changes()  # the post files the watcher saw change, for the next build
        self.scheduler = BackgroundScheduler(
            timezone=cfg.site.tz,
            executors={
                "build": ThreadPoolExecutor(max_workers=1),
                "fetch": ThreadPoolExecutor(max_workers=1),
            },
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(cfg.schedule.misfire_grace),
            },
        )

    def now(self) -> dt.datetime:
        return self.runtime.now(self.cfg.site.tz)

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        cfg = self.cfg
        with ProcessLock(cfg.store.state_dir, "run"):
            # the output folder's are removed by every build, the first one at once below
            removed = remove_stale_temps(cfg.store.state_dir)
            if removed:
                log.info("event=recovered removed_temp_files=%d", removed)
            if cfg.sources:
                # fails now, clearly, if the store is unusable
                open_store(cfg.store).close()
            self._schedule(first=True)
            for sig in STOP_SIGNALS:
                signal.signal(sig, self._on_stop_signal)
            signal.signal(signal.SIGHUP, self._on_hup)
            server = scraped = None
            if self.metrics_port is not None:
                metrics.watch_sources(lambda: self.cfg)
                scraped = metrics.start_metrics_server(self.metrics_port)
            if self.health_port is not None:
                server = health.serve(self.health_port, self.health)
            log.info(
                "event=start pid=%d config=%s build=%s fetch_every=%gs sources=%d timezone=%s",
                os.getpid(),
                cfg.path,
                json.dumps(cfg.schedule.build),
                cfg.schedule.fetch_every,
                len(cfg.sources),
                cfg.site.timezone,
            )
            self.scheduler.add_listener(
                self._on_submitted, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES
            )
            self.scheduler.start()  # its own thread; the jobs run on the executors' threads
            self._watch()
            try:
                self._wait_for_signals()  # until stop is set
            finally:
                self._unwatch()
                # finish the jobs under way (they stop between files and between sources),
                # then let go of the lock
                self.scheduler.shutdown(wait=True)
                for listening in (server, scraped):
                    if listening is not None:
                        listening.shutdown()
                self._save_status()
            log.info("event=stop pid=%d", os.getpid())
        return 0

    def _schedule(self, *, first: bool) -> None:
        now = self.now()
        # at start-up both run at once: whatever was missed while down is caught up once
        start: dict[str, Any] = {"next_run_time": now} if first else {}
        self.scheduler.add_job(
            self._build_job,
            build_trigger(self.cfg),
            id="build",
            name="build",
            executor="build",
            replace_existing=True,
            **start,
        )
        if self.cfg.sources:
            self.scheduler.add_job(
                self._fetch_job,
                IntervalTrigger(seconds=self.cfg.schedule.fetch_every, timezone=self.cfg.site.tz),
                id="fetch",
                name="fetch",
                executor="fetch",
                replace_existing=True,
                **start,
            )
        elif self.scheduler.get_job("fetch"):
            self.scheduler.remove_job("fetch")

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("event=signal signal=%s action=stop", signal.Signals(signum).name)
        self.stop.set()
        self.wake.set()

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        self.reload.set()
        self.wake.set()

    def _wait_for_signals(self) -> None:
        """The main thread's loop: sleep until a handler sets a flag, then act on it here."""
        while not self.stop.is_set():
            # With a timeout: the kernel may hand a signal to any thread, and then the
            # main thread, blocked on a lock with no timeout, would never wake to run the
            # Python handler (a SIGTERM once went unanswered this way with many fetch
            # threads). Waking every half second lets it run within that.
            self.wake.wait(SIGNAL_POLL)
            self.wake.clear()
            if self.reload.is_set() and not self.stop.is_set():
                self.reload.clear()
                self._reload()

    def _reload(self) -> None:
        try:
            new = self.load_config()
        except FeedsError as e:
            log.error(
                "event=reload result=refused keeping=old error=%s",
                json.dumps(str(e), ensure_ascii=False),
            )
            return
        old = self.cfg
        if new.store.state_dir.resolve() != old.store.state_dir.resolve():
            log.error(
                "event=reload result=refused keeping=old error=%s",
                json.dumps("state.dir cannot change while running; restart instead"),
            )
            return
        self.cfg = new
        self._schedule(first=False)
        if (new.schedule.watch, new.posts.dirs) != (old.schedule.watch, old.posts.dirs):
            self._unwatch()
            self._watch()
        log.info(
            "event=reload result=ok config=%s build=%s sources=%d",
            new.path,
            json.dumps(new.schedule.build),
            len(new.sources),
        )

    # ------------------------------------------------------------------ watching

    def _watch(self) -> None:
        if not self.cfg.schedule.watch or self.stop.is_set():
            return
        watcher = PostWatcher(self.cfg.posts.dirs, self._on_posts_changed)
        self.watcher = watcher if watcher.start() else None
        self.changes.walk_next()  # what changed before the watcher was up is found by a walk

    def _unwatch(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def _on_posts_changed(self, paths: frozenset[Path]) -> None:
        log.debug("event=watch changed=%d", len(paths))
        self.changes.add(paths)
        self.ask_build(None, "watch")  # incremental: only the changed files are stat-ed

    # ------------------------------------------------------------------ jobs

    def _on_submitted(self, event: JobEvent) -> None:
        """The scheduled build's time came (it is queued, or skipped as one is running)."""
        if event.job_id == "build":
            self.wants.want()

    def ask_build(self, only: set[str] | None, reason: str) -> None:
        """A build of ``only`` (None: every feed) on the build thread, soon: merged with the
        one already asked for, if it has not started yet."""
        if self.stop.is_set():
            return
        with self.asked:
            if self.pending is not None:
                self.pending = None if only is None else self.pending | only
            self.pending_reasons.add(reason)
            self.wants.want()
            if self.queued:
                return
            self.queued = True
        self.scheduler.add_job(self._asked_build_job, executor="build", name="asked build")

    def _take_asked(self) -> tuple[set[str] | None, str] | None:
        """What was asked for (categories, reasons), clearing it; None when nothing was."""
        with self.asked:
            self.queued = False
            only, reasons = self.pending, self.pending_reasons
            self.pending, self.pending_reasons = set(), set()
        if not reasons:
            return None
        return only, "+".join(sorted(reasons))

    def _asked_build_job(self) -> None:
        asked = self._take_asked()
        if asked is not None:
            self._build_job(*asked)

    def _build_job(self, only: set[str] | None = None, reason: str = "schedule") -> None:
        if self.stop.is_set():
            return
        if only is None:
            self._take_asked()  # a full build covers whatever was asked for
        self.wants.started()
        try:
            self._build(only, reason)
        finally:
            self.wants.finished()

    def _build(self, only: set[str] | None, reason: str) -> None:
        cfg = self.cfg
        started = self.now()
        t0 = time.monotonic()
        changed = self.changes.take(watching=self.watcher is not None)
        try:
            report = pipeline.run_once(
                cfg,
                started,
                only=only,
                should_stop=self.stop.is_set,
                changed=changed,
                runtime=self.runtime,
            )
        except Exception as e:
            self.changes.walk_next()  # the changes it took may not have reached the cache
            self._failed("build", e)
            metrics.record_build(None, time.monotonic() - t0)
            log.exception("event=build result=failed reason=%s", reason)
            return
        self.job_failed["build"] = None
        seconds = time.monotonic() - t0
        metrics.record_build(report, seconds)
        finished = self.now()
        self._log_problems(report)
        runstate.record_build(
            cfg.store.state_dir, report, started, finished, before_rename=self.runtime.before_rename
        )
        self.last_build = {
            "at": finished.isoformat(),
            "ok": report.ok,
            "written": len(report.files_written),
        }
        level = (
            logging.INFO
            if report.files_written or report.problems.items or report.stopped
            else logging.DEBUG
        )
        log.log(
            level,
            "event=build reason=%s scan=%s feeds=%d written=%d unchanged=%d errors=%d "
            "stopped=%s seconds=%.2f",
            reason,
            "walk" if changed is None else f"changed:{len(changed)}",
            len(report.feeds),
            len(report.files_written),
            len(report.files_unchanged),
            len(report.problems.errors),
            str(report.stopped).lower(),
            seconds,
        )
        self._save_status()

    def _fetch_job(self) -> None:
        if self.stop.is_set():
            return
        cfg = self.cfg
        now = self.now()
        try:
            report = once.fetch(cfg, now, should_stop=self.stop.is_set)
        except Exception as e:
            self._failed("fetch", e)
            log.exception("event=fetch result=failed")
            return
        self.job_failed["fetch"] = None
        self._log_problems(report)
        metrics.record_fetch(report)
        changed = [o for o in report.sources if o.new or o.changed]
        new = sum(o.new for o in report.sources)
        self.last_fetch = {"at": now.isoformat(), "sources": len(report.sources), "new": new}
        level = logging.INFO if changed or report.problems.errors else logging.DEBUG
        log.log(
            level,
            "event=fetch sources=%d new=%d changed=%d errors=%d",
            len(report.sources),
            new,
            sum(o.changed for o in report.sources),
            sum(1 for o in report.sources if o.status in ("error", "gone")),
        )
        if changed:
            by_id = {s.id: s for s in cfg.sources}
            touched: set[str] = set()
            for o in changed:
                s = by_id[o.source_id]
                touched.update(s.categories)
                touched.update(r.to for r in s.routes)
            self.ask_build(touched, "new-entries")
        self._save_status()

    def _failed(self, job: str, e: Exception) -> None:
        self.failed_runs += 1
        self.job_failed[job] = f"{type(e).__name__}: {e}"
        self._save_status()

    def _log_problems(self, report: pipeline.Report) -> None:
        for p in report.problems.items:
            level = logging.ERROR if p.severity is Severity.ERROR else logging.WARNING
            log.log(
                level,
                "event=problem where=%s line=%s message=%s",
                json.dumps(p.where, ensure_ascii=False),
                p.line or "",
                json.dumps(p.message, ensure_ascii=False),
            )

    # ------------------------------------------------------------------ health

    def _next(self, job_id: str) -> str | None:
        job = self.scheduler.get_job(job_id) if self.scheduler.state != STATE_STOPPED else None
        when = getattr(job, "next_run_time", None) if job else None
        return when.isoformat() if when else None

    def health(self) -> dict[str, Any]:
        failed = self.job_failed["build"] or self.job_failed["fetch"]
        return {
            "pid": os.getpid(),
            "started": self.started.isoformat(),
            "running": not self.stop.is_set(),
            "watching": self.watcher is not None,
            "last_build": self.last_build,
            "last_fetch": self.last_fetch,
            "next_build": self._next("build"),
            "next_fetch": self._next("fetch"),
            "build_overdue": self.wants.overdue(self.cfg.schedule.misfire_grace),
            "failed_runs": self.failed_runs,
            "last_job_failed": failed,
            "config": str(self.cfg.path),
        }

    def _save_status(self) -> None:
        try:
            state_dir, hook = self.cfg.store.state_dir, self.runtime.before_rename
            runstate.save(state_dir, runstate.DAEMON_FILE, self.health(), before_rename=hook)
        except FeedsError as e:
            log.warning("event=status result=failed error=%s", json.dumps(str(e)))


def reloader(path: Path, overrides: dict[str, Any]) -> Callable[[], config.Config]:
    def load() -> config.Config:
        return config.load(path).with_overrides(**overrides)

    return load
