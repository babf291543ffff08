"""The post stage: scan → read → prepare → reference, and render a reference into an ``Entry``.

A post is read only when the build cache does not know its (path, size, mtime); of those, it
is parsed only when its bytes changed. Planning works on small ``PostRef`` records, never on
bodies; a post that lands in a feed is rendered once and its entry cached under the hash of
its bytes (as Pelican's reader asks its cache before reading). The cache is keyed by the hash
of the ``PostSettings`` it was made with, so a cache made with other settings or another
version of feeds is dropped, not trusted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from feeds import __version__
from feeds.collect import posts as post_collector
from feeds.config.config import Config
from feeds.files import MAX_POST_BYTES, FileProblem, read_regular
from feeds.jekyll import liquid
from feeds.models import Entry, PostRef, Problems
from feeds.normalize import normalize, postmedia
from feeds.normalize.normalize import PostSettings
from feeds.store.buildcache import BuildCache, PostRow, Rendered
from feeds.store.store import entry_from_json, entry_to_json
from feeds.workers import Workers

PARSE_PARALLEL_AT = 2000  # parse in worker processes when at least this many posts changed
RENDER_PARALLEL_AT = 200
SAVE_EVERY = 500  # renderings saved to the cache in batches of this many, not held to the end

Progress = Callable[[int, int], None]
Scan = list[tuple[str, int, int]]  # (path, size, mtime_ns) of every post file, by path


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def settings_fingerprint(settings: PostSettings) -> str:
    """What a cached post or rendering depends on besides the file's bytes."""
    return digest(f"{__version__}\0{settings!r}".encode())


def build_fingerprint(
    cfg: Config, scan: str, entries_version: str, settings: PostSettings | None = None
) -> str:
    """Everything a whole build depends on: config, the post settings (the site's includes
    among them), the post files (``scan``: a digest of every post's path, size and mtime,
    and of what the walk reported), the stored entries' version. Equal fingerprints mean
    identical output."""
    h = hashlib.blake2b(digest_size=16)
    h.update(__version__.encode())
    h.update(repr(cfg).encode())
    h.update(repr(settings).encode())
    h.update(entries_version.encode())
    h.update(scan.encode())
    return h.hexdigest()


def scan_digest(scan: Scan) -> str:
    """A digest of a whole scan (by path), for ``build_fingerprint``."""
    h = hashlib.blake2b(digest_size=16)
    for path, size, mtime in scan:
        h.update(f"{path}\0{size}\0{mtime}\n".encode())
    return "sorted:" + h.hexdigest()


# ----------------------------------------------------------------------------- reading


def read_row(
    settings: PostSettings,
    path: str,
    size: int,
    mtime_ns: int,
    data: bytes | None = None,
    *,
    render: bool = False,
) -> PostRow:
    """Read and check one post: its cache row, problems included. With ``render``, a post
    that can be used is also rendered from the same read (its row carries the rendering),
    unless its body names other posts (``{% post_url %}``: their URLs are not all known yet)."""
    problems = Problems()
    if data is None:
        try:
            data = read_regular(path, MAX_POST_BYTES)
        except FileProblem as e:
            problems.error(path, e.reason)
            return PostRow(path, size, mtime_ns, "", problems=tuple(problems.items))
    sha = digest(data)
    raw = post_collector.parse_post(Path(path), data, problems)
    info = normalize.prepare(raw, settings, problems) if raw is not None else None
    if info is None:
        return PostRow(path, size, mtime_ns, sha, problems=tuple(problems.items))
    rendered = None
    if render and "{%" not in info.raw.body:
        rendered = replace(_rendered(settings, info, path, sha, {}), entry=None)
    return PostRow(
        path,
        size,
        mtime_ns,
        sha,
        published=info.published.timestamp(),
        link=info.link,
        categories=info.categories,
        tags=info.tags,
        problems=tuple(problems.items),
        rendered=rendered,
    )


def _read_chunk(settings: PostSettings, items: list[tuple[str, int, int, bool]]) -> list[PostRow]:
    return [read_row(settings, p, s, m, render=r) for p, s, m, r in items]


def _read_many(
    settings: PostSettings,
    todo: Scan,
    workers: Workers | None,
    progress: Progress | None,
    render: bool,
) -> Iterator[PostRow]:
    rows: Iterable[PostRow]
    if workers is not None and workers.usable(len(todo), PARSE_PARALLEL_AT):
        rows = workers.map(_read_chunk, [(p, s, m, render) for p, s, m in todo])
    else:
        rows = (read_row(settings, p, s, m, render=render) for p, s, m in todo)
    for i, row in enumerate(rows, 1):
        if progress is not None:
            progress(i, len(todo))
        yield row


def sync(
    settings: PostSettings,
    cache: BuildCache,
    scan: Scan,
    problems: Problems,
    progress: Progress | None = None,
    workers: Workers | None = None,
    *,
    render: bool = False,
    only: set[str] | None = None,
) -> int:
    """Bring the cache up to date with the files on disk; how many files were parsed.
    Problems of every post, cached or not, are reported again, so a rebuild reports exactly
    what a full build would. With ``render`` (a build that uses every post), each post read
    is rendered from the same read and its rendering cached, instead of read again later.
    ``only``: the paths that can differ from the cache (the watcher's), the rest are not
    compared."""
    cached = cache.post_stats(only)
    if only is not None:
        scan = [f for f in scan if f[0] in only]
    todo: Scan = []
    touched: list[tuple[int, str]] = []
    for path, size, mtime in scan:
        known = cached.get(path)
        if known is not None and known.size == size and known.mtime_ns == mtime:
            continue
        if known is not None and known.size == size and _same_bytes(path, known.sha):
            touched.append((mtime, path))  # same size, new mtime, same bytes
            continue
        todo.append((path, size, mtime))
    seen = {p for p, _, _ in scan}
    deleted = [p for p in cached if p not in seen]
    known_paths = {p for p, _, _ in todo if p in cached}
    del cached
    parsed = 0
    if todo or deleted or touched:
        rows = _read_many(settings, todo, workers, progress, render)
        parsed = cache.update_posts(rows, deleted, touched, known_paths)
    problems.items.extend(cache.post_problems())
    return parsed


def _same_bytes(path: str, sha: str) -> bool:
    try:
        return digest(read_regular(path, MAX_POST_BYTES)) == sha
    except FileProblem:
        return False


@dataclass(frozen=True)
class Index:
    """The posts a build needs, from the cache: each feed's newest, not every post."""

    by_category: dict[str, list[PostRef]]
    by_tag: dict[str, list[PostRef]]
    every: list[PostRef]
    count: int  # posts that are published (not future, not a duplicate permalink)
    next_due: float | None  # when the earliest future post becomes due
    skip: frozenset[str]  # paths of posts whose permalink an earlier post has


def index(
    cfg: Config,
    cache: BuildCache,
    now: dt.datetime,
    problems: Problems,
    only: set[str] | None = None,
) -> Index:
    """Each feed's newest posts (twice ``max_items``, so a post that cannot be rendered can
    be replaced), leaving out future posts and second users of a permalink."""
    tz = cfg.site.tz
    until = None if cfg.posts.future else now.timestamp()
    duplicates = cache.duplicate_links()
    skip = frozenset(d.path for d in duplicates)
    for d in duplicates:
        normalize.duplicate_permalink(problems, d.path, d.link, d.first)
    want = 2 * cfg.feeds.max_items + len(skip)

    def newest(kind: str | None = None, name: str | None = None) -> list[PostRef]:
        return [r for r in cache.newest_posts(want, until, tz, kind, name) if r.path not in skip]

    by_category = {n: newest("c", n) for n in cache.names("c", until) if only is None or n in only}
    by_tag = {n: newest("t", n) for n in cache.names("t", until)} if cfg.feeds.tag_feeds else {}
    return Index(
        by_category=by_category,
        by_tag=by_tag,
        every=newest(),
        count=cache.count_posts(until) - len(skip),
        next_due=None if until is None else cache.next_due(until),
        skip=skip,
    )


# ----------------------------------------------------------------------------- rendering


Links = Mapping[str, str]  # post file stem → URL path, for {% post_url %}


def render_key(sha: str, body: str, links: Links) -> str:
    """The rendered-entry cache key: the bytes' hash, and for a body that names other posts
    (``{% post_url %}``) also their URLs, so a rendering is stale when one of them moves."""
    refs = liquid.referenced_posts(body) if "{%" in body else frozenset()
    if not refs:
        return sha
    return sha + "+" + json.dumps(sorted([r, links.get(r)] for r in refs), ensure_ascii=False)


def _still_valid(row: Rendered, sha: str, links: Callable[[], Links]) -> bool:
    if row.sha == sha:
        return True
    current = links()
    refs = json.loads(row.sha[len(sha) + 1 :])
    return all(current.get(stem) == url for stem, url in refs)


def render_file(settings: PostSettings, path: str, links: Links | None = None) -> Rendered:
    """Render one post into its cache row. Front-matter problems are not repeated here (they
    were reported when the post was scanned); rendering problems are in the row."""
    row = _render_path(settings, path, links or {})
    assert row is not None  # noqa: S101 - with the links given, every post is rendered
    return row


def render_unlinked(settings: PostSettings, path: str) -> Rendered | None:
    """``render_file`` without the other posts' URLs: None for a post whose body names
    other posts (``{% post_url %}``), which is then rendered with them. Worker processes
    render so, and every post's URL is neither read from the cache nor sent to them."""
    return _render_path(settings, path, None)


def _render_path(settings: PostSettings, path: str, links: Links | None) -> Rendered | None:
    try:
        data = read_regular(path, MAX_POST_BYTES)
    except FileProblem as e:
        local = Problems()
        local.error(path, e.reason)
        return Rendered(path, "", None, tuple(local.items))
    ignored = Problems()
    raw = post_collector.parse_post(Path(path), data, ignored)
    info = normalize.prepare(raw, settings, ignored) if raw is not None else None
    # cached under the hash of the bytes rendered, whatever the scan saw
    if info is None:
        return Rendered(path, digest(data), None)
    body = info.raw.body
    if links is None and "{%" in body and liquid.referenced_posts(body):
        return None
    return _rendered(settings, info, path, digest(data), links or {})


def _rendered(
    settings: PostSettings, info: normalize.PostInfo, path: str, sha: str, links: Links
) -> Rendered:
    local = Problems()
    entry = normalize.render(info, settings, local, links)
    if entry is not None:
        root = settings.site_root
        entry = postmedia.with_sizes(
            entry, settings.site_url, lambda rel: post_collector.media_size(root, rel)
        )
    text = json.dumps(entry_to_json(entry), ensure_ascii=False) if entry else None
    key = render_key(sha, info.raw.body, links)
    return Rendered(path, key, text, tuple(local.items), entry)


def _render_chunk(settings: PostSettings, paths: list[str]) -> list[Rendered | str]:
    """Each post's rendering, or its path when it needs the other posts' URLs."""
    return [render_unlinked(settings, p) or p for p in paths]


def post_links(cache: BuildCache, site_url: str) -> dict[str, str]:
    """Every used post's URL path by its file's stem, as ``{% post_url %}`` prints it."""
    return {
        Path(path).stem: link[len(site_url) :] if link.startswith(site_url) else link
        for path, link in sorted(cache.post_links().items())
    }


class PostRenderer:
    """Entries for the posts that land in a feed: from the cache, or rendered and cached
    (an ``EntrySource`` for ``PostRef``)."""

    def __init__(
        self,
        settings: PostSettings,
        cache: BuildCache,
        problems: Problems,
        workers: Workers | None = None,
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.problems = problems
        self.workers = workers
        self.pending: list[Rendered] = []
        self.done: dict[str, Entry | None] = {}
        self.rendered = 0
        self._links: dict[str, str] | None = None

    def links(self) -> Links:
        """The posts' URL paths, read from the cache once, when a body needs them."""
        if self._links is None:
            self._links = post_links(self.cache, self.settings.site_url)
        return self._links

    def _hit(self, ref: PostRef) -> Rendered | None:
        row = self.cache.rendered([(ref.path, ref.sha)]).get(ref.path)
        return row if row is not None and _still_valid(row, ref.sha, self.links) else None

    def prefetch(self, refs: Iterable[PostRef]) -> None:
        """Render (in worker processes when there are many) the posts not cached yet."""
        todo: dict[str, str] = {}
        for ref in refs:
            if ref.path not in self.done:
                todo.setdefault(ref.path, ref.sha)
        found = self.cache.rendered(todo.items())  # one query per few hundred posts
        missing: list[str] = []
        for path, sha in todo.items():
            hit = found.get(path)
            if hit is not None and _still_valid(hit, sha, self.links):
                self._use(hit)
            else:
                missing.append(path)
        rows: Iterable[Rendered | str]
        if self.workers is not None and self.workers.usable(len(missing), RENDER_PARALLEL_AT):
            rows = self.workers.map(_render_chunk, missing)
        else:
            rows = missing
        for row in rows:
            self._take(self._render(row) if isinstance(row, str) else row)

    def entry(self, ref: PostRef) -> Entry | None:
        if ref.path not in self.done:
            hit = self._hit(ref)
            if hit is not None:
                self._use(hit)
            else:
                self._take(self._render(ref.path))
        return self.done[ref.path]

    def _render(self, path: str) -> Rendered:
        """A post rendered here; the posts' URLs are read only for a body that names one."""
        row = render_unlinked(self.settings, path)
        return row if row is not None else render_file(self.settings, path, self.links())

    @property
    def used(self) -> int:
        """Posts rendered into an entry this build (from the cache or not)."""
        return sum(1 for e in self.done.values() if e is not None)

    def _use(self, row: Rendered) -> None:
        self.problems.items.extend(row.problems)
        entry = row.entry
        if entry is None and row.entry_json:
            entry = entry_from_json(json.loads(row.entry_json))
        self.done[row.path] = entry

    def _take(self, row: Rendered) -> None:
        """A new rendering: its entry used as it is (no trip through its JSON), the row saved
        to the cache with the next batch (without the entry, which the cache does not keep)."""
        self.rendered += 1
        self._use(row)
        self.pending.append(replace(row, entry=None))
        if len(self.pending) >= SAVE_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.cache.save_rendered(self.pending)
            self.pending.clear()
