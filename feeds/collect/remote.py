"""Fetched bytes → ``RawFeed`` with feedparser. No network here (``collect.http`` fetches).

Before feedparser sees a document, it is decoded by ``collect.encoding`` (BOM, byte pattern,
declarations that agree with the bytes, detection; a source's ``encoding:`` overrides) and
handed over as UTF-8 that says so. One that declares entities (``<!ENTITY``) is then refused:
feedparser's loose fallback parser expands them without limit (billion laughs, quadratic
blowup); as the check reads the decoded text, no encoding (UTF-32, EBCDIC) can hide one. A
feed that only mentions ``<!ENTITY`` in a CDATA section (an article about XXE) is kept.
"""

from __future__ import annotations

import functools
import hashlib
import html
import itertools
import json
import logging
import re
from typing import Any

import feedparser
import feedparser.mixin
import feedparser.urls

from feeds.collect.encoding import decode
from feeds.collect.http import FetchResult
from feeds.errors import ParseError as ParseError  # raised here; callers name it remote.ParseError
from feeds.models import RawFeed, RawItem
from feeds.textutil import xml_safe

log = logging.getLogger(__name__)

_ENTITY = re.compile(rb"<!ENTITY", re.I)
_MARKUP = re.compile(r"<[^>]*>")
_INERT = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.S)
# A character reference to a lone surrogate (&#xD800; … &#57343;): feedparser's loose parser
# raises on it, failing the whole source. Dropped before parsing, like other invalid text.
_SURROGATE_REF = re.compile(rb"&#(?:[xX]0*[dD][89a-fA-F][0-9a-fA-F]{2}|0*5[5-7][0-9]{3});")


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


def _remember_base_joins() -> None:
    """feedparser works out the base URL of every element it opens by joining the parent's
    base with the element's ``xml:base`` (almost always the same URL joined with itself):
    ``make_safe_absolute_uri``, a pure function of two strings, was a sixth of the parsing.
    Its answers are remembered (in feedparser's element handling only; the same strings come
    back). Left alone if a feedparser release no longer has it there."""
    mixin: Any = feedparser.mixin
    join: Any = feedparser.urls.make_safe_absolute_uri
    if getattr(mixin, "make_safe_absolute_uri", None) is join:
        mixin.make_safe_absolute_uri = functools.lru_cache(maxsize=256)(
            mixin.make_safe_absolute_uri
        )


_remember_base_joins()


def parse(result: FetchResult, *, encoding: str | None = None) -> RawFeed:
    """Parse a fetched feed. Raises ``ParseError`` (naming the URL) for what is not a feed.
    ``encoding`` is the source's override of whatever the document says."""
    url = result.url
    content_type = result.headers.get("content-type", "application/xml")
    decoded = decode(result.body, content_type=content_type, override=encoding)
    if decoded.text.lstrip("\ufeff \t\r\n").startswith("{"):
        return _json_feed(decoded.text, url, decoded.warning)
    body = decoded.xml
    media = content_type.split(";", 1)[0].strip() or "application/xml"
    headers = {"content-type": f"{media}; charset=utf-8", "content-location": url}
    if _declares_entities(body):
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
    if decoded.warning:
        warning = ((warning + "; ") if warning else "") + decoded.warning
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
        rights=_rights(feed),
    )


def _declares_entities(data: bytes) -> bool:
    """Whether the (decoded, UTF-8) document declares an entity: ``<!ENTITY`` outside CDATA
    sections and comments."""
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


# feedparser's own get() maps a few keys to others ("url" to "href", "enclosures" gathered from
# links, a missing "updated" to "published"), at a Python call each; the keys read with this
# one are none of those, and read as stored
_get = dict.get


def _tags(e: Any) -> tuple[str, ...]:
    terms = (_text(_get(t, "term")) for t in _get(e, "tags") or [] if isinstance(t, dict))
    unique = dict.fromkeys(_tag(t) for t in terms if t)
    return tuple(itertools.islice(unique, MAX_TAGS))


def _authors(e: Any) -> tuple[tuple[str, str | None, str | None], ...]:
    authors = []
    for a in (_get(e, "authors") or [])[:MAX_AUTHORS]:
        name = _text(_get(a, "name"), MAX_NAME) or _text(_get(a, "email"), MAX_NAME)
        if name:
            authors.append((name, _text(_get(a, "email"), MAX_NAME), _url(_get(a, "href"))))
    single = _text(_get(e, "author"), MAX_NAME)
    if not authors and single:
        authors.append((single, None, None))
    return tuple(authors)


def _rights(d: Any) -> str | None:
    """Atom ``<rights>``, RSS ``<copyright>`` or ``dc:rights`` (feedparser's ``rights``) as
    text: an HTML one (Atom ``type="html"``) is reduced to its text."""
    value = _get(d, "rights")
    kind = (_get(d, "rights_detail") or {}).get("type") or ""
    if isinstance(value, str) and "html" in kind:
        value = html.unescape(_MARKUP.sub("", value))
    return _text(value, MAX_TITLE)


def _enclosures(e: Any) -> tuple[tuple[str, int, str], ...]:
    enclosures = []
    for enc in (e.get("enclosures") or [])[:MAX_ENCLOSURES]:
        href = _url(_get(enc, "href"))
        if href:
            length = str(_get(enc, "length") or "0")
            size = int(length) if length.isascii() and length.isdigit() and len(length) < 19 else 0
            kind = _text(_get(enc, "type"), MAX_NAME) or "application/octet-stream"
            enclosures.append((href, size, kind))
    return tuple(enclosures)


def _image(e: Any) -> str | None:
    """The entry's picture as Media RSS gives it: its first thumbnail, else its first
    ``media:content`` that is an image."""
    for thumb in (_get(e, "media_thumbnail") or [])[:MAX_ENCLOSURES]:
        if isinstance(thumb, dict) and (url := _url(thumb.get("url"))):
            return url
    for media in (_get(e, "media_content") or [])[:MAX_ENCLOSURES]:
        if not isinstance(media, dict):
            continue
        kind = f"{_get(media, 'medium') or ''} {_get(media, 'type') or ''}"
        if "image" in kind and (url := _url(media.get("url"))):
            return url
    return None


def _as_html(value: Any, kind: str | None) -> Any:
    """Atom ``type="text"`` (feedparser's ``text/plain``) is text, not markup: escaped, so a
    literal ``<int>`` or ``a < b`` stays visible."""
    if isinstance(value, str) and (kind or "").lower() == "text/plain":
        return html.escape(value, quote=False).replace("\n\n", "<br><br>")
    return value


def _item(e: Any) -> RawItem:
    content = None
    base = None
    for c in _get(e, "content") or []:
        if _get(c, "value"):
            content, base = _as_html(c["value"], _get(c, "type")), _get(c, "base")
            if "html" in (_get(c, "type") or ""):
                break
    summary_detail = _get(e, "summary_detail") or {}
    base = base or _get(summary_detail, "base")
    title_detail = _get(e, "title_detail") or {}
    return RawItem(
        guid=_url(_get(e, "id")),
        title=_text(_get(e, "title"), MAX_TITLE),
        title_is_html="html" in (_get(title_detail, "type") or ""),
        link=_url(_get(e, "link")),
        # _get: feedparser's own get() maps a missing "updated" to "published" (and warns)
        published=_text(_get(e, "published")) or _text(_get(e, "created")),
        updated=_text(_get(e, "updated")),
        summary_html=_html(_as_html(_get(e, "summary"), _get(summary_detail, "type"))),
        content_html=_html(content),
        authors=_authors(e),
        tags=_tags(e),
        enclosures=_enclosures(e),
        base=_url(base),
        image=_image(e),
        rights=_rights(e),
    )


# ----------------------------------------------------------------------------- JSON Feed


def _json_feed(text: str, url: str, warning: str | None) -> RawFeed:
    """A JSON Feed (1.0 or 1.1, https://jsonfeed.org/version/1.1) as a ``RawFeed``, with the
    same caps as RSS and Atom."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ParseError(f"not a feed: invalid JSON: {str(e)[:200]}", url=url) from e
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/1"):
        raise ParseError("not a feed: JSON without a JSON Feed version", url=url)
    items = [i for i in doc.get("items") or [] if isinstance(i, dict)]
    if len(items) > MAX_ITEMS:
        warning = ((warning + "; ") if warning else "") + (
            f"{len(items)} items; kept the first {MAX_ITEMS}"
        )
        items = items[:MAX_ITEMS]
    return RawFeed(
        url=url,
        title=_text(doc.get("title"), MAX_TITLE),
        link=_url(doc.get("home_page_url")),
        language=_text(doc.get("language")),
        items=tuple(_json_item(i, doc) for i in items),
        warning=warning,
    )


def _json_item(i: dict[str, Any], doc: dict[str, Any]) -> RawItem:
    content = i.get("content_html")
    if not isinstance(content, str) and isinstance(i.get("content_text"), str):
        content = _as_html(i["content_text"], "text/plain")
    people = i.get("authors") or ([i["author"]] if isinstance(i.get("author"), dict) else [])
    people = people or doc.get("authors") or []
    authors = tuple(
        (name, None, _url(a.get("url")))
        for a in people[:MAX_AUTHORS]
        if isinstance(a, dict) and (name := _text(a.get("name"), MAX_NAME))
    )
    tags = dict.fromkeys(_tag(t) for t in (_text(x) for x in i.get("tags") or []) if t)
    enclosures = []
    for a in (i.get("attachments") or [])[:MAX_ENCLOSURES]:
        href = _url(a.get("url")) if isinstance(a, dict) else None
        if href:
            size = a.get("size_in_bytes")
            kind = _text(a.get("mime_type"), MAX_NAME) or "application/octet-stream"
            enclosures.append((href, size if isinstance(size, int) and size >= 0 else 0, kind))
    guid = i.get("id")
    return RawItem(
        guid=_url(str(guid)) if isinstance(guid, str | int) else None,
        title=_text(i.get("title"), MAX_TITLE),
        title_is_html=False,
        link=_url(i.get("url")) or _url(i.get("external_url")),
        published=_text(i.get("date_published")),
        updated=_text(i.get("date_modified")),
        summary_html=_html(_as_html(i.get("summary"), "text/plain")),
        content_html=_html(content),
        authors=authors,
        tags=tuple(itertools.islice(tags, MAX_TAGS)),
        enclosures=tuple(enclosures),
        base=_url(i.get("url")),
        image=_url(i.get("image")) if isinstance(i.get("image"), str) else None,
    )
