"""One run: collect → normalize → generate → write. Returns a report; never asks the clock.

``feeds build`` (and later the daemon) call ``run_once``. A bad post or a feed that cannot
be written is a ``Problem`` in the report, not an exception: the other posts and feeds go on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from feeds import __version__, archive, buildcache, generate, normalize, poststage
from feeds.collect import posts as post_collector
from feeds.config import Config
from feeds.errors import WriteError
from feeds.models import Entry, PostRef, Problems, RemoteRef, SourceOutcome
from feeds.store import Store, entry_to_json
from feeds.workers import Workers
from feeds.write import remove_stale_temps, write_if_changed

if TYPE_CHECKING:
    from feeds.aggregate import Loader

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
StopCheck = Callable[[], bool]


@dataclass(frozen=True)
class FeedResult:
    label: str
    paths: tuple[str, ...]
    items: int
    newest: dt.datetime
    plan: generate.FeedPlan | None = None


@dataclass
class Report:
    posts_found: int = 0
    posts_used: int = 0
    feeds_planned: int = 0
    files_written: list[str] = field(default_factory=list)
    files_unchanged: list[str] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    sources: list[SourceOutcome] = field(default_factory=list)
    aggregated: int = 0  # stored entries of external sources that went into the build
    feeds: list[FeedResult] = field(default_factory=list)
    stopped: bool = False  # asked to stop: the feeds not yet written keep their old files
    write_failed: bool = False  # some file could not be generated or written

    @property
    def ok(self) -> bool:
        return not self.problems.errors


def collect_posts(
    cfg: Config, now: dt.datetime, problems: Problems, progress: Progress | None = None
) -> list[normalize.PostInfo]:
    """Read and check every post; duplicate permalinks keep the first file (by path)."""
    files = post_collector.find_posts(cfg.posts.dirs, problems)
    settings = normalize.PostSettings.of(cfg)
    infos: list[normalize.PostInfo] = []
    owner: dict[str, str] = {}
    for i, path in enumerate(files, 1):
        raw = post_collector.read_post(path, problems)
        info = normalize.prepare(raw, settings, problems) if raw is not None else None
        if info is not None and info.published > now and not cfg.posts.future:
            log.debug("skip future post=%s date=%s", info.where, info.published.isoformat())
            info = None
        if info is not None:
            first = owner.setdefault(info.link, info.where)
            if first != info.where:
                normalize.duplicate_permalink(
                    problems, info.where, info.link, first, info.raw.line("permalink")
                )
            else:
                infos.append(info)
        if progress is not None:
            progress(i, len(files))
    return infos


def fetch(
    cfg: Config,
    now: dt.datetime,
    *,
    force: bool = False,
    report: Report | None = None,
    should_stop: StopCheck | None = None,
) -> Report:
    """Fetch the due external sources (every enabled one with ``force``) into the store."""
    report = report or Report()
    if not cfg.sources:
        return report
    with Store(cfg.store.path, timeout=cfg.store.lock_timeout) as store:
        from feeds import aggregate  # httpx and feedparser load only when there are sources

        report.sources = aggregate.fetch_round(
            cfg, store, now, report.problems, force=force, should_stop=should_stop
        )
        dropped = store.prune(
            now, max_age_days=cfg.store.max_age_days, max_per_source=cfg.store.max_per_source
        )
        if dropped:
            log.info("retention dropped=%d", dropped)
    return report


def run_once(
    cfg: Config,
    now: dt.datetime,
    *,
    write: bool = True,
    progress: Progress | None = None,
    fetch_sources: bool = True,
    force_fetch: bool = False,
    only: set[str] | None = None,
    should_stop: StopCheck | None = None,
    full: bool = False,
) -> Report:
    """Fetch the due sources, then build every feed from the posts and the stored entries.

    Incremental: only posts whose files changed are read again, only feeds whose entries
    changed are generated again, and a build with nothing changed does a directory scan and
    stops (``full=True`` drops the cache first). The output is byte-identical either way.

    With ``write=False`` (``feeds check``) nothing is fetched, cached or written and every post
    is read and rendered, to surface every problem. ``only`` limits the category feeds written
    to those categories (the feed of everything and tag feeds are always written).
    ``should_stop`` is asked between feeds: when it says yes, the file being written is
    finished and the rest keep their previous version.
    """
    if now.tzinfo is None:
        raise ValueError("run_once needs an aware 'now'")
    report = Report()
    if not write:
        return _check(cfg, now, report, progress)
    if cfg.sources and fetch_sources:
        fetch(cfg, now, force=force_fetch, report=report, should_stop=should_stop)
    with (
        Store(cfg.store.path, timeout=cfg.store.lock_timeout) as store,
        Workers(normalize.PostSettings.of(cfg)) as workers,
    ):
        _build(
            cfg,
            store,
            now,
            report,
            progress=progress,
            only=only,
            should_stop=should_stop,
            full=full,
            workers=workers,
        )
    if cfg.feeds.websub_hub and report.files_written:
        from feeds import websub

        websub.notify(cfg, report.files_written, report.problems)
    return report


def _check(cfg: Config, now: dt.datetime, report: Report, progress: Progress | None) -> Report:
    infos = collect_posts(cfg, now, report.problems, progress)
    report.posts_found = len(infos)
    report.feeds_planned = len(generate.plan(cfg, infos, report.problems))
    settings = normalize.PostSettings.of(cfg)
    entries = [normalize.render(info, settings, report.problems) for info in infos]
    report.posts_used = sum(1 for e in entries if e is not None)
    return report


def _build(
    cfg: Config,
    store: Store,
    now: dt.datetime,
    report: Report,
    *,
    progress: Progress | None,
    only: set[str] | None,
    should_stop: StopCheck | None,
    full: bool,
    workers: Workers,
) -> None:
    problems = report.problems
    first_problem = len(problems.items)
    if remove_stale_temps(cfg.output_dir):
        log.info("removed temp files left by an interrupted run dir=%s", cfg.output_dir)
    cache = store.cache
    settings = normalize.PostSettings.of(cfg)
    cache.use_settings(poststage.settings_fingerprint(settings), drop=full)
    scan = post_collector.scan_posts(cfg.posts.dirs, problems)
    build_fp = poststage.build_fingerprint(cfg, scan, store.meta("entries_version") or "0")
    outputs = cache.outputs()
    last = cache.last_build()
    if only is None and _nothing_changed(last, build_fp, now, cfg, outputs):
        problems.items.extend(last.problems)
        report.posts_found = last.posts
        report.files_unchanged = sorted(outputs)
        log.debug("nothing changed since the last build files=%d", len(outputs))
        return

    t_scan = time.perf_counter()
    parsed = poststage.sync(settings, cache, scan, problems, progress, workers)
    t_sync = time.perf_counter()
    log.debug("posts scanned=%d parsed=%d seconds=%.3f", len(scan), parsed, t_sync - t_scan)
    idx = poststage.index(cfg, cache, now, problems, only)
    report.posts_found = idx.count
    next_due = idx.next_due

    Ref = PostRef | RemoteRef
    by_category: dict[str, list[Ref]] = {k: list(v) for k, v in idx.by_category.items()}
    by_tag: dict[str, list[Ref]] = {k: list(v) for k, v in idx.by_tag.items()}
    every: list[Ref] = list(idx.every)
    routed: list[RemoteRef] = []
    if cfg.sources:
        from feeds import aggregate

        routed, everything = aggregate.stored_entries(cfg, store)
        report.aggregated = len(everything)
        for aggregated in routed:
            for c in aggregated.categories:
                if only is None or c in only:
                    by_category.setdefault(c, []).append(aggregated)
            if cfg.feeds.tag_feeds:
                for t in aggregated.tags:
                    by_tag.setdefault(t, []).append(aggregated)
        every.extend(everything)
    plans = generate.plan_groups(cfg, by_category, by_tag, every, problems)
    report.feeds_planned = len(plans)

    renderer = poststage.PostRenderer(settings, cache, problems, workers)
    from feeds.aggregate import Loader

    loader = Loader(cfg, store)
    made: list[buildcache.Output] = []
    limit = cfg.feeds.max_items
    t_plan = time.perf_counter()
    # with ``only``, the groups above hold only those categories: every plan is written
    renderer.prefetch(
        c for _, candidates in plans for c in candidates[:limit] if isinstance(c, PostRef)
    )
    loader.prefetch(
        c for _, candidates in plans for c in candidates[:limit] if isinstance(c, RemoteRef)
    )
    t_render = time.perf_counter()
    log.debug(
        "plan seconds=%.3f render posts=%d seconds=%.3f",
        t_plan - t_sync,
        renderer.rendered,
        t_render - t_plan,
    )
    try:
        for feed, candidates in plans:
            if should_stop is not None and should_stop():
                report.stopped = True
                break
            entries: list[Entry] = []
            for candidate in candidates:
                entry = (
                    loader.entry(candidate)
                    if isinstance(candidate, RemoteRef)
                    else renderer.entry(candidate)
                )
                if entry is not None:
                    entries.append(entry)
                    if len(entries) == limit:
                        break
            if not entries:
                continue
            months = _archive_months(cfg, cache, feed, routed, now)
            for fmt, rel in feed.paths.items():
                prev = (
                    archive.url(cfg, feed, months[-1], fmt)
                    if months and fmt in archive.ARCHIVE_FORMATS
                    else None
                )
                fp = feed_fingerprint(cfg, feed.label, fmt, f"{feed!r} {prev}", entries)
                target = cfg.output_dir / rel
                if _same_output(target, outputs.get(rel), fp):
                    report.files_unchanged.append(rel)
                    made.append(outputs[rel])
                    continue
                if _write_feed(cfg, feed, entries, fmt, rel, report, prev_archive=prev):
                    st = target.stat()
                    made.append(buildcache.Output(rel, fp, st.st_size, st.st_mtime_ns))
            if months:
                made.extend(
                    _write_archives(
                        cfg, cache, feed, months, routed, renderer, loader, report, idx.skip
                    )
                )
            report.feeds.append(
                FeedResult(
                    feed.label,
                    tuple(feed.paths.values()),
                    len(entries),
                    max(e.published for e in entries),
                    feed,
                )
            )
        if not report.stopped and only is None:
            made.extend(_write_discovery(cfg, report))
    finally:
        renderer.flush()
        cache.save_outputs(made, replace_all=only is None and not report.stopped)
    report.posts_used = renderer.used
    log.debug(
        "write files=%d unchanged=%d seconds=%.3f",
        len(report.files_written),
        len(report.files_unchanged),
        time.perf_counter() - t_render,
    )
    # a build that could not write everything must not count as done: the next one retries
    complete = only is None and not report.stopped and not report.write_failed
    cache.save_build(
        buildcache.LastBuild(
            fingerprint=build_fp if complete else "",
            next_due=next_due,
            problems=tuple(problems.items[first_problem:]),
            posts=idx.count,
        )
    )


def _archive_months(
    cfg: Config,
    cache: buildcache.BuildCache,
    feed: generate.FeedPlan,
    routed: list[RemoteRef],
    now: dt.datetime,
) -> list[archive.Month]:
    """The closed months of a category feed's archive (none when archives are off)."""
    if not cfg.feeds.archives or feed.kind != "category":
        return []
    tz = cfg.site.tz
    until = None if cfg.posts.future else now.timestamp()
    times = [dt.datetime.fromtimestamp(t, tz) for t in cache.post_times("c", feed.name, until)]
    times += [e.published for e in routed if feed.name in e.categories]
    return archive.closed_months(times, now, tz)


def _write_archives(
    cfg: Config,
    cache: buildcache.BuildCache,
    feed: generate.FeedPlan,
    months: list[archive.Month],
    routed: list[RemoteRef],
    renderer: poststage.PostRenderer,
    loader: Loader,
    report: Report,
    skip: frozenset[str],
) -> list[buildcache.Output]:
    """Write the archive documents not written yet (a closed month's never changes)."""
    made: list[buildcache.Output] = []
    tz = cfg.site.tz
    entries: list[Entry] = []
    for i, month in enumerate(months):
        formats = [f for f in archive.ARCHIVE_FORMATS if f in feed.paths]
        paths = {f: archive.path(cfg, feed, month, f) for f in formats}
        missing = [f for f in formats if not (cfg.output_dir / paths[f]).exists()]
        if missing:
            rows = cache.posts_between(
                "c", feed.name, month.start.timestamp(), month.end.timestamp(), tz
            )
            refs = [r for r in rows if r.path not in skip]
            renderer.prefetch(refs)
            entries = [e for e in (renderer.entry(r) for r in refs) if e is not None]
            entries += [
                e
                for e in (
                    loader.entry(r)
                    for r in routed
                    if feed.name in r.categories and month.start <= r.published < month.end
                )
                if e is not None
            ]
            entries = generate.newest_first(entries)
        for fmt in formats:
            rel = paths[fmt]
            if fmt in missing and entries:
                prev = archive.url(cfg, feed, months[i - 1], fmt) if i else None
                _write_feed(
                    cfg,
                    feed,
                    entries,
                    fmt,
                    rel,
                    report,
                    prev_archive=prev,
                    current=generate.self_url(cfg, feed.paths[fmt]),
                )
            elif fmt not in missing:
                report.files_unchanged.append(rel)  # a closed month's archive: written once
            target = cfg.output_dir / rel
            if target.exists():
                st = target.stat()
                made.append(buildcache.Output(rel, "archive", st.st_size, st.st_mtime_ns))
    return made


def _write_discovery(cfg: Config, report: Report) -> list[buildcache.Output]:
    """index.html, feeds.opml, snippets and feed.xsl, from the feeds this build produced."""
    from feeds import discover

    listed = [discover.Listed(f.plan, f.items, f.newest) for f in report.feeds if f.plan]
    made = []
    for rel, data in discover.files(cfg, listed).items():
        try:
            changed = write_if_changed(cfg.output_dir / rel, data)
        except WriteError as e:
            report.problems.error(rel, str(e))
            report.write_failed = True
            continue
        (report.files_written if changed else report.files_unchanged).append(rel)
        st = (cfg.output_dir / rel).stat()
        made.append(buildcache.Output(rel, poststage.digest(data), st.st_size, st.st_mtime_ns))
    return made


def _nothing_changed(
    last: buildcache.LastBuild,
    build_fp: str,
    now: dt.datetime,
    cfg: Config,
    outputs: dict[str, buildcache.Output],
) -> bool:
    if last.fingerprint != build_fp:
        return False
    if last.next_due is not None and last.next_due <= now.timestamp():
        return False  # a future post's time has come
    return all(_same_output(cfg.output_dir / rel, o, o.fingerprint) for rel, o in outputs.items())


def _same_output(target: Path, record: buildcache.Output | None, fingerprint: str) -> bool:
    """The file is what we last wrote from the same inputs (and nobody touched it)."""
    if record is None or record.fingerprint != fingerprint:
        return False
    try:
        st = target.stat()
    except OSError:
        return False
    return st.st_size == record.size and st.st_mtime_ns == record.mtime_ns


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


def _write_feed(
    cfg: Config,
    feed: generate.FeedPlan,
    entries: list[Entry],
    fmt: str,
    rel: str,
    report: Report,
    **links: str | None,
) -> bool:
    target = cfg.output_dir / rel
    try:
        data = generate.render(cfg, feed, entries, fmt, path=rel, **links)
    except Exception as e:  # isolate one feed from the rest; the traceback goes to the log
        log.exception("feed=%s format=%s generation failed", feed.label, fmt)
        report.problems.error(rel, f"{feed.label}: {fmt} feed not generated: {e}")
        report.write_failed = True
        return False
    try:
        changed = write_if_changed(target, data)
    except WriteError as e:
        report.problems.error(rel, f"{feed.label}: {e}")
        report.write_failed = True
        return False
    (report.files_written if changed else report.files_unchanged).append(rel)
    return True
