"""One feeds process at a time per state folder: an flock on ``state.dir/feeds.lock``.

``build``, ``fetch`` and ``run`` take it without waiting; a second process is told who holds
it (pid, command, since when) and exits with ``Exit.LOCKED`` — cron's next tick tries again.
The kernel releases an flock when its process dies, so a killed run never leaves it stuck.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import sys
from pathlib import Path
from types import TracebackType

from feeds.errors import FeedsError, LockedError, shown
from feeds.files import not_regular


class ProcessLock:
    def __init__(self, state_dir: Path, command: str) -> None:
        self.path = state_dir / "feeds.lock"
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            who = (
                (
                    f"pid {holder.get('pid')} (feeds {holder.get('command')}, since "
                    f"{holder.get('since')})"
                )
                if holder
                else "another process"
            )
            raise LockedError(
                f"{self.path}: {who} is running; not starting a second one "
                f"(try again when it has finished)"
            ) from None
        info = {
            "pid": os.getpid(),
            "command": self.command,
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "argv": sys.argv[1:],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd

    def _open(self) -> int:
        """The lock file, opened without following a symlink planted there (its target would
        be truncated) and only if it is a regular file."""
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, flags, 0o644)
        except OSError as e:
            reason = e.strerror or str(e)
            if e.errno == errno.ELOOP:
                reason = "it is a symbolic link; refusing to use it (remove it)"
            raise FeedsError(f"{shown(self.path)}: cannot open the lock file: {reason}") from e
        refused = not_regular(os.fstat(fd).st_mode)
        if refused:
            os.close(fd)
            raise FeedsError(f"{shown(self.path)}: cannot open the lock file: {refused}")
        return fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ProcessLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read(fd: int) -> dict[str, object]:
    try:
        data = os.pread(fd, 4096, 0)
        value = json.loads(data.decode()) if data else {}
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
