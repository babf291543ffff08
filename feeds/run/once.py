"""``feeds fetch`` and ``feeds build`` as one process runs them: the due sources fetched into
the store, then the build. The build (``feeds.generate.pipeline``) never fetches and the fetch
round (``feeds.aggregate.fetchround``) never builds; they meet here, and in the daemons."""

from __future__ import annotations

import datetime as dt
from typing import Any

from feeds.config.config import Config
from feeds.generate import pipeline
from feeds.generate.plan import StopCheck
from feeds.generate.report import Report
from feeds.models import Problems


def fetch(
    cfg: Config, now: dt.datetime, *, force: bool = False, should_stop: StopCheck | None = None
) -> Report:
    """Fetch the due external sources (every enabled one with ``force``) into the store."""
    problems = Problems()
    if not cfg.sources:
        return Report(problems=problems)
    from feeds.aggregate import fetchround  # httpx and feedparser load only when there are sources

    sources = fetchround.fetch_due(cfg, now, problems, force=force, should_stop=should_stop)
    return Report(problems=problems, sources=sources)


def fetch_and_build(
    cfg: Config,
    now: dt.datetime,
    *,
    fetch_sources: bool = True,
    force_fetch: bool = False,
    should_stop: StopCheck | None = None,
    **build: Any,
) -> Report:
    """``feeds build``: fetch the due sources (unless ``fetch_sources`` is false, or it is a
    check, ``write=False``, which fetches nothing), then ``pipeline.run_once`` with ``build``'s
    arguments."""
    fetched = None
    if fetch_sources and build.get("write", True):
        fetched = fetch(cfg, now, force=force_fetch, should_stop=should_stop)
    return pipeline.run_once(cfg, now, fetched=fetched, should_stop=should_stop, **build)
