"""Fetched bytes → ``RawFeed`` with feedparser. No network here (``collect.http`` fetches).

Before feedparser sees a document, one that declares entities (``<!ENTITY``, in whatever
encoding feedparser will decode it) is refused: feedparser's loose fallback parser expands
them without limit (billion laughs, quadratic blowup). A feed that only mentions
``<!ENTITY`` in a CDATA section (an article about XXE) is kept. A GBK/GB18030 body labelled
UTF-8 is re-read as GB18030 instead of windows-1252.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
from typing import Any

import feedparser

from feeds.collect.http import FetchResult
from feeds.errors import ParseError as ParseError  # raised here; callers name it remote.ParseError
from feeds.models import RawFeed, RawItem
from feeds.textutil import xml_safe

log = logging.getLogger(__name__)

_ENTITY = re.compile(rb"<!ENTITY", re.I)
_INERT = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.S)
# A character reference to a lone surrogate (&#xD800; … &#57343;): feedparser's loose parser
# raises on it, failing the whole source. Dropped before parsing, like other invalid text.
_SURROGATE_REF = re.compile(rb"&#(?:[xX]0*[dD][89a-fA-F][0-9a-fA-F]{2}|0*5[5-7][0-9]{3});")
_XML_DECL = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([^\"']+)([\"'])", re.I)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_UTF8 = {"utf-8", "utf8"}


# Caps on what a source controls, in characters unless said otherwise. Past them a value is
# cut (a URL is dropped: a cut URL is a wrong one); the items past MAX_ITEMS are dropped with
# a warning. A 10 MB title made 20 MB feed files; 10,000 tags on one item made every build
# quadratic.
MAX_ITEMS = 1000  # items per document
MAX_TITLE = 1000
MAX_TEXT = 1000  # dates, a feed's language, other short text
MAX_HTML = 1_000_000  # summary and content, each
MAX_NAME = 200  # an author's name or email, an enclosure's type
MAX_URL = 4096  # links, ids, enclosure URLs
MAX_AUTHORS = 20  # per item
MAX_TAGS = 50  # per item
MAX_TAG_BYTES = 120  # UTF-8 bytes of one tag, so that its feed's file name fits
MAX_ENCLOSURES = 20  # per item


def parse(result: FetchResult) -> RawFeed:
    """Parse a fetched feed. Raises ``ParseError`` (naming the URL) for what is not a feed."""
    body = result.body
    url = result.url
    head = body[:65536]
    content_type = result.headers.get("content-type", "application/xml")
    body, content_type, recoded = _fix_gbk(body, head, content_type)
    headers = {"content-type": content_type, "content-location": url}
    if _declares_entities(body, headers):
        raise ParseError(
            "refused: the document declares XML entities (<!ENTITY), which can "
            "expand without limit",
            url=url,
        )
    # feedparser neither sanitizes nor resolves URLs here: nh3 does both later, against the
    # base feedparser reports (xml:base, else the document's URL). feedparser's resolver
    # would turn an entity-encoded "javascript:" href into a relative http URL.
    body = _SURROGATE_REF.sub(_drop_surrogate, body)
    parsed = feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    warning = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        if not version or (not entries and not parsed.get("feed", {}).get("title")):
            kind = "an HTML page" if "html" in content_type.lower() else "not a feed"
            raise ParseError(f"{kind}: {_describe(exc)}", url=url)
        warning = f"feed is not well-formed, entries kept: {_describe(exc)}"
    elif not version:
        raise ParseError("not an RSS or Atom feed", url=url)
    if recoded:
        warning = (
            (warning + "; ") if warning else ""
        ) + "body is GB18030/GBK but labelled UTF-8; read it as GB18030"
    if len(entries) > MAX_ITEMS:
        warning = (
            (warning + "; ") if warning else ""
        ) + f"{len(entries)} items; kept the first {MAX_ITEMS}"
        entries = entries[:MAX_ITEMS]
    feed = parsed.get("feed", {})
    return RawFeed(
        url=url,
        title=_text(feed.get("title"), MAX_TITLE),
        link=_url(feed.get("link")),
        language=_text(feed.get("language")),
        items=tuple(_item(e) for e in entries),
        warning=warning,
    )


def _declares_entities(body: bytes, headers: dict[str, str]) -> bool:
    """Whether the document declares an entity (``<!ENTITY`` outside CDATA sections and
    comments), read in the encoding feedparser will read it in: the bytes feedparser's
    parsers get are its own UTF-8 conversion, so UTF-32, EBCDIC, … cannot hide one."""
    data = feedparser.encodings.convert_to_utf8(dict(headers), body, {})
    if _ENTITY.search(data) is None:
        return False
    return _ENTITY.search(_INERT.sub(b"", data)) is not None


def _drop_surrogate(m: re.Match[bytes]) -> bytes:
    ref = m.group()[2:-1]
    code = int(ref[1:], 16) if ref[:1] in (b"x", b"X") else int(ref)
    return b"" if 0xD800 <= code <= 0xDFFF else m.group()


def _describe(exc: Any) -> str:
    if exc is None:
        return "unknown problem"
    return f"{type(exc).__name__}: {exc}"[:300]


def _fix_gbk(body: bytes, head: bytes, content_type: str) -> tuple[bytes, str, bool]:
    """A body that claims UTF-8 (or claims nothing) but is GB18030: transcode it to UTF-8."""
    header = _CHARSET.search(content_type)
    declared = _XML_DECL.match(head)
    claims = {
        x.lower()
        for x in (
            (header.group(1) if header else None),
            (declared.group(2).decode("ascii", "replace") if declared else None),
        )
        if x
    }
    if claims - _UTF8:
        return body, content_type, False  # it names another encoding: feedparser's business
    try:
        body.decode("utf-8")
        return body, content_type, False
    except UnicodeDecodeError:
        pass
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError:
        return body, content_type, False
    fixed = text.encode("utf-8")
    if declared:
        fixed = _XML_DECL.sub(rb"\1utf-8\3", fixed, count=1)
    base = content_type.split(";", 1)[0].strip() or "application/xml"
    return fixed, f"{base}; charset=utf-8", True


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """A feed's text value, without what XML cannot carry (feedparser keeps control
    characters and lone surrogates that arrived as character references), cut to ``limit``."""
    if not isinstance(value, str):
        return None
    value = xml_safe(value[: limit * 2]).strip()[:limit].strip()
    return value or None


def _url(value: Any) -> str | None:
    """A URL-like value; one longer than ``MAX_URL`` is dropped (a cut URL is a wrong one)."""
    text = _text(value, MAX_URL + 1)
    return text if text is None or len(text) <= MAX_URL else None


def _html(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return xml_safe(value[:MAX_HTML])


def _tag(term: str) -> str:
    """A tag of at most ``MAX_TAG_BYTES`` UTF-8 bytes (its feed's file name must fit): a longer
    one is cut and given a hash of the whole tag, so it stays the same and distinct."""
    raw = term.encode()
    if len(raw) <= MAX_TAG_BYTES:
        return term
    cut = raw[: MAX_TAG_BYTES - 9].decode("utf-8", "ignore").rstrip()
    return f"{cut}-{hashlib.blake2b(raw, digest_size=4).hexdigest()}"


def _tags(e: Any) -> tuple[str, ...]:
    terms = (_text(t.get("term")) for t in e.get("tags") or [] if isinstance(t, dict))
    unique = dict.fromkeys(_tag(t) for t in terms if t)
    return tuple(itertools.islice(unique, MAX_TAGS))


def _authors(e: Any) -> tuple[tuple[str, str | None, str | None], ...]:
    authors = []
    for a in (e.get("authors") or [])[:MAX_AUTHORS]:
        name = _text(a.get("name"), MAX_NAME) or _text(a.get("email"), MAX_NAME)
        if name:
            authors.append((name, _text(a.get("email"), MAX_NAME), _url(a.get("href"))))
    single = _text(e.get("author"), MAX_NAME)
    if not authors and single:
        authors.append((single, None, None))
    return tuple(authors)


def _enclosures(e: Any) -> tuple[tuple[str, int, str], ...]:
    enclosures = []
    for enc in (e.get("enclosures") or [])[:MAX_ENCLOSURES]:
        href = _url(enc.get("href"))
        if href:
            length = str(enc.get("length") or "0")
            size = int(length) if length.isascii() and length.isdigit() and len(length) < 19 else 0
            kind = _text(enc.get("type"), MAX_NAME) or "application/octet-stream"
            enclosures.append((href, size, kind))
    return tuple(enclosures)


def _item(e: Any) -> RawItem:
    content = None
    base = None
    for c in e.get("content") or []:
        if c.get("value"):
            content, base = c["value"], c.get("base")
            if "html" in (c.get("type") or ""):
                break
    base = base or (e.get("summary_detail") or {}).get("base")
    title_detail = e.get("title_detail") or {}
    return RawItem(
        guid=_url(e.get("id")),
        title=_text(e.get("title"), MAX_TITLE),
        title_is_html="html" in (title_detail.get("type") or ""),
        link=_url(e.get("link")),
        # dict.get: feedparser's own get() maps a missing "updated" to "published" (and warns)
        published=_text(dict.get(e, "published")) or _text(dict.get(e, "created")),
        updated=_text(dict.get(e, "updated")),
        summary_html=_html(e.get("summary")),
        content_html=_html(content),
        authors=_authors(e),
        tags=_tags(e),
        enclosures=_enclosures(e),
        base=_url(base),
    )
