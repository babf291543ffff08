"""Reading our input files safely: only regular files, and only up to a size.

A FIFO, a device or a symlink to ``/dev/zero`` named like a post or given as the config
would block a read for ever or never end. Each file is ``stat``-ed before it is opened,
opened with ``O_NONBLOCK`` (opening a FIFO then returns at once) and checked again with
``fstat`` after opening, so a file swapped between the two checks cannot hang us either.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from feeds.errors import FeedsError, shown

MAX_POST_BYTES = 10 * 1024 * 1024
MAX_CONFIG_BYTES = 16 * 1024 * 1024  # 10^5 sources take about 10 MB
_CHUNK = 1 << 20

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


class FileProblem(FeedsError):
    """An input file that cannot be used; ``reason`` is the text without the path."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{shown(path)}: {reason}")
        self.reason = reason


def not_regular(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is refused ("not a regular file (a FIFO)"), or None."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "something else")
    return f"not a regular file ({kind}); refused"


def read_regular(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path`` (symlinks followed), at most ``limit`` of
    them. Raises ``FileProblem`` for anything else, a file too big or a failed read."""
    try:
        st = os.stat(path)  # noqa: PTH116 - a str path, without pathlib's parsing per post
        _check(path, st.st_mode, st.st_size, limit)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise FileProblem(path, f"cannot read: {e.strerror or e}") from e
    try:
        st = os.fstat(fd)  # what was opened, which may not be what was stat-ed
        _check(path, st.st_mode, st.st_size, limit)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise FileProblem(path, f"cannot read: {e.strerror or e}") from e
    finally:
        os.close(fd)
    if size > limit:  # it grew while we read it
        raise FileProblem(path, _too_big(limit))
    return b"".join(chunks)


def _check(path: str | Path, mode: int, size: int, limit: int) -> None:
    reason = not_regular(mode)
    if reason:
        raise FileProblem(path, reason)
    if size > limit:
        raise FileProblem(path, _too_big(limit))


def _too_big(limit: int) -> str:
    return f"larger than the limit of {limit / 1048576:g} MB; refused"
