"""A wall-clock deadline for a whole HTTP exchange, and the stop check. httpx's timeouts are
per socket operation, so a server dripping a byte at a time never trips them; here every
read and write of the connection pool is cut to what is left of the deadline of the fetch
under way in this thread (``LIMIT``).

When the fetch has a stop check (the daemon's, set by SIGTERM), every wait — name
resolution, connect, each read — is made in steps of at most ``STEP`` seconds and the check
is asked between them: a stopping daemon leaves a fetch under way within a step, with
``FetchStopped``, instead of at its deadline. The connection is closed on the way out.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import httpcore
import httpx

from feeds.errors import FetchStopped

T = TypeVar("T")
STEP = 0.25  # seconds between two looks at the stop check


@dataclass(frozen=True)
class Limit:
    deadline: float  # time.monotonic() by which the whole exchange ends
    stopped: Callable[[], bool] | None = None


LIMIT: ContextVar[Limit | None] = ContextVar("fetch_limit", default=None)


def _stop_if_asked(limit: Limit | None) -> None:
    if limit is not None and limit.stopped is not None and limit.stopped():
        raise FetchStopped("the fetch was stopped: feeds is shutting down")


def _check(limit: Limit) -> float:
    """What is left of ``limit``'s deadline; raises when it has passed or the fetch stops."""
    _stop_if_asked(limit)
    remaining = limit.deadline - time.monotonic()
    if remaining <= 0:
        raise httpcore.ReadTimeout("the fetch deadline has passed")
    return remaining


def _bounded(timeout: float | None) -> float | None:
    """A socket operation's timeout, cut to what is left of this thread's fetch deadline."""
    limit = LIMIT.get()
    if limit is None:
        return timeout
    remaining = _check(limit)
    return remaining if timeout is None else min(timeout, remaining)


def within(work: Callable[[], T], timeout: float, abandon: Callable[[T], None]) -> T:
    """``work()`` in a daemon thread, waited for at most ``timeout`` seconds and this
    thread's fetch deadline, asking the stop check every step. Raises ``TimeoutError``, or
    ``FetchStopped``; a result that comes after it was given up is handed to ``abandon``."""
    box: list[T | BaseException] = []
    lock = threading.Lock()
    done = threading.Event()
    given_up = False

    def run() -> None:
        try:
            got: T | BaseException = work()
        except BaseException as e:  # handed to the waiting thread
            got = e
        with lock:
            box.append(got)
            late = given_up
        done.set()
        if late and not isinstance(got, BaseException):
            abandon(got)

    threading.Thread(target=run, daemon=True, name="fetch wait").start()
    limit = LIMIT.get()
    end = time.monotonic() + timeout
    if limit is not None:
        end = min(end, limit.deadline)
    try:
        while not done.wait(min(STEP, max(0.0, end - time.monotonic()))):
            _stop_if_asked(limit)
            if time.monotonic() >= end:
                raise TimeoutError(f"no answer within {timeout:g} s")
    except BaseException:
        with lock:
            given_up = not box
            if given_up:
                raise
        # it finished meanwhile: use it
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the fetch deadline: httpx's own
    timeouts are per operation, so a server dripping a byte at a time never trips them.
    With a stop check, a read waits in steps and asks it between them."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        limit = LIMIT.get()
        if limit is None or limit.stopped is None:
            return self._inner.read(max_bytes, _bounded(timeout))
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = _check(limit)
            if end is not None:
                left = min(left, end - time.monotonic())
                if left <= 0:
                    raise httpcore.ReadTimeout("timed out")
            try:
                return self._inner.read(max_bytes, min(left, STEP))
            except httpcore.ReadTimeout:
                if left > STEP:
                    continue  # one step, not the whole wait: look at the stop check again
                raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout)
        limit = LIMIT.get()

        def connect() -> httpcore.NetworkStream:
            return self._inner.connect_tcp(host, port, bounded, local_address, socket_options)

        if limit is None or limit.stopped is None or bounded is None:
            return _DeadlineStream(connect())
        try:  # a host that drops SYNs must not hold a stopping daemon for connect_timeout
            stream = within(connect, bounded, lambda late: late.close())
        except TimeoutError as e:
            raise httpcore.ConnectTimeout(str(e)) from e
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose sockets obey the fetch deadline.
    (httpx takes no network backend argument; its pool is replaced with one that has ours.)"""

    def __init__(self, concurrency: int) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=concurrency * 2,
            max_keepalive_connections=concurrency,
            keepalive_expiry=5.0,
            network_backend=_DeadlineBackend(),
        )
