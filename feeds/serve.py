"""``feeds serve``: a small HTTP server for the output folder, for previewing and small
deployments. Correct Content-Type (with charset) per format, ETag and Last-Modified with 304
answers, gzip when the client asks, HEAD, and nothing outside the folder. For production put
nginx (README) in front instead."""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import logging
import posixpath
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

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


def make_server(
    root: Path,
    host: str,
    port: int,
    prefix: str = "/",
    on_request: Callable[[str, str, int], None] | None = None,
) -> ThreadingHTTPServer:
    """A server for ``root`` at ``prefix`` (the path of output.url, e.g. ``/feeds/``).
    ``on_request(method, path, status)`` is told about every answer (an access log)."""
    base = root.resolve()
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def version_string(self) -> str:
            return "feeds"

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            log.debug("event=request method=%s path=%s status=%s", self.command, self.path, code)
            if on_request is not None:
                on_request(self.command, self.path, int(code))

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            target = self._resolve()
            if target is None:
                self._plain(HTTPStatus.NOT_FOUND, b"not found\n", body)
                return
            data = target.read_bytes()
            st = target.stat()
            etag = '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
            modified = email.utils.formatdate(st.st_mtime, usegmt=True)
            gz = "gzip" in self.headers.get("Accept-Encoding", "") and len(data) >= COMPRESSIBLE_AT
            if gz:
                etag = etag[:-1] + '-gz"'
            headers = {
                "ETag": etag,
                "Last-Modified": modified,
                "Content-Type": content_type(target.name),
                "Cache-Control": "public, max-age=300",
                "Vary": "Accept-Encoding",
            }
            if self._fresh(etag, st.st_mtime):
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

        def _fresh(self, etag: str, mtime: float) -> bool:
            inm = self.headers.get("If-None-Match")
            if inm is not None:
                return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
            ims = self.headers.get("If-Modified-Since")
            if ims:
                try:
                    since = email.utils.parsedate_to_datetime(ims).timestamp()
                except (TypeError, ValueError):
                    return False
                return int(mtime) <= since
            return False

        def _resolve(self) -> Path | None:
            path = unquote(urlsplit(self.path).path)
            if not path.startswith(prefix):
                return None
            rel = posixpath.normpath(path[len(prefix) :] or ".")
            if rel.startswith("..") or "\0" in rel:
                return None
            target = (base / rel).resolve()
            if target != base and base not in target.parents:
                return None  # a symlink or .. leading out of the folder
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or any(
                p.startswith(".") for p in target.relative_to(base).parts
            ):
                return None  # temp files and other dot files are not served
            return target

        def _plain(self, status: HTTPStatus, text: bytes, body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            if body:
                self.wfile.write(text)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("event=http %s", format % args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
