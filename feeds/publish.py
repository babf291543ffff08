"""The last write phase of a build: the output folder's manifest (``feeds.manifest``), and,
after a whole build, the removal of the files an earlier build wrote that no feed makes now
(a category, tag or format gone from the config or the posts). Only files the manifest lists
are removed, and only while they hold the bytes it records; everything else in the folder is
left alone. Returns what it wrote and removed, as values."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from feeds import caching, manifest
from feeds.config import Config
from feeds.errors import FeedsError
from feeds.models import Problems
from feeds.output import Writer, digest, write_files
from feeds.report import Failed, FileResult, Written

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    files: list[FileResult]  # the manifest itself
    removed: tuple[str, ...]


def publish(
    cfg: Config, writer: Writer, problems: Problems, results: Sequence[FileResult], *, whole: bool
) -> Published:
    """Write the manifest of ``results`` over the old one; with ``whole`` (every feed was
    planned and the build was not stopped) remove the old files no feed made this time."""
    old = _old(writer, problems)
    written = {
        r.path: manifest.FileInfo(_sha(writer, old, r), _modified(old, r))
        for r in results
        if isinstance(r, Written)
    }
    failed = [r.path for r in results if isinstance(r, Failed)]
    s = cfg.schedule
    control = caching.hints(s.build, s.build_seconds, cfg.site.tz).cache_control
    change = manifest.after_build(old, written, failed, control, whole=whole)
    removed: list[str] = []
    for rel, info in sorted(change.stale.items()):
        try:
            gone = writer.remove(rel, info.sha)
        except FeedsError as e:
            problems.warn(rel, f"no feed makes this file now, but it could not be removed: {e}")
            continue
        if gone:
            removed.append(rel)
            log.info("removed path=%s reason=no-feed-makes-it", rel)
        else:  # changed by someone since we wrote it: theirs now, and no longer listed
            log.info("kept path=%s reason=changed-since-written", rel)
    data = {manifest.NAME: manifest.to_bytes(change.manifest)}
    return Published(write_files(writer, problems, data, "manifest", None), tuple(removed))


def _old(writer: Writer, problems: Problems) -> manifest.Manifest:
    try:
        data = writer.read(manifest.NAME, manifest.MAX_BYTES)
        return manifest.Manifest() if data is None else manifest.from_bytes(data)
    except (FeedsError, ValueError) as e:
        problems.warn(
            manifest.NAME,
            f"unreadable ({e}); it is written anew, and no file of an earlier build is removed",
        )
        return manifest.Manifest()


def _modified(old: manifest.Manifest, r: Written) -> str | None:
    """The newest entry's time a file shows: told by the build, or recorded before (a closed
    archive that was left alone, or only given its next-archive link)."""
    if r.modified is not None:
        return r.modified.isoformat()
    info = old.files.get(r.path)
    return None if info is None else info.modified


def _sha(writer: Writer, old: manifest.Manifest, r: Written) -> str:
    """The digest of a file this build wrote or kept: known, recorded before, or read."""
    if r.sha is not None:
        return r.sha
    info = old.files.get(r.path)
    if info is not None:
        return info.sha
    try:
        data = writer.read(r.path, manifest.MAX_BYTES)
    except FeedsError:
        data = None
    return "" if data is None else digest(data)
