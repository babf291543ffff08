"""The planning phases of a build: bring the post cache up to date, plan every feed with
its candidate refs (posts and stored entries alike), and render each feed's entries. Where an
entry comes from is one interface (``EntrySource``), chosen by the ref's own ``kind``."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from feeds.config.config import Config
from feeds.generate import archive, generate, poststage, variants
from feeds.generate.report import FeedResult
from feeds.models import Entry, PostRef, Problems, RemoteRef
from feeds.normalize import normalize
from feeds.store.buildcache import BuildCache
from feeds.workers import Workers

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
StopCheck = Callable[[], bool]
Ref = PostRef | RemoteRef


@dataclass(frozen=True)
class Rendered:
    """A feed with the entries it will carry (newest first) and its closed archive months."""

    plan: generate.FeedPlan
    entries: list[Entry]
    months: list[archive.Month]

    def result(self) -> FeedResult:
        return FeedResult(
            self.plan.label,
            tuple(self.plan.paths.values()),
            len(self.entries),
            max(e.published for e in self.entries),
            self.plan,
        )


class EntrySource(Protocol):
    """Where the entries of one kind of ref come from (posts: ``PostRenderer``; stored
    entries of external sources: ``routing.Loader``)."""

    def prefetch(self, refs: Iterable[Any]) -> None: ...
    def entry(self, ref: Any) -> Entry | None: ...


@dataclass(frozen=True)
class Sources:
    """Every ``EntrySource`` by the ``kind`` of ref it serves; a ref picks its own."""

    by_kind: dict[str, EntrySource]

    def prefetch(self, refs: Iterable[Ref]) -> None:
        wanted = list(refs)
        for kind, source in self.by_kind.items():
            source.prefetch(r for r in wanted if r.kind == kind)

    def entry(self, ref: Ref) -> Entry | None:
        return self.by_kind[ref.kind].entry(ref)


@dataclass(frozen=True)
class Stored:
    """Stored entries of the external sources: routed to categories, and for the feed of
    everything (both de-duplicated)."""

    routed: list[RemoteRef] = field(default_factory=list)
    everything: list[RemoteRef] = field(default_factory=list)
    merged: int = 0  # placements left out because another source has the same article


@dataclass(frozen=True)
class Plan:
    feeds: list[tuple[generate.FeedPlan, list[Ref]]]
    posts: poststage.Index


@dataclass(frozen=True)
class Run:
    """What one build is asked to do."""

    cfg: Config
    now: dt.datetime
    only: set[str] | None = None  # limit the category feeds to these (no discovery files)
    should_stop: StopCheck | None = None
    progress: Progress | None = None
    full: bool = False
    check: bool = False  # every post rendered, nothing written (``feeds check``)
    accept_shrink: bool = False  # write even when the inputs look broken (``feeds.generate.gate``)
    changed: frozenset[Path] | None = None  # the post files a watcher saw change (None: walk)

    def stopping(self) -> bool:
        """Asked between feeds (the one place a build stops early)."""
        return self.should_stop is not None and self.should_stop()

    @property
    def whole(self) -> bool:
        """Every feed is built (no ``only``): only such a build writes discovery files,
        replaces the output records and can count as complete."""
        return self.only is None

    def wants(self, category: str) -> bool:
        return self.only is None or category in self.only


def plan_feeds(
    run: Run,
    cache: BuildCache,
    scan: poststage.Scan,
    stored: Stored,
    problems: Problems,
    settings: normalize.PostSettings,
    workers: Workers | None,
    candidates: set[str] | None = None,
    found: int | None = None,
) -> Plan:
    """Bring the post cache up to date (``candidates``: the only post files that can differ
    from it: in a build the watcher asked for, or a walk that left out what it saw unchanged;
    ``found``: how many post files there are, when ``scan`` is not all of them), then plan
    every feed with its candidate refs (newest first; only the first ``max_items`` that render
    are used)."""
    cfg = run.cfg
    t0 = time.perf_counter()
    # when every post will land in a feed, each is rendered as it is read (one read, not two)
    count = len(scan) if found is None else found
    ahead = run.check or cfg.feeds.archives or cfg.feeds.max_items >= count
    parsed = poststage.sync(
        settings, cache, scan, problems, run.progress, workers, render=ahead, only=candidates
    )
    log.debug("posts scanned=%d parsed=%d seconds=%.3f", count, parsed, time.perf_counter() - t0)
    posts = poststage.index(cfg, cache, run.now, problems, run.only)
    by_category: dict[str, list[Ref]] = {k: list(v) for k, v in posts.by_category.items()}
    by_tag: dict[str, list[Ref]] = {k: list(v) for k, v in posts.by_tag.items()}
    every: list[Ref] = [*posts.every, *stored.everything]
    own_tags = {cfg.tag_slug(t) for t in by_tag}
    allowed = remote_tags(stored.routed, cfg.feeds.remote_tag_feeds) if cfg.feeds.tag_feeds else {}
    for ref in stored.routed:
        for c in ref.categories:
            if run.wants(c):
                by_category.setdefault(c, []).append(ref)
        for t in ref.tags if cfg.feeds.tag_feeds else ():
            # a post's own tag feed takes every entry with the tag; a source's tags make
            # feeds of their own only up to its share (2,000 tags on one item: not 2,000 files)
            if cfg.tag_slug(t) in own_tags or t in allowed.get(ref.source_id, ()):
                by_tag.setdefault(t, []).append(ref)
    by_tag = fold_tags(cfg, by_tag)
    feeds = generate.plan_groups(cfg, by_category, by_tag, every, problems)
    return Plan(variants.expand(cfg, feeds), posts)


def remote_tags(refs: list[RemoteRef], per_source: int) -> dict[str, set[str]]:
    """The tags of each source that may make a tag feed: its ``per_source`` most used (ties
    in sort order, so the choice is the same every build)."""
    counts: dict[str, Counter[str]] = {}
    for ref in refs:
        counts.setdefault(ref.source_id, Counter()).update(ref.tags)
    return {
        source: {t for t, _ in sorted(c.items(), key=lambda tc: (-tc[1], tc[0]))[:per_source]}
        for source, c in counts.items()
    }


def fold_tags(cfg: Config, by_tag: dict[str, list[Ref]]) -> dict[str, list[Ref]]:
    """Tags that differ only in case (``Git`` and ``git``: one slug, so one file) are one
    feed, named by the spelling most of its entries use (ties: the first in sort order)."""
    groups: dict[str, list[str]] = {}
    for name in sorted(by_tag):
        groups.setdefault(cfg.tag_slug(name), []).append(name)
    folded: dict[str, list[Ref]] = {}
    for names in groups.values():
        if len(names) == 1:
            folded[names[0]] = by_tag[names[0]]
            continue
        title = max(names, key=lambda n: len(by_tag[n]))
        merged = dict.fromkeys(r for n in names for r in by_tag[n])
        folded[title] = generate.newest_first(merged)
    return folded


def render_feeds(
    run: Run, cache: BuildCache, plan: Plan, stored: Stored, sources: Sources
) -> Iterator[Rendered]:
    """Each planned feed with its first ``max_items`` entries that render, in plan order
    (the head candidates are rendered up front, in worker processes when there are many)."""
    limit = run.cfg.feeds.max_items
    t0 = time.perf_counter()
    sources.prefetch(c for _, candidates in plan.feeds for c in candidates[:limit])
    log.debug("render seconds=%.3f", time.perf_counter() - t0)
    for feed, candidates in plan.feeds:
        entries: list[Entry] = []
        for candidate in candidates:
            entry = sources.entry(candidate)
            if entry is not None:
                entries.append(entry)
                if len(entries) == limit:
                    break
        if entries:
            yield Rendered(feed, entries, _archive_months(run, cache, feed, stored))


def _archive_months(
    run: Run, cache: BuildCache, feed: generate.FeedPlan, stored: Stored
) -> list[archive.Month]:
    """The closed months of a category feed's archive (none when archives are off, and none
    for a variant)."""
    cfg = run.cfg
    if not cfg.feeds.archives or feed.kind != "category" or feed.lang:
        return []  # a variant is a head feed only
    tz = cfg.site.tz
    until = None if cfg.posts.future else run.now.timestamp()
    times = [dt.datetime.fromtimestamp(t, tz) for t in cache.post_times("c", feed.name, until)]
    times += [e.published for e in stored.routed if feed.name in e.categories]
    return archive.closed_months(times, run.now, tz)


def month_entries(
    run: Run, cache: BuildCache, plan: Plan, stored: Stored, sources: Sources
) -> Callable[[generate.FeedPlan, archive.Month], list[Entry]]:
    """A category's entries of one month, newest first, for its archive document."""
    tz, skip = run.cfg.site.tz, plan.posts.skip

    def entries(feed: generate.FeedPlan, month: archive.Month) -> list[Entry]:
        start, end = month.start.timestamp(), month.end.timestamp()
        posts = [
            r for r in cache.posts_between("c", feed.name, start, end, tz) if r.path not in skip
        ]
        sources.prefetch(posts)
        remote = [
            r
            for r in stored.routed
            if feed.name in r.categories and month.start <= r.published < month.end
        ]
        refs: list[Ref] = [*posts, *remote]
        found = [sources.entry(r) for r in refs]
        return generate.newest_first(e for e in found if e is not None)

    return entries


def every_post(run: Run, cache: BuildCache, posts: poststage.Index) -> list[PostRef]:
    until = None if run.cfg.posts.future else run.now.timestamp()
    every = cache.newest_posts(posts.count + len(posts.skip), until, run.cfg.site.tz)
    return [r for r in every if r.path not in posts.skip]
