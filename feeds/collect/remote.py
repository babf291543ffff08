"""Fetched bytes → ``RawFeed`` with feedparser. No network here (``collect.http`` fetches).

Before feedparser sees a document, one that declares entities (``<!ENTITY``) is refused:
feedparser's loose fallback parser expands them without limit (billion laughs, quadratic
blowup). A GBK/GB18030 body labelled UTF-8 is re-read as GB18030 instead of windows-1252.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import feedparser

from feeds.collect.http import FetchResult
from feeds.errors import ParseError as ParseError  # raised here; callers name it remote.ParseError
from feeds.models import RawFeed, RawItem
from feeds.textutil import xml_safe

log = logging.getLogger(__name__)

_ENTITY_MARKERS = (b"<!ENTITY", "<!ENTITY".encode("utf-16-le"), "<!ENTITY".encode("utf-16-be"))
_XML_DECL = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([^\"']+)([\"'])", re.I)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_UTF8 = {"utf-8", "utf8"}


def parse(result: FetchResult) -> RawFeed:
    """Parse a fetched feed. Raises ``ParseError`` (naming the URL) for what is not a feed."""
    body = result.body
    url = result.url
    head = body[:65536]
    if any(m in body for m in _ENTITY_MARKERS):
        raise ParseError(
            "refused: the document declares XML entities (<!ENTITY), which can "
            "expand without limit",
            url=url,
        )
    content_type = result.headers.get("content-type", "application/xml")
    body, content_type, recoded = _fix_gbk(body, head, content_type)
    headers = {"content-type": content_type, "content-location": url}
    # feedparser neither sanitizes nor resolves URLs here: nh3 does both later, against the
    # base feedparser reports (xml:base, else the document's URL). feedparser's resolver
    # would turn an entity-encoded "javascript:" href into a relative http URL.
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
    feed = parsed.get("feed", {})
    return RawFeed(
        url=url,
        title=_text(feed.get("title")),
        link=_text(feed.get("link")),
        language=_text(feed.get("language")),
        items=tuple(_item(e) for e in entries),
        warning=warning,
    )


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


def _text(value: Any) -> str | None:
    """A feed's text value, without what XML cannot carry (feedparser keeps control
    characters that arrived as character references)."""
    if not isinstance(value, str):
        return None
    value = xml_safe(value).strip()
    return value or None


def _item(e: Any) -> RawItem:
    content = None
    base = None
    for c in e.get("content") or []:
        if c.get("value"):
            content, base = c["value"], c.get("base")
            if "html" in (c.get("type") or ""):
                break
    summary = e.get("summary")
    base = base or (e.get("summary_detail") or {}).get("base")
    title_detail = e.get("title_detail") or {}
    authors = []
    for a in e.get("authors") or []:
        name = _text(a.get("name")) or _text(a.get("email"))
        if name:
            authors.append((name, _text(a.get("email")), _text(a.get("href"))))
    if not authors and _text(e.get("author")):
        authors.append((e["author"].strip(), None, None))
    enclosures = []
    for enc in e.get("enclosures") or []:
        href = _text(enc.get("href"))
        if href:
            length = str(enc.get("length") or "0")
            enclosures.append(
                (
                    href,
                    int(length) if length.isdigit() else 0,
                    _text(enc.get("type")) or "application/octet-stream",
                )
            )
    return RawItem(
        guid=_text(e.get("id")),
        title=_text(e.get("title")),
        title_is_html="html" in (title_detail.get("type") or ""),
        link=_text(e.get("link")),
        # dict.get: feedparser's own get() maps a missing "updated" to "published" (and warns)
        published=_text(dict.get(e, "published")) or _text(dict.get(e, "created")),
        updated=_text(dict.get(e, "updated")),
        summary_html=summary if isinstance(summary, str) and summary.strip() else None,
        content_html=content,
        authors=tuple(authors),
        tags=tuple(
            dict.fromkeys(
                t["term"].strip()
                for t in e.get("tags") or []
                if isinstance(t.get("term"), str) and t["term"].strip()
            )
        ),
        enclosures=tuple(enclosures),
        base=_text(base),
    )
