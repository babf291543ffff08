"""``feeds serve``: a small HTTP server for the output folder, for previewing and small
deployments. Correct Content-Type (with charset) per format, ETag and Last-Modified with 304
answers, gzip when the client asks, HEAD, and nothing outside the folder. For production put
nginx (README) in front instead."""

from __future__ import annotations

import email.utils
import errno
import gzip
import hashlib
import logging
import posixpath
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from feeds import httpguard
from feeds.httpguard import IDLE_TIMEOUT, MAX_CONNECTIONS

log = logging.getLogger(__name__)

TYPES = (
    (".rss.xml", "application/rss+xml; charset=utf-8"),
    (".atom.xml", "application/atom+xml; charset=utf-8"),
    (".json", "application/feed+json; charset=utf-8"),
    (".opml", "text/x-opml; charset=utf-8"),
    (".xsl", "text/xsl; charset=utf-8"),
    (".html", "text/html; charset=utf-8"),
    (".xml", "application/xml; charset=utf-8"),
)
COMPRESSIBLE_AT = 256  # bytes: smaller bodies are sent as they are


def content_type(name: str) -> str:
    for suffix, media in TYPES:
        if name.endswith(suffix):
            return media
    return "application/octet-stream"


@dataclass(frozen=True)
class _Site:
    base: Path  # resolved
    prefix: str  # "/" or "/feeds/"
    on_request: Callable[[str, str, int], None] | None


def make_server(
    root: Path,
    host: str,
    port: int,
    prefix: str = "/",
    on_request: Callable[[str, str, int], None] | None = None,
    *,
    idle_timeout: float = IDLE_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    option: str = "--port",
) -> ThreadingHTTPServer:
    """A server for ``root`` at ``prefix`` (the path of output.url, e.g. ``/feeds/``).
    ``on_request(method, path, status)`` is told about every answer (an access log).
    A connection that has not sent a whole request head within ``idle_timeout`` seconds is
    closed. Raises ``ListenError`` (naming the port and ``option``) if it cannot listen."""
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"

    class Handler(_Handler):
        site = _Site(root.resolve(), prefix, on_request)

    Handler.idle_timeout = idle_timeout  # for the whole request head
    Handler.timeout = idle_timeout  # for each read
    return httpguard.make((host, port), Handler, max_connections, option)


class _Handler(httpguard.GuardedHandler):
    """Answers GET and HEAD for the files of ``site``; ``make_server`` sets ``site``."""

    protocol_version = "HTTP/1.1"
    site: ClassVar[_Site]

    def version_string(self) -> str:
        return "feeds"

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        super().send_error(code, message, explain)
        if code == HTTPStatus.REQUEST_URI_TOO_LONG:
            self._drain()

    def _drain(self) -> None:
        """Read (a bounded amount of) what the client is still sending, so that closing
        the connection does not reset it before it reads our answer."""
        with suppress(OSError):
            self.connection.settimeout(0.5)
            for _ in range(64):
                if not self.connection.recv(65536):
                    break

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # before the request line is read (a 414, a timeout) there is no command or path
        method = getattr(self, "command", None) or "-"
        path = getattr(self, "path", None) or "-"
        log.debug("event=request method=%s path=%.200s status=%s", method, path, code)
        if self.site.on_request is not None:
            self.site.on_request(method, path, int(code))

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        try:
            target = _resolve(self.site, self.path)
            if target is None:
                self._plain(HTTPStatus.NOT_FOUND, b"not found\n", body)
                return
            data = target.read_bytes()
            st = target.stat()
        except (OSError, RuntimeError) as e:  # RuntimeError: pathlib's symlink loop
            status = _status_for(e)
            log.info("event=request path=%.200s status=%d error=%s", self.path, status, e)
            self._plain(status, f"{status.phrase.lower()}\n".encode(), body)
            return
        self._send_file(target.name, data, st.st_mtime, body)

    def _send_file(self, name: str, data: bytes, mtime: float, body: bool) -> None:
        """``data`` with its validators: 304 when the client's copy is fresh, gzip if asked."""
        etag = '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
        modified = email.utils.formatdate(mtime, usegmt=True)
        gz = "gzip" in self.headers.get("Accept-Encoding", "") and len(data) >= COMPRESSIBLE_AT
        if gz:
            etag = etag[:-1] + '-gz"'
        headers = {
            "ETag": etag,
            "Last-Modified": modified,
            "Content-Type": content_type(name),
            "Cache-Control": "public, max-age=300",
            "Vary": "Accept-Encoding",
        }
        if _fresh(
            self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), etag, mtime
        ):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for k, v in headers.items():
                if k != "Content-Type":
                    self.send_header(k, v)
            self.end_headers()
            return
        if gz:
            data = gzip.compress(data, mtime=0)
            headers["Content-Encoding"] = "gzip"
        self.send_response(HTTPStatus.OK)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _plain(self, status: HTTPStatus, text: bytes, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if body:
            self.wfile.write(text)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("event=http %s", format % args)


def _fresh(inm: str | None, ims: str | None, etag: str, mtime: float) -> bool:
    """Whether the client's copy (its If-None-Match, else its If-Modified-Since) is current."""
    if inm is not None:
        return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
    if ims:
        try:
            since = email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False
        return int(mtime) <= since
    return False


def _resolve(site: _Site, raw_path: str) -> Path | None:
    """The file a request path names, or None: outside the prefix or the folder, a dot
    file, or not a regular file. A folder means its index.html."""
    path = unquote(urlsplit(raw_path).path)
    if not path.startswith(site.prefix):
        return None
    rel = posixpath.normpath(path[len(site.prefix) :] or ".")
    if rel.startswith("..") or "\0" in rel:
        return None
    base = site.base
    target = (base / rel).resolve()
    if target != base and base not in target.parents:
        return None  # a symlink or .. leading out of the folder
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file() or any(p.startswith(".") for p in target.relative_to(base).parts):
        return None  # temp files and other dot files are not served
    return target


def _status_for(e: OSError | RuntimeError) -> HTTPStatus:
    """The answer to a path the file system refused: too long a name, a loop, no access."""
    code = getattr(e, "errno", None)
    if code == errno.ENAMETOOLONG:
        return HTTPStatus.REQUEST_URI_TOO_LONG
    if code in (errno.EACCES, errno.EPERM):
        return HTTPStatus.FORBIDDEN
    if isinstance(e, RuntimeError) or code in (errno.ELOOP, errno.ENOENT, errno.ENOTDIR):
        return HTTPStatus.NOT_FOUND
    return HTTPStatus.INTERNAL_SERVER_ERROR
