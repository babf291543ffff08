"""A response body's Content-Encoding undone in bounded steps (gzip, deflate or none), for
the fetcher in ``collect/http.py``."""

from __future__ import annotations

import logging
import zlib

from feeds.errors import FetchError

log = logging.getLogger("feeds.collect.http")  # the fetcher's logger: its messages as before

GZIP_MAGIC = b"\x1f\x8b"


class Decoder:
    """gzip/deflate decoding in bounded steps: never more than ``room`` bytes out at once.
    Every gzip member is decoded (RFC 1952 allows several); a body labelled gzip that does
    not start with the gzip magic is passed through as it is (servers do mislabel)."""

    def __init__(self, encoding: str, url: str) -> None:
        self.active = encoding not in ("", "identity")
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise FetchError(f"unsupported Content-Encoding {encoding!r}", url=url)
        self._z: zlib._Decompress | None = None  # made on the first bytes
        self._head = b""  # the first bytes, until there are enough to tell the format
        self._plain = not self.active
        self._gzip = encoding in ("gzip", "x-gzip")
        self._ended = False  # the stream (or its last member) ended: later bytes are ignored
        self.encoding = encoding
        self.url = url

    def _start(self, data: bytes) -> None:
        if self._gzip:
            if data[:2] != GZIP_MAGIC:
                log.debug("event=fetch url=%s gzip label on a plain body: read as it is", self.url)
                self._plain = True
                self.active = False
                return
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:  # deflate: RFC 9110 says zlib format; some servers send raw
            raw = (data[0] & 0x0F) != 8 or ((data[0] << 8) | data[1]) % 31
            self._z = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode ``data``, never more than ``room`` bytes. Input left over when ``room`` is
        reached is dropped: the caller refuses a body that fills its room."""
        if self._plain:
            return data
        if self._z is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            self._start(data)
            if self._plain:
                return data
        return self._inflate(data, room) if self._z is not None else b""

    def _inflate(self, pending: bytes, room: int) -> bytes:
        if self._z is None or self._ended:
            return b""
        parts: list[bytes] = []
        total = 0
        try:
            while pending and total < room:
                out = self._z.decompress(pending, max(room - total, 1))
                parts.append(out)
                total += len(out)
                if self._z.eof:  # a member ended: the next one, if any, starts here
                    pending = self._z.unused_data
                    if not self._gzip or (len(pending) >= 2 and pending[:2] != GZIP_MAGIC):
                        self._ended = True  # trailing bytes after the last member: ignored
                        break
                    if len(pending) < 2:
                        break  # the next chunk tells (zlib keeps the bytes in unused_data)
                    self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    pending = self._z.unconsumed_tail
                    if not out:
                        break
        except zlib.error as e:
            raise FetchError(f"corrupt {self.encoding} body: {e}", url=self.url) from e
        return b"".join(parts)

    def flush(self) -> bytes:
        """What zlib still holds once the body has ended: at most its window (32 KiB), since
        every byte of input was consumed (left-over input means the body was refused)."""
        if self._plain:
            return b""
        if self._z is None:
            return self._head  # a body of one byte cannot be compressed
        out = self._z.flush()
        if self._gzip and not self._z.eof:
            raise FetchError("truncated gzip body: it ends before the gzip stream", url=self.url)
        return out
