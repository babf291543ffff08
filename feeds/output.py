"""The write phases of a build: head feeds, RFC 5005 archives, discovery files. Each takes
what to write and returns one ``Written`` or ``Failed`` per file; nothing is reported any
other way (generation and write errors also go to ``problems``, as sentences).

Every file goes through a ``Writer``: ``DiskWriter`` writes atomically and only when the bytes
change (``write.write_if_changed``, which also holds the fault-injection hooks); ``S3Writer``
(``s3sink``, for ``output.s3``) puts objects with conditional writes; ``DryWriter``
(``feeds check``) generates every document and records its path without writing anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from feeds import __version__, archive, discover, generate
from feeds.buildcache import Output
from feeds.config import Config
from feeds.errors import WriteError
from feeds.formats import archivable
from feeds.generate import FeedPlan
from feeds.models import Entry, Problems
from feeds.report import Failed, FeedResult, FileResult, Written
from feeds.store import entry_to_json
from feeds.write import remove_stale_temps, write_if_changed

if TYPE_CHECKING:  # made by the plan phase; imported for annotations only (plan stands above)
    from feeds.plan import Rendered

log = logging.getLogger(__name__)


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


class DiskWriter:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, rel: str, data: bytes, *, create_only: bool = False) -> bool:
        return write_if_changed(self.root / rel, data)

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
    **links: str | None,
) -> FileResult:
    """Generate and write one document of a feed."""
    try:
        data = generate.render(cfg, feed, entries, fmt, path=rel, **links)
    except Exception as e:  # isolate one feed from the rest; the traceback goes to the log
        log.exception("feed=%s format=%s generation failed", feed.label, fmt)
        message = f"{feed.label}: {fmt} feed not generated: {e}"
        problems.error(rel, message)
        return Failed(rel, message)
    try:
        changed = writer.write(rel, data, create_only=role == "archive")
    except WriteError as e:
        problems.error(rel, f"{feed.label}: {e}")
        return Failed(rel, str(e))
    record = writer.record(rel, fingerprint)
    if record is None:  # written and gone at once: count it as not written
        problems.error(rel, f"{feed.label}: {rel}: disappeared after it was written")
        return Failed(rel, "disappeared after it was written")
    return Written(rel, changed, record, role)


Unchanged = Callable[[str, str], Output | None]  # (path, fingerprint) → its record if same


def write_head(
    cfg: Config,
    writer: Writer,
    problems: Problems,
    feed: Rendered,
    unchanged: Unchanged,
) -> list[FileResult]:
    """The head feed in every format (a file made from the same inputs is left alone)."""
    out: list[FileResult] = []
    months, plan = feed.months, feed.plan
    for fmt, rel in plan.paths.items():
        prev = (
            archive.url(cfg, plan, months[-1], fmt) if months and fmt in archivable(plan) else None
        )
        fp = feed_fingerprint(cfg, plan.label, fmt, f"{plan!r} {prev}", feed.entries)
        same = unchanged(rel, fp)
        if same is not None:
            out.append(Written(rel, False, same))
            continue
        out.append(
            _document(
                cfg, writer, problems, plan, feed.entries, fmt, rel, fp, "feed", prev_archive=prev
            )
        )
    return out


MonthEntries = Callable[[archive.Month], list[Entry]]


def write_archives(
    cfg: Config,
    writer: Writer,
    problems: Problems,
    feed: Rendered,
    exists: Callable[[str], bool],
    month_entries: MonthEntries,
) -> list[FileResult]:
    """The archive documents not written yet (a closed month's never changes)."""
    out: list[FileResult] = []
    plan, months = feed.plan, feed.months
    formats = archivable(plan)
    for i, month in enumerate(months):
        paths = {f: archive.path(cfg, plan, month, f) for f in formats}
        missing = [f for f in formats if not exists(paths[f])]
        entries = month_entries(month) if missing else []
        for fmt in formats:
            rel = paths[fmt]
            if fmt not in missing:
                record = writer.record(rel, "archive")
                if record is not None:  # a closed month's archive: written once
                    out.append(Written(rel, False, record, "archive"))
            elif entries:
                prev = archive.url(cfg, plan, months[i - 1], fmt) if i else None
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
                        "archive",
                        "archive",
                        prev_archive=prev,
                        current=current,
                    )
                )
    return out


def write_discovery(
    cfg: Config, writer: Writer, problems: Problems, feeds: Sequence[FeedResult]
) -> list[FileResult]:
    """index.html, feeds.opml, snippets and feed.xsl, from the feeds this build produced."""
    listed = [discover.Listed(f.plan, f.items, f.newest) for f in feeds if f.plan]
    out: list[FileResult] = []
    for rel, data in discover.files(cfg, listed).items():
        try:
            changed = writer.write(rel, data)
        except WriteError as e:
            problems.error(rel, str(e))
            out.append(Failed(rel, str(e)))
            continue
        record = writer.record(rel, digest(data))
        if record is not None:
            out.append(Written(rel, changed, record, "discovery"))
    return out
