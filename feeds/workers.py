"""Worker processes for a cold build's bulk work (parsing and rendering posts).

Made on first use; only with 2+ cores, and only while this is the process's single thread
(forking a threaded process, such as the daemon, is not safe). A job is a module-level
function taking ``(settings, items)``; the settings reach each worker once, when it starts.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

CHUNK = 500  # items per job
AHEAD = 3  # jobs per worker submitted ahead of the caller

_settings: Any = None


def _init(settings: Any) -> None:
    global _settings
    _settings = settings


def _run(job: Callable[[Any, list[Any]], list[Any]], items: list[Any]) -> list[Any]:
    return job(_settings, items)


class Workers:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.count = min(os.cpu_count() or 1, 4)
        self._pool: ProcessPoolExecutor | None = None
        # decided once, before our own pool adds its manager thread
        self._single_threaded = threading.active_count() == 1

    def usable(self, jobs: int, threshold: int) -> bool:
        return jobs >= threshold and self.count > 1 and self._single_threaded

    def map(self, job: Callable[[Any, list[Any]], list[Any]], items: list[Any]) -> Iterator[Any]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.count,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_init,
                initargs=(self.settings,),
            )
        # Chunks of at most CHUNK items, at most AHEAD of them per worker under way or done
        # and not yet taken: a caller slower than the workers (the build saving rows) holds
        # a few chunks' results, never every result at once.
        size = max(50, min(CHUNK, len(items) // (self.count * 8)))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        pending: deque[Future[list[Any]]] = deque()
        for at in range(len(chunks) + self.count * AHEAD):
            if at < len(chunks):
                pending.append(self._pool.submit(_run, job, chunks[at]))
            if at >= self.count * AHEAD:
                yield from pending.popleft().result()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()
