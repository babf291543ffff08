"""Fetch a feed's bytes over HTTP (or from a local file), defensively. HTTP only: no parsing.

- a connect timeout and a wall-clock deadline for the whole request, body included (a server
  dripping a byte a second cannot hold a worker past it);
- a cap on the *decompressed* body (gzip and deflate are decoded here, in bounded steps, so a
  gzip bomb stops at the cap);
- redirects followed by hand, at most ``max_redirects``, each hop checked;
- private, loopback, link-local and other non-public addresses refused unless allowed, checked
  on every hop, and the connection made to the address that was checked (no DNS rebinding);
- conditional GET (ETag, Last-Modified) and ``Retry-After`` on 429/503.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import socket
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx

from feeds.config import FetchConfig
from feeds.errors import FetchError

__all__ = ["FetchError", "FetchResult", "Fetcher", "parse_retry_after"]

log = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
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
        self, cfg: FetchConfig, *, resolve: Callable[[str, int | None], list[str]] | None = None
    ) -> None:
        self.cfg = cfg
        self._resolve = resolve or _resolve
        self._client = httpx.Client(
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: we check where we connect
            headers={
                "User-Agent": cfg.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
            limits=httpx.Limits(
                max_connections=cfg.concurrency * 2, max_keepalive_connections=cfg.concurrency
            ),
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
        """Fetch ``url``. Raises ``FetchError`` naming the URL for anything but 200 and 304."""
        if url.startswith("file:"):
            return _read_file(url, self.cfg.max_bytes, last_modified)
        allowed = [
            ipaddress.ip_network(n, strict=False)
            for n in (*self.cfg.allow_networks, *allow_networks)
        ]
        deadline = time.monotonic() + self.cfg.deadline
        current = url
        for _hop in range(self.cfg.max_redirects + 1):
            result = self._one(current, url, etag, last_modified, allowed, deadline)
            if isinstance(result, FetchResult):
                return result
            current = result  # a redirect: the next URL
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
        address = self._pick_address(host, parts.port, allowed, original)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._deadline(original)
        headers = {"Host": parts.netloc.rsplit("@", 1)[-1]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        # Connect to the address we checked; TLS still verifies the certificate for the name.
        netloc = f"[{address}]" if ":" in address else address
        if parts.port:
            netloc += f":{parts.port}"
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
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
                    return FetchResult(
                        url=current,
                        status=304,
                        etag=resp.headers.get("etag", etag),
                        last_modified=resp.headers.get("last-modified", last_modified),
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
                    etag=hdrs.get("etag"),
                    last_modified=hdrs.get("last-modified"),
                )
        except httpx.TimeoutException as e:
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

    def _pick_address(
        self, host: str, port: int | None, allowed: list[IPNetwork], original: str
    ) -> str:
        try:
            addresses = self._resolve(host, port)
        except OSError as e:
            raise FetchError(
                f"cannot resolve host {host!r}: {e.strerror or e}", url=original, network=True
            ) from e
        if not addresses:
            raise FetchError(f"host {host!r} has no address", url=original, network=True)
        for text in addresses:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
            if not ip.is_global and not any(ip in net for net in allowed):
                raise FetchError(
                    f"refused: {host} resolves to {ip}, a private, loopback or link-local "
                    f"address (allow it with allow_networks)",
                    url=original,
                )
        return addresses[0].split("%", 1)[0]

    def _read_body(self, resp: httpx.Response, url: str, deadline: float) -> bytes:
        cap = self.cfg.max_bytes
        encoding = resp.headers.get("content-encoding", "identity").strip().lower()
        declared = resp.headers.get("content-length")
        if encoding in ("", "identity") and declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(
                f"body too large: {int(declared):,} bytes declared, the cap is {cap:,}", url=url
            )
        decoder = _Decoder(encoding, url)
        out = bytearray()
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
        out += decoder.flush()
        if len(out) > cap:
            raise FetchError(
                f"body too large: more than {cap:,} bytes after decompression", url=url
            )
        return bytes(out)

    def _deadline(self, url: str) -> FetchError:
        return FetchError(
            f"timed out: no complete response within {self.cfg.deadline:g} s", url=url, network=True
        )


class _Decoder:
    """gzip/deflate decoding in bounded steps: never more than ``room`` bytes out at once."""

    def __init__(self, encoding: str, url: str) -> None:
        self.active = encoding not in ("", "identity")
        if encoding in ("gzip", "x-gzip"):
            self._z: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = None  # zlib-wrapped or raw: decided on the first bytes
        elif not self.active:
            self._z = None
        else:
            raise FetchError(f"unsupported Content-Encoding {encoding!r}", url=url)
        self.encoding = encoding
        self.url = url

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode ``data``, never more than ``room`` bytes. Input left over when ``room`` is
        reached is dropped: the caller refuses a body that fills its room."""
        if not self.active:
            return data
        if self._z is None:  # deflate: RFC 9110 says zlib format; some servers send raw
            raw = len(data) < 2 or (data[0] & 0x0F) != 8 or ((data[0] << 8) | data[1]) % 31
            self._z = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        parts: list[bytes] = []
        total = 0
        pending = data
        try:
            while True:
                out = self._z.decompress(pending, max(room - total, 1))
                parts.append(out)
                total += len(out)
                pending = self._z.unconsumed_tail
                if not pending or not out or total >= room:
                    break
        except zlib.error as e:
            raise FetchError(f"corrupt {self.encoding} body: {e}", url=self.url) from e
        return b"".join(parts)

    def flush(self) -> bytes:
        """What zlib still holds once the body has ended: at most its window (32 KiB), since
        every byte of input was consumed (left-over input means the body was refused)."""
        if not self.active or self._z is None:
            return b""
        return self._z.flush()


def _resolve(host: str, port: int | None) -> list[str]:
    infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in seen:
            seen.append(addr)
    return seen


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
        st = path.stat()
        stamp = f"{st.st_mtime_ns}:{st.st_size}"
        if last_modified == stamp:
            return FetchResult(url=url, status=304, last_modified=stamp)
        if st.st_size > cap:
            raise FetchError(f"file too large: {st.st_size:,} bytes, the cap is {cap:,}", url=url)
        with path.open("rb") as f:
            body = f.read(cap + 1)
    except OSError as e:
        raise FetchError(f"cannot read {path}: {e.strerror or e}", url=url) from e
    if len(body) > cap:
        raise FetchError(f"file too large: more than {cap:,} bytes", url=url)
    return FetchResult(
        url=url, status=200, body=body, last_modified=stamp, headers={"content-location": url}
    )
