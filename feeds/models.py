"""The shared entry model and the collectors' raw outputs. Invariants are checked on creation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from feeds.errors import shown


@dataclass(frozen=True)
class Author:
    name: str
    email: str | None = None
    uri: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("author name must not be empty")
        if self.uri is not None and not _is_web_url(self.uri):
            # a javascript:, data: or vbscript: URI (or any other non-web one) from a source
            # or a post never reaches a feed: the author stays, without the link
            object.__setattr__(self, "uri", None)


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _check_aware(name: str, value: dt.datetime) -> None:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def _check_absolute(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{name} must be an absolute http(s) URL, got {url!r}")


@dataclass(frozen=True)
class Enclosure:
    url: str
    length: int = 0
    type: str = "application/octet-stream"


@dataclass(frozen=True)
class SourceRef:
    """The feed an aggregated entry came from (RSS ``<source>``, Atom ``<source>``)."""

    id: str  # the source's id in the config
    title: str
    url: str | None  # the feed's own public URL (None for a local file)
    link: str | None = None  # the publisher's site


@dataclass(frozen=True)
class Entry:
    """One item of a feed, from any source, ready to be generated.

    Every datetime is timezone-aware (in the site timezone once normalized).
    """

    id: str
    title: str
    link: str
    published: dt.datetime
    updated: dt.datetime
    summary: str
    content_html: str
    authors: tuple[Author, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source_link: str | None = None
    origin: str = ""  # where it came from, for messages (a file path or a URL)
    enclosures: tuple[Enclosure, ...] = ()
    source: SourceRef | None = None  # set for entries aggregated from other feeds
    image: Enclosure | None = None  # its picture (front matter, the source's media:thumbnail)
    rights: str | None = None  # an aggregated entry's copyright (its own, else its feed's)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("entry id must not be empty")
        if not self.title.strip():
            raise ValueError("entry title must not be empty")
        _check_absolute("entry link", self.link)
        if self.source_link is not None:
            _check_absolute("entry source link", self.source_link)
        _check_aware("published", self.published)
        _check_aware("updated", self.updated)
        for enc in self.enclosures:
            _check_absolute("enclosure URL", enc.url)
        if self.image is not None:
            _check_absolute("image URL", self.image.url)
        for group in (self.categories, self.tags):
            if not isinstance(group, tuple) or not all(isinstance(g, str) and g for g in group):
                raise ValueError("categories and tags must be tuples of non-empty strings")


@dataclass(frozen=True, slots=True)
class PostRef:
    """What planning needs of a post; the body stays on disk (``kind`` says where an entry
    comes from: a post file here, a stored entry for ``RemoteRef``)."""

    path: str
    sha: str
    link: str
    published: dt.datetime
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    kind: ClassVar[str] = "post"


@dataclass(frozen=True, slots=True)
class RemoteRef:
    """What planning needs of a stored entry from an external source; the entry itself (its
    HTML above all) stays in the store until it lands in a feed."""

    source_id: str
    entry_id: str
    link: str
    title: str
    published: dt.datetime
    tags: tuple[str, ...]
    categories: tuple[str, ...] = ()  # where routing (and de-duplication) put it
    kind: ClassVar[str] = "remote"


@dataclass(frozen=True)
class RawPost:
    """A Jekyll post as read from disk: front matter as YAML gave it, body untouched."""

    path: Path
    slug: str  # from the file name, after the date
    file_date: tuple[int, int, int]
    ext: str  # ".md", ".markdown" or ".html"
    meta: dict[str, Any]
    lines: dict[tuple[str | int, ...], int]  # front-matter key path → line in the file
    body: str
    body_line: int = 1  # the file line the body starts on

    def line(self, key: str) -> int | None:
        return self.lines.get((key,))


@dataclass(frozen=True)
class RawItem:
    """One entry as the feed gave it (values are feedparser's, dates still text)."""

    guid: str | None
    title: str | None
    title_is_html: bool
    link: str | None
    published: str | None
    updated: str | None
    summary_html: str | None
    content_html: str | None
    authors: tuple[tuple[str, str | None, str | None], ...]  # name, email, uri
    tags: tuple[str, ...]
    enclosures: tuple[tuple[str, int, str], ...]  # url, length, type
    base: str | None = None  # base URL of the content (xml:base, else the document's URL)
    image: str | None = None  # media:thumbnail or an image media:content; JSON Feed image
    rights: str | None = None  # Atom <rights>, dc:rights, as text


@dataclass(frozen=True)
class RawFeed:
    url: str  # final URL
    title: str | None
    link: str | None
    language: str | None
    items: tuple[RawItem, ...]
    warning: str | None = None  # a recoverable problem feedparser reported
    rights: str | None = None  # the feed's Atom <rights> or RSS <copyright>, as text


@dataclass(frozen=True)
class SourceOutcome:
    source_id: str
    url: str
    status: str  # "ok", "not-modified", "error", "gone"; "refused" (a fenced save, too late)
    new: int = 0
    changed: int = 0
    entries: int = 0
    error: str | None = None
    seconds: float = 0.0


class Severity(Enum):
    WARNING = "warning"  # repaired; the input was used
    ERROR = "error"  # the input was skipped (or a feed not written)


@dataclass(frozen=True)
class Problem:
    """Something wrong with one input, reported and not fatal to the run."""

    severity: Severity
    where: str  # a file path, or a category/feed name
    message: str
    line: int | None = None

    def __str__(self) -> str:
        # a file name may hold terminal escapes: never print them raw
        place = shown(self.where) if self.line is None else f"{shown(self.where)}:{self.line}"
        return f"{place}: {self.severity.value}: {shown(self.message)}"


@dataclass
class Problems:
    """Collects problems as a run goes; order is the order of discovery."""

    items: list[Problem] = field(default_factory=list)

    def warn(self, where: str, message: str, line: int | None = None) -> None:
        self.items.append(Problem(Severity.WARNING, where, message, line))

    def error(self, where: str, message: str, line: int | None = None) -> None:
        self.items.append(Problem(Severity.ERROR, where, message, line))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity is Severity.ERROR]
