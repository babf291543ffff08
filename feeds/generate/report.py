"""What a run did, as values: each output file ``Written`` or ``Failed``, each feed a
``FeedResult``, and the ``Report`` assembled from them once the run is over. Below the
pipeline, so ``runstate`` and the daemon read reports without importing the pipeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from feeds.generate.generate import FeedPlan
from feeds.models import Problems, SourceOutcome
from feeds.store.buildcache import Output


@dataclass(frozen=True)
class Written:
    path: str  # relative to the output folder
    changed: bool  # False: the file already held these bytes (or is a closed archive)
    record: Output  # what it was made from, for the next build
    role: str = "feed"  # "feed" (a head feed), "page", "archive", "discovery" or "manifest"
    sha: str | None = None  # digest of the bytes, when they were at hand
    modified: dt.datetime | None = None  # the newest entry's time the file shows


@dataclass(frozen=True)
class Failed:
    path: str
    message: str


FileResult = Written | Failed


@dataclass(frozen=True)
class FeedResult:
    label: str
    paths: tuple[str, ...]
    items: int
    newest: dt.datetime
    plan: FeedPlan | None = None


@dataclass(frozen=True)
class Report:
    posts_found: int = 0
    posts_used: int = 0
    feeds_planned: int = 0
    files_written: tuple[str, ...] = ()
    files_unchanged: tuple[str, ...] = ()
    problems: Problems = field(default_factory=Problems)
    sources: tuple[SourceOutcome, ...] = ()
    aggregated: int = 0  # stored entries of external sources that went into the build
    merged: int = 0  # of those, placements merged into another source's copy (dedupe)
    feeds: tuple[FeedResult, ...] = ()
    stopped: bool = False  # asked to stop: the feeds not yet written keep their old files
    write_failed: bool = False  # some file could not be generated or written
    head_feeds_written: tuple[str, ...] = ()  # of files_written, the head feeds (for WebSub)
    files_removed: tuple[str, ...] = ()  # written by an earlier build, made by no feed now
    every_feed: bool = False  # ``feeds`` is every feed there is (a whole build, not stopped)
    refused: tuple[str, ...] = ()  # why the inputs looked broken: nothing was written

    @property
    def ok(self) -> bool:
        return not self.problems.errors


def written(
    results: Iterable[FileResult], *, changed: bool, role: str | None = None
) -> tuple[str, ...]:
    """Paths of the files written (``changed``) or left as they were, of one role or all."""
    return tuple(
        r.path
        for r in results
        if isinstance(r, Written) and r.changed == changed and role in (None, r.role)
    )


def records(results: Iterable[FileResult]) -> list[Output]:
    return [r.record for r in results if isinstance(r, Written)]
