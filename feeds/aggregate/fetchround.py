"""The fetch round: due → fetch → parse → normalize → save, for every due source at once.

One source's story, top to bottom: ``fetch_round`` picks the due sources (``fetchstate.due``)
and runs ``_fetch`` for each on a thread (a per-host limit, parsing in worker processes for
a big round); ``_record`` normalizes what came back, asks ``fetchstate.next_state`` for the
source's new state and saves both with one store call. A failing source is a value (its
error recorded in the store), never an exception that ends the round: every other source is
still fetched and every category still written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from urllib.parse import urlsplit

from feeds import parallel
from feeds.aggregate import fetchstate
from feeds.collect import remote
from feeds.collect.http import Fetcher, FetchError, FetchResult
from feeds.config.config import Config, SourceConfig
from feeds.errors import FetchStopped, StoreError
from feeds.models import Entry, Problem, Problems, RawFeed, SourceOutcome
from feeds.normalize import normalize
from feeds.store.parts import SourceState
from feeds.store.store import Store, open_store

log = logging.getLogger(__name__)


def fetch_due(
    cfg: Config,
    now: dt.datetime,
    problems: Problems,
    *,
    force: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[SourceOutcome, ...]:
    """One round with a store of its own: the due sources (every enabled one with ``force``)
    fetched into it, then what retention says is too old dropped from it."""
    with open_store(cfg.store) as store:
        outcomes = fetch_round(cfg, store, now, problems, force=force, should_stop=should_stop)
        dropped = store.prune(
            now, max_age_days=cfg.store.max_age_days, max_per_source=cfg.store.max_per_source
        )
        if dropped:
            log.info("retention dropped=%d", dropped)
    return tuple(outcomes)


@dataclass(frozen=True)
class _Normalized:
    """A fetched document as a worker process leaves it: its entries normalized (each with
    its first-seen time) and the problems met doing so, in order; only this comes back."""

    title: str | None
    pairs: tuple[tuple[Entry, dt.datetime], ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class _Fetched:
    result: FetchResult
    feed: RawFeed | _Normalized | None  # None when not modified
    seconds: float


def fetch_round(
    cfg: Config,
    store: Store,
    now: dt.datetime,
    problems: Problems,
    *,
    force: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> list[SourceOutcome]:
    """Fetch every due source concurrently (per-host limit), store what came back. ``should_stop``
    is asked before each fetch and while it waits: once it says yes, the rest wait for the next
    round; fetches under way are given up within a moment (connections closed, nothing recorded)."""
    states = store.sources.states()
    todo = _interleave_hosts(fetchstate.due(cfg.sources, states, now, force=force))
    if not todo:
        return []
    per_host: dict[str, threading.Semaphore] = defaultdict(
        lambda: threading.Semaphore(cfg.fetch.per_host)
    )
    lock = threading.Lock()
    stored = threading.Lock()  # the store's connection, shared by this thread and the fetches

    def work(f: Fetcher, s: SourceConfig) -> _Fetched | Exception | None:
        if should_stop is not None and should_stop():
            return None
        with lock:
            sem = per_host[urlsplit(s.url).netloc]
        with sem:
            return _fetch(f, s, states.get(s.id), now, parsing)

    order = {s.id: i for i, s in enumerate(cfg.sources)}
    done: dict[str, SourceOutcome] = {}
    failed: list[tuple[SourceConfig, Exception]] = []
    parsers = _parser_pool(cfg, len(todo))
    parsing = None if parsers is None else (parsers, _first_seen(store, stored))
    with (
        Fetcher(cfg.fetch, should_stop=should_stop) as f,
        ThreadPoolExecutor(max_workers=cfg.fetch.concurrency, thread_name_prefix="fetch") as pool,
        parsers or contextlib.nullcontext(),
    ):
        futures = {pool.submit(work, f, s): s for s in todo}
        # successes stored as they come; failures at the end, once it is known if all failed
        for fut in as_completed(futures):
            s, r = futures.pop(fut), fut.result()  # popped: what was saved is let go
            if r is None:  # not started, or given up: stopping
                continue
            if isinstance(r, Exception):
                failed.append((s, r))
                continue
            try:
                with stored:
                    done[s.id] = _record(cfg, store, s, states.get(s.id), r, now, problems)
            except StoreError:
                raise
            except Exception as e:  # one source's surprise must not end the round
                log.exception("source=%s cannot be stored", s.id)
                failed.append((s, e))

    done.update(_record_failures(cfg, store, states, failed, bool(done), now, problems))
    return sorted(done.values(), key=lambda o: order[o.source_id])


def fetch_one(
    cfg: Config,
    store: Store,
    f: Fetcher,
    s: SourceConfig,
    st: SourceState | None,
    now: dt.datetime,
    problems: Problems,
    *,
    fence: int | None = None,
) -> SourceOutcome:
    """One source's whole story (fetch, parse, normalize, save) on this thread: what a
    worker of ``feeds worker`` does with one job, saving with its ``fence`` (status
    "refused" when a later claim took the source: nothing was written). Alone it cannot
    tell that the network is down, so a failure always counts as the source's own."""
    fetched = _fetch(f, s, st, now, None)
    if fetched is None:  # the fetcher was told to stop: nothing about the source is recorded
        raise FetchStopped(f"{s.id}: fetch given up: stopping")
    return _record(cfg, store, s, st, fetched, now, problems, False, fence)


def _record_failures(
    cfg: Config,
    store: Store,
    states: dict[str, SourceState],
    failed: list[tuple[SourceConfig, Exception]],
    any_ok: bool,
    now: dt.datetime,
    problems: Problems,
) -> dict[str, SourceOutcome]:
    """Record the round's failures, in config order. When every source failed
    to connect, the network (not the sources) is down: their error counts stay."""
    order = {s.id: i for i, s in enumerate(cfg.sources)}
    network_down = (
        len(failed) >= 2
        and not any_ok
        and all(isinstance(r, FetchError) and r.network for _, r in failed)
    )
    if network_down:
        problems.warn(
            "sources",
            "every source failed to connect: the network looks down; "
            "error counts are left as they were",
        )
    return {
        s.id: _record(cfg, store, s, states.get(s.id), r, now, problems, network_down)
        for s, r in sorted(failed, key=lambda sr: order[sr[0].id])
    }


PARSE_PROCESSES_AT = 20  # due sources from which parsing moves to worker processes


def _started() -> None:
    pass


def _first_seen(store: Store, stored: threading.Lock) -> Callable[[str], dict[str, dt.datetime]]:
    """Every stored first-seen time of a source, asked on a fetch thread: under ``stored``,
    the lock on the store's connection that the round's saves hold too."""

    def seen(source_id: str) -> dict[str, dt.datetime]:
        with stored:
            return store.entries.first_seen(source_id)

    return seen


_config: list[Config] = []  # in a worker process: the round's config


def _worker_config(cfg: Config) -> None:
    _config.append(cfg)


def _parse_and_normalize(
    res: FetchResult, s: SourceConfig, now: dt.datetime, seen: dict[str, dt.datetime]
) -> _Normalized:
    """In a worker process: the document parsed and its entries normalized against the
    stored first-seen times (``seen``: every stored entry of the source's)."""
    cfg = _config[-1]
    feed = remote.parse(res, encoding=s.encoding)
    problems = Problems()
    pairs = _entries(cfg, s, feed, now, problems, lambda ids: seen)
    return _Normalized(feed.title, tuple(pairs), tuple(problems.items))


def _parser_pool(cfg: Config, jobs: int) -> ProcessPoolExecutor | None:
    """Worker processes that parse and normalize when a round is big and there are cores to
    use. Forked now, while this is the only thread (``parallel.worker_count`` decides)."""
    workers = parallel.worker_count(jobs, PARSE_PROCESSES_AT)
    if not workers:
        return None
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_config,
        initargs=(cfg,),  # forked: not pickled
    )
    for fut in [pool.submit(_started) for _ in range(workers)]:
        fut.result()  # every worker exists before any fetch thread does
    log.debug("parsing in worker processes=%d sources=%d", workers, jobs)
    return pool


_Parsers = tuple[ProcessPoolExecutor, Callable[[str], dict[str, dt.datetime]]]


def _fetch(
    f: Fetcher,
    s: SourceConfig,
    st: SourceState | None,
    now: dt.datetime,
    parsers: _Parsers | None,
) -> _Fetched | Exception | None:
    """Fetch one source (conditionally, with the validators stored for its URL) and parse it;
    None when the fetch was given up because feeds is stopping. With ``parsers`` (worker
    processes, and the source's stored first-seen times by id) it is normalized there too."""
    start = time.monotonic()
    same = st is not None and st.url == s.url
    try:
        res = f.fetch(
            s.url,
            etag=st.etag if same and st else None,
            last_modified=st.last_modified if same and st else None,
            allow_networks=s.allow_networks,
        )
        feed: RawFeed | _Normalized | None
        if res.not_modified:
            feed = None
        elif parsers is not None:  # feedparser holds the GIL: parse in processes
            pool, seen = parsers
            try:
                feed = pool.submit(_parse_and_normalize, res, s, now, seen(s.id)).result()
            except BrokenProcessPool:  # a worker died: parse here instead
                log.warning("source=%s parser process died; parsing in-process", s.id)
                feed = remote.parse(res, encoding=s.encoding)
        else:
            feed = remote.parse(res, encoding=s.encoding)
    except FetchStopped:
        log.info("source=%s fetch given up: stopping", s.id)
        return None
    except StoreError:
        raise
    except Exception as e:  # a source's failure is a value
        if not isinstance(e, FetchError | remote.ParseError):
            log.exception("source=%s unexpected failure", s.id)
        return e
    return _Fetched(res, feed, time.monotonic() - start)


def _record(
    cfg: Config,
    store: Store,
    s: SourceConfig,
    st: SourceState | None,
    r: _Fetched | Exception,
    now: dt.datetime,
    problems: Problems,
    network_down: bool = False,
    fence: int | None = None,
) -> SourceOutcome:
    """Save what one fetch brought (a failure too) with the source's next state. With a
    ``fence`` (a fetch job's) that is no longer the source's, nothing is saved: "refused"."""
    if isinstance(r, Exception):
        return _record_failure(cfg, store, s, st, r, now, problems, network_down, fence)
    if r.feed is None:
        same = fetchstate.NotModified(r.result.etag, r.result.last_modified)
        after = fetchstate.next_state(st, s, same, now, cfg.fetch).state
        if store.sources.save(after, now, fence=fence).refused:
            return SourceOutcome(s.id, s.url, "refused")
        return SourceOutcome(s.id, s.url, "not-modified", seconds=r.seconds)
    feed = r.feed
    if isinstance(feed, _Normalized):  # a worker process did the work
        problems.items.extend(feed.problems)
        pairs = list(feed.pairs)
    else:
        pairs = _entries(
            cfg, s, feed, now, problems, lambda ids: store.entries.first_seen(s.id, ids)
        )
    got = fetchstate.Modified(r.result.etag, r.result.last_modified, s.title or feed.title)
    after = fetchstate.next_state(st, s, got, now, cfg.fetch).state
    saved = store.sources.save(after, now, pairs, fence=fence)
    if saved.refused:
        return SourceOutcome(s.id, s.url, "refused")
    log.info("source=%s entries=%d new=%d changed=%d", s.id, len(pairs), saved.new, saved.changed)
    return SourceOutcome(
        s.id,
        s.url,
        "ok",
        new=saved.new,
        changed=saved.changed,
        entries=len(pairs),
        seconds=r.seconds,
    )


def _entries(
    cfg: Config,
    s: SourceConfig,
    feed: RawFeed,
    now: dt.datetime,
    problems: Problems,
    first_seen: Callable[[list[str]], dict[str, dt.datetime]],
) -> list[tuple[Entry, dt.datetime]]:
    """A parsed document's entries, normalized, each with its first-seen time (``first_seen``:
    the stored ones of these ids, by id)."""
    if feed.warning:
        problems.warn(f"source {s.id!r} ({s.url})", feed.warning)
    items = normalize.remote_ids(s.id, cfg.site.url, feed.items)
    seen = first_seen([i.id for i in items])
    pairs = []
    # whole seconds: a first-seen time becomes an undated entry's date, and readers that
    # drop the fraction (newsboat) must not round it into another instant
    fresh = now.replace(microsecond=0)
    for item in items:
        first = seen.get(item.id, fresh)
        entry = normalize.remote_entry(item, feed, s, cfg, first, problems)
        if entry is not None:
            pairs.append((entry, first))
    return pairs


def _record_failure(
    cfg: Config,
    store: Store,
    s: SourceConfig,
    st: SourceState | None,
    r: Exception,
    now: dt.datetime,
    problems: Problems,
    network_down: bool,
    fence: int | None,
) -> SourceOutcome:
    failed = fetchstate.Failed(
        message=getattr(r, "message", None) or f"{type(r).__name__}: {r}",
        gone=isinstance(r, FetchError) and r.gone,
        retry_after=r.retry_after if isinstance(r, FetchError) else None,
        network_down=network_down,
    )
    after = fetchstate.next_state(st, s, failed, now, cfg.fetch)
    if store.sources.save(after.state, now, fence=fence).refused:
        return SourceOutcome(s.id, s.url, "refused", error=failed.message)
    where = f"source {s.id!r} ({s.url})"
    if failed.gone:
        problems.warn(
            where,
            f"{failed.message}; marked gone, retried once a day; remove the source or fix its URL",
        )
    else:
        problems.error(where, f"fetch failed: {failed.message}; retry in {_human(after.delay)}")
    return SourceOutcome(s.id, s.url, "gone" if failed.gone else "error", error=failed.message)


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _interleave_hosts(sources: list[SourceConfig]) -> list[SourceConfig]:
    """Round-robin over hosts, so one host's sources do not fill every worker at once."""
    by_host: dict[str, list[SourceConfig]] = defaultdict(list)
    for s in sources:
        by_host[urlsplit(s.url).netloc].append(s)
    out: list[SourceConfig] = []
    queues = list(by_host.values())
    while queues:
        for q in queues:
            out.append(q.pop(0))
        queues = [q for q in queues if q]
    return out
