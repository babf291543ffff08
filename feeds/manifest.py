"""The output folder's own record of what feeds wrote there: ``.feeds-manifest`` (JSON).

For each file: the hash of the bytes written and the time of the newest entry it shows; for
all of them the ``Cache-Control`` value of the schedule; and how many posts the live feeds
were made from, in all and per category (the validation gate's baseline, ``feeds.generate.gate``).
``feeds serve`` reads it (it needs nothing but the output folder), and the next whole build
reads it to find the files this tool wrote that no feed makes any more: only those are
removed, and only while they still hold the bytes recorded here (a file anyone else wrote or
changed is never touched).
It lives beside the files it describes, so it survives a dropped build cache or state folder.

Pure: bytes in, values out (the writer reads and writes the file).
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

NAME = ".feeds-manifest"  # JSON; no .json suffix: it is not a feed
MAX_BYTES = 64 * 1024 * 1024  # 300,000 files' worth: anything bigger was not written by us
VERSION = 1


@dataclass(frozen=True)
class FileInfo:
    sha: str  # digest of the bytes written
    modified: str | None = None  # ISO 8601: the newest entry's time; None: not known


@dataclass(frozen=True)
class Manifest:
    cache_control: str = ""
    files: Mapping[str, FileInfo] = field(default_factory=dict)
    posts: int | None = None  # published posts the live feeds were made from
    category_posts: Mapping[str, int] = field(default_factory=dict)  # category → its posts

    def modified(self, rel: str) -> dt.datetime | None:
        info = self.files.get(rel)
        if info is None or info.modified is None:
            return None
        return dt.datetime.fromisoformat(info.modified)


def safe(rel: str) -> bool:
    """A path this tool could have written: relative, normalized, no dot segment."""
    if not rel or rel.startswith("/") or "\\" in rel or "\0" in rel:
        return False
    if posixpath.normpath(rel) != rel:
        return False
    return not any(part.startswith(".") for part in rel.split("/"))


def to_bytes(m: Manifest) -> bytes:
    files = {
        rel: {"sha": info.sha, "modified": info.modified} for rel, info in sorted(m.files.items())
    }
    doc = {
        "version": VERSION,
        "cache_control": m.cache_control,
        "posts": m.posts,
        "category_posts": dict(sorted(m.category_posts.items())),
        "files": files,
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def from_bytes(data: bytes) -> Manifest:
    """The manifest in ``data``; raises ``ValueError`` for anything but one we wrote."""
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        raise ValueError("not a feeds manifest of version 1")
    files: dict[str, FileInfo] = {}
    raw = doc.get("files")
    if not isinstance(raw, dict):
        raise ValueError("no files in the manifest")
    for rel, info in raw.items():
        if not isinstance(info, dict) or not isinstance(info.get("sha"), str) or not safe(rel):
            raise ValueError(f"{rel!r}: not a file this tool writes")
        modified = info.get("modified")
        files[rel] = FileInfo(info["sha"], modified if isinstance(modified, str) else None)
    control = doc.get("cache_control")
    posts = doc.get("posts")
    counts = doc.get("category_posts")
    return Manifest(
        control if isinstance(control, str) else "",
        files,
        posts if isinstance(posts, int) else None,
        {k: n for k, n in counts.items() if isinstance(n, int)} if isinstance(counts, dict) else {},
    )


@dataclass(frozen=True)
class Change:
    """The manifest a build leaves, and the files it found gone from its feeds."""

    manifest: Manifest
    stale: dict[str, FileInfo]  # files written by an earlier build that nothing makes now


@dataclass(frozen=True)
class Counts:
    """How many posts a build was made from: in all, and per category it built."""

    posts: int
    category_posts: Mapping[str, int]


def after_build(
    old: Manifest,
    written: Mapping[str, FileInfo],
    failed: Iterable[str],
    cache_control: str,
    counts: Counts,
    *,
    whole: bool,
) -> Change:
    """The next manifest: this build's files and counts over the old ones. Only a whole build
    (every feed planned, not stopped) knows which old files no feed makes now; a file that
    failed to be written keeps its old record (the old file is still there)."""
    kept = {rel: old.files[rel] for rel in failed if rel in old.files}
    if whole:
        files = {**kept, **written}
        stale = {rel: info for rel, info in old.files.items() if rel not in files}
        categories = dict(counts.category_posts)
    else:
        files = {**old.files, **written}
        stale = {}
        categories = {**old.category_posts, **counts.category_posts}
    return Change(Manifest(cache_control, files, counts.posts, categories), stale)
