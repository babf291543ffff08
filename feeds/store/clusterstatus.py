"""The cluster's figures for ``feeds status`` when ``state.database`` is set: read from
PostgreSQL, so one command on any machine shows the whole cluster. Only reads.

Sources due and overdue (by ``next_attempt`` against ``now``; overdue: due longer than
``schedule.misfire_grace``), sources by last outcome (``ok``, ``error``, ``gone``, ``never``
fetched; the store keeps no separate mark for a 304, which counts as ``ok``), entries stored
and the newest one's age; and, when procrastinate's tables exist (``queue.database``), the
waiting jobs per queue with the oldest one's wait, the running jobs per worker and the
workers whose heartbeat is older than ``queue.stall_timeout`` (stalled); the queue's ages
are by the database's clock, as procrastinate stamps them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from typing import Any, TextIO

import psycopg

from feeds.config.config import Config
from feeds.store import pgstore

_SOURCES = """
SELECT count(*) FILTER (WHERE next_attempt IS NULL OR next_attempt <= %(now)s),
       count(*) FILTER (WHERE next_attempt < %(late)s),
       count(*) FILTER (WHERE gone),
       count(*) FILTER (WHERE NOT gone AND consecutive_errors > 0),
       count(*) FILTER (WHERE NOT gone AND consecutive_errors = 0 AND last_fetch IS NOT NULL),
       count(*) FILTER (WHERE NOT gone AND consecutive_errors = 0 AND last_fetch IS NULL)
FROM sources"""
_ENTRIES = "SELECT count(*), max(published) FROM entries"
# a job waits from when it was deferred (or scheduled for, if later): procrastinate's events
QUEUES = """
SELECT j.queue_name, count(*), extract(epoch FROM %(now)s - min(GREATEST(d.at, j.scheduled_at)))
FROM procrastinate_jobs j LEFT JOIN LATERAL (SELECT min(e.at) AS at FROM procrastinate_events e
    WHERE e.job_id = j.id AND e.type = 'deferred') d ON true
WHERE j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= %(now)s)
GROUP BY j.queue_name ORDER BY j.queue_name"""
_WORKERS = """
SELECT w.id, w.last_heartbeat, count(j.id) FROM procrastinate_workers w
LEFT JOIN procrastinate_jobs j ON j.worker_id = w.id AND j.status = 'doing'
GROUP BY w.id ORDER BY w.id"""


QUEUE_NAMES = ("build", "fetch", "schedule")  # feeds.run.queue's queues


class QueueWatch:
    """Each queue's waiting jobs, read on one connection kept for the process's life (for
    the metrics' scrapes, which come on threads of their own), made again after an error."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None

    def waiting(self) -> dict[str, tuple[int, float]]:
        """Each queue's waiting jobs and the oldest one's wait in seconds (0 and 0 for a
        queue with none; nothing while procrastinate's tables do not exist)."""
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self.dsn, connect_timeout=5, autocommit=True)
                fig = _queue_figures(self._conn, None)
            except psycopg.Error as e:
                self.close()
                raise pgstore.pg_error(pgstore.describe(self.dsn), "", e) from e
        if fig is None:
            return {}
        out = dict.fromkeys(QUEUE_NAMES, (0, 0.0))
        out.update((q, (w["depth"], w["oldest_age_seconds"])) for q, w in fig["waiting"].items())
        return out

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()


def has_queue(conn: Any) -> bool:
    return bool(conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0])


def figures(cfg: Config, now: dt.datetime) -> dict[str, Any]:
    """The cluster's figures, as ``feeds status --json`` gives them under ``cluster``."""
    url = cfg.store.database or ""
    where = pgstore.describe(url)
    try:
        with psycopg.connect(url, connect_timeout=max(1, round(cfg.store.lock_timeout))) as conn:
            out = _store_figures(conn, cfg, now)
            out["database"] = where
            queue_url = cfg.queue.database or url
            if queue_url != url:
                with psycopg.connect(queue_url, connect_timeout=10) as qconn:
                    out["queue"] = _queue_figures(qconn, cfg)
            else:
                out["queue"] = _queue_figures(conn, cfg)
    except psycopg.Error as e:
        raise pgstore.pg_error(where, "", e) from e
    return out


def _store_figures(conn: Any, cfg: Config, now: dt.datetime) -> dict[str, Any]:
    late = now - dt.timedelta(seconds=cfg.schedule.misfire_grace)
    s = conn.execute(_SOURCES, {"now": now, "late": late}).fetchone()
    entries, newest = conn.execute(_ENTRIES).fetchone()
    return {
        "sources_due": s[0],
        "sources_overdue": s[1],
        "sources_by_outcome": {"ok": s[4], "error": s[3], "gone": s[2], "never": s[5]},
        "entries": entries,
        "newest_entry_age_seconds": None if newest is None else (now - newest).total_seconds(),
    }


def _queue_figures(conn: Any, cfg: Config | None) -> dict[str, Any] | None:
    if not has_queue(conn):
        return None
    # procrastinate stamps its jobs and heartbeats with the database's clock: so do the ages
    now = conn.execute("SELECT now()").fetchone()[0]
    waiting = {
        q: {"depth": n, "oldest_age_seconds": float(age or 0)}
        for q, n, age in conn.execute(QUEUES, {"now": now}).fetchall()
    }
    if cfg is None:
        return {"waiting": waiting, "workers": []}
    stall = dt.timedelta(seconds=cfg.queue.stall_timeout)
    workers = [
        {
            "worker": wid,
            "running": running,
            "heartbeat_age_seconds": (now - beat).total_seconds(),
            "stalled": now - beat > stall,
        }
        for wid, beat, running in conn.execute(_WORKERS).fetchall()
    ]
    return {"waiting": waiting, "workers": workers}


def write(fig: dict[str, Any], out: TextIO) -> None:
    """The figures for people, after the rest of ``feeds status``."""
    by = fig["sources_by_outcome"]
    age = fig["newest_entry_age_seconds"]
    out.write(
        f"cluster ({fig['database']}): {fig['sources_due']} sources due, "
        f"{fig['sources_overdue']} overdue; last outcome: {by['ok']} ok, {by['error']} error, "
        f"{by['gone']} gone, {by['never']} never fetched\n"
        f"  entries: {fig['entries']} stored, newest "
        f"{'-' if age is None else f'{age / 3600:.1f} h ago'}\n"
    )
    queue = fig["queue"]
    if queue is None:
        out.write("  queue: no job tables yet (started by the first feeds worker or scheduler)\n")
        return
    for name, w in sorted(queue["waiting"].items()) or [("-", None)]:
        if w is None:
            out.write("  queue: no job waiting\n")
        else:
            out.write(
                f"  queue {name}: {w['depth']} waiting, oldest {w['oldest_age_seconds']:.0f} s\n"
            )
    for w in queue["workers"]:
        mark = " STALLED" if w["stalled"] else ""
        out.write(
            f"  worker {w['worker']}: {w['running']} running, heartbeat "
            f"{w['heartbeat_age_seconds']:.0f} s ago{mark}\n"
        )
