"""Our error hierarchy. Third-party errors are wrapped at each boundary with ``raise … from e``.

The bottom of the house: imports nothing of feeds. ``shown`` (a name made safe for a message)
lives here because the messages need it. ``cli.main`` is the one place that maps these to
exit codes.
"""

from __future__ import annotations

import re

# What must not reach a terminal raw: C0 and C1 controls and DEL (ANSI escapes start with
# ESC or CSI), line and paragraph separators, and the surrogates that stand for the bytes
# of a file name that is not valid UTF-8 (os.fsdecode's surrogateescape).
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def shown(path: object) -> str:
    """A path (or any name) as it may appear in a message: each control character or
    undecodable byte becomes a visible escape (``\\x1b``, ``\\xff``); the rest is kept."""
    return _UNSHOWABLE.sub(_escape, str(path))


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    if 0xDC80 <= c <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
        return f"\\x{c - 0xDC00:02x}"
    return f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"


class FeedsError(Exception):
    """Base of every error feeds raises on purpose."""


class ConfigError(FeedsError):
    """The configuration cannot be used. Fatal: exit code 2.

    ``str(err)`` is ``file:line: key: message`` (line and key when known).
    """

    def __init__(
        self, message: str, *, file: str, line: int | None = None, key: str | None = None
    ) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.message = message
        where = shown(file) if line is None else f"{shown(file)}:{line}"
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class DateError(FeedsError):
    """A date value that cannot be read; the caller adds file and line."""


class WriteError(FeedsError):
    """An output file could not be written; the previous file is left in place."""


class StoreError(FeedsError):
    """The store cannot be used (locked, read-only, not ours, damaged). The message names
    the file."""


class LockedError(FeedsError):
    """Another feeds process holds the lock."""


class ParseError(FeedsError):
    """A fetched document is not a feed we can read; ``url`` names it."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.message = message
        self.url = url

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        # picklable with its keyword argument: parsing may run in a worker process
        return (_parse_error, (self.message, self.url))


def _parse_error(message: str, url: str) -> ParseError:
    return ParseError(message, url=url)


class FetchError(FeedsError):
    """A fetch that gave no usable body. ``network`` marks errors of reaching the host at all
    (DNS, connect, timeouts): when every source has one, the network is probably down."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        retry_after: float | None = None,
        network: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.retry_after = retry_after
        self.network = network

    @property
    def gone(self) -> bool:
        return self.status == 410


class FetchStopped(FeedsError):
    """A fetch given up because feeds is stopping (the daemon's SIGTERM): not the source's
    failure, so nothing about the source is recorded; the next round fetches it again."""


class ListenError(FeedsError):
    """A server (``feeds serve``, the daemon's health port) cannot listen where it was told."""
