"""One run: collect → normalize → generate → write. Returns a report; never asks the clock.

``feeds build`` (and later the daemon) call ``run_once``. A bad post or a feed that cannot
be written is a ``Problem`` in the report, not an exception: the other posts and feeds go on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from feeds import aggregate, generate, normalize
from feeds.collect import posts as post_collector
from feeds.config import Config
from feeds.errors import WriteError
from feeds.models import Entry, Problems
from feeds.store import Store
from feeds.write import remove_stale_temps, write_if_changed

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
StopCheck = Callable[[], bool]


@dataclass(frozen=True)
class FeedResult:
    label: str
    paths: tuple[str, ...]
    items: int
    newest: dt.datetime


@dataclass
class Report:
    posts_found: int = 0
    posts_used: int = 0
    feeds_planned: int = 0
    files_written: list[str] = field(default_factory=list)
    files_unchanged: list[str] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    sources: list[aggregate.SourceOutcome] = field(default_factory=list)
    aggregated: int = 0  # stored entries of external sources that went into the build
    feeds: list[FeedResult] = field(default_factory=list)
    stopped: bool = False  # asked to stop: the feeds not yet written keep their old files

    @property
    def ok(self) -> bool:
        return not self.problems.errors


def collect_posts(cfg: Config, now: dt.datetime, problems: Problems,
                  progress: Progress | None = None) -> list[normalize.PostInfo]:
    """Read and check every post; duplicate permalinks keep the first file (by path)."""
    files = post_collector.find_posts(cfg.posts.dirs, problems)
    infos: list[normalize.PostInfo] = []
    owner: dict[str, str] = {}
    for i, path in enumerate(files, 1):
        raw = post_collector.read_post(path, problems)
        info = normalize.prepare(raw, cfg, now, problems) if raw is not None else None
        if info is not None:
            first = owner.setdefault(info.link, info.where)
            if first != info.where:
                problems.error(info.where, f"permalink {info.link} is already used by {first}; "
                                           f"post skipped (set a different permalink or slug)",
                               info.raw.line("permalink"))
            else:
                infos.append(info)
        if progress is not None:
            progress(i, len(files))
    return infos


def fetch(cfg: Config, now: dt.datetime, *, force: bool = False,
          report: Report | None = None, should_stop: StopCheck | None = None) -> Report:
    """Fetch the due external sources (every enabled one with ``force``) into the store."""
    report = report or Report()
    if not cfg.sources:
        return report
    with Store(cfg.store.path) as store:
        report.sources = aggregate.fetch_round(cfg, store, now, report.problems, force=force,
                                               should_stop=should_stop)
        dropped = store.prune(now, max_age_days=cfg.store.max_age_days,
                              max_per_source=cfg.store.max_per_source)
        if dropped:
            log.info("retention dropped=%d", dropped)
    return report


def run_once(cfg: Config, now: dt.datetime, *, write: bool = True,
             progress: Progress | None = None, fetch_sources: bool = True,
             force_fetch: bool = False, only: set[str] | None = None,
             should_stop: StopCheck | None = None) -> Report:
    """Fetch the due sources, then build every feed from the posts and the stored entries.

    With ``write=False`` (``feeds check``) nothing is fetched or written and every post is
    rendered, to surface every problem. ``only`` limits the category feeds written to those
    categories (the feed of everything and tag feeds are always written). ``should_stop`` is
    asked between feeds: when it says yes, the file being written is finished and the rest
    keep their previous version.
    """
    if now.tzinfo is None:
        raise ValueError("run_once needs an aware 'now'")
    report = Report()
    problems = report.problems
    routed: list[Entry] = []
    everything: list[Entry] = []
    if write and cfg.sources:
        if fetch_sources:
            fetch(cfg, now, force=force_fetch, report=report)
        with Store(cfg.store.path) as store:
            routed, everything = aggregate.stored_entries(cfg, store)
        report.aggregated = len(everything)
    infos = collect_posts(cfg, now, problems, progress)
    report.posts_found = len(infos)
    items: list[normalize.PostInfo | Entry] = [*infos, *routed]
    every: list[normalize.PostInfo | Entry] = [*infos, *everything]
    plans = generate.plan(cfg, items, problems, everything=every)
    report.feeds_planned = len(plans)

    rendered: dict[str, Entry | None] = {}

    def entry_for(info: normalize.PostInfo | Entry) -> Entry | None:
        if isinstance(info, Entry):
            return info
        if info.link not in rendered:
            rendered[info.link] = normalize.render(info, cfg, problems)
        return rendered[info.link]

    if not write:
        for info in infos:
            entry_for(info)
        report.posts_used = sum(1 for e in rendered.values() if e is not None)
        return report

    if remove_stale_temps(cfg.output_dir):
        log.info("removed temp files left by an interrupted run dir=%s", cfg.output_dir)
    limit = cfg.feeds.max_items
    for feed, candidates in plans:
        if should_stop is not None and should_stop():
            report.stopped = True
            break
        if only is not None and feed.kind == "category" and feed.name not in only:
            continue
        entries: list[Entry] = []
        for candidate in candidates:
            entry = entry_for(candidate)
            if entry is not None:
                entries.append(entry)
                if len(entries) == limit:
                    break
        if not entries:
            continue
        for fmt, rel in feed.paths.items():
            _write_feed(cfg, feed, entries, fmt, rel, report)
        report.feeds.append(FeedResult(feed.label, tuple(feed.paths.values()), len(entries),
                                       max(e.published for e in entries)))
    report.posts_used = sum(1 for e in rendered.values() if e is not None)
    return report


def _write_feed(cfg: Config, feed: generate.FeedPlan, entries: list[Entry], fmt: str,
                rel: str, report: Report) -> None:
    target = cfg.output_dir / rel
    try:
        data = generate.render(cfg, feed, entries, fmt)
    except Exception as e:  # isolate one feed from the rest; the traceback goes to the log
        log.exception("feed=%s format=%s generation failed", feed.label, fmt)
        report.problems.error(rel, f"{feed.label}: {fmt} feed not generated: {e}")
        return
    try:
        changed = write_if_changed(target, data)
    except WriteError as e:
        report.problems.error(rel, f"{feed.label}: {e}")
        return
    (report.files_written if changed else report.files_unchanged).append(rel)
