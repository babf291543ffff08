"""The defences every HTTP server of feeds shares (``feeds serve`` and the daemon's health
port): a bound on open connections (the next get a 503 and are closed), no busy loop when
the process runs out of descriptors, a connection that has not sent a whole request head
within ``idle_timeout`` seconds closed, and a port in use as a clear error."""

from __future__ import annotations

import errno
import logging
import resource
import socket
import threading
import time
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from feeds.errors import ListenError

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 10.0  # s: to send a whole request head, or between requests on one connection
MAX_CONNECTIONS = 100  # open at once (fewer if the descriptor limit is low); more get a 503
NO_DESCRIPTOR = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 5\r\nRetry-After: 5\r\nConnection: close\r\n\r\nbusy\n"
)


def connection_cap(wanted: int) -> int:
    """``wanted``, or fewer when the descriptor limit is low: each connection holds one
    descriptor and opens a file while it answers; some are kept for the rest of the process."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, (soft - 16) // 2))


def listen_error(e: OSError, host: str, port: int, option: str) -> ListenError:
    if e.errno == errno.EADDRINUSE:
        return ListenError(
            f"cannot listen on {host} port {port}: it is already in use "
            f"(another program has it; choose another port with {option})"
        )
    return ListenError(f"cannot listen on {host} port {port}: {e.strerror or e} ({option})")


class GuardedServer(ThreadingHTTPServer):
    """At most ``cap`` connections at once (the next ones get a 503 and are closed), and no
    busy loop when the process runs out of descriptors: it waits a moment and tries again."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: Any, cap: int) -> None:
        self._slots = threading.BoundedSemaphore(cap)
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            return super().get_request()
        except OSError as e:
            if e.errno in NO_DESCRIPTOR:  # the listening socket stays readable: do not spin
                log.warning("event=serve accept=failed error=%s", e.strerror or e)
                time.sleep(0.1)
            raise

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with suppress(OSError):
                request.settimeout(1.0)
                request.sendall(BUSY)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.warning("event=serve client=%s error=unexpected", client_address, exc_info=True)


class GuardedHandler(BaseHTTPRequestHandler):
    """A request handler whose connection is closed when the whole request head has not come
    within ``idle_timeout`` seconds (``timeout``, per read, bounds each read as well)."""

    idle_timeout: ClassVar[float] = IDLE_TIMEOUT
    timeout = IDLE_TIMEOUT
    _timer: threading.Timer | None = None

    def handle_one_request(self) -> None:
        self._timer = threading.Timer(self.idle_timeout, self._hang_up)
        self._timer.daemon = True
        self._timer.start()
        try:
            super().handle_one_request()
        finally:
            self._timer.cancel()

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if self._timer is not None:
            self._timer.cancel()  # the head is in: answering is not bounded by it
        return ok

    def _hang_up(self) -> None:
        with suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def make(
    address: tuple[str, int],
    handler: type[GuardedHandler],
    max_connections: int,
    option: str,
) -> GuardedServer:
    """A ``GuardedServer`` on ``address``; ``ListenError`` (naming the port and ``option``)
    if it cannot listen there."""
    try:
        return GuardedServer(address, handler, connection_cap(max_connections))
    except OSError as e:
        raise listen_error(e, address[0], address[1], option) from e
