"""Incremental builds: a cache of posts in the store, keyed by path, size and mtime.

A rebuild stats every post file and reads only those whose size or mtime changed (and of
those, parses only the ones whose bytes changed). Posts are kept in memory as small
``PostRef`` records, never with their bodies; a post that lands in a feed is rendered once and
its entry cached by the hash of its bytes. A cache written with another config or another
version of feeds is dropped, not trusted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feeds import __version__, normalize
from feeds.collect import posts as post_collector
from feeds.config import Config
from feeds.files import MAX_POST_BYTES, FileProblem, read_regular
from feeds.models import Entry, Problem, Problems, Severity
from feeds.store import Store, entry_from_json, entry_to_json

log = logging.getLogger(__name__)

PARALLEL_AT = 2000  # parse in worker processes when at least this many posts changed

Row = tuple[str, int, int, str, float | None, str | None, str | None, str | None, str | None]
Rendered = tuple[str, str, str | None, str | None]  # path, sha, entry JSON, problems JSON
RENDER_PARALLEL_AT = 200


@dataclass(frozen=True, slots=True)
class PostRef:
    """What planning needs of a post; the body stays on disk."""

    path: str
    sha: str
    link: str
    published: dt.datetime
    categories: tuple[str, ...]
    tags: tuple[str, ...]


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def config_fingerprint(cfg: Config) -> str:
    """Everything a cached post or rendering depends on besides the file's bytes."""
    site = cfg.site
    parts = [
        __version__,
        site.url,
        site.timezone,
        repr(site.author),
        repr(cfg.posts.permalink),
        cfg.posts.source_link,
        cfg.posts.drop_nav_links,
        cfg.posts.nav_link_prefix,
        cfg.feeds.summary_length,
    ]
    return digest(json.dumps(parts, default=str).encode())


def build_fingerprint(cfg: Config, scan: list[tuple[str, int, int]], store: Store) -> str:
    """Everything a whole build depends on: config, every post's (path, size, mtime), the
    aggregated entries' version. Equal fingerprints mean identical output."""
    h = hashlib.blake2b(digest_size=16)
    h.update(__version__.encode())
    h.update(repr(cfg).encode())
    h.update((store.meta("entries_version") or "0").encode())
    for path, size, mtime in scan:
        h.update(f"{path}\0{size}\0{mtime}\n".encode())
    return h.hexdigest()


# ----------------------------------------------------------------------------- parsing


def _problems_json(problems: Problems) -> str | None:
    if not problems.items:
        return None
    return json.dumps(
        [[p.severity.value, p.message, p.line, p.where] for p in problems.items], ensure_ascii=False
    )


def replay(problems: Problems, text: str | None) -> None:
    """Report again the problems a cached post had when it was parsed or rendered."""
    if not text:
        return
    for severity, message, line, where in json.loads(text):
        problems.items.append(Problem(Severity(severity), where, message, line))


def parse_file(cfg: Config, path: str, size: int, mtime_ns: int, data: bytes | None = None) -> Row:
    """Read and check one post: the cache row for it (problems included)."""
    problems = Problems()
    published = link = cats = tags = None
    if data is None:
        try:
            data = read_regular(path, MAX_POST_BYTES)
        except FileProblem as e:
            problems.error(path, e.reason)
            return (path, size, mtime_ns, "", None, None, None, None, _problems_json(problems))
    raw = post_collector.parse_post(Path(path), data, problems)
    info = normalize.prepare(raw, cfg, problems) if raw is not None else None
    if info is not None:
        published = info.published.timestamp()
        link = info.link
        cats = json.dumps(info.categories, ensure_ascii=False)
        tags = json.dumps(info.tags, ensure_ascii=False)
    return (
        path,
        size,
        mtime_ns,
        digest(data),
        published,
        link,
        cats,
        tags,
        _problems_json(problems),
    )


_worker_cfg: Config | None = None


def _init_worker(cfg: Config) -> None:
    global _worker_cfg
    _worker_cfg = cfg


def _parse_chunk(items: list[tuple[str, int, int]]) -> list[Row]:
    assert _worker_cfg is not None  # noqa: S101 - set by the pool initializer
    return [parse_file(_worker_cfg, p, s, m) for p, s, m in items]


def _render_chunk(paths: list[str]) -> list[Rendered]:
    assert _worker_cfg is not None  # noqa: S101 - set by the pool initializer
    return [render_file(_worker_cfg, p) for p in paths]


class Workers:
    """Worker processes for a cold build's bulk work (parsing, rendering), made on first
    use. Only with 2+ cores, and only while this is the process's single thread (forking a
    threaded process, such as the daemon, is not safe)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.count = min(os.cpu_count() or 1, 4)
        self._pool: ProcessPoolExecutor | None = None
        # decided once, before our own pool adds its manager thread
        self._single_threaded = threading.active_count() == 1

    def usable(self, jobs: int, threshold: int) -> bool:
        return jobs >= threshold and self.count > 1 and self._single_threaded

    def map(self, fn: Callable[[list[Any]], list[Any]], items: list[Any]) -> Iterator[Any]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.count,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_init_worker,
                initargs=(self.cfg,),
            )
        size = max(50, len(items) // (self.count * 8))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        for result in self._pool.map(fn, chunks):
            yield from result

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def _parse_many(
    cfg: Config,
    todo: list[tuple[str, int, int]],
    workers: Workers | None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Row]:
    rows: Iterable[Row]
    if workers is not None and workers.usable(len(todo), PARALLEL_AT):
        rows = workers.map(_parse_chunk, todo)
    else:
        rows = (parse_file(cfg, p, s, m) for p, s, m in todo)
    for i, row in enumerate(rows, 1):
        if progress is not None:
            progress(i, len(todo))
        yield row


# ----------------------------------------------------------------------------- sync


def sync(
    cfg: Config,
    store: Store,
    scan: list[tuple[str, int, int]],
    problems: Problems,
    progress: Callable[[int, int], None] | None = None,
    workers: Workers | None = None,
) -> int:
    """Bring the cache up to date with the files on disk; how many files were parsed.
    Problems of every post, cached or not, are reported again, so a rebuild reports exactly
    what a full build would."""
    cached = store.post_stats()
    todo: list[tuple[str, int, int]] = []
    touched: list[tuple[int, str]] = []
    for path, size, mtime in scan:
        row = cached.get(path)
        if row is not None and row[0] == size and row[1] == mtime:
            continue
        if row is not None and row[0] == size:
            # same size, new mtime: compare the bytes before parsing again
            try:
                same = digest(read_regular(path, MAX_POST_BYTES)) == row[2]
            except FileProblem:
                same = False
            if same:
                touched.append((mtime, path))
                continue
        todo.append((path, size, mtime))
    seen = {p for p, _, _ in scan}
    deleted = [p for p in cached if p not in seen]
    known = {p for p, _, _ in todo if p in cached}
    del cached
    parsed = 0
    if todo or deleted or touched:
        parsed = store.update_posts(
            _parse_many(cfg, todo, workers, progress), deleted, touched, known
        )
    for text in store.post_problems():
        replay(problems, text)
    return parsed


def ref_from_row(row: tuple[Any, ...], tz: dt.tzinfo) -> PostRef:
    path, sha, link, published, cats, tags = row
    return PostRef(
        path=path,
        sha=sha,
        link=link,
        published=dt.datetime.fromtimestamp(published, tz),
        categories=tuple(json.loads(cats)),
        tags=tuple(json.loads(tags)),
    )


@dataclass
class Index:
    """The posts a build needs, from the cache: each feed's newest, not every post."""

    by_category: dict[str, list[PostRef]]
    by_tag: dict[str, list[PostRef]]
    every: list[PostRef]
    count: int  # posts that are published (not future, not a duplicate permalink)
    next_due: float | None  # when the earliest future post becomes due
    skip: set[str]  # paths of posts whose permalink an earlier post has


def index(
    cfg: Config, store: Store, now: dt.datetime, problems: Problems, only: set[str] | None = None
) -> Index:
    """Each feed's newest posts (twice ``max_items``, so a post that cannot be rendered can
    be replaced), leaving out future posts and second users of a permalink."""
    tz = cfg.site.tz
    until = None if cfg.posts.future else now.timestamp()
    duplicates = store.duplicate_links()
    skip = {path for path, _, _ in duplicates}
    for path, link, first in duplicates:
        normalize.duplicate_permalink(problems, path, link, first)
    want = 2 * cfg.feeds.max_items + len(skip)

    def newest(kind: str | None = None, name: str | None = None) -> list[PostRef]:
        rows = store.newest_posts(want, until, kind, name)
        return [ref_from_row(r, tz) for r in rows if r[0] not in skip]

    by_category = {n: newest("c", n) for n in store.names("c", until) if only is None or n in only}
    by_tag = {n: newest("t", n) for n in store.names("t", until)} if cfg.feeds.tag_feeds else {}
    return Index(
        by_category=by_category,
        by_tag=by_tag,
        every=newest(),
        count=store.count_posts(until) - len(skip),
        next_due=None if until is None else store.next_due(until),
        skip=skip,
    )


# ----------------------------------------------------------------------------- rendering


def render_file(cfg: Config, path: str) -> Rendered:
    """Render one post into its cache row. Front-matter problems are not repeated here (they
    were reported when the post was scanned); rendering problems are in the row."""
    local = Problems()
    try:
        data = read_regular(path, MAX_POST_BYTES)
    except FileProblem as e:
        local.error(path, e.reason)
        return (path, "", None, _problems_json(local))
    ignored = Problems()
    raw = post_collector.parse_post(Path(path), data, ignored)
    info = normalize.prepare(raw, cfg, ignored) if raw is not None else None
    entry = normalize.render(info, cfg, local) if info is not None else None
    text = json.dumps(entry_to_json(entry), ensure_ascii=False) if entry else None
    # cached under the hash of the bytes rendered, whatever the scan saw
    return (path, digest(data), text, _problems_json(local))


class Renderer:
    """Entries for the posts that land in a feed: from the cache, or rendered and cached."""

    def __init__(
        self, cfg: Config, store: Store, problems: Problems, workers: Workers | None = None
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.problems = problems
        self.workers = workers
        self.pending: list[Rendered] = []
        self.done: dict[str, Entry | None] = {}
        self.rendered = 0

    def prefetch(self, refs: Iterable[PostRef]) -> None:
        """Render (in worker processes when there are many) the posts not cached yet."""
        missing: list[str] = []
        seen: set[str] = set()
        for ref in refs:
            if ref.path in seen or ref.path in self.done:
                continue
            seen.add(ref.path)
            hit = self.store.rendered(ref.path, ref.sha)
            if hit is not None:
                self._use(ref.path, hit[0], hit[1])
            else:
                missing.append(ref.path)
        if self.workers is not None and self.workers.usable(len(missing), RENDER_PARALLEL_AT):
            rows: Iterable[Rendered] = self.workers.map(_render_chunk, missing)
        else:
            rows = (render_file(self.cfg, p) for p in missing)
        for row in rows:
            self._take(row)

    def entry(self, ref: PostRef) -> Entry | None:
        if ref.path not in self.done:
            hit = self.store.rendered(ref.path, ref.sha)
            if hit is not None:
                self._use(ref.path, hit[0], hit[1])
            else:
                self._take(render_file(self.cfg, ref.path))
        return self.done[ref.path]

    def _use(self, path: str, text: str | None, problems: str | None) -> None:
        replay(self.problems, problems)
        self.done[path] = entry_from_json(json.loads(text)) if text else None

    def _take(self, row: Rendered) -> None:
        path, _, text, problems = row
        self.rendered += 1
        self.pending.append(row)
        self._use(path, text, problems)

    def flush(self) -> None:
        if self.pending:
            self.store.save_rendered(self.pending)
            self.pending.clear()


def feed_fingerprint(
    cfg: Config, label: str, fmt: str, plan_repr: str, entries: Iterable[Entry]
) -> str:
    """What one output file is made of: equal fingerprints give identical bytes."""
    h = hashlib.blake2b(digest_size=16)
    for part in (__version__, label, fmt, plan_repr, repr(cfg.site), cfg.output_url):
        h.update(part.encode())
        h.update(b"\0")
    for e in entries:
        h.update(json.dumps(entry_to_json(e), ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()
