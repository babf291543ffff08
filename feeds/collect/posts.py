"""Read Jekyll posts from disk: ``YYYY-MM-DD-slug.(md|markdown|html)`` files with YAML
front matter. Front matter is split off with python-frontmatter and parsed by
``yamlutil`` (line numbers kept, dates left as text for ``timeutil``).

Nothing here raises for a bad file: each problem is recorded and the file is skipped
(or repaired, for a UTF-8 BOM), so one broken post never stops the others.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from frontmatter.default_handlers import YAMLHandler

from feeds import yamlutil
from feeds.errors import shown
from feeds.files import not_regular
from feeds.models import Problems, RawPost

log = logging.getLogger(__name__)

POST_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)\.(md|markdown|html)$")
POST_EXTS = (".md", ".markdown", ".html")
match_post = POST_NAME.match
_BOM = b"\xef\xbb\xbf"
_HANDLER = YAMLHandler()


def _ignored(name: str) -> bool:
    return name[:1] in (".", "_", "#") or name.endswith("~")


def scan_posts(dirs: tuple[Path, ...], problems: Problems) -> list[tuple[str, int, int]]:
    """Every post file below ``dirs`` with its size and mtime (ns): (path, size, mtime_ns),
    sorted by path. One ``stat`` per file and nothing read: this is all a rebuild with
    nothing changed does.

    Like Jekyll, names starting with '.', '_' or '#' and names ending in '~' are ignored;
    a file with a post extension but no ``YYYY-MM-DD-`` prefix is reported and skipped.

    Every folder is read once (by device and inode), so a symlink loop is reported once and
    not followed; like Jekyll's safe mode, a symlink to outside the posts folders is not
    followed; a post that is not a regular file (a FIFO, a device) or whose name is not
    valid UTF-8 is that post's error.
    """
    return walk_posts(dirs, problems).changed


@dataclass(frozen=True)
class Walked:
    """One walk of the posts folders, as ``scan_posts`` sees them, in chunks: runs of posts
    in the order the folders list them, each ending at a post whose name's CRC ends in
    eight zero bits (so a post added or removed changes its own chunk only). A chunk whose
    digest is in ``known`` (the last walk's, its posts cached since) is left out of
    ``changed``; the others' posts are there, sorted by path (every post when ``known`` is
    empty). ``digest``: of every chunk in order and the count, equal only for an equal walk."""

    count: int
    changed: list[tuple[str, int, int]]
    chunks: tuple[str, ...]
    digest: str


CHUNK_MASK = 0xFF  # a chunk boundary after about one post in 256


def walk_posts(
    dirs: tuple[Path, ...], problems: Problems, known: frozenset[str] = frozenset()
) -> Walked:
    """``scan_posts`` in chunks (see ``Walked``): what a walk found, without a list of every
    post unless ``known`` is empty."""
    walk = _Walk(problems, tuple(os.path.realpath(top) for top in dirs if top.is_dir()), known)
    for top in dirs:
        if not top.is_dir():
            problems.error(
                shown(top),
                "posts folder does not exist" if not top.exists() else "is not a folder",
            )
            continue
        walk.tree(str(top))
    walk.end_chunk()
    for path in sorted(walk.misnamed):
        problems.warn(
            shown(path), "not a post: the name must look like YYYY-MM-DD-title.md; skipped"
        )
    walk.changed.sort(key=lambda f: f[0])
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{walk.count}\n".encode())
    h.update(" ".join(walk.chunks).encode())
    return Walked(walk.count, walk.changed, tuple(walk.chunks), h.hexdigest())


def rescan(
    dirs: tuple[Path, ...], known: Iterable[tuple[str, int, int]], changed: Iterable[Path]
) -> tuple[list[tuple[str, int, int]], set[str]] | None:
    """``scan_posts`` from the last scan (``known``, by path) and the files a watcher saw
    change, stat-ing only those: the result a full scan would give, or None when a changed
    path needs the full scan to be judged (a folder, a symlink, a misnamed or ignored file, a
    path outside the posts folders or not valid UTF-8: what the walk reports or follows).
    With the scan, the changed files' paths as it writes them."""
    found = {f[0]: f for f in known}
    added = False
    paths: set[str] = set()
    for changed_path in changed:
        path = _scan_path(changed_path.absolute(), dirs)
        if path is None:
            return None
        paths.add(path)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            found.pop(path, None)  # deleted, or renamed away
            continue
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        added = added or path not in found
        found[path] = (path, st.st_size, st.st_mtime_ns)
    scan = list(found.values())
    if added:
        scan.sort(key=lambda f: f[0])
    return scan, paths


def _scan_path(changed: Path, dirs: tuple[Path, ...]) -> str | None:
    """A changed file's path as the walk writes it (below the folder as configured), or
    None when the walk would not list it as a plain post file."""
    for top in dirs:
        for root in dict.fromkeys((top.absolute(), top.resolve())):
            if not changed.is_relative_to(root):
                continue
            parts = changed.relative_to(root).parts
            if not parts or not match_post(parts[-1]) or not _utf8(str(changed)):
                return None
            folder = root
            for part in parts[:-1]:  # a subfolder: not ignored, not a symlink
                folder = folder / part
                if _ignored(part) or folder.is_symlink():
                    return None
            return str(top.joinpath(*parts))
    return None


class _Walk:
    """One walk over the posts folders: what it found, and the folders already read."""

    def __init__(
        self, problems: Problems, roots: tuple[str, ...], known: frozenset[str] = frozenset()
    ) -> None:
        self.problems = problems
        self.roots = roots
        self.known = known
        self.chunk: list[tuple[str, int, int]] = []
        self.chunks: list[str] = []
        self.changed: list[tuple[str, int, int]] = []
        self.count = 0
        self.misnamed: list[str] = []
        self.seen: set[tuple[int, int]] = set()

    def tree(self, top: str) -> None:
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                st = Path(folder).stat()
                if (st.st_dev, st.st_ino) in self.seen:
                    self.problems.warn(
                        shown(folder),
                        "a folder already read (a symlink loop, or a second link to it); "
                        "not read again",
                    )
                    continue
                self.seen.add((st.st_dev, st.st_ino))
                with os.scandir(folder) as it:  # entries are not kept: 100k of them are big
                    self.entries(it, stack)
            except OSError as e:
                self.problems.error(shown(folder), f"cannot list: {e.strerror or e}")

    def entries(self, it: Iterator[os.DirEntry[str]], stack: list[str]) -> None:
        """Every entry of a folder: a plain post (the common case) here, the rest by
        ``entry``; the loop is the walk's cost per post, so it does little else."""
        add, regular = self.add, stat.S_ISREG
        for entry in it:
            name = entry.name
            # a folder named like a post is no regular file: ``entry`` takes it
            if match_post(name) and not entry.is_symlink():
                path = entry.path
                if path.isascii():
                    try:
                        st = entry.stat()
                    except OSError:
                        st = None
                    if st is not None and regular(st.st_mode):
                        add(name, path, st.st_size, st.st_mtime_ns)
                        continue
            self.entry(entry, stack)

    def end_chunk(self) -> None:
        """The posts since the last boundary are a chunk: its digest, and its posts in
        ``changed`` unless the last walk had the same chunk."""
        chunk = self.chunk
        if not chunk:
            return
        paths, sizes, mtimes = zip(*chunk, strict=True)
        h = hashlib.blake2b("\0".join(paths).encode(), digest_size=16)
        h.update(array("q", sizes).tobytes())
        h.update(array("q", mtimes).tobytes())
        digest = h.hexdigest()
        self.chunks.append(digest)
        self.count += len(chunk)
        if digest not in self.known:
            self.changed.extend(chunk)
        chunk.clear()

    def add(self, name: str, path: str, size: int, mtime_ns: int) -> None:
        self.chunk.append((path, size, mtime_ns))
        if not zlib.crc32(name.encode()) & CHUNK_MASK:
            self.end_chunk()

    def entry(self, entry: os.DirEntry[str], stack: list[str]) -> None:
        name = entry.name
        if entry.is_symlink() and not self.inside(entry.path):
            if not _ignored(name):
                self.problems.warn(
                    shown(entry.path),
                    "a symlink to outside the posts folders; not followed",
                )
            return
        # a post name starts with a digit: never an ignored name
        if match_post(name) and not entry.is_dir():
            self.post(entry)
        elif _ignored(name):
            return
        elif entry.is_dir():
            stack.append(entry.path)
        elif name.endswith(POST_EXTS):
            self.misnamed.append(entry.path)

    def post(self, entry: os.DirEntry[str]) -> None:
        path = entry.path
        if not path.isascii() and not _utf8(path):
            self.problems.error(shown(path), "the file name is not valid UTF-8; rename it")
            return
        try:
            st = entry.stat()
        except OSError as e:  # a dangling symlink, or gone since the folder was listed
            self.problems.error(shown(path), f"cannot read: {e.strerror or e}")
            return
        reason = not_regular(st.st_mode)
        if reason:
            self.problems.error(shown(path), reason)
            return
        self.add(entry.name, path, st.st_size, st.st_mtime_ns)

    def inside(self, link: str) -> bool:
        real = os.path.realpath(link)
        return any(real == root or real.startswith(root + os.sep) for root in self.roots)


def _utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_post(path: Path, data: bytes, problems: Problems) -> RawPost | None:
    """A post from its bytes; ``None`` (with the reason recorded) when it cannot be used."""
    where = str(path)
    m = POST_NAME.match(path.name)
    if not m:
        problems.error(where, "not a post file name (YYYY-MM-DD-title.ext)")
        return None
    if data.startswith(_BOM):
        problems.warn(
            where,
            "starts with a UTF-8 byte-order mark; ignored it (save the file as UTF-8 without BOM)",
            1,
        )
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        problems.error(
            where,
            f"not valid UTF-8 (byte 0x{data[e.start]:02x} at offset "
            f"{e.start}); save the file as UTF-8",
            line,
        )
        return None
    if not _HANDLER.detect(text):
        problems.error(where, "no front matter: a post must start with a '---' line", 1)
        return None
    try:
        fm, body = _HANDLER.split(text)
    except ValueError:
        problems.error(where, "front matter is not closed by a '---' line", 1)
        return None
    try:
        # The split front matter begins right after the opening '---' on line 1, so
        # YAML's line numbers are the file's.
        doc = yamlutil.load_flat(fm) or yamlutil.load(fm, aliases=False)
    except yamlutil.YamlError as e:
        problems.error(where, f"front matter: {e.message}", e.line)
        return None
    meta = doc.value if doc.value is not None else {}
    if not isinstance(meta, dict):
        problems.error(where, "front matter must be a mapping of keys (key: value)", 2)
        return None
    year, month, day, slug, ext = m.groups()
    return RawPost(
        path=path,
        slug=slug,
        file_date=(int(year), int(month), int(day)),
        ext="." + ext,
        meta=meta,
        lines=doc.lines,
        body=body,
        body_line=text.count("\n", 0, len(text) - len(body)) + 1,
    )


def media_size(root: Path | None, rel: str) -> int | None:
    """The size of the regular file ``rel`` under the site folder ``root`` (a front-matter
    image or enclosure), or None: missing, not a regular file, or outside the folder."""
    if root is None or not rel:
        return None
    try:
        base = root.resolve()
        target = (base / rel).resolve()
        if not target.is_relative_to(base):
            return None
        st = target.stat()
    except (OSError, ValueError):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None
