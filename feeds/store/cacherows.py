"""The rows crossing the build cache's edge (``feeds.store.buildcache``): frozen dataclasses,
and the JSON that problems are kept in."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from feeds.models import Entry, Problem, Severity


@dataclass(frozen=True, slots=True)
class PostRow:
    """A post file as the cache knows it. ``link`` is None when the post is not used
    (skipped, unpublished or unreadable); its problems are kept to be reported again."""

    path: str
    size: int
    mtime_ns: int
    sha: str  # of the bytes read; "" when the file could not be read
    published: float | None = None
    link: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    rendered: Rendered | None = None  # its rendering, when made from the same read


@dataclass(frozen=True, slots=True)
class Stat:
    size: int
    mtime_ns: int
    sha: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """A post's rendering: its entry as JSON (None when it could not be rendered) and the
    problems rendering reported, under the hash of the bytes rendered."""

    path: str
    sha: str
    entry_json: str | None
    problems: tuple[Problem, ...] = ()
    entry: Entry | None = None  # the entry itself, when just rendered (not kept in the cache)


@dataclass(frozen=True, slots=True)
class Output:
    """What an output file was made from, and its size and mtime when written."""

    path: str
    fingerprint: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class LastBuild:
    fingerprint: str = ""  # "" when the last build did not finish: the next one redoes it
    next_due: float | None = None  # when the earliest future post falls due
    problems: tuple[Problem, ...] = ()
    posts: int = 0


@dataclass(frozen=True)
class Duplicate:
    path: str
    link: str
    first: str  # the first path (in sort order) with this link


def problems_json(items: Iterable[Problem]) -> str | None:
    rows = [[p.severity.value, p.message, p.line, p.where] for p in items]
    return json.dumps(rows, ensure_ascii=False) if rows else None


def problems_from_json(text: str | None) -> tuple[Problem, ...]:
    if not text:
        return ()
    return tuple(
        Problem(Severity(severity), where, message, line)
        for severity, message, line, where in json.loads(text)
    )
