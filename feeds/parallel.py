"""The one rule for using worker processes (forked) instead of staying in this process."""

from __future__ import annotations

import os
import threading

MAX_WORKERS = 4


def worker_count(jobs: int, threshold: int, *, threads: int | None = None) -> int:
    """How many worker processes to fork for ``jobs`` CPU-bound jobs; 0: stay in-process.

    Workers pay off from ``threshold`` jobs and with 2 or more cores (at most
    ``MAX_WORKERS``). Forking is only safe while this process has one thread (``threads``,
    default the current count): never inside the daemon, which has more.
    """
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    alone = (threading.active_count() if threads is None else threads) == 1
    if jobs < threshold or workers < 2 or not alone:
        return 0
    return workers
