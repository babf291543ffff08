"""External feeds: the fetch round (fetch → parse → normalize → store), backoff, and the
stored entries routed and de-duplicated for the output.

A failing source is a value (its error recorded in the store), never an exception that ends
the round: every other source is still fetched and every category still written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import multiprocessing
import os
import re
import threading
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from feeds import fetchstate, normalize, timeutil
from feeds.collect import remote
from feeds.collect.http import Fetcher, FetchError, FetchResult
from feeds.config import Config, SourceConfig
from feeds.errors import StoreError
from feeds.models import Entry, Problems, RawFeed, RemoteRef, SourceOutcome
from feeds.store import Store
from feeds.storeparts import SourceState

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- scheduling


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


# ----------------------------------------------------------------------------- fetch round


@dataclass(frozen=True)
class _Fetched:
    result: FetchResult
    feed: RawFeed | None  # None when not modified
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
    """Fetch every due source concurrently (per-host limit), store what came back.

    ``should_stop`` is asked before each fetch starts: once it says yes, the sources not yet
    started are left for the next round (fetches under way finish, within the deadline).
    """
    states = store.sources.states()
    todo = _interleave_hosts(fetchstate.due(cfg.sources, states, now, force=force))
    if not todo:
        return []
    per_host: dict[str, threading.Semaphore] = defaultdict(
        lambda: threading.Semaphore(cfg.fetch.per_host)
    )
    lock = threading.Lock()

    def work(f: Fetcher, s: SourceConfig) -> _Fetched | Exception | None:
        if should_stop is not None and should_stop():
            return None
        host = urlsplit(s.url).netloc
        with lock:
            sem = per_host[host]
        start = time.monotonic()
        with sem:
            st = states.get(s.id)
            same = st is not None and st.url == s.url
            try:
                res = f.fetch(
                    s.url,
                    etag=st.etag if same and st else None,
                    last_modified=st.last_modified if same and st else None,
                    allow_networks=s.allow_networks,
                )
                if res.not_modified:
                    feed = None
                elif parsers is not None:  # feedparser holds the GIL: parse in processes
                    try:
                        feed = parsers.submit(remote.parse, res).result()
                    except BrokenProcessPool:  # a worker died: parse here instead
                        log.warning("source=%s parser process died; parsing in-process", s.id)
                        feed = remote.parse(res)
                else:
                    feed = remote.parse(res)
            except Exception as e:  # a source's failure is a value
                if not isinstance(e, FetchError | remote.ParseError):
                    log.exception("source=%s unexpected failure", s.id)
                return e
        return _Fetched(res, feed, time.monotonic() - start)

    order = {s.id: i for i, s in enumerate(cfg.sources)}
    done: dict[str, SourceOutcome] = {}
    failed: list[tuple[SourceConfig, Exception]] = []
    parsers = _parser_pool(len(todo))
    with (
        Fetcher(cfg.fetch) as f,
        ThreadPoolExecutor(max_workers=cfg.fetch.concurrency, thread_name_prefix="fetch") as pool,
        parsers or contextlib.nullcontext(),
    ):
        futures = {pool.submit(work, f, s): s for s in todo}
        # Store each success while the other fetches go on; failures wait for the end,
        # when it is known whether every source failed (the network is down).
        for fut in as_completed(futures):
            s, r = futures[fut], fut.result()
            if r is None:  # not started: stopping
                continue
            if isinstance(r, Exception):
                failed.append((s, r))
                continue
            try:
                done[s.id] = _record(cfg, store, s, states.get(s.id), r, now, problems, False)
            except StoreError:
                raise
            except Exception as e:  # one source's surprise must not end the round
                log.exception("source=%s cannot be stored", s.id)
                failed.append((s, e))

    network_down = (
        len(failed) >= 2
        and not done
        and all(isinstance(r, FetchError) and r.network for _, r in failed)
    )
    if network_down:
        problems.warn(
            "sources",
            "every source failed to connect: the network looks down; "
            "error counts are left as they were",
        )
    for s, r in sorted(failed, key=lambda sr: order[sr[0].id]):
        done[s.id] = _record(cfg, store, s, states.get(s.id), r, now, problems, network_down)
    return sorted(done.values(), key=lambda o: order[o.source_id])


PARSE_PROCESSES_AT = 20  # due sources from which parsing moves to worker processes


def _started() -> None:
    pass


def _parser_pool(jobs: int) -> ProcessPoolExecutor | None:
    """Worker processes for feedparser when a round is big and there are cores to use.
    Forked now, while this is the only thread (never inside the daemon, which has more)."""
    workers = min(os.cpu_count() or 1, 4)
    if jobs < PARSE_PROCESSES_AT or workers < 2 or threading.active_count() > 1:
        return None
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    for fut in [pool.submit(_started) for _ in range(workers)]:
        fut.result()  # every worker exists before any fetch thread does
    log.debug("parsing in worker processes=%d sources=%d", workers, jobs)
    return pool


def _record(
    cfg: Config,
    store: Store,
    s: SourceConfig,
    st: SourceState | None,
    r: _Fetched | Exception,
    now: dt.datetime,
    problems: Problems,
    network_down: bool,
) -> SourceOutcome:
    where = f"source {s.id!r} ({s.url})"
    if isinstance(r, Exception):
        failed = fetchstate.Failed(
            message=getattr(r, "message", None) or f"{type(r).__name__}: {r}",
            gone=isinstance(r, FetchError) and r.gone,
            retry_after=r.retry_after if isinstance(r, FetchError) else None,
            network_down=network_down,
        )
        after = fetchstate.next_state(st, s, failed, now, cfg.fetch)
        store.sources.save(after.state, now)
        if failed.gone:
            problems.warn(
                where,
                f"{failed.message}; marked gone, retried once a day; "
                "remove the source or fix its URL",
            )
        else:
            problems.error(where, f"fetch failed: {failed.message}; retry in {_human(after.delay)}")
        return SourceOutcome(s.id, s.url, "gone" if failed.gone else "error", error=failed.message)
    if r.feed is None:
        same = fetchstate.NotModified(r.result.etag, r.result.last_modified)
        store.sources.save(fetchstate.next_state(st, s, same, now, cfg.fetch).state, now)
        return SourceOutcome(s.id, s.url, "not-modified", seconds=r.seconds)
    feed = r.feed
    if feed.warning:
        problems.warn(where, feed.warning)
    items = normalize.remote_ids(s.id, cfg.site.url, feed.items)
    seen = store.entries.first_seen(s.id, (i.id for i in items))
    pairs = []
    for item in items:
        first = seen.get(item.id, now)
        entry = normalize.remote_entry(item, feed, s, cfg, first, problems)
        if entry is not None:
            pairs.append((entry, first))
    got = fetchstate.Modified(r.result.etag, r.result.last_modified, s.title or feed.title)
    saved = store.sources.save(fetchstate.next_state(st, s, got, now, cfg.fetch).state, now, pairs)
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


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# ----------------------------------------------------------------------------- output

_TRACKING = re.compile(r"^(utm_\w+|spm|from|fbclid|gclid)$", re.I)
_NOT_WORD = re.compile(r"[\W_]+")


def canonical_link(url: str) -> str:
    """The same article's URL written differently compares equal (scheme, case of the host,
    default port, fragment, tracking parameters, trailing slash)."""
    p = urlsplit(url)
    host = (p.hostname or "").lower()
    if p.port and p.port not in (80, 443):
        host += f":{p.port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(p.query, keep_blank_values=True) if not _TRACKING.match(k)]
    )
    return urlunsplit(("", host, p.path.rstrip("/") or "/", query, ""))


def title_key(title: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", title).casefold())


def stored_entries(cfg: Config, store: Store) -> tuple[list[RemoteRef], list[RemoteRef]]:
    """Stored entries of the configured, enabled sources, routed into categories and
    de-duplicated: (entries with their categories, entries for the feed of everything).
    Only what routing and de-duplication need is read; ``Loader`` reads the entries that
    land in a feed.

    The same article from two sources (same canonical link, or the same title within a day)
    appears once per category, and once in the feed of everything, from the source listed
    first in the config.
    """
    tz = cfg.site.tz
    sources = [s for s in cfg.sources if s.enabled]
    seen_links: dict[str, set[str]] = defaultdict(set)
    seen_titles: dict[str, dict[str, list[dt.datetime]]] = defaultdict(lambda: defaultdict(list))
    routed: list[RemoteRef] = []
    everything: list[RemoteRef] = []
    day = dt.timedelta(days=1)

    def first_in(group: str, link: str, tkey: str, when: dt.datetime) -> bool:
        if link in seen_links[group] or (
            tkey and any(abs(when - t) <= day for t in seen_titles[group][tkey])
        ):
            return False
        seen_links[group].add(link)
        if tkey:
            seen_titles[group][tkey].append(when)
        return True

    for s in sources:
        for row in store.entries.index(s.id):
            entry_id, link, title, tags = row.entry_id, row.link, row.title, row.tags
            when = timeutil.to_zone(row.published, tz)
            canon, tkey = canonical_link(link), title_key(title)
            cats = tuple(
                c
                for c in normalize.route(tags, title, s)
                if first_in("category:" + c, canon, tkey, when)
            )
            ref = RemoteRef(
                source_id=s.id,
                entry_id=entry_id,
                link=link,
                title=title,
                published=when,
                tags=tags,
                categories=cats,
            )
            if cats:
                routed.append(ref)
            if first_in("all", canon, tkey, when):
                everything.append(ref)
    return routed, everything


class Loader:
    """Stored entries for the refs that land in a feed, in the site timezone, with their
    routed categories; each read once per build."""

    def __init__(self, cfg: Config, store: Store) -> None:
        self.tz = cfg.site.tz
        self.store = store
        self.done: dict[tuple[str, str], Entry | None] = {}

    def prefetch(self, refs: Iterable[RemoteRef]) -> None:
        wanted = {(r.source_id, r.entry_id): r for r in refs}
        found = self.store.load_entries(k for k in wanted if k not in self.done)
        for key, ref in wanted.items():
            if key not in self.done:
                self.done[key] = self._ready(found.get(key), ref)

    def entry(self, ref: RemoteRef) -> Entry | None:
        key = (ref.source_id, ref.entry_id)
        if key not in self.done:
            self.prefetch([ref])
        return self.done[key]

    def _ready(self, e: Entry | None, ref: RemoteRef) -> Entry | None:
        if e is None:
            return None
        return dataclasses.replace(
            e,
            published=timeutil.to_zone(e.published, self.tz),
            updated=timeutil.to_zone(e.updated, self.tz),
            categories=ref.categories,
        )
