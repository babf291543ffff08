"""A real HTTP server on 127.0.0.1 for tests: routes are Python functions; every request is
recorded. Started and stopped by the ``http_server`` fixture (tests/conftest.py)."""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-body is what several tests do on purpose


@dataclass
class Request:
    path: str
    headers: dict[str, str]


Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class LocalServer:
    routes: dict[str, Handler] = field(default_factory=dict)
    post_routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    httpd: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.httpd is not None
        return int(self.httpd.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def start(self) -> None:
        server = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._dispatch(server.routes)

            def do_POST(self) -> None:
                self._dispatch(server.post_routes)

            def _dispatch(self, routes: dict[str, Handler]) -> None:
                server.requests.append(
                    Request(self.path, {k.lower(): v for k, v in self.headers.items()})
                )
                handler = routes.get(self.path.split("?", 1)[0])
                if handler is None:
                    send(self, 404, b"not here", "text/plain")
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    handler(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


def send(
    h: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str = "application/rss+xml; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)


def static(
    body: bytes,
    content_type: str = "application/rss+xml; charset=utf-8",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Handler:
    return lambda h: send(h, status, body, content_type, headers)


def not_modified_if(h: BaseHTTPRequestHandler, etag: str) -> bool:
    """Answer 304 (and say so) when the request's If-None-Match is ``etag``."""
    if h.headers.get("If-None-Match") != etag:
        return False
    h.send_response(304)
    h.send_header("ETag", etag)
    h.send_header("Content-Length", "0")
    h.end_headers()
    return True


def with_etag(
    body: bytes, etag: str = '"v1"', last_modified: str = "Thu, 09 Jun 2022 06:36:33 GMT"
) -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        if not not_modified_if(h, etag):
            send(h, 200, body, headers={"ETag": etag, "Last-Modified": last_modified})

    return handle


def gzipped(body: bytes) -> Handler:
    data = gzip.compress(body)
    return lambda h: send(h, 200, data, headers={"Content-Encoding": "gzip"})


def redirect(to: str, status: int = 302) -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handle


def drip(total: int, interval: float, max_seconds: float = 20) -> Handler:
    """Headers at once, then one byte every ``interval`` seconds (bounded in time)."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(total))
        h.end_headers()
        start = time.monotonic()
        for _ in range(total):
            if time.monotonic() - start > max_seconds:
                return
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(interval)

    return handle


def huge(size: int) -> Handler:
    """A body of ``size`` bytes without Content-Length (streamed, then closed)."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Connection", "close")
        h.end_headers()
        chunk = b"<!-- padding -->" * 4096
        sent = 0
        while sent < size:
            h.wfile.write(chunk)
            sent += len(chunk)
        h.close_connection = True

    return handle
