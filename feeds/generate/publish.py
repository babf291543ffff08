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
from feeds.config.config import Config
from feeds.errors import FeedsError
from feeds.generate.output import Writer, digest, write_files
from feeds.generate.report import Failed, FileResult, Written
from feeds.models import Problems

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    files: list[FileResult]  # the manifest itself
    removed: tuple[str, ...]


def publish(
    cfg: Config,
    writer: Writer,
    problems: Problems,
    results: Sequence[FileResult],
    counts: manifest.Counts,
    *,
    whole: bool,
) -> Published:
    """Write the manifest of ``results`` over the old one; with ``whole`` (every feed was
    planned and the build was not stopped) remove the old files no feed made this time."""
    old = _old(writer, problems)
    written = {r.path: _info(writer, old, r) for r in results if isinstance(r, Written)}
    failed = [r.path for r in results if isinstance(r, Failed)]
    s = cfg.schedule
    control = caching.hints(s.build, s.build_seconds, cfg.site.tz).cache_control
    change = manifest.after_build(old, written, failed, control, counts, whole=whole)
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


def read_manifest(writer: Writer) -> manifest.Manifest:
    """The manifest the last build left (empty when there is none or it is not ours)."""
    try:
        return _read(writer)
    except (FeedsError, ValueError):
        return manifest.Manifest()


def _read(writer: Writer) -> manifest.Manifest:
    data = writer.read(manifest.NAME, manifest.MAX_BYTES)
    return manifest.Manifest() if data is None else manifest.from_bytes(data)


def _old(writer: Writer, problems: Problems) -> manifest.Manifest:
    try:
        return _read(writer)
    except (FeedsError, ValueError) as e:
        problems.warn(
            manifest.NAME,
            f"unreadable ({e}); it is written anew, and no file of an earlier build is removed",
        )
        return manifest.Manifest()


def _info(writer: Writer, old: manifest.Manifest, r: Written) -> manifest.FileInfo:
    """What the manifest says of a file this build wrote or kept: its digest and newest
    entry's time when this build knows them, else as recorded before (a closed archive, not
    read again), else its digest read from the file."""
    before = old.files.get(r.path)
    modified = r.modified.isoformat() if r.modified else before.modified if before else None
    if r.sha is not None:
        return manifest.FileInfo(r.sha, modified)
    if before is not None:
        return manifest.FileInfo(before.sha, modified)
    try:
        data = writer.read(r.path, manifest.MAX_BYTES)
    except FeedsError:
        data = None
    return manifest.FileInfo("" if data is None else digest(data), modified)
