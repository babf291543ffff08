"""One build: plan → render → write feeds → write archives → write discovery files.

``feeds build`` (after its fetch, in ``feeds.run.once``) and the daemon call ``run_once``;
the build never fetches. ``feeds check`` calls it with
``write=False`` and goes down the same road: the same planner over an in-memory build cache,
every post rendered, and a writer that records paths instead of writing. Each phase takes
values and returns values; the ``Report`` is assembled from them at the end. A bad post or a
feed that cannot be written is a ``Problem``, not an exception: the rest go on. Never asks
the clock: ``now`` is passed in.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from feeds import caching, manifest
from feeds.collect import posts as post_collector
from feeds.config.config import Config
from feeds.errors import shown
from feeds.generate import archive, gate, generate, plan as plan_, poststage, urlcheck
from feeds.generate.output import (
    DiskWriter,
    DryWriter,
    Writer,
    entries_digest,
    write_archives,
    write_discovery,
    write_head,
    write_host_files,
    write_page,
)
from feeds.generate.plan import (
    EntrySource,
    Plan,
    Progress,
    Rendered,
    Run,
    Sources,
    StopCheck,
    Stored,
)
from feeds.generate.publish import publish, read_manifest
from feeds.generate.report import Failed, FeedResult, FileResult, Report, records, written
from feeds.models import Entry, Problem, Problems, SourceOutcome
from feeds.normalize import normalize
from feeds.runtime import Runtime
from feeds.store.buildcache import BuildCache, LastBuild, Output
from feeds.store.store import Store, exists as store_exists, open_store
from feeds.workers import Workers

__all__ = ["FeedResult", "Report", "run_once"]

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- run


def run_once(
    cfg: Config,
    now: dt.datetime,
    *,
    write: bool = True,
    progress: Progress | None = None,
    fetched: Report | None = None,
    only: set[str] | None = None,
    should_stop: StopCheck | None = None,
    full: bool = False,
    ping: bool = True,
    accept_shrink: bool = False,
    changed: frozenset[Path] | None = None,
    runtime: Runtime | None = None,
) -> Report:
    """Build every feed from the posts and the stored entries. ``fetched``: what a fetch
    just before did (``feeds.run.once``), its sources and problems in this run's report.

    Incremental: only posts whose files changed are read again, only feeds whose entries
    changed are generated again, and a build with nothing changed does a directory scan and
    stops (``full=True`` drops the cache first). The output is byte-identical either way.

    With ``write=False`` (``feeds check``) nothing is cached or written and every post
    is read and rendered, to surface every problem. ``only`` limits the category feeds written
    to those categories (the feed of everything and tag feeds are always written).
    ``should_stop`` is asked between feeds: when it says yes, the file being written is
    finished and the rest keep their previous version. ``ping=False`` leaves announcing the
    written head feeds to the WebSub hub to the caller (a distributed build: a job each).
    A build whose inputs look broken (``feeds.generate.gate``) writes nothing unless
    ``accept_shrink``. ``changed`` (the daemon's watcher: the post files that changed since
    the last build) replaces the stat walk of every post by a stat of those, when the cache
    holds a full scan to start from. ``runtime`` (made by the CLI) gives the file writes
    their fault hook.
    """
    if now.tzinfo is None:
        raise ValueError("run_once needs an aware 'now'")
    run = Run(
        cfg, now, only, should_stop, progress, full, not write, accept_shrink, changed=changed
    )
    problems = Problems()
    if run.check:
        return _check(run, problems)
    if fetched is not None:
        problems.items.extend(fetched.problems.items)
    sources = fetched.sources if fetched is not None else ()
    settings = normalize.PostSettings.of(cfg)
    with (
        open_store(cfg.store) as store,
        Workers(settings) as workers,
    ):
        inputs = Inputs(store.cache, store, store.meta("entries_version") or "0")
        hook = runtime.before_rename if runtime is not None else None
        report = build(run, inputs, _writer(cfg, hook), problems, workers)
    if ping and cfg.feeds.websub_hub and report.head_feeds_written:
        from feeds.generate import websub

        websub.notify(cfg, report.head_feeds_written, problems, should_stop=should_stop)
    return _with_sources(report, sources)


def _writer(cfg: Config, hook: Callable[[], None] | None) -> Writer:
    """The writer for the site's output; ``hook`` (the runtime's fault hook, tests only) is
    called before each file is renamed into place or uploaded."""
    if cfg.output_s3 is None:
        return DiskWriter(cfg.output_dir, hook)
    from feeds.generate.s3sink import S3Writer  # boto3 loads only for a site that writes to S3

    s = cfg.schedule  # the caching contract's Cache-Control, unless output.s3 sets one
    control = caching.hints(s.build, s.build_seconds, cfg.site.tz).cache_control
    return S3Writer(cfg.output_s3, cfg.store.state_dir, cache_control=control, before_put=hook)


def _check(run: Run, problems: Problems) -> Report:
    """``feeds check``: the build's own road over an in-memory cache, writing nothing; the
    stored entries come from the store when there is one (it is never created here). It
    also warns about an ``output.url`` that is not where the files are served."""
    cfg = run.cfg
    urlcheck.check_urls(cfg, problems)
    cache = BuildCache.in_memory()
    if not (cfg.sources and store_exists(cfg.store)):
        return build(run, Inputs(cache), DryWriter(), problems, None)
    with open_store(cfg.store, read_only=True) as store:  # a check writes nothing
        inputs = Inputs(cache, store)
        return build(run, inputs, DryWriter(), problems, None)


def _stored(cfg: Config, store: Store | None) -> Stored:
    if not cfg.sources or store is None:
        return Stored()
    from feeds.generate import routing

    routed, everything, merged = routing.stored_entries(cfg, store)
    return Stored(routed, everything, sum(merged.values()))


def _loader(cfg: Config, store: Store | None) -> EntrySource | None:
    if not cfg.sources or store is None:
        return None
    from feeds.generate.routing import Loader

    return Loader(cfg, store)


def _with_sources(report: Report, sources: tuple[SourceOutcome, ...]) -> Report:
    return replace(report, sources=sources) if sources else report


# ----------------------------------------------------------------------------- build


@dataclass(frozen=True)
class Inputs:
    """What a build reads besides the post files: its cache, and the store holding the
    external sources' entries (None: there is none; ``entries_version`` says when they last
    changed)."""

    cache: BuildCache
    store: Store | None = None
    entries_version: str = "0"


def build(
    run: Run, inputs: Inputs, writer: Writer, problems: Problems, workers: Workers | None
) -> Report:
    """The build's phases in order; each returns what the next takes."""
    cfg, first_problem = run.cfg, len(problems.items)
    cache = inputs.cache
    settings = normalize.PostSettings.of(cfg)
    writer.cleanup()
    cache.use_settings(poststage.settings_fingerprint(settings), drop=run.full)
    found = _scan(run, cache, problems)
    fingerprint = poststage.build_fingerprint(cfg, found.digest, inputs.entries_version, settings)
    outputs = cache.outputs()
    last = cache.last_build()
    if run.whole and not run.check and _nothing_changed(run, last, fingerprint, outputs, writer):
        problems.items.extend(last.problems)
        log.debug("nothing changed since the last build files=%d", len(outputs))
        files = tuple(sorted(outputs))
        return Report(posts_found=last.posts, files_unchanged=files, problems=problems)
    stored = _stored(cfg, inputs.store)
    loader = _loader(cfg, inputs.store)
    found = _with_removed(run, cache, found)
    plan = plan_.plan_feeds(
        run, cache, found.posts, stored, problems, settings, workers, found.candidates, found.count
    )
    if found.walked is not None:  # the posts rows are now this full scan's
        cache.save_scan(found.walked, found.chunks)
    counts = _counts(run, cache)
    refused = _refused(run, writer, counts)
    if refused:  # nothing is written: the live feeds stay as they are
        for reason in refused:
            problems.error(str(cfg.path), reason)
        _save_last(run, cache, "", plan, problems.items[first_problem:])
        return Report(posts_found=plan.posts.count, problems=problems, refused=tuple(refused))
    renderer = poststage.PostRenderer(settings, cache, problems, workers)
    sources = Sources({"post": renderer} | ({"remote": loader} if loader else {}))
    try:
        rendered = plan_.render_feeds(run, cache, plan, stored, sources)
        entries_of = plan_.month_entries(run, cache, plan, stored, sources)
        outcome = write_all(run, writer, problems, rendered, outputs, entries_of)
        if run.check:  # every post rendered, so that every problem shows
            renderer.prefetch(plan_.every_post(run, cache, plan.posts))
    finally:
        renderer.flush()  # what was rendered stays cached, whatever happens next
    replace_all = run.whole and not outcome.stopped
    if not run.check:
        published = publish(cfg, writer, problems, outcome.files, counts, whole=replace_all)
        outcome = replace(outcome, files=outcome.files + published.files, removed=published.removed)
    cache.save_outputs(records(outcome.files), replace_all=replace_all)
    report = _report(plan, outcome, stored, problems, renderer.used, every_feed=replace_all)
    complete = run.whole and not report.stopped and not report.write_failed
    _save_last(run, cache, fingerprint if complete else "", plan, problems.items[first_problem:])
    return report


def _next_due(run: Run, post_due: float | None) -> float | None:
    """When a build with nothing else changed must run again: a future post falls due, or
    (with archives on) this month closes and gets its archive."""
    if not run.cfg.feeds.archives:
        return post_due
    month_end = archive.month_of(run.now, run.cfg.site.tz).end.timestamp()
    return month_end if post_due is None else min(post_due, month_end)


def _save_last(
    run: Run, cache: BuildCache, fingerprint: str, plan: Plan, problems: list[Problem]
) -> None:
    """What the next build compares with ("" when this one did not finish: it is redone)."""
    due = _next_due(run, plan.posts.next_due)
    cache.save_build(LastBuild(fingerprint, due, tuple(problems), plan.posts.count))


def _counts(run: Run, cache: BuildCache) -> manifest.Counts:
    """The published posts, in all and in each category this build makes."""
    until = None if run.cfg.posts.future else run.now.timestamp()
    names = [n for n in cache.names("c", until) if run.wants(n)]
    per = {n: cache.count_names("c", n, until) for n in names}
    return manifest.Counts(cache.count_posts(until), per)


def _refused(run: Run, writer: Writer, counts: manifest.Counts) -> list[str]:
    """Why the validation gate keeps the live feeds (``feeds.generate.gate``); empty: go on."""
    cfg = run.cfg
    if run.check or run.accept_shrink:
        return []
    missing = [shown(d) for d in cfg.posts.dirs if not d.is_dir()]
    found = gate.Found(missing, counts.posts, counts.category_posts)
    only = set(cfg.categories.only)
    return gate.reasons(
        found,
        read_manifest(writer),
        cfg.max_shrink,
        lambda name: run.wants(name) and (not only or name in only),
    )


@dataclass(frozen=True)
class Found:
    """The post files, as a build compares them with its cache."""

    posts: poststage.Scan  # every post file, by path; or (``candidates``) those that can differ
    count: int  # post files found
    digest: str  # of every post file's (path, size, mtime) and what the walk reported
    candidates: set[str] | None  # the only paths that can differ from the cache (None: any)
    walked: list[Problem] | None  # what a full walk reported (None: no walk, the watcher's)
    chunks: tuple[str, ...] = ()  # the walk's chunks (``feeds.collect.posts.Walked``)


def _scan(run: Run, cache: BuildCache, problems: Problems) -> Found:
    """Every post file's (path, size, mtime) that can differ from the cache: when the
    watcher names the changed files, those are stat-ed and the rest are the cache's; else
    the folders are walked, and of the posts in the chunks the last walk saw the same (and
    cached unchanged since), none is listed."""
    dirs = run.cfg.posts.dirs
    last = cache.scan_problems() if run.changed is not None else None
    if run.changed is not None and last is not None:
        found = post_collector.rescan(dirs, cache.post_scan(), run.changed)
        if found is not None:
            problems.items.extend(last)
            scan = found[0]
            return Found(scan, len(scan), poststage.scan_digest(scan), found[1], None)
    walked = Problems()
    known = cache.scan_chunks()
    walk = post_collector.walk_posts(dirs, walked, known)
    problems.items.extend(walked.items)
    digest = "walk:" + poststage.digest(f"{walk.digest} {walked.items!r}".encode())
    candidates = {path for path, _, _ in walk.changed} if known else None
    return Found(walk.changed, walk.count, digest, candidates, walked.items, walk.chunks)


def _with_removed(run: Run, cache: BuildCache, found: Found) -> Found:
    """``found`` when it lists every post that can differ from the cache; a walk that left
    out its unchanged chunks does, unless posts were removed (the cache knows more of them
    than the walk found, less the new ones): then every post, from a full scan."""
    if found.walked is None or found.candidates is None:
        return found
    cached = cache.post_stats(found.candidates)
    new = sum(1 for path in found.candidates if path not in cached)
    if cache.count_post_files() == found.count - new:
        return found
    scan = post_collector.scan_posts(run.cfg.posts.dirs, Problems())
    return replace(found, posts=scan, count=len(scan), candidates=None)


def _nothing_changed(
    run: Run, last: LastBuild, fingerprint: str, outputs: dict[str, Output], writer: Writer
) -> bool:
    if last.fingerprint != fingerprint:
        return False
    if last.next_due is not None and last.next_due <= run.now.timestamp():
        return False  # a future post's time has come
    return all(writer.holds(rel, o) for rel, o in outputs.items())  # nobody touched them


@dataclass(frozen=True)
class Outcome:
    files: list[FileResult]
    feeds: list[FeedResult]
    stopped: bool
    removed: tuple[str, ...] = ()


def write_all(
    run: Run,
    writer: Writer,
    problems: Problems,
    rendered: Iterable[Rendered],
    outputs: dict[str, Output],
    month_entries: Callable[[generate.FeedPlan, archive.Month], list[Entry]],
) -> Outcome:
    """Write feeds, their archives, then the discovery files. The one place that asks
    whether to stop (between documents: a stopped build keeps the rest's previous files)."""
    cfg = run.cfg
    files: list[FileResult] = []
    feeds: list[FeedResult] = []

    def unchanged(rel: str, fingerprint: str) -> Output | None:
        o = outputs.get(rel)
        same = o is not None and o.fingerprint == fingerprint and writer.holds(rel, o)
        return o if same else None

    # One format at a time, the feed of everything first: its entries' bytes are shared
    # with the other feeds of that format, then dropped before the next format.
    heads = list(rendered)
    digests = [entries_digest(feed.entries) for feed in heads]
    for fmt in dict.fromkeys(f for feed in heads for f in feed.plan.paths):
        fragments = generate.Fragments()
        for feed, digest_ in zip(heads, digests, strict=True):
            if run.stopping():
                return Outcome(files, feeds, True)
            files += write_head(
                cfg, writer, problems, feed, unchanged, fragments, only=fmt, entries=digest_
            )
    fragments = generate.Fragments()  # the page of everything's articles, for the others
    for feed, digest_ in zip(heads, digests, strict=True):
        if run.stopping():
            return Outcome(files, feeds, True)
        if cfg.feeds.discovery:
            files += write_page(cfg, writer, problems, feed, unchanged, digest_, fragments)
        if feed.months:
            entries = partial(month_entries, feed.plan)
            files += write_archives(cfg, writer, problems, feed, writer.exists, entries, unchanged)
        feeds.append(feed.result())
    if run.whole:
        files += write_discovery(cfg, writer, problems, feeds)
        files += write_host_files(cfg, writer, problems, feeds)
    return Outcome(files, feeds, False)


def _report(
    plan: Plan,
    done: Outcome,
    stored: Stored,
    problems: Problems,
    posts_used: int,
    *,
    every_feed: bool,
) -> Report:
    return Report(
        posts_found=plan.posts.count,
        posts_used=posts_used,
        feeds_planned=len(plan.feeds),
        files_written=written(done.files, changed=True),
        files_unchanged=written(done.files, changed=False),
        problems=problems,
        aggregated=len(stored.everything),
        merged=stored.merged,
        feeds=tuple(done.feeds),
        stopped=done.stopped,
        write_failed=any(isinstance(r, Failed) for r in done.files),
        head_feeds_written=written(done.files, changed=True, role="feed"),
        files_removed=done.removed,
        every_feed=every_feed,
    )
