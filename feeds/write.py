"""Atomic, write-if-changed output files.

A file is written to a temporary (random, exclusively created) name in its own folder,
flushed to disk, given mode 0644 and renamed over the old one, so a reader (or a web server)
sees either the old or the new file, never a part. A file whose bytes would not change is
not touched (its mtime stays).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from feeds.errors import WriteError, shown
from feeds.files import FileProblem, read_regular

log = logging.getLogger(__name__)

TEMP_PREFIX = ".feeds-tmp-"
FILE_MODE = 0o644
_REMOVE_LIMIT = 256 * 1024 * 1024  # a file to remove is read first: one bigger is not ours


def write_if_changed(
    path: Path, data: bytes, *, before_rename: Callable[[], None] | None = None
) -> bool:
    """Make ``path`` hold ``data``. Returns True if the file was (re)written.

    ``before_rename`` is called with the temp file written and not yet renamed: the fault
    hooks of the tests (``runtime.Runtime``) pause or kill the process there.
    Raises ``WriteError`` (the previous file intact) when it cannot.
    """
    if _holds(path, data):
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteError(f"{shown(path.parent)}: cannot create folder: {e.strerror or e}") from e
    try:
        # a random name, created exclusively and never through a symlink (mkstemp's
        # O_EXCL | O_NOFOLLOW): a link planted at a predictable name would have its target
        # truncated and written
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    except OSError as e:
        raise _failed(path, e) from e
    tmp = Path(name)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, FILE_MODE)  # the umask may have taken bits away
            os.fsync(fd)
        finally:
            os.close(fd)
        if before_rename is not None:
            before_rename()
        tmp.replace(path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _failed(path, e) from e
    _fsync_dir(path.parent)
    log.debug("wrote path=%s bytes=%d", path, len(data))
    return True


def _failed(path: Path, e: OSError) -> WriteError:
    return WriteError(f"{shown(path)}: write failed, previous file kept: {e.strerror or e}")


def _holds(path: Path, data: bytes) -> bool:
    """Whether ``path`` already holds ``data``. Opened without blocking (a FIFO planted there
    would hang a read); raises ``WriteError`` for what cannot be written over."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except OSError as e:
        if not path.is_file():
            raise WriteError(f"{shown(path)}: cannot write over it: {e.strerror or e}") from e
        return False  # unreadable but a file: write it anew
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise WriteError(f"{shown(path)}: cannot write over it: {os.strerror(errno.EISDIR)}")
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        view, at = memoryview(data), 0  # compared a chunk at a time: no second copy in memory
        while chunk := os.read(fd, 1 << 20):
            if view[at : at + len(chunk)] != chunk:
                return False
            at += len(chunk)
        return at == len(data)
    except OSError:
        return False
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every filesystem allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(folder: Path) -> int:
    """Delete temp files a killed run left behind below ``folder``. Returns how many."""
    removed = 0
    if not folder.is_dir():
        return 0
    for tmp in folder.rglob(TEMP_PREFIX + "*"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed


def remove_if_holds(root: Path, rel: str, ours: Callable[[bytes], bool]) -> bool:
    """Remove the regular file ``root/rel`` if ``ours(its bytes)``, then the folders it
    leaves empty (up to ``root``). Never through a symlink, never outside ``root``. True when
    removed; raises ``WriteError`` when the removal itself fails."""
    path = root / rel
    base = root.resolve()
    try:
        st = path.lstat()
        parent = path.parent.resolve()
    except (OSError, RuntimeError):  # RuntimeError: pathlib's symlink loop
        return False
    if not stat.S_ISREG(st.st_mode) or (parent != base and base not in parent.parents):
        return False
    try:
        if not ours(read_regular(path, _REMOVE_LIMIT)):
            return False
    except FileProblem:
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as e:
        raise WriteError(f"{shown(path)}: cannot remove: {e.strerror or e}") from e
    _remove_empty(path.parent, base)
    return True


def _remove_empty(folder: Path, base: Path) -> None:
    """Remove ``folder`` and its parents below ``base`` while they are empty."""
    while folder.resolve() != base:
        try:
            folder.rmdir()  # only an empty folder goes
        except OSError:
            return
        folder = folder.parent
