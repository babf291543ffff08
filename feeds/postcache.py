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
from feeds.models import Entry, Problem, Problems, Severity
from feeds.store import Store, entry_from_json, entry_to_json

log = logging.getLogger(__name__)

PARALLEL_AT = 2000  # parse in worker processes when at least this many posts changed

Row = tuple[str, int, int, str, float | None, str | None, str | None, str | None, str | None]


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
    parts = [__version__, site.url, site.timezone, repr(site.author), repr(cfg.posts.permalink),
             cfg.posts.source_link, cfg.posts.drop_nav_links, cfg.posts.nav_link_prefix,
             cfg.feeds.summary_length]
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
    return json.dumps([[p.severity.value, p.message, p.line, p.where] for p in problems.items],
                      ensure_ascii=False)


def replay(problems: Problems, text: str | None) -> None:
    """Report again the problems a cached post had when it was parsed or rendered."""
    if not text:
        return
    for severity, message, line, where in json.loads(text):
        problems.items.append(Problem(Severity(severity), where, message, line))


def parse_file(cfg: Config, path: str, size: int, mtime_ns: int,
               data: bytes | None = None) -> Row:
    """Read and check one post: the cache row for it (problems included)."""
    problems = Problems()
    published = link = cats = tags = None
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            problems.error(path, f"cannot read: {e.strerror or e}")
            return (path, size, mtime_ns, "", None, None, None, None, _problems_json(problems))
    raw = post_collector.parse_post(Path(path), data, problems)
    info = normalize.prepare(raw, cfg, problems) if raw is not None else None
    if info is not None:
        published = info.published.timestamp()
        link = info.link
        cats = json.dumps(info.categories, ensure_ascii=False)
        tags = json.dumps(info.tags, ensure_ascii=False)
    return (path, size, mtime_ns, digest(data), published, link, cats, tags,
            _problems_json(problems))


_worker_cfg: Config | None = None


def _init_worker(cfg: Config) -> None:
    global _worker_cfg
    _worker_cfg = cfg


def _parse_chunk(items: list[tuple[str, int, int]]) -> list[Row]:
    assert _worker_cfg is not None  # noqa: S101 - set by the pool initializer
    return [parse_file(_worker_cfg, p, s, m) for p, s, m in items]


def _parse_many(cfg: Config, todo: list[tuple[str, int, int]],
                progress: Callable[[int, int], None] | None = None) -> Iterator[Row]:
    for i, row in enumerate(_parse_rows(cfg, todo), 1):
        if progress is not None:
            progress(i, len(todo))
        yield row


def _parse_rows(cfg: Config, todo: list[tuple[str, int, int]]) -> Iterator[Row]:
    workers = min(os.cpu_count() or 1, 4)
    # fork is only safe while this is the process's only thread (not inside the daemon)
    if len(todo) < PARALLEL_AT or workers < 2 or threading.active_count() > 1:
        for p, s, m in todo:
            yield parse_file(cfg, p, s, m)
        return
    size = max(100, len(todo) // (workers * 8))
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(cfg,)) as pool:
        for rows in pool.map(_parse_chunk, chunks):
            yield from rows


# ----------------------------------------------------------------------------- sync


def _ref(row: tuple[Any, ...], path: str, tz: dt.tzinfo) -> PostRef | None:
    sha, published, link, cats, tags = row[2], row[3], row[4], row[5], row[6]
    if link is None or published is None:
        return None
    return PostRef(path=path, sha=sha, link=link,
                   published=dt.datetime.fromtimestamp(published, tz),
                   categories=tuple(json.loads(cats)), tags=tuple(json.loads(tags)))


def sync(cfg: Config, store: Store, scan: list[tuple[str, int, int]], problems: Problems,
         progress: Callable[[int, int], None] | None = None) -> tuple[list[PostRef], int]:
    """Bring the cache up to date with the files on disk; every post as a ``PostRef``
    (sorted by path) and how many files were parsed. Problems of every post, cached or not,
    are reported again, so a rebuild reports exactly what a full build would."""
    cached = store.cached_posts()
    todo: list[tuple[str, int, int]] = []
    touched: list[tuple[int, str]] = []
    keep: dict[str, tuple[Any, ...]] = {}
    for path, size, mtime in scan:
        row = cached.get(path)
        if row is not None and row[0] == size and row[1] == mtime:
            keep[path] = row
        elif row is not None and row[0] == size:
            # same size, new mtime: compare the bytes before parsing again
            try:
                data = Path(path).read_bytes()
            except OSError:
                todo.append((path, size, mtime))
                continue
            if digest(data) == row[2]:
                keep[path] = (size, mtime, *row[2:])
                touched.append((mtime, path))
            else:
                todo.append((path, size, mtime))
        else:
            todo.append((path, size, mtime))
    fresh: list[Row] = list(_parse_many(cfg, todo, progress))
    for r in fresh:
        keep[r[0]] = r[1:]
    seen = {p for p, _, _ in scan}
    deleted = [p for p in cached if p not in seen]
    if fresh or deleted or touched:
        store.update_posts(fresh, deleted, touched)
    tz = cfg.site.tz
    refs: list[PostRef] = []
    for path, _, _ in scan:
        row = keep[path]
        replay(problems, row[7])
        ref = _ref(row, path, tz)
        if ref is not None:
            refs.append(ref)
    return refs, len(fresh)


# ----------------------------------------------------------------------------- rendering


class Renderer:
    """Entries for the posts that land in a feed: from the cache, or rendered and cached."""

    def __init__(self, cfg: Config, store: Store, problems: Problems) -> None:
        self.cfg = cfg
        self.store = store
        self.problems = problems
        self.pending: list[tuple[str, str, str | None, str | None]] = []
        self.done: dict[str, Entry | None] = {}
        self.rendered = 0

    def entry(self, ref: PostRef) -> Entry | None:
        if ref.path in self.done:
            return self.done[ref.path]
        hit = self.store.rendered(ref.path, ref.sha)
        if hit is not None:
            text, problems = hit
            replay(self.problems, problems)
            entry = entry_from_json(json.loads(text)) if text else None
        else:
            entry = self._render(ref)
        self.done[ref.path] = entry
        return entry

    def _render(self, ref: PostRef) -> Entry | None:
        local = Problems()
        try:
            data = Path(ref.path).read_bytes()
        except OSError as e:
            local.error(ref.path, f"cannot read: {e.strerror or e}")
            self.problems.items.extend(local.items)
            return None
        ignored = Problems()  # front-matter problems were reported when the post was scanned
        raw = post_collector.parse_post(Path(ref.path), data, ignored)
        info = normalize.prepare(raw, self.cfg, ignored) if raw is not None else None
        entry = normalize.render(info, self.cfg, local) if info is not None else None
        self.problems.items.extend(local.items)
        self.rendered += 1
        text = json.dumps(entry_to_json(entry), ensure_ascii=False) if entry else None
        # cached under the hash of the bytes rendered, whatever the scan saw
        self.pending.append((ref.path, digest(data), text, _problems_json(local)))
        return entry

    def flush(self) -> None:
        if self.pending:
            self.store.save_rendered(self.pending)
            self.pending.clear()


def feed_fingerprint(cfg: Config, label: str, fmt: str, plan_repr: str,
                     entries: Iterable[Entry]) -> str:
    """What one output file is made of: equal fingerprints give identical bytes."""
    h = hashlib.blake2b(digest_size=16)
    for part in (__version__, label, fmt, plan_repr, repr(cfg.site), cfg.output_url):
        h.update(part.encode())
        h.update(b"\0")
    for e in entries:
        h.update(json.dumps(entry_to_json(e), ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()
