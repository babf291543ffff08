"""The daemon's health: whether a wanted build is overdue (``BuildWants``), and the
``--health-port`` HTTP endpoint that serves the daemon's status as JSON, 200 or 503.

A build is *wanted* when its scheduled time comes, when a post is saved, or when a fetch
brought new entries; it is *overdue* when a build wanted that long ago has not finished
within the bound (``schedule.misfire_grace``: past it APScheduler would skip the run too).
Wants are served in order by the one build thread: a build that starts takes every want
made before it, and finishing clears them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

from feeds import httpguard

log = logging.getLogger("feeds.daemon")


class BuildWants:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: float | None = None  # oldest want no build has started on
        self._running: float | None = None  # oldest want the running build serves

    def want(self) -> None:
        with self._lock:
            if self._pending is None:
                self._pending = self._clock()

    def started(self) -> None:
        with self._lock:
            self._running = self._pending if self._pending is not None else self._clock()
            self._pending = None

    def finished(self) -> None:
        with self._lock:
            self._running = None

    def overdue(self, bound: float) -> str | None:
        """Why a build is overdue, or None."""
        with self._lock:
            wants = [w for w in (self._running, self._pending) if w is not None]
        if not wants:
            return None
        waited = self._clock() - min(wants)
        if waited <= bound:
            return None
        return (
            f"build overdue: a build wanted {waited:.0f} s ago has not finished "
            f"(bound: schedule.misfire_grace, {bound:g} s)"
        )


def unhealthy(body: dict[str, Any]) -> list[str]:
    """Why the daemon whose status is ``body`` is unhealthy; empty when it is healthy. A source
    that fails is the source's problem, no reason for a supervisor to restart us."""
    why = []
    if not body["running"]:
        why.append("stopping")
    if body["last_job_failed"] is not None:
        why.append(f"the last job failed: {body['last_job_failed']}")
    if body.get("build_overdue"):
        why.append(body["build_overdue"])
    return why


IDLE_TIMEOUT = 5.0  # s: for a whole request head (a probe sends one at once)
MAX_CONNECTIONS = 16  # open at once; more get a 503 "busy" and are closed


def serve(
    port: int,
    status: Callable[[], dict[str, Any]],
    *,
    idle_timeout: float = IDLE_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> ThreadingHTTPServer:
    """``GET /health`` on 127.0.0.1:``port``: ``status()`` plus ``unhealthy`` (the reasons),
    200 when there are none, 503 otherwise. With ``feeds serve``'s defences
    (``httpguard``): idle and slow clients are closed after ``idle_timeout`` seconds, and at
    most ``max_connections`` are open at once, so no client can hold the daemon's threads
    or descriptors."""

    class Handler(httpguard.GuardedHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/", "/health", "/healthz"):
                self.send_error(404)
                return
            body = status()
            body["unhealthy"] = unhealthy(body)
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(503 if body["unhealthy"] else 200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    Handler.idle_timeout = idle_timeout  # for the whole request head
    Handler.timeout = idle_timeout  # for each read
    server = httpguard.make(("127.0.0.1", port), Handler, max_connections, "--health-port")
    threading.Thread(target=server.serve_forever, daemon=True, name="health").start()
    log.info("event=health listening=127.0.0.1:%d", server.server_address[1])
    return server
