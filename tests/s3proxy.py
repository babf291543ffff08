"""A TCP proxy in front of an S3 server that holds one upload half way, for the kill tests.

It forwards 127.0.0.1:``port`` to the server and reads the client's requests as they pass
(each has a Content-Length body: botocore sends bytes bodies that way). At the ``at``-th PUT it
either forwards only half of the body and holds the rest (``cut="request"``: the server never
gets the whole object), or forwards the whole request and holds the answer (``cut="response"``:
the object is stored but the client never learns its ETag). ``held`` is set then; the test
kills the client and calls ``stop``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import unquote


class StallingProxy:
    def __init__(self, upstream_port: int, at: int, cut: str) -> None:
        self.upstream_port, self.at, self.cut = upstream_port, at, cut
        self.puts = 0
        self.held = threading.Event()
        self.held_key = ""  # the path of the upload held, URL-quoted as in the request
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._closed = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._closed.set()
        for s in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                s.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
            self._sockets += [client, upstream]
            hold = threading.Event()
            threading.Thread(
                target=self._answers, args=(upstream, client, hold), daemon=True
            ).start()
            threading.Thread(
                target=self._requests, args=(client, upstream, hold), daemon=True
            ).start()

    def _answers(
        self, upstream: socket.socket, client: socket.socket, hold: threading.Event
    ) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                if hold.is_set():
                    return  # the held PUT's answer never reaches the client
                client.sendall(data)

    def _requests(
        self, client: socket.socket, upstream: socket.socket, hold: threading.Event
    ) -> None:
        buffer = b""
        with contextlib.suppress(OSError):
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                head += b"\r\n\r\n"
                length = _content_length(head)
                while len(buffer) < length:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                body, buffer = buffer[:length], buffer[length:]
                if head.startswith(b"PUT "):
                    with self._lock:
                        self.puts += 1
                        this = self.puts
                    if this == self.at:
                        self._hold(head, body, upstream, hold)
                        return
                upstream.sendall(head + body)

    def _hold(
        self, head: bytes, body: bytes, upstream: socket.socket, hold: threading.Event
    ) -> None:
        if self.cut == "request":
            upstream.sendall(head + body[: len(body) // 2])
        else:
            hold.set()
            upstream.sendall(head + body)
        self.held_key = unquote(head.split(b" ", 2)[1].decode())
        self.held.set()
        self._closed.wait(60)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
        if name.strip().lower() == b"transfer-encoding":
            raise AssertionError("the proxy reads Content-Length bodies only")
    return 0
