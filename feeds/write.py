"""Atomic, write-if-changed output files.

A file is written to a temporary name in its own folder, flushed to disk, given mode 0644
and renamed over the old one, so a reader (or a web server) sees either the old or the new
file, never a part. A file whose bytes would not change is not touched (its mtime stays).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from pathlib import Path

from feeds.errors import WriteError

log = logging.getLogger(__name__)

TEMP_PREFIX = ".feeds-tmp-"
FILE_MODE = 0o644
# Fault injection for tests: seconds to sleep with the temp file written but not yet renamed,
# so a test can stop or kill a build in the middle of a write. Unset in normal use.
_WRITE_DELAY = float(os.environ.get("FEEDS_FAULT_WRITE_DELAY", "0") or 0)
# Fault injection for tests: the process SIGKILLs itself at its Nth write, with the temp file
# written and not yet renamed (the worst moment to die). Unset in normal use.
_KILL_AT = int(os.environ.get("FEEDS_FAULT_KILL_AT", "0") or 0)
_writes = 0


def write_if_changed(path: Path, data: bytes) -> bool:
    """Make ``path`` hold ``data``. Returns True if the file was (re)written.

    Raises ``WriteError`` (the previous file intact) when it cannot.
    """
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as e:
        if not path.is_file():
            raise WriteError(f"{path}: cannot write over it: {e.strerror or e}") from e
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteError(f"{path.parent}: cannot create folder: {e.strerror or e}") from e
    tmp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{path.name}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, FILE_MODE)  # the umask may have taken bits away
            os.fsync(fd)
        finally:
            os.close(fd)
        if _WRITE_DELAY:
            time.sleep(_WRITE_DELAY)
        if _KILL_AT:
            _count_and_maybe_die()
        tmp.replace(path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise WriteError(f"{path}: write failed, previous file kept: {e.strerror or e}") from e
    _fsync_dir(path.parent)
    log.debug("wrote path=%s bytes=%d", path, len(data))
    return True


def _count_and_maybe_die() -> None:
    global _writes
    _writes += 1
    if _writes == _KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)


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
