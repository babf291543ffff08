"""The feedgen extensions that write what feedgen 1.0 cannot: RSS 2.0 and Atom links with the
right ``rel`` (WebSub, RFC 5005 archives, ``hreflang`` alternates, the feed's page), Atom
``<source>``, RSS enclosures and the syndication module; and how an entry is told to feedgen
(``add_entry``). Used by ``generate`` only."""

from __future__ import annotations

import html
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.models import Author, Enclosure, Entry

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
SY_NS = "http://purl.org/rss/1.0/modules/syndication/"


class ExtraFeed(BaseExtension):  # type: ignore[misc]
    """Feed-level links feedgen cannot write in RSS (only rel="self" there): the WebSub hub
    and RFC 5005's prev-archive/next-archive/current, RFC 5005's fh:archive marker, and how
    often the feed is rebuilt (sy:updatePeriod/sy:updateFrequency; feedgen's own extension
    misspells them)."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []  # (rel, href)
        self.alternates: list[tuple[str, str, str]] = []  # (type, hreflang, href)
        self.archive = False
        self.page: str | None = None  # the feed's web page (pages.py)
        self.update: tuple[str, int] | None = None  # (period, frequency)

    def extend_ns(self) -> dict[str, str]:
        return ({"fh": FH_NS} if self.archive else {}) | ({"sy": SY_NS} if self.update else {})

    def _extend(self, parent: etree._Element, link: str) -> None:
        for rel, href in self.links:
            etree.SubElement(parent, link, rel=rel, href=href)
        for kind, lang, href in self.alternates:
            etree.SubElement(parent, link, rel="alternate", type=kind, hreflang=lang, href=href)
        if self.page:
            etree.SubElement(parent, link, rel="related", type="text/html", href=self.page)
        if self.archive:
            etree.SubElement(parent, f"{{{FH_NS}}}archive")
        if self.update:
            etree.SubElement(parent, f"{{{SY_NS}}}updatePeriod").text = self.update[0]
            etree.SubElement(parent, f"{{{SY_NS}}}updateFrequency").text = str(self.update[1])

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        self._extend(feed, "link")
        return feed

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        self._extend(rss[0], f"{{{ATOM_NS}}}link")
        return rss


class ExtraEntry(BaseEntryExtension):  # type: ignore[misc]
    """What feedgen 1.0 cannot write correctly: it drops ``rel`` from entry links (so
    ``via`` and ``enclosure`` links would become duplicate alternates), writes Atom
    ``<source>`` without ``rel="self"``, and keeps only the last RSS enclosure."""

    def __init__(self) -> None:
        self.entry: Entry | None = None

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        e = self.entry
        if e is None:
            return entry
        if e.source_link:
            etree.SubElement(entry, "link", rel="via", href=e.source_link)
        for enc in e.enclosures:
            link = etree.SubElement(entry, "link", rel="enclosure", href=enc.url, type=enc.type)
            if enc.length > 0:
                link.set("length", str(enc.length))
        if e.source:
            src = etree.SubElement(entry, "source")
            if e.source.url or e.source.link:
                etree.SubElement(src, "id").text = e.source.url or e.source.link
            etree.SubElement(src, "title").text = e.source.title
            # RFC 4287 §4.2.11: a source should say when it was updated. The source feed's
            # own time changes with every fetch; the entry's is a lower bound that stays put.
            etree.SubElement(src, "updated").text = e.updated.isoformat()
            if e.source.url:
                etree.SubElement(src, "link", rel="self", href=e.source.url)
            if e.source.link:
                etree.SubElement(src, "link", rel="alternate", href=e.source.link)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        e = self.entry
        if e is None:
            return item
        if e.enclosures:  # RSS 2.0 allows one enclosure per item: the first
            enc = e.enclosures[0]
            etree.SubElement(
                item, "enclosure", url=enc.url, length=str(max(enc.length, 0)), type=enc.type
            )
        if e.source and e.source.url:  # RSS <source> needs the feed's URL
            etree.SubElement(item, "source", url=e.source.url).text = e.source.title
        return item


def _media(fe: Any, pic: Enclosure) -> None:
    """Media RSS (in RSS and Atom alike): ``media:content`` for magazine views and
    ``media:thumbnail`` for list views."""
    attrs = {"url": pic.url, "medium": "image"}
    if pic.type.startswith("image/"):
        attrs["type"] = pic.type
    if pic.length > 0:
        attrs["fileSize"] = str(pic.length)
    fe.media.content(attrs, group=None)
    fe.media.thumbnail({"url": pic.url}, group=None)


def add_entry(fg: FeedGenerator, e: Entry, fmt: str, pic: Enclosure | None) -> None:
    fe = fg.add_entry(order="append")
    fe.guid(e.id, permalink=e.id == e.link)
    fe.title(e.title)
    fe.link(href=e.link, rel="alternate", type="text/html")
    fe.published(e.published)
    fe.updated(e.updated)
    if e.summary:
        # Atom <summary> is plain text; RSS <description> is HTML, so escape it there.
        fe.summary(e.summary if fmt == "atom" else html.escape(e.summary, quote=False))
    if e.content_html:  # none: an excerpt-only post (feed.excerpt_only), a bare item
        fe.content(e.content_html, type="html")
    for a in e.authors:
        fe.author(person(a))  # RSS <author> only when there is an e-mail address
        if not a.email:
            # RSS <author> must be an e-mail; a name alone goes in dc:creator. Never
            # both: the W3C validator warns about duplicate item semantics.
            fe.dc.dc_creator(a.name)
    for name in (*e.categories, *e.tags):
        fe.category(term=name)
    if pic is not None:
        _media(fe, pic)
    if e.rights:  # an aggregated entry's copyright: Atom <rights>, dc:rights in RSS
        if fmt == "atom":
            fe.rights(e.rights)
        else:
            fe.dc.dc_rights(e.rights)
    fe.extra.entry = e


def person(a: Author) -> dict[str, str]:
    out = {"name": a.name}
    if a.email:
        out["email"] = a.email
    if a.uri:
        out["uri"] = a.uri
    return out
