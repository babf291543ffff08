"""Our error hierarchy. Third-party errors are wrapped at each boundary with ``raise … from e``.

``cli.main`` is the one place that maps these to exit codes.
"""

from __future__ import annotations


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
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class DateError(FeedsError):
    """A date value that cannot be read; the caller adds file and line."""


class WriteError(FeedsError):
    """An output file could not be written; the previous file is left in place."""


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


class ListenError(FeedsError):
    """A server (``feeds serve``, the daemon's health port) cannot listen where it was told."""
