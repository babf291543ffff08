"""Fetch a feed's bytes over HTTP (or from a local file), defensively. HTTP only: no parsing.

- a connect timeout and a wall-clock deadline for the whole exchange, DNS, headers (interim
  ``1xx`` answers included) and body (``deadline.py``: every socket read and write is cut to
  what is left, so a server dripping a byte a second cannot hold a worker past it);
- a cap on the *decompressed* body (gzip, every member, and deflate are decoded by
  ``inflate.py`` in bounded steps, so a gzip bomb stops at the cap); a body cut off is
  reported as truncated;
- redirects followed by hand, at most ``max_redirects``, each hop checked;
- private, loopback, link-local, multicast and translated (NAT64, 6to4) addresses refused
  unless allowed (``addresses.py``), checked on every hop, and the connection made to the
  address that was checked (no DNS rebinding);
- conditional GET (ETag, Last-Modified, sent back byte for byte) and ``Retry-After``.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import os
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import SplitResult, unquote, urljoin, urlsplit, urlunsplit

import httpx

from feeds.collect import addresses
from feeds.collect.addresses import IPNetwork
from feeds.collect.deadline import LIMIT, DeadlineTransport, Limit
from feeds.collect.inflate import Decoder
from feeds.errors import FetchError


class FetchSettings(Protocol):
    """What the fetcher reads of its settings (``config.FetchConfig`` is one): named here,
    so that the fetcher stands below the config instead of importing it."""

    @property
    def connect_timeout(self) -> float: ...
    @property
    def deadline(self) -> float: ...
    @property
    def max_bytes(self) -> int: ...
    @property
    def max_redirects(self) -> int: ...
    @property
    def user_agent(self) -> str: ...
    @property
    def concurrency(self) -> int: ...
    @property
    def allow_networks(self) -> tuple[str, ...]: ...


__all__ = ["FetchError", "FetchResult", "Fetcher", "parse_retry_after"]

log = logging.getLogger(__name__)

REDIRECTS = (301, 302, 303, 307, 308)
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)


@dataclass(frozen=True)
class FetchResult:
    url: str  # the final URL, after redirects
    status: int  # 200, or 304 (not modified: no body)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """One shared HTTP client (thread-safe) for a fetch round. Use as a context manager."""

    def __init__(
        self,
        cfg: FetchSettings,
        *,
        resolve: Callable[[str, int | None], list[str]] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        """``should_stop`` is asked every moment a fetch waits: once it says yes, the fetch
        under way ends within a fraction of a second with ``FetchStopped``."""
        self.cfg = cfg
        self._should_stop = should_stop
        self._resolve = resolve or addresses.resolve
        self._client = httpx.Client(
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: we check where we connect
            headers={
                "User-Agent": cfg.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
            transport=DeadlineTransport(cfg.concurrency),
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allow_networks: Iterable[str] = (),
    ) -> FetchResult:
        """Fetch ``url``. Raises ``FetchError`` naming the URL for anything but 200 and 304,
        ``FetchStopped`` when the stop check said stop."""
        if url.startswith("file:"):
            return _read_file(url, self.cfg.max_bytes, last_modified)
        allowed = [
            ipaddress.ip_network(n, strict=False)
            for n in (*self.cfg.allow_networks, *allow_networks)
        ]
        deadline = time.monotonic() + self.cfg.deadline
        # every socket read and write of this thread obeys it
        token = LIMIT.set(Limit(deadline, self._should_stop))
        try:
            current = url
            for _hop in range(self.cfg.max_redirects + 1):
                result = self._one(current, url, etag, last_modified, allowed, deadline)
                if isinstance(result, FetchResult):
                    return result
                current = result  # a redirect: the next URL
        finally:
            LIMIT.reset(token)
        raise FetchError(
            f"more than {self.cfg.max_redirects} redirects (last to {current})", url=url
        )

    def _one(
        self,
        current: str,
        original: str,
        etag: str | None,
        last_modified: str | None,
        allowed: list[IPNetwork],
        deadline: float,
    ) -> FetchResult | str:
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(
                f"refused to fetch {current!r}: only http and https URLs", url=original
            )
        host = parts.hostname
        address = self._pick_address(host, parts.port, allowed, original, deadline)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._deadline(original)
        headers = _request_headers(parts, etag, last_modified, original)
        # Connect to the address we checked; TLS still verifies the certificate for the name.
        pinned = _pinned_url(parts, address)
        timeout = httpx.Timeout(
            connect=min(self.cfg.connect_timeout, remaining),
            read=remaining,
            write=remaining,
            pool=remaining,
        )
        try:
            with self._client.stream(
                "GET", pinned, headers=headers, timeout=timeout, extensions={"sni_hostname": host}
            ) as resp:
                return self._answer(resp, current, original, etag, last_modified, deadline)
        except httpx.TimeoutException as e:
            if time.monotonic() >= deadline - 0.05:
                raise self._deadline(original) from e
            raise FetchError(
                f"timed out ({type(e).__name__}) after "
                f"{self.cfg.deadline - max(0.0, deadline - time.monotonic()):.1f} s",
                url=original,
                network=True,
            ) from e
        except httpx.TransportError as e:
            raise FetchError(
                f"cannot connect: {e or type(e).__name__}", url=original, network=True
            ) from e

    def _answer(
        self,
        resp: httpx.Response,
        current: str,
        original: str,
        etag: str | None,
        last_modified: str | None,
        deadline: float,
    ) -> FetchResult | str:
        """One response: the next URL of a redirect, a 304, a 200 with its body, or an error."""
        status = resp.status_code
        if status in REDIRECTS:
            location = resp.headers.get("location")
            if not location:
                raise FetchError(
                    f"HTTP {status} redirect without a Location",
                    url=original,
                    status=status,
                )
            return str(urljoin(current, location.strip()))
        if status == 304:
            if not etag and not last_modified:
                log.warning(
                    "event=fetch url=%s HTTP 304 to an unconditional request "
                    "(nothing was cached to compare): no entries this time",
                    current,
                )
            return FetchResult(
                url=current,
                status=304,
                etag=_validator(resp, b"etag") or etag,
                last_modified=_validator(resp, b"last-modified") or last_modified,
            )
        if status != 200:
            raise FetchError(
                _status_message(status, current),
                url=original,
                status=status,
                retry_after=parse_retry_after(resp.headers.get("retry-after"), time.time()),
            )
        body = self._read_body(resp, original, deadline)
        hdrs = {k.lower(): v for k, v in resp.headers.items()}
        return FetchResult(
            url=current,
            status=200,
            body=body,
            headers=hdrs,
            etag=_validator(resp, b"etag"),
            last_modified=_validator(resp, b"last-modified"),
        )

    def _pick_address(
        self, host: str, port: int | None, allowed: list[IPNetwork], original: str, deadline: float
    ) -> str:
        try:
            found = addresses.resolve_by(self._resolve, host, port, deadline)
        except TimeoutError as e:
            raise self._deadline(original) from e
        except OSError as e:
            raise FetchError(
                f"cannot resolve host {host!r}: {e.strerror or e}", url=original, network=True
            ) from e
        if not found:
            raise FetchError(f"host {host!r} has no address", url=original, network=True)
        for text in found:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
            reason = addresses.refusal(ip, allowed)
            if reason:
                raise FetchError(
                    f"refused: {host} resolves to {ip}, {reason} (allow it with allow_networks)",
                    url=original,
                )
        return found[0].split("%", 1)[0]

    def _read_body(self, resp: httpx.Response, url: str, deadline: float) -> bytes:
        cap = self.cfg.max_bytes
        encoding = resp.headers.get("content-encoding", "identity").strip().lower()
        declared = resp.headers.get("content-length")
        if encoding in ("", "identity") and declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(
                f"body too large: {int(declared):,} bytes declared, the cap is {cap:,}", url=url
            )
        decoder = Decoder(encoding, url)
        out = bytearray()
        try:
            self._fill(resp, decoder, out, url, deadline)
        except httpx.RemoteProtocolError as e:  # the host was reached; the body ended early
            raise FetchError(f"truncated body: {e}", url=url) from e
        out += decoder.flush()
        if len(out) > cap:
            raise FetchError(
                f"body too large: more than {cap:,} bytes after decompression", url=url
            )
        return bytes(out)

    def _fill(
        self, resp: httpx.Response, decoder: Decoder, out: bytearray, url: str, deadline: float
    ) -> None:
        cap = self.cfg.max_bytes
        for chunk in resp.iter_raw():
            out += decoder.feed(chunk, cap + 1 - len(out))
            if len(out) > cap:
                raise FetchError(
                    f"body too large: more than {cap:,} bytes"
                    + (" after decompression" if decoder.active else ""),
                    url=url,
                )
            if time.monotonic() > deadline:
                raise self._deadline(url)

    def _deadline(self, url: str) -> FetchError:
        return FetchError(
            f"timed out after {self.cfg.deadline:g} s (no complete response)", url=url, network=True
        )


def _validator(resp: httpx.Response, name: bytes) -> str | None:
    """A validator exactly as the server sent it: its bytes as latin-1 text (one character a
    byte), so obs-text survives the store's TEXT column and goes back byte for byte."""
    for key, value in resp.headers.raw:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _send_back(value: str | None, name: str, url: str) -> bytes | None:
    """The bytes of a stored validator, or None (with a warning) when it cannot be a header
    value (text stored by an older version, or control characters)."""
    if not value:
        return None
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raw = b"\0"
    if any((b < 0x20 and b != 0x09) or b == 0x7F for b in raw):
        log.warning("event=fetch url=%s dropped an unusable %s validator %r", url, name, value)
        return None
    return raw


def _status_message(status: int, url: str) -> str:
    reason = {
        404: "not found",
        410: "gone (the publisher removed this feed)",
        429: "too many requests",
        500: "server error",
        502: "bad gateway",
        503: "service unavailable",
        401: "needs authentication",
        403: "forbidden",
    }
    return f"HTTP {status} {reason.get(status, '')}".rstrip() + f" from {url}"


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait, from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def _read_file(url: str, cap: int, last_modified: str | None) -> FetchResult:
    path = Path(unquote(urlsplit(url).path))
    try:
        # O_NONBLOCK: opening a FIFO does not wait for a writer; fstat then refuses it
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise FetchError(f"cannot read {path}: not a regular file", url=url)
            stamp = f"{st.st_mtime_ns}:{st.st_size}"
            if last_modified == stamp:
                return FetchResult(url=url, status=304, last_modified=stamp)
            if st.st_size > cap:
                raise FetchError(
                    f"file too large: {st.st_size:,} bytes, the cap is {cap:,}", url=url
                )
            body = f.read(cap + 1)
    except OSError as e:
        raise FetchError(f"cannot read {path}: {e.strerror or e}", url=url) from e
    if len(body) > cap:
        raise FetchError(f"file too large: more than {cap:,} bytes", url=url)
    return FetchResult(
        url=url, status=200, body=body, last_modified=stamp, headers={"content-location": url}
    )


def _request_headers(
    parts: SplitResult, etag: str | None, last_modified: str | None, original: str
) -> dict[bytes, bytes]:
    headers = {b"Host": parts.netloc.rsplit("@", 1)[-1].encode("ascii")}
    for name, value in ((b"If-None-Match", etag), (b"If-Modified-Since", last_modified)):
        raw = _send_back(value, name.decode(), original)
        if raw is not None:
            headers[name] = raw
    return headers


def _pinned_url(parts: SplitResult, address: str) -> str:
    """The URL with its host replaced by the checked address (the one connected to)."""
    netloc = f"[{address}]" if ":" in address else address
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
