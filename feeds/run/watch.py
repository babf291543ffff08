"""Watching the post folders: ``PostWatcher`` calls back with the post files that were
created, edited, renamed or deleted, a burst of saves being one call.

watchfiles (inotify on Linux, a Rust watcher) does the watching and the debouncing: it
yields once no change came for ``quiet_ms`` (or after ``max_ms`` of steady changes). Only
post files count (``POST_EXTS``); editors' swap and backup files are left out by watchfiles'
default filter. ``start()`` returns False, and logs it once, when watching is not possible (a
folder missing, or the watcher could not start); the caller goes on without it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from feeds.collect.posts import POST_EXTS

log = logging.getLogger("feeds.run.watch")

OnChange = Callable[[frozenset[Path]], None]
# With the watcher on, a build stats only the post files it saw change; every post file is
# walked (stat-ed) when the watcher starts, after a failed build, and this often (seconds).
WALK_EVERY = 3600.0


class Changes:
    """The post files the watcher saw change since the last build took them (thread-safe),
    and whether the next build must walk every post file instead."""

    def __init__(self, walk_every: float = WALK_EVERY) -> None:
        self._lock = threading.Lock()
        self._paths: set[Path] = set()
        self._walk = True
        self._walked = 0.0
        self.walk_every = walk_every

    def add(self, paths: Iterable[Path]) -> None:
        with self._lock:
            self._paths.update(paths)

    def walk_next(self) -> None:
        with self._lock:
            self._walk = True

    def take(self, *, watching: bool) -> frozenset[Path] | None:
        """The files to stat for a build starting now, or None: walk them all (no watcher,
        a walk asked for, or ``walk_every`` since the last one)."""
        with self._lock:
            paths, self._paths = frozenset(self._paths), set()
            now = time.monotonic()
            if not watching or self._walk or now - self._walked >= self.walk_every:
                self._walk, self._walked = False, now
                return None
        return paths


class PostFilter(watchfiles.DefaultFilter):
    """watchfiles' default filter (no .git, swap files, ``~`` backups), post files only."""

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        return path.lower().endswith(POST_EXTS) and super().__call__(change, path)


class PostWatcher:
    def __init__(
        self,
        dirs: Iterable[Path],
        on_change: OnChange,
        *,
        quiet_ms: int = 200,
        max_ms: int = 1000,
    ) -> None:
        self.dirs = tuple(dirs)
        self.on_change = on_change
        self.quiet_ms = quiet_ms
        self.max_ms = max_ms
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: str | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> bool:
        """Start watching in a thread of its own; False (logged once) when not possible."""
        missing = [d for d in self.dirs if not d.is_dir()]
        if not self.dirs or missing:
            where = ", ".join(str(d) for d in missing) or "no post folder"
            return self._refused(f"not a folder: {where}")
        self._thread = threading.Thread(target=self._run, name="watch", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            self._stop.set()
            return self._refused(self._error or f"the watcher did not start within {timeout:g} s")
        log.info("event=watch result=started dirs=%d", len(self.dirs))
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
            log.info("event=watch result=stopped")

    def _refused(self, why: str) -> bool:
        log.warning("event=watch result=off reason=%s (the schedule goes on)", why)
        return False

    def _run(self) -> None:
        try:
            changes = watchfiles.watch(
                *self.dirs,
                watch_filter=PostFilter(),
                debounce=self.max_ms,
                step=self.quiet_ms,
                stop_event=self._stop,
                yield_on_timeout=True,
                rust_timeout=500,
                raise_interrupt=False,
            )
            for batch in changes:  # the first (empty) batch comes once the watcher is set up
                self._ready.set()
                if batch:
                    self.on_change(frozenset(Path(p) for _, p in batch))
        except Exception as e:  # the watcher's own failure: the daemon goes on without it
            self._error = f"{type(e).__name__}: {e}"
            if self._ready.is_set():
                log.exception("event=watch result=failed (the schedule goes on)")
            self._ready.set()
