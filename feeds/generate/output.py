"""The write phases of a build: head feeds, RFC 5005 archives, discovery files. Each takes
what to write and returns one ``Written`` or ``Failed`` per file; nothing is reported any
other way (generation and write errors also go to ``problems``, as sentences).

Every file goes through a ``Writer``: ``DiskWriter`` writes atomically and only when the bytes
change (``write.write_if_changed``, with the runtime's fault hook); ``S3Writer``
(``s3sink``, for ``output.s3``) puts objects with conditional writes; ``DryWriter``
(``feeds check``) generates every document and records its path without writing anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Unpack
from urllib.parse import urlsplit

from feeds import __version__, caching
from feeds.config.config import Config
from feeds.errors import FeedsError, WriteError
from feeds.files import read_regular
from feeds.formats import archivable, page_path
from feeds.generate import archive, discover, generate, pages, variants
from feeds.generate.generate import FeedPlan
from feeds.generate.report import Failed, FeedResult, FileResult, Written
from feeds.models import Entry, Problems
from feeds.store.buildcache import Output
from feeds.write import remove_if_holds, remove_stale_temps, write_if_changed

if TYPE_CHECKING:  # made by the plan phase; imported for annotations only (plan stands above)
    from feeds.generate.plan import Rendered

log = logging.getLogger(__name__)

ARCHIVE_MAX_BYTES = 512 * 1024 * 1024  # a month's archive of ours is far smaller


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Writer(Protocol):
    def write(self, rel: str, data: bytes, *, create_only: bool = False) -> bool:
        """Make the file hold ``data``; True when it changed. Raises ``WriteError``.
        ``create_only``: the file is an archive, written once and never replaced."""
        ...

    def exists(self, rel: str) -> bool: ...

    def holds(self, rel: str, record: Output) -> bool:
        """The file is still the one ``record`` describes (nobody touched it since)."""
        ...

    def record(self, rel: str, fingerprint: str) -> Output | None:
        """What the file now is (None when it does not exist)."""
        ...

    def cleanup(self) -> None: ...

    def read(self, rel: str, limit: int) -> bytes | None:
        """The file's bytes (None when there is no such regular file). Raises ``FeedsError``."""
        ...

    def remove(self, rel: str, sha: str) -> bool:
        """Remove the file if it still holds bytes of digest ``sha``; True when removed."""
        ...


class DiskWriter:
    def __init__(self, root: Path, before_rename: Callable[[], None] | None = None) -> None:
        self.root = root
        self.before_rename = before_rename  # the runtime's fault hook (tests only)

    def write(self, rel: str, data: bytes, *, create_only: bool = False) -> bool:
        return write_if_changed(self.root / rel, data, before_rename=self.before_rename)

    def exists(self, rel: str) -> bool:
        return (self.root / rel).exists()

    def holds(self, rel: str, record: Output) -> bool:
        try:
            st = (self.root / rel).stat()
        except OSError:
            return False
        return st.st_size == record.size and st.st_mtime_ns == record.mtime_ns

    def record(self, rel: str, fingerprint: str) -> Output | None:
        try:
            st = (self.root / rel).stat()
        except OSError:
            return None
        return Output(rel, fingerprint, st.st_size, st.st_mtime_ns)

    def cleanup(self) -> None:
        if remove_stale_temps(self.root):
            log.info("removed temp files left by an interrupted run dir=%s", self.root)

    def read(self, rel: str, limit: int) -> bytes | None:
        if not (self.root / rel).is_file():
            return None
        return read_regular(self.root / rel, limit)

    def remove(self, rel: str, sha: str) -> bool:
        return remove_if_holds(self.root, rel, lambda data: digest(data) == sha)


class DryWriter:
    """Records the paths and sizes it is given; the disk is never touched."""

    def __init__(self) -> None:
        self.files: dict[str, int] = {}

    def write(self, rel: str, data: bytes, *, create_only: bool = False) -> bool:
        self.files[rel] = len(data)
        return True

    def exists(self, rel: str) -> bool:
        return False  # every document is generated, to surface every problem

    def holds(self, rel: str, record: Output) -> bool:
        return False

    def record(self, rel: str, fingerprint: str) -> Output | None:
        size = self.files.get(rel)
        return None if size is None else Output(rel, fingerprint, size, 0)

    def cleanup(self) -> None:
        pass

    def read(self, rel: str, limit: int) -> bytes | None:
        return None

    def remove(self, rel: str, sha: str) -> bool:
        return False


def entries_digest(entries: Iterable[Entry]) -> str:
    """What a feed's entries are, for its files' fingerprints: every field of each entry (a
    field added to ``Entry`` counts without a change here; text as it is, a time in ISO form
    (just rendered it has pytz's zone, read back a fixed offset: the same bytes), the rest as
    its ``repr``), hashed once per feed and shared by its formats."""
    h = hashlib.blake2b(digest_size=16)
    values = attrgetter(*(f.name for f in fields(Entry)))
    for e in entries:
        h.update("\0".join([_text(v) for v in values(e)]).encode())
        h.update(b"\n")
    return h.hexdigest()


def _text(v: object) -> str:
    return v if isinstance(v, str) else v.isoformat() if isinstance(v, dt.datetime) else repr(v)


def feed_fingerprint(cfg: Config, label: str, fmt: str, plan_repr: str, entries: str) -> str:
    """What one output file is made of (``entries``: their ``entries_digest``): equal
    fingerprints give identical bytes."""
    h = hashlib.blake2b(digest_size=16)
    parts = (
        __version__,
        label,
        fmt,
        plan_repr,
        repr(cfg.site),
        repr(cfg.feeds),
        cfg.output_url,
        cfg.schedule.build,
        entries,
    )
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _document(
    cfg: Config,
    writer: Writer,
    problems: Problems,
    feed: FeedPlan,
    entries: Sequence[Entry],
    fmt: str,
    rel: str,
    fingerprint: str,
    role: str,
    fragments: generate.Fragments | None = None,
    **links: Unpack[generate.Links],
) -> FileResult:
    """Generate and write one document of a feed (a variant's entries converted first;
    ``fragments``: entries serialized by other feeds of the build)."""

    def make() -> bytes:
        # a variant's entries are converted copies: none of them is shared
        shown = variants.convert_entries(entries, feed.lang) if feed.lang else entries
        shared = None if feed.lang else fragments
        return generate.render(cfg, feed, shown, fmt, path=rel, fragments=shared, **links)

    return _make_and_write(
        writer,
        problems,
        feed.label,
        f"{fmt} feed",
        rel,
        fingerprint,
        role,
        make,
        newest(entries),
    )


def _make_and_write(
    writer: Writer,
    problems: Problems,
    label: str,
    what: str,
    rel: str,
    fingerprint: str,
    role: str,
    make: Callable[[], bytes],
    modified: dt.datetime | None = None,
) -> FileResult:
    try:
        data = make()
    except Exception as e:  # isolate one feed from the rest; the traceback goes to the log
        log.exception("feed=%s file=%s generation failed", label, rel)
        message = f"{label}: {what} not generated: {e}"
        problems.error(rel, message)
        return Failed(rel, message)
    try:
        changed = writer.write(rel, data, create_only=role == "archive")
    except WriteError as e:
        problems.error(rel, f"{label}: {e}")
        return Failed(rel, str(e))
    record = writer.record(rel, fingerprint)
    if record is None:  # written and gone at once: count it as not written
        problems.error(rel, f"{label}: {rel}: disappeared after it was written")
        return Failed(rel, "disappeared after it was written")
    return Written(rel, changed, record, role, digest(data), modified)


def newest(entries: Iterable[Entry]) -> dt.datetime | None:
    """The time a document's newest entry shows (its ``updated``, as the feed's own)."""
    return max((e.updated for e in entries), default=None)


Unchanged = Callable[[str, str], Output | None]  # (path, fingerprint) → its record if same


def write_head(
    cfg: Config,
    writer: Writer,
    problems: Problems,
    feed: Rendered,
    unchanged: Unchanged,
    fragments: generate.Fragments | None = None,
    *,
    only: str | None = None,
    entries: str | None = None,
) -> list[FileResult]:
    """The head feed in every format, or in format ``only`` without its page (a file made
    from the same inputs is left alone; ``fragments``: entries' bytes shared with the
    build's other feeds; ``entries``: the feed's ``entries_digest``, when the caller has it).
    """
    out: list[FileResult] = []
    months, plan = feed.months, feed.plan
    entries = entries if entries is not None else entries_digest(feed.entries)
    for fmt, rel in plan.paths.items():
        if only is not None and fmt != only:
            continue
        prev = (
            archive.url(cfg, plan, months[-1], fmt) if months and fmt in archivable(plan) else None
        )
        made = f"{plan!r} {prev}" + (f" opencc {variants.engine()}" if plan.lang else "")
        fp = feed_fingerprint(cfg, plan.label, fmt, made, entries)
        same = unchanged(rel, fp)
        if same is not None:
            out.append(Written(rel, False, same, modified=newest(feed.entries)))
            continue
        links: generate.Links = {"prev_archive": prev}
        out.append(
            _document(
                cfg, writer, problems, plan, feed.entries, fmt, rel, fp, "feed", fragments, **links
            )
        )
    if cfg.feeds.discovery and only is None:
        out += write_page(cfg, writer, problems, feed, unchanged, entries)
    return out


def write_page(
    cfg: Config,
    writer: Writer,
    problems: Problems,
    feed: Rendered,
    unchanged: Unchanged,
    entries: str | None = None,
    fragments: generate.Fragments | None = None,
) -> list[FileResult]:
    """The feed's web page (``pages.py``), beside its feed files (``entries``: the feed's
    ``entries_digest``, when the caller has it; ``fragments``: shared articles)."""
    plan = feed.plan
    rel = page_path(plan)
    if rel is None:
        problems.warn(
            next(iter(plan.paths.values())),
            f"{plan.label}: no web page: it would be written over {discover.INDEX_FILE}",
        )
        return []
    digest_ = entries if entries is not None else entries_digest(feed.entries)
    fp = feed_fingerprint(cfg, plan.label, "page", repr(plan), digest_)
    same = unchanged(rel, fp)
    if same is not None:
        return [Written(rel, False, same, "page", modified=newest(feed.entries))]
    shown = variants.convert_entries(feed.entries, plan.lang) if plan.lang else feed.entries
    make = partial(pages.render, cfg, plan, shown, None if plan.lang else fragments)
    modified = newest(feed.entries)
    return [
        _make_and_write(writer, problems, plan.label, "web page", rel, fp, "page", make, modified)
    ]


MonthEntries = Callable[[archive.Month], list[Entry]]


def write_archives(
    cfg: Config,
    writer: Writer,
    problems: Problems,
    feed: Rendered,
    exists: Callable[[str], bool],
    month_entries: MonthEntries,
    unchanged: Unchanged,
) -> list[FileResult]:
    """The archive documents not written yet, and those that now need their ``next-archive``
    link (a closed month's entries never change: see ``archive``)."""
    out: list[FileResult] = []
    plan, months = feed.plan, feed.months
    formats = archivable(plan)
    for i, month in enumerate(months):
        paths = {f: archive.path(cfg, plan, month, f) for f in formats}
        missing = [f for f in formats if not exists(paths[f])]
        entries = month_entries(month) if missing else []
        for fmt in formats:
            rel = paths[fmt]
            prev = archive.url(cfg, plan, months[i - 1], fmt) if i else None
            after = archive.url(cfg, plan, months[i + 1], fmt) if i + 1 < len(months) else None
            fp = "archive" if after is None else f"archive next={after}"
            if fmt not in missing:
                out += _keep_archive(writer, problems, rel, fp, after, unchanged)
            elif entries:
                current = generate.self_url(cfg, plan.paths[fmt])
                out.append(
                    _document(
                        cfg,
                        writer,
                        problems,
                        plan,
                        entries,
                        fmt,
                        rel,
                        fp,
                        "archive",
                        prev_archive=prev,
                        next_archive=after,
                        current=current,
                    )
                )
    return out


def _keep_archive(
    writer: Writer,
    problems: Problems,
    rel: str,
    fingerprint: str,
    after: str | None,
    unchanged: Unchanged,
) -> list[FileResult]:
    """An archive already written: left alone, or rewritten once to add ``next-archive``."""
    same = unchanged(rel, fingerprint)
    if same is not None:
        return [Written(rel, False, same, "archive")]
    try:
        data = writer.read(rel, ARCHIVE_MAX_BYTES) if after is not None else None
    except FeedsError as e:  # not a regular file any more, or far too big: leave it alone
        log.warning("archive=%s cannot be read to add next-archive: %s", rel, e)
        data = None
    changed, sha = False, None
    if data is not None and not archive.has_next_archive(data):
        linked = archive.with_next_archive(data, after or "")
        if linked is None:
            log.warning("archive=%s has no current link; next-archive not added", rel)
        else:
            try:
                changed, sha = writer.write(rel, linked), digest(linked)
            except WriteError as e:
                problems.error(rel, f"next-archive link not added: {e}")
                return [Failed(rel, str(e))]
    record = writer.record(rel, fingerprint)
    return [] if record is None else [Written(rel, changed, record, "archive", sha)]


def write_discovery(
    cfg: Config, writer: Writer, problems: Problems, feeds: Sequence[FeedResult]
) -> list[FileResult]:
    """index.html, feeds.opml, snippets and feed.xsl, from the feeds this build produced."""
    listed = [discover.Listed(f.plan, f.items, f.newest) for f in feeds if f.plan]
    when = max((f.newest for f in feeds), default=None)
    return write_files(writer, problems, discover.files(cfg, listed), "discovery", when)


def write_host_files(
    cfg: Config, writer: Writer, problems: Problems, feeds: Sequence[FeedResult]
) -> list[FileResult]:
    """The caching contract for static hosts: an nginx snippet and a ``_headers`` file."""
    s = cfg.schedule
    hints = caching.hints(s.build, s.build_seconds, cfg.site.tz)
    prefix = urlsplit(cfg.output_url).path or "/"
    files = {
        caching.NGINX_FILE: caching.nginx_snippet(hints, s.build).encode(),
        caching.HEADERS_FILE: caching.headers_file(prefix, hints, s.build).encode(),
    }
    when = max((f.newest for f in feeds), default=None)
    return write_files(writer, problems, files, "discovery", when)


def write_files(
    writer: Writer,
    problems: Problems,
    files: dict[str, bytes],
    role: str,
    when: dt.datetime | None,
) -> list[FileResult]:
    out: list[FileResult] = []
    for rel, data in files.items():
        try:
            changed = writer.write(rel, data)
        except WriteError as e:
            problems.error(rel, str(e))
            out.append(Failed(rel, str(e)))
            continue
        record = writer.record(rel, digest(data))
        if record is not None:
            out.append(Written(rel, changed, record, role, digest(data), when))
    return out
